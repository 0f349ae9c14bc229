"""Modules chained with ``>>``: golden lowered graphs, the same IR and results as the equivalent
``@ayo.workflow``, and clear errors when modules do not fit.

Golden texts name lines of the pipelines at the top of this file: edit them with care.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.backend import Runtime
from ayo_trace.frontend.dag import DAG, DAGNode
from ayo_trace.frontend.modules import (
    AnsweringModule,
    IndexingModule,
    Module,
    Pipeline,
    Port,
    QueryExpandingModule,
    RerankingModule,
    SearchingModule,
)
from ayo_trace.ir import Graph
from ayo_trace.passes import DEFAULT_PASSES, run_passes
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore
from tests.util import run_in_new_loop


def ayo_readme_chain() -> Pipeline:
    return (
        IndexingModule(collection="kb")
        >> QueryExpandingModule(num_queries=3, max_tokens=48)
        >> SearchingModule(collection="kb", top_k=4)
        >> RerankingModule(top_k=3)
    )


def answering_chain() -> Pipeline:
    return ayo_readme_chain() >> AnsweringModule(max_tokens=64)


GOLDEN_README = """\
graph pipeline(passages, query):
  %passages = input  # test_modules.py:36
  %query = input  # test_modules.py:37
  %index_status = ingest(%passages, collection='kb')  # test_modules.py:36
  %expanded_queries = llm(f"Write 3 search queries, one per line, for: {%query}\\n", max_tokens=48, parse=lines) after %index_status  # test_modules.py:37
  %searching_results = map(%expanded_queries, concurrency=1) {  # test_modules.py:38
      %q = input
      %search = search(%q, collection='kb', top_k=4)  # test_modules.py:38
      return %search
  }
  %candidates = python(%searching_results) { candidates = flatten(searching_results) }  # test_modules.py:39
  %reranking_results = rerank(%query, %candidates, top_k=3)  # test_modules.py:39
  return %reranking_results"""

GOLDEN_ANSWERING = GOLDEN_README.replace("\n  return %reranking_results", "") + (
    """
  %context = python(%reranking_results) { context = join_passages(reranking_results) }  # test_modules.py:44
  %answer = llm(f"Context:\\n{%context}\\nQuestion: {%query}\\nAnswer:", max_tokens=64)  # test_modules.py:44
  return %answer"""
)


@pytest.mark.parametrize(
    ("build", "text"),
    [(ayo_readme_chain, GOLDEN_README), (answering_chain, GOLDEN_ANSWERING)],
    ids=["readme", "answer"],
)
def test_golden_text(build: Any, text: str) -> None:
    graph = build().to_graph()
    graph.lint()
    assert str(graph) == text


@pytest.mark.parametrize("build", [ayo_readme_chain, answering_chain])
def test_lowered_graph_optimizes_and_round_trips(build: Any) -> None:
    graph = build().lower()
    optimized = run_passes(graph, DEFAULT_PASSES)
    assert any(n.attrs.get("stream") for n in optimized.nodes if n.op == "llm_decode")  # decode pipelining
    assert str(Graph.from_json(graph.to_json(), trusted=True)) == str(graph)


def test_ports_of_the_pipeline() -> None:
    pipeline = answering_chain()
    assert [p.name for p in pipeline.inputs] == ["passages", "query"]
    assert pipeline.output == Port("answer", "str")
    assert [p.name for p in ayo_readme_chain().inputs] == ["passages", "query"]


def test_pipelines_compose_like_modules() -> None:
    head = IndexingModule(collection="kb") >> QueryExpandingModule(num_queries=3, max_tokens=48)
    tail = SearchingModule(collection="kb", top_k=4) >> RerankingModule(top_k=3)
    assert (head >> tail).modules == ayo_readme_chain().modules


def test_a_head_module_reads_its_inputs_from_the_query() -> None:
    pipeline = SearchingModule(collection="kb") >> RerankingModule()
    assert [p.name for p in pipeline.inputs] == ["expanded_queries", "query"]


def test_modules_print_as_written_with_their_line() -> None:
    module = SearchingModule(collection="kb", top_k=2)
    assert repr(module) == "SearchingModule(collection='kb', top_k=2)"
    assert re.fullmatch(
        r"SearchingModule\(collection='kb', top_k=2\) at test_modules.py:\d+", module.describe()
    )


# --- the same IR and results as the workflow ------------------------------------------------------


@ayo.workflow
async def rag(passages: list[str], query: str) -> str:
    await ayo.ingest(passages, collection="kb")
    expanded = await ayo.llm(
        f"Write 3 search queries, one per line, for: {query}\n", parse=ayo.lines, max_tokens=48
    )
    results = [await ayo.search(q, collection="kb", top_k=4) for q in expanded]
    candidates = [h for per_query in results for h in per_query]
    best = await ayo.rerank(query, candidates, top_k=3)
    context = "\n".join(f"- {h}" for h in best)
    return await ayo.llm(f"Context:\n{context}\nQuestion: {query}\nAnswer:", max_tokens=64)


def shape_of(graph: Graph) -> str:
    """The printed graph without locations, python source, its name and node names (numbered in
    order of first appearance instead)."""
    text = re.sub(r"  # \S+:\d+$", "", str(graph), flags=re.M)
    text = re.sub(r" \{ .* \}( after|$)", r" {…}\1", text, flags=re.M)
    text = re.sub(r"^graph \w+", "graph", text)
    names: dict[str, str] = {}
    return re.sub(r"%(\w+)", lambda m: "%" + names.setdefault(m.group(1), f"v{len(names)}"), text)


def test_pipeline_lowers_to_what_the_workflow_traces() -> None:
    traced = rag.graph(["d"], "q")
    assert shape_of(answering_chain().to_graph()) == shape_of(traced)


QUERY = "how do generators work"
DOCS = ["generators yield values lazily", "lists hold values", "coroutines await other coroutines"]


def respond(prompt: str) -> str:
    if prompt.startswith("Write 3 search queries"):
        return "\n1. generators lazily\n2. coroutines await\n3. lists hold\n"
    return " " + prompt.split()[-2]


def engines() -> list[Any]:
    return [
        ScriptedLLM("llm", respond),
        ScriptedEmbedder("embed"),
        ScriptedStore("store"),
        ScriptedReranker("rerank"),
    ]


@pytest.mark.parametrize("passes", [(), DEFAULT_PASSES], ids=["traced", "optimized"])
def test_pipeline_runs_like_the_workflow(passes: Any) -> None:
    async def main() -> tuple[Any, Any, Any]:
        async with Runtime(engines=engines(), batching=False):
            from_pipeline = await answering_chain().run(passages=DOCS, query=QUERY, passes=passes)
        async with Runtime(engines=engines(), batching=False):
            from_default = await answering_chain().run({"passages": DOCS, "query": QUERY})
        async with Runtime(engines=engines(), batching=False):
            from_workflow = await rag.eager(DOCS, QUERY)
        return from_pipeline, from_default, from_workflow

    from_pipeline, from_default, from_workflow = run_in_new_loop(main)
    assert from_pipeline == from_default == from_workflow


def test_the_readme_chain_returns_the_reranked_hits() -> None:
    async def main() -> Any:
        async with Runtime(engines=engines(), batching=False):
            return await ayo_readme_chain().run(passages=DOCS, query=QUERY)

    hits = run_in_new_loop(main)
    assert len(hits) == 3 and all(isinstance(h, ayo.Hit) for h in hits)
    assert {h.text for h in hits} <= set(DOCS)


def test_run_names_missing_inputs() -> None:
    with pytest.raises(TypeError, match=r"missing \['passages'\]"):
        run_in_new_loop(lambda: answering_chain().run(query=QUERY))


# --- modules that do not fit ----------------------------------------------------------------------


def test_a_missing_intermediate_names_both_modules() -> None:
    with pytest.raises(ayo.TraceError) as info:
        IndexingModule(collection="kb") >> RerankingModule()
    message = str(info.value)
    assert message.startswith("test_modules.py:")
    assert "IndexingModule >> RerankingModule does not fit" in message
    assert "reads `searching_results` (list[list[Hit]]), but nothing before it produces it" in message
    assert "IndexingModule(collection='kb') at test_modules.py:" in message


def test_skipping_a_module_is_an_error() -> None:
    with pytest.raises(
        ayo.TraceError, match=r"IndexingModule >> SearchingModule does not fit.*`expanded_queries`"
    ):
        IndexingModule(collection="kb") >> SearchingModule(collection="kb")


@dataclass(frozen=True, repr=False)
class SingleQuery(Module):
    """A module whose ``expanded_queries`` is one string, not a list: a type mismatch downstream."""

    INPUTS = (Port("query", "str", external=True),)
    OUTPUTS = (Port("expanded_queries", "str"),)

    def lower(self, dag: DAG, values: dict[str, DAGNode]) -> dict[str, DAGNode]:  # type: ignore[override]
        return {"expanded_queries": values["query"]}


def test_a_type_mismatch_names_both_modules() -> None:
    with pytest.raises(
        ayo.TraceError,
        match=r"SingleQuery >> SearchingModule does not fit: .* reads `expanded_queries` \(list\[str\]\), "
        r"but SingleQuery\(\) at test_modules.py:\d+ gives `expanded_queries` \(str\)",
    ):
        SingleQuery() >> SearchingModule(collection="kb")


def test_only_modules_chain() -> None:
    with pytest.raises(ayo.TraceError, match="only ayo modules chain with >>"):
        IndexingModule(collection="kb") >> "search"  # type: ignore[operator]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: QueryExpandingModule(prompt="{query}"),
            r"exactly the placeholders \['\{num_queries\}', '\{query\}'\]",
        ),
        (lambda: AnsweringModule(prompt="{context} {question}"), r"got \['\{context\}', '\{question\}'\]"),
        (lambda: QueryExpandingModule(num_queries=0), "num_queries must be at least 1"),
    ],
)
def test_bad_module_configuration_names_the_line(build: Any, message: str) -> None:
    with pytest.raises(ayo.TraceError, match=message) as info:
        build()
    assert str(info.value).startswith("test_modules.py:")
