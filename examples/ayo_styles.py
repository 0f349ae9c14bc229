"""The research system's two other styles: nodes wired into a DAG by hand, and modules chained with
``>>``. Both build the same graph IR that ``@ayo.workflow`` traces, so the same passes optimize them
and the same runtime runs them. (``naive_rag.py`` is the first DAG below as a plain function.)

    python examples/ayo_styles.py
"""

from __future__ import annotations

from typing import Any

import anyio

import ayo_trace as ayo
from ayo_trace.corpus import stdlib_passages
from ayo_trace.demo import print_graphs

DAG_COLLECTION = "example_dag"
PIPELINE_COLLECTION = "example_pipeline"
EXAMPLE = "Question: How do I capitalize every word in a string?\nAnswer: Use string.capwords(s).\n\n"


def join_hits(hits: list[ayo.Hit]) -> str:
    return "\n".join(h.text for h in hits)


def naive_rag_dag() -> ayo.DAG:
    """Naive RAG as Ayo users write it: one node per step, order declared where it matters."""
    dag = ayo.DAG("naive_rag")
    question, docs = dag.input("question"), dag.input("docs")
    indexed = dag.ingest(docs, collection=DAG_COLLECTION)
    hits = dag.search(question, collection=DAG_COLLECTION, top_k=3)
    hits.after(indexed)  # search what this query stored
    best = dag.rerank(question, hits, top_k=2)
    context = dag.python(join_hits, best)
    answer = dag.llm(
        EXAMPLE + "Python documentation:\n{context}\n\nQuestion: {question}\nAnswer:",
        inputs={"context": context, "question": question},
        max_tokens=24,
        stop="\n",
    )
    dag.output(answer)
    return dag


# Advanced RAG as a chain of modules: index, expand the query, search each, rerank, answer.
EXPAND = (
    "Write {num_queries} search queries, one per line.\n"
    "Question: How do I read a CSV file?\n- csv reader\n- parse comma separated values\n\n"
    "Question: {query}\n"
)
PIPELINE = (
    ayo.IndexingModule(collection=PIPELINE_COLLECTION)
    >> ayo.QueryExpandingModule(num_queries=2, max_tokens=16, prompt=EXPAND)
    >> ayo.SearchingModule(collection=PIPELINE_COLLECTION, top_k=2)
    >> ayo.RerankingModule(top_k=2)
    >> ayo.AnsweringModule(
        max_tokens=24,
        stop="\n",
        prompt=EXAMPLE + "Python documentation:\n{context}\n\nQuestion: {query}\nAnswer:",
    )
)


def docs(module: str, limit: int | None = None) -> list[str]:
    return [p.document for p in stdlib_passages(modules=[module], limit=limit)]


INPUTS: dict[str, dict[str, Any]] = {
    "dag": {"question": "How do I delete a directory tree?", "docs": docs("shutil")},
    "pipeline": {"query": "How do I write JSON to a file?", "passages": docs("json")},
}
SMALL_INPUTS: dict[str, dict[str, Any]] = {
    "dag": {"question": "How do I copy a file's permission bits?", "docs": docs("shutil", limit=6)},
    "pipeline": {"query": "How do I make a secure random token?", "passages": docs("secrets")},
}


async def run(small: bool = False, passes: list[Any] | None = None) -> dict[str, Any]:
    """Both styles, optimized with ``passes`` (default ``ayo.DEFAULT_PASSES``; ``[]``: as built)."""
    inputs = SMALL_INPUTS if small else INPUTS
    chosen = ayo.DEFAULT_PASSES if passes is None else passes
    graph = naive_rag_dag().graph()
    print_graphs(graph, ayo.run_passes(graph, ayo.DEFAULT_PASSES))
    dag_answer = await ayo.run_graph(graph, inputs["dag"], passes=chosen)
    print(f"question: {inputs['dag']['question']}\nanswer: {dag_answer.strip()}\n")

    print(f"pipeline: {PIPELINE}")
    graph = PIPELINE.to_graph()
    print_graphs(graph, ayo.run_passes(graph, ayo.DEFAULT_PASSES))
    pipeline_answer = await PIPELINE.run(inputs["pipeline"], passes=passes)
    print(f"question: {inputs['pipeline']['query']}\nanswer: {pipeline_answer.strip()}")
    return {"dag": dag_answer, "pipeline": pipeline_answer}


def main() -> None:
    anyio.run(run)


if __name__ == "__main__":
    main()
