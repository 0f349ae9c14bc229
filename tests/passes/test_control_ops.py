"""The passes, lint, copy and exports handle ``loop`` and ``try`` nodes like ``map`` and ``cond``."""

from __future__ import annotations

import pytest

import ayo_trace as ayo
from ayo_trace.errors import GraphError
from ayo_trace.ir import Graph
from ayo_trace.passes import DEFAULT_PASSES, run_passes
from ayo_trace.passes.cost import annotate
from ayo_trace.passes.effects import access


class Refused(Exception):
    pass


@ayo.workflow
async def index_in_rounds(question: str, batches: list[list[str]]) -> int:
    seen = 0
    for batch in batches:
        await ayo.ingest(batch, collection="rounds")
        hits = await ayo.search(question, collection="rounds", top_k=5)
        seen = len(hits)
        if seen > 2:
            break
    final = await ayo.search(question, collection="rounds", top_k=1)
    return seen + len(final)


@ayo.workflow
async def guarded_ingest(docs: list[str], question: str) -> str:
    try:
        await ayo.ingest(docs, collection="guarded")
        note = "ok"
    except Refused as e:
        note = str(e)
    hits = await ayo.search(question, collection="guarded", top_k=1)
    return note + hits[0].text


def _node(graph: Graph, op: str) -> ayo.ir.Node:  # type: ignore[name-defined]
    return next(n for n in graph.walk() if n.op == op)


def test_a_loop_that_writes_a_collection_keeps_later_reads_after_it() -> None:
    graph = run_passes(index_in_rounds.graph("q", [["a"]]), DEFAULT_PASSES)
    graph.lint()
    loop = _node(graph, "loop")
    assert access(loop).writes == frozenset({"rounds"})
    final = graph.find("final") if any(n.name == "final" for n in graph.nodes) else None
    readers = [n for n in graph.nodes if n.op in ("db_search", "embed") and n is not loop]
    assert readers, graph
    # the search after the loop waits for it (through data or order edges)
    search = next(n for n in graph.nodes if n.op == "db_search")
    assert _reaches(loop, search), graph
    del final


def _reaches(a: ayo.ir.Node, b: ayo.ir.Node) -> bool:  # type: ignore[name-defined]
    work, seen = [a], set()
    while work:
        n = work.pop()
        if n is b:
            return True
        if n not in seen:
            seen.add(n)
            work.extend(n.users)
    return False


def test_inside_a_loop_body_the_insert_stays_before_the_search() -> None:
    graph = run_passes(index_in_rounds.graph("q", [["a"]]), DEFAULT_PASSES)
    body = _node(graph, "loop").attrs["body"]
    insert = next(n for n in body.nodes if n.op in ("db_insert", "ingest"))
    search = next(n for n in body.nodes if n.op == "db_search")
    assert _reaches(insert, search), body


def test_a_try_that_writes_orders_the_later_search() -> None:
    graph = run_passes(guarded_ingest.graph(["a"], "q"), DEFAULT_PASSES)
    graph.lint()
    node = _node(graph, "try")
    assert access(node).writes == frozenset({"guarded"})
    search = next(n for n in graph.nodes if n.op == "db_search")
    assert _reaches(node, search), graph


def test_copy_copies_every_body_of_a_try() -> None:
    graph = guarded_ingest.graph(["a"], "q")
    again = graph.copy()
    old, new = _node(graph, "try"), _node(again, "try")
    assert new.attrs["body"] is not old.attrs["body"]
    assert all(a is not b for a, b in zip(new.attrs["handlers"], old.attrs["handlers"], strict=True))
    assert str(again) == str(graph)
    again.lint()


def test_cost_analysis_covers_loop_and_try_bodies() -> None:
    for graph in (index_in_rounds.graph("q", [["a"]]), guarded_ingest.graph(["a"], "q")):
        annotate(graph)
        for n in graph.walk():
            assert "cost" in n.meta, n


@pytest.mark.parametrize("break_it", ["carried", "go_on", "limit", "handlers"])
def test_lint_checks_the_layout_of_loop_and_try(break_it: str) -> None:
    graph = (
        index_in_rounds.graph("q", [["a"]]) if break_it != "handlers" else guarded_ingest.graph(["a"], "q")
    )
    graph.lint()
    node = _node(graph, "loop" if break_it != "handlers" else "try")
    if break_it == "carried":
        node.attrs["carried"] = ("seen", "extra", *node.attrs["carried"])
    elif break_it == "go_on":
        out = node.attrs["body"].output
        node.attrs["body"].set_args(out, out.args[:-1])
    elif break_it == "limit":
        node.attrs["item"] = None
        node.attrs["max_iterations"] = 0
    else:
        node.attrs["catches"] = ()
    with pytest.raises(GraphError):
        graph.lint()


def test_exports_draw_every_body() -> None:
    graph = guarded_ingest.graph(["a"], "q")
    mermaid, dot = graph.to_mermaid(), graph.to_dot()
    handler = _node(graph, "try").attrs["handlers"][0]
    for n in handler.nodes:
        assert n.name in mermaid and n.name in dot
