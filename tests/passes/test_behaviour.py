"""One behaviour per test, for what the goldens show only in passing."""

from __future__ import annotations

import pytest

from ayo_trace.ir import Graph, Node
from ayo_trace.passes import (
    DEFAULT_PASSES,
    DecomposeStages,
    EngineProfile,
    Lower,
    PruneDependencies,
    SplitPrefill,
    run_passes,
)

from . import shapes

LOWERED = DEFAULT_PASSES[:3]


def after_names(graph: Graph, name: str) -> list[str]:
    return [a.name for a in graph.find(name).after]


def test_a_search_keeps_waiting_for_the_insert_into_its_collection() -> None:
    graph = run_passes(shapes.collections(), DEFAULT_PASSES)
    assert after_names(graph, "new") == ["ingest"]  # notes: written, then read
    assert after_names(graph, "found") == ["ingest_1"]  # papers


def test_an_insert_waits_for_an_earlier_search_of_its_collection() -> None:
    graph = run_passes(shapes.collections(), DEFAULT_PASSES)
    assert after_names(graph, "ingest") == ["old"]


def test_an_insert_waits_for_every_statement_before_it() -> None:
    # any of them may fail, and eagerly the rows are then never inserted (a search of another
    # collection included: `new` waits for the notes' insert, which waits for `old`)
    graph = run_passes(shapes.collections(), DEFAULT_PASSES)
    assert after_names(graph, "ingest_1") == ["new"]
    assert after_names(graph, "facts") == []  # a search waits for no write of another collection


def test_split_parts_render_exactly_the_unsplit_prompt() -> None:
    split = 0
    for build in shapes.SHAPES.values():
        before = run_passes(build(), LOWERED)
        after = run_passes(before, DEFAULT_PASSES[3:4], profiles=shapes.NO_BLOCK)
        prompts = {n.attrs["session"]: n for n in before.walk() if n.op == "llm_prefill"}
        for session, whole in prompts.items():
            parts = sorted(
                (n for n in after.walk() if n.op == "llm_prefill" and n.attrs["session"] == session),
                key=lambda n: n.attrs["part"],
            )
            assert [p.attrs["part"] for p in parts] == list(range(1, len(parts) + 1))
            assert all(p.attrs["parts"] == len(parts) for p in parts)
            # the pass marks what runs ahead: every part but the last (the runtime reads the mark)
            assert [p.attrs.get("ahead", False) for p in parts] == [True] * (len(parts) - 1) + [False]
            value = {n: f"<{n.name}>" for n in (*whole.args, *(a for p in parts for a in p.args))}
            text = "".join(p.attrs["template"].render([value[a] for a in p.args]) for p in parts)
            assert text == whole.attrs["template"].render([value[a] for a in whole.args]), session
            split += len(parts) > 1
    assert split >= 3


def test_only_parts_without_args_are_shared_and_only_later_parts_chained() -> None:
    graph = run_passes(shapes.query_expansion(), DEFAULT_PASSES, profiles=shapes.NO_BLOCK)
    first, second = graph.find("queries_prefill_p1"), graph.find("queries_prefill_p2")
    assert first.args == () and first.attrs["shared"] and not first.attrs["chained"]
    assert second.args[0] is first and second.attrs["chained"] and "shared" not in second.attrs


def test_a_short_constant_prefix_is_not_worth_a_request_unless_asked() -> None:
    lowered = run_passes(shapes.effects(), LOWERED)
    assert not SplitPrefill(profiles=shapes.NO_BLOCK)(lowered.copy()).changed  # "Q: " is a token or two
    forced = SplitPrefill(profiles=shapes.NO_BLOCK, min_part_s=0.0)(lowered.copy())
    assert forced.changed
    assert "llm_prefill(f\"Q: \", session='answer', part=1, parts=2, shared" in str(forced.graph)


def test_a_prompt_whose_holes_are_ready_together_without_prefix_is_not_split() -> None:
    lowered = run_passes(shapes.single_llm(), LOWERED)
    assert not SplitPrefill(min_part_s=0.0)(lowered).changed


