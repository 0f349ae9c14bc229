"""The cost annotation runs after the last pass, so the nodes a pass creates (split prompt parts)
carry the critical-path estimate the engine schedulers order requests by; a split is made only where
it saves more than its seam costs."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pytest

from ayo_trace.backend.batching import Dispatch, Waiting, next_batch
from ayo_trace.backend.config import BatchPolicy
from ayo_trace.backend.policy import critical_path_order, query_order
from ayo_trace.ir import Graph
from ayo_trace.passes import (
    DEFAULT_PASSES,
    DEFAULT_PROFILES,
    EngineProfile,
    PassResult,
    SplitPrefill,
    annotate,
    run_passes,
)

from . import shapes


@pytest.mark.parametrize("shape", [shapes.naive_rag, shapes.query_expansion, shapes.late_holes])
def test_every_split_part_carries_its_remaining_critical_path(shape: object) -> None:
    graph: Graph = run_passes(shape(), DEFAULT_PASSES, profiles=shapes.NO_BLOCK)  # type: ignore[operator]
    parts = [n for n in graph.nodes if n.op == "llm_prefill" and n.attrs.get("parts", 1) > 1]
    assert parts
    for p in parts:
        after = max(u.meta["remaining"] for u in p.users)
        assert p.meta["remaining"] > after > 0  # its own cost, then the longest path after it


def test_split_parts_are_served_critical_path_first() -> None:
    """At query start the LLM holds two prefixes run ahead: the one whose query path is longest
    (the expansion prompt: expand, search, answer) goes first though it came second."""
    graph = run_passes(shapes.query_expansion(), DEFAULT_PASSES, profiles=shapes.NO_BLOCK)
    answer, queries = graph.find("answer_prefill_p1"), graph.find("queries_prefill_p1")
    queue = [
        Waiting(("prefill", "ahead"), priority=answer.meta["remaining"], arrival=0.0, ahead=True),
        Waiting(("prefill", "ahead"), priority=queries.meta["remaining"], arrival=0.001, ahead=True),
    ]
    policy = BatchPolicy(max_batch=1, max_wait_s=0.0)
    for order in (critical_path_order, query_order):
        assert next_batch(queue, policy, 0.0, order=order) == Dispatch((1,))


def blocky(block: int) -> dict[str, EngineProfile]:
    return {**DEFAULT_PROFILES, "llm": dataclasses.replace(DEFAULT_PROFILES["llm"], prefill_block=block)}


def test_a_split_whose_seam_recomputes_more_than_it_saves_is_not_made() -> None:
    """The naive RAG prompt's constant prefix is about 13 tokens: an engine that evaluates prompts in
    64-token blocks recomputes all of it after the seam, so splitting there only adds a request."""
    lowered = run_passes(shapes.naive_rag(), DEFAULT_PASSES[:3])
    assert SplitPrefill(profiles=blocky(0))(lowered.copy()).changed  # computed once and shared
    assert not SplitPrefill(profiles=blocky(64))(lowered.copy()).changed
    assert not SplitPrefill()(lowered.copy()).changed  # the default profile is llama.cpp's: 64
    # with 8-token blocks the seam recomputes 5 of its 13 tokens: the split still pays
    assert SplitPrefill(profiles=blocky(8))(lowered.copy()).changed


def test_seam_tokens_are_the_partial_block_before_the_seam() -> None:
    prof = blocky(64)["llm"]
    assert [prof.seam_tokens(n) for n in (13, 64, 100)] == [13, 0, 36]
    assert DEFAULT_PROFILES["llm"].seam_tokens(100) == 36
    assert blocky(0)["llm"].seam_tokens(100) == 0


@dataclasses.dataclass(frozen=True)
class EmbedsTheAnswer:
    """A pass after the defaults: the output also returns a vector of the answer (a node created
    after every pass that annotates on its own, and a longer path for the nodes before it)."""

    name: ClassVar[str] = "embeds_the_answer"

    def __call__(self, graph: Graph) -> PassResult:
        out = graph.output
        vector = graph.add("embed", out.args[:1], {"engine": None}, name="answer_vector", before=out)
        graph.set_args(out, (*out.args, vector))
        return PassResult(graph, True)


@pytest.mark.parametrize("shape", [shapes.naive_rag, shapes.query_expansion])
def test_the_cost_is_annotated_after_the_last_pass_whatever_it_adds(shape: object) -> None:
    graph: Graph = run_passes(shape(), (*DEFAULT_PASSES, EmbedsTheAnswer()))  # type: ignore[operator]
    fresh = graph.copy()
    annotate(fresh)
    for node, again in zip(graph.walk(), fresh.walk(), strict=True):
        assert node.meta.get("remaining") == pytest.approx(again.meta["remaining"]), node.name
        assert node.meta.get("cost") == pytest.approx(again.meta["cost"]), node.name
    assert graph.find("answer_vector").meta["cost"] > 0


def branches(topic_engine: str | None = None) -> Graph:
    """async def branches(question):
    topic = await ayo.llm(f"Question: {question}\\nIts topic:", max_tokens=6)
    hits = await ayo.search(question, collection="kb", top_k=2)
    context = "\\n".join(h.text for h in hits)
    return await ayo.llm(f"Answer from the documentation.\\nDocumentation:\\n{context}\\n"
                         f"Topic: {topic}\\nQuestion: {question}\\nAnswer:", max_tokens=32)"""
    t = shapes.Trace("branches")
    question = t.input("question")
    topic = t.llm("topic", shapes.tpl("Question: ", 0, "\nIts topic:"), [question], max_tokens=6)
    topic.attrs["engine"] = topic_engine
    hits = t.search("hits", question, "kb", top_k=2)
    context = t.python("context", 'context = "\\n".join(h.text for h in hits)', [hits])
    template = shapes.tpl(
        "Answer from the documentation.\nDocumentation:\n", 0, "\nTopic: ", 1, "\nQuestion: ", 2, "\nAnswer:"
    )
    answer = t.llm("answer", template, [context, topic, question], max_tokens=32)
    return t.output(answer)


def answer_parts(graph: Graph) -> list[str]:
    return [
        str(n.attrs["template"]) for n in graph.nodes if n.op == "llm_prefill" and n.name.startswith("answer")
    ]


def test_a_part_is_not_split_off_to_run_while_the_same_query_keeps_its_llm_busy() -> None:
    """``bench/heldout_like.py``'s ``branches``: the retrieved context is ready long before the
    topic, but the LLM is busy with the topic meanwhile (one call at a time), so a part prefilled
    between them would only run after the topic anyway: two requests and a seam for nothing."""
    graph = run_passes(branches(), DEFAULT_PASSES, profiles=shapes.NO_BLOCK)
    assert len(answer_parts(graph)) == 2  # the shared constant head, then the rest in one part
    assert graph.find("answer_prefill_p2").attrs["template"].holes


def test_the_same_part_is_split_off_when_the_late_input_comes_from_another_engine() -> None:
    """With the topic written by another LLM engine, the answer's engine idles until the topic is
    ready: the context is prefilled in that time, and the topic's part after it."""
    graph = run_passes(branches(topic_engine="small"), DEFAULT_PASSES, profiles=shapes.NO_BLOCK)
    assert len(answer_parts(graph)) == 3
