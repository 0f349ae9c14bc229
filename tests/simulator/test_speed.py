"""What keeps a long simulation fast, checked by counts rather than timings: a workflow is traced
and optimized once per static signature however many queries run, and the profile engines compute
each text's vector and words once, scoring exactly as the scripted engines do."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ayo_trace as ayo
from ayo_trace.backend.engines.base import RerankRequest
from ayo_trace.driver import Driver
from ayo_trace.frontend.workflow import Workflow
from ayo_trace.ir.graph import Graph
from ayo_trace.simulator.devices import Devices
from ayo_trace.simulator.engines import Memo, ProfileEmbedder, ProfileReranker
from ayo_trace.testing import ScriptedEmbedder, overlap_score
from tests.util import run_in_new_loop

pytest.importorskip("trio", reason="trio is in the 'dev' extra")

DOCS = {
    "a": [f"alpha passage {i} about strings and words" for i in range(12)],
    "b": [f"beta passage {i} about lists and sorting" for i in range(12)],
}


@ayo.workflow(static=("collection",))
async def rag(question: str, docs: list[str], collection: str) -> Any:
    await ayo.ingest(docs, collection=collection)
    hits = await ayo.search(question, collection=collection, top_k=4)
    best = await ayo.rerank(question, hits, top_k=2)
    context = "\n".join(h.text for h in best)
    return await ayo.llm(f"Context: {context}\nQuestion: {question}\nAnswer:", max_tokens=4)


def rag_profile() -> ayo.SimProfile:
    return ayo.SimProfile(
        engines={
            "llm": ayo.EngineModel(
                "llm",
                ops={"prefill": ayo.Cost(per_token_s=0.001), "decode": ayo.Cost(per_step_s=((1, 0.01),))},
            ),
            "embed": ayo.EngineModel("embedding", ops={"embed": ayo.Cost(per_item_s=0.001)}),
            "rerank": ayo.EngineModel("rerank", ops={"score": ayo.Cost(per_item_s=0.001)}),
            "store": ayo.EngineModel(
                "vector_store", ops={"search": ayo.Cost(fixed_s=0.002), "insert": ayo.Cost(fixed_s=0.005)}
            ),
        }
    )


def args(i: int) -> dict[str, Any]:
    collection = "ab"[i % 2]
    return {"question": f"question {i} about words", "docs": DOCS[collection], "collection": collection}


def test_a_workflow_is_traced_and_optimized_once_per_static_signature(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    traced: list[str] = []
    optimized: list[str] = []
    trace, optimize = Workflow._trace, Driver.optimize

    def counting_trace(self: Workflow, bound: Any) -> Any:
        traced.append(bound.arguments["collection"])
        return trace(self, bound)

    def counting_optimize(self: Driver, graph: Graph, passes: Any) -> Graph:
        optimized.append(graph.statics["collection"])
        return optimize(self, graph, passes)

    monkeypatch.setattr(Workflow, "_trace", counting_trace)
    monkeypatch.setattr(Driver, "optimize", counting_optimize)
    wf = ayo.workflow(rag.fn, static=("collection",))
    r = ayo.simulate(wf, args, profile=rag_profile(), concurrency=4, queries=40, respond=lambda p: " yes")
    assert r.completed == 40 and not r.errors
    # two collections: two traces and two optimizations for forty queries
    assert sorted(traced) == sorted(optimized) == ["a", "b"]


def test_a_memo_computes_each_key_once_and_forgets_the_oldest_past_its_size() -> None:
    calls: list[str] = []

    def upper(s: str) -> str:
        calls.append(s)
        return s.upper()

    memo = Memo(upper, size=2)
    assert [memo("a"), memo("a"), memo("b"), memo("a")] == ["A", "A", "B", "A"]
    assert calls == ["a", "b"] and memo.computed == 2
    memo("c")  # the third key forgets "a", the oldest
    assert len(memo) == 2
    memo("b")
    memo("a")
    assert calls == ["a", "b", "c", "a"]


def _reranker() -> ProfileReranker:
    return ProfileReranker(spec=rag_profile().engines["rerank"], devices=Devices())


text = st.text(alphabet=st.sampled_from("ab cD_1.\n"), max_size=30)


@given(context=text, query=text)
def test_the_profile_reranker_scores_as_the_scripted_engines_do(context: str, query: str) -> None:
    assert _reranker().relevance(context, query) == overlap_score(context, query)


def test_the_profile_reranker_splits_each_text_into_words_once() -> None:
    engine = ProfileReranker(spec=ayo.EngineModel("rerank", ops={"score": ayo.Cost()}), devices=Devices())
    passages = (*(f"passage {i} of words" for i in range(5)), "which words")
    request = RerankRequest("which words", passages)

    async def three_times() -> list[list[list[float]]]:
        return [await engine.score([request]) for _ in range(3)]

    scores = run_in_new_loop(three_times)
    assert scores[0] == scores[2] == [[overlap_score(p, "which words") for p in passages]]
    assert engine._words.computed == len(passages)  # each passage once (the query is one of them)


def test_the_profile_embedder_embeds_each_text_once_with_the_scripted_vector() -> None:
    engine = ProfileEmbedder(spec=rag_profile().engines["embed"], devices=Devices())
    for _ in range(3):
        assert engine.vector("some words") == ScriptedEmbedder().vector("some words")
    assert engine._vectors.computed == 1