SLOW_INDEX = {
    "embedding": EngineProfile("embedding", per_item_s=0.004, per_token_s=0.0001),
    "vector_store": EngineProfile("vector_store", fixed_s=0.003, per_item_s=0.05),
}


def test_decompose_streams_embeddings_into_a_slow_insert_chunk_by_chunk() -> None:
    graph = run_passes(
        shapes.naive_rag(), [Lower(), PruneDependencies(), DecomposeStages(profiles=SLOW_INDEX)]
    )
    assert (
        str(graph)
        == """\
graph rag(question, docs):
  %question = input  # wf.py:1
  %docs = input  # wf.py:1
  %ingest_embed = embed(%docs, stream, chunk=1)  # wf.py:2
  %ingest = db_insert(%docs, stream %ingest_embed, collection='docs', chunk=1)  # wf.py:2
  %hits_embed = embed(%question)  # wf.py:3
  %hits = db_search(%hits_embed, collection='docs', top_k=8) after %ingest  # wf.py:3
  %best = rerank(%question, %hits, top_k=3)  # wf.py:4
  %ctx = python(%best) { ctx = "\\n".join(h.text for h in best) }  # wf.py:5
  %answer_prefill = llm_prefill(f"Answer the question using only the context.\\nContext: {%ctx}\\nQuestion: {%question}\\nAnswer:", session='answer', part=1, parts=1)  # wf.py:6
  %answer = llm_decode(%answer_prefill, max_tokens=32)  # wf.py:6
  return %answer"""
    )


def test_decompose_leaves_a_constant_list_that_fits_one_chunk_whole() -> None:
    """Unchunked, the ingest is left whole (as traced), so it embeds only what its collection lacks."""
    lowered = run_passes(shapes.const_docs(), DEFAULT_PASSES[:2])
    whole = DecomposeStages(chunk=2, profiles=SLOW_INDEX)(lowered.copy()).graph
    assert [n.op for n in whole.nodes if n.op in ("ingest", "embed", "db_insert")] == ["ingest", "embed"]
    assert whole.find("ingest").attrs == {
        "collection": "faq",
        "engine": None,
        "embed_engine": None,
        "whole": True,
    }
    chunked = DecomposeStages(chunk=1, profiles=SLOW_INDEX)(lowered.copy()).graph
    assert [n.op for n in chunked.nodes if n.op in ("ingest", "embed", "db_insert")] == [
        "embed",
        "db_insert",
        "embed",
    ]


def test_an_ingest_left_whole_is_not_lowered_again() -> None:
    once = run_passes(shapes.const_docs(), DEFAULT_PASSES)
    assert not Lower()(once.copy()).changed
    assert not DecomposeStages()(once.copy()).changed


@pytest.mark.parametrize(
    ("shape", "parallel"), [("map_llm", True), ("map_ingest", False), ("nested_map", False)]
)
def test_only_maps_with_independent_items_run_them_at_once(shape: str, parallel: bool) -> None:
    graph = run_passes(shapes.SHAPES[shape](), DEFAULT_PASSES)
    outer = next(n for n in graph.nodes if n.op == "map")
    assert (outer.attrs["concurrency"] is None) is parallel


def test_a_parse_that_feeds_no_map_is_not_streamed() -> None:
    graph = run_passes(shapes.parse_no_map(), DEFAULT_PASSES)
    ideas: Node = graph.find("ideas")
    assert not ideas.attrs["stream"]
    assert all(n.attrs.get("stream_args", ()) == () for n in graph.nodes)


def test_a_break_keeps_order_with_statements_that_could_observe_it() -> None:
    graph = run_passes(shapes.graph_break(), DEFAULT_PASSES)
    assert after_names(graph, "result") == ["stamp"]  # a python statement before it
    assert after_names(graph, "hits") == ["result"]  # a search after it
    assert after_names(graph, "plan_prefill") == []  # pure LLM work is free to move
