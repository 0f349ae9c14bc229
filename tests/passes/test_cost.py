"""The cost model: engine profiles, size estimates, annotation and the critical path."""

from __future__ import annotations

import pytest

from ayo_trace import DAG
from ayo_trace.passes import (
    DEFAULT_PASSES,
    DEFAULT_PROFILES,
    EngineProfile,
    Estimates,
    annotate,
    critical_path,
    run_passes,
)

from . import shapes

LLM = DEFAULT_PROFILES["llm"]


def test_latency_is_fixed_plus_items_plus_tokens() -> None:
    p = EngineProfile("embedding", fixed_s=0.5, per_item_s=0.1, per_token_s=0.01, max_batch=4)
    assert p.latency(1) == pytest.approx(0.6)
    assert p.latency(3, tokens=10) == pytest.approx(0.5 + 0.3 + 0.1)
    assert p.latency(5) == pytest.approx(2 * 0.5 + 0.5)  # two rounds of at most 4


def test_decode_shares_time_by_the_batch_speedup() -> None:
    assert LLM.latency(1, new_tokens=78) == pytest.approx(LLM.fixed_s + 1.0)
    # 8 sequences decode 205/102 times as many tokens per second as one: each takes 8 * 102/205 s
    assert LLM.latency(8, new_tokens=78) == pytest.approx(LLM.fixed_s + 8 * 102 / 205)
    assert LLM.speedup(3) == pytest.approx((94 / 102 + 135 / 102) / 2)


def test_batch_knee_is_where_per_item_time_stops_improving() -> None:
    assert EngineProfile("embedding", per_item_s=0.01).batch_knee() == 1
    emb = DEFAULT_PROFILES["embedding"]
    assert emb.batch_knee(tokens_per_item=150) == 3
    assert emb.per_item(3, 150) <= 1.1 * emb.per_item(64, 150) < emb.per_item(2, 150)


def test_single_llm_costs_one_prefill_and_its_decode() -> None:
    est = Estimates()
    prompt_tokens = est.text_chars / est.chars_per_token
    expected = LLM.latency(1, prompt_tokens) + LLM.latency(1, 0, 16)
    seconds, names = critical_path(run_passes(shapes.single_llm(), DEFAULT_PASSES))
    assert seconds == pytest.approx(expected)
    assert names == ["answer_prefill", "answer"]


def test_annotate_writes_cost_finish_remaining_on_every_node_bodies_included() -> None:
    graph = run_passes(shapes.nested_map(), DEFAULT_PASSES)
    annotate(graph)
    for node in graph.walk():
        assert {"cost", "finish", "remaining", "items"} <= set(node.meta), node.name
    first = graph.find("answers")
    assert first.meta["remaining"] == pytest.approx(graph.output.meta["finish"])


def test_a_map_costs_items_times_body_in_order_and_one_batch_at_once() -> None:
    graph = run_passes(shapes.map_llm(), DEFAULT_PASSES[:2])
    annotate(graph)
    in_order = graph.find("summaries").meta["cost"]
    body = graph.find("summaries").attrs["body"].output.meta["finish"]
    assert in_order == pytest.approx(Estimates().list_items * body)
    at_once = run_passes(graph, DEFAULT_PASSES[2:3])
    annotate(at_once)
    batched = at_once.find("summaries").meta["cost"]
    assert body < batched < in_order


def test_a_streamed_map_finishes_one_item_after_its_producer() -> None:
    graph = run_passes(shapes.query_expansion(), DEFAULT_PASSES)
    annotate(graph)
    results, queries = graph.find("results"), graph.find("queries")
    body = results.attrs["body"].output.meta["finish"]
    assert results.meta["finish"] == pytest.approx(queries.meta["finish"] + body)


@pytest.mark.parametrize("shape", ["naive_rag", "query_expansion", "parallel_llms", "map_llm", "collections"])
def test_optimizing_shortens_the_estimated_critical_path(shape: str) -> None:
    base, _ = critical_path(shapes.SHAPES[shape]())
    optimized, _ = critical_path(run_passes(shapes.SHAPES[shape](), DEFAULT_PASSES))
    assert optimized < base


def test_profiles_are_found_by_engine_name_before_kind() -> None:
    graph = run_passes(shapes.single_llm(), DEFAULT_PASSES)
    for node in graph.nodes:
        if node.op.startswith("llm_"):
            node.attrs["engine"] = "big"
    slow = EngineProfile("llm", fixed_s=10.0)
    by_name, _ = critical_path(graph, {"big": slow, "llm": LLM})
    by_kind, _ = critical_path(graph, {"llm": slow})
    assert by_name == pytest.approx(20.0)
    assert by_kind == pytest.approx(20.0)
    default, _ = critical_path(graph, {"other": slow})
    assert default < 1.0


def test_an_input_read_as_passages_is_sized_as_a_list() -> None:
    dag = DAG("rerank_given")
    question, docs = dag.input("question"), dag.input("docs")
    dag.output(dag.rerank(question, docs, top_k=2))
    graph = dag.graph()
    annotate(graph)
    assert graph.find("docs").meta["items"] == Estimates().list_items  # rerank's list arg
    assert graph.find("question").meta["items"] == 1
