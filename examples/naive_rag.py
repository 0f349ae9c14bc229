"""Naive RAG with per-query ingestion: the research system's headline workflow.

Each query brings its own documents. The workflow embeds and stores them, searches them for the
question, reranks the hits with the LLM and answers from the best two. Written as plain sequential
Python; the optimizer finds what can overlap (the question's embedding and the prompt's constant
head do not wait for the documents to be stored).

    python examples/naive_rag.py
"""

from __future__ import annotations

from typing import Any

import anyio

import ayo_trace as ayo
from ayo_trace.corpus import stdlib_passages
from ayo_trace.demo import show_graphs

COLLECTION = "example_naive_rag"
# A small base model answers on the same line when the prompt shows it how once.
EXAMPLE = "Question: How do I capitalize every word in a string?\nAnswer: Use string.capwords(s).\n\n"


@ayo.workflow
async def naive_rag(question: str, docs: list[str]) -> str:
    await ayo.ingest(docs, collection=COLLECTION)
    hits = await ayo.search(question, collection=COLLECTION, top_k=3)
    best = await ayo.rerank(question, hits, top_k=2)
    context = "\n".join(h.text for h in best)
    prompt = f"{EXAMPLE}Python documentation:\n{context}\n\nQuestion: {question}\nAnswer:"
    return await ayo.llm(prompt, max_tokens=24, stop="\n")


# The query's documents: the docstrings of one standard-library module.
INPUTS: dict[str, Any] = {
    "question": "How do I copy a whole directory tree?",
    "docs": [p.document for p in stdlib_passages(modules=["shutil"])],
}
SMALL_INPUTS: dict[str, Any] = {
    "question": "How do I copy a file's permission bits?",
    "docs": [p.document for p in stdlib_passages(modules=["shutil"], limit=8)],
}


async def run(small: bool = False) -> str:
    inputs = SMALL_INPUTS if small else INPUTS
    show_graphs(naive_rag, **inputs)
    answer = await naive_rag(**inputs)
    print(f"question: {inputs['question']}\nanswer: {answer.strip()}")
    return answer


def main() -> None:
    anyio.run(run)


if __name__ == "__main__":
    main()
