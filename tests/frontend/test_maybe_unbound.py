"""A name some path leaves unbound is traced, not refused: it is handed on as "unbound" on that
path, and a read of it raises ``UnboundLocalError`` when the graph runs, where Python raises it
(a statement run as written reads it itself, so a read under a condition raises only when the
condition holds). Eager ≡ traced ≡ optimized over inputs that take every path."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.ir import Graph
from ayo_trace.ir.code import UNBOUND
from tests.util import outcome, scripted_runtime

from . import maybe_unbound_shapes as shapes

pytestmark = pytest.mark.anyio

QUESTIONS = ["x marks the spot", "a plain question", "short", "FAIL x"]  # (FAIL: the LLM fails)
DOCS = [[], ["alpha"], ["alpha", "beta", "gamma"]]


@pytest.mark.parametrize("wf", shapes.WORKFLOWS, ids=[wf.fn.__name__ for wf in shapes.WORKFLOWS])
async def test_a_name_left_unbound_on_a_path_is_traced(wf: Any) -> None:
    breaks = [n.attrs.get("reason") for n in wf.graph("q", ["d"]).walk() if n.op == "break"]
    # (a `try` body binding a name before its last statement is cut in two there: test_cut_try.py)
    assert breaks == []
    unoptimized = ayo.workflow(wf.fn, passes=[])
    async with scripted_runtime():  # (the scripted LLM's answers depend on the prompt alone)
        for q in QUESTIONS:
            for docs in DOCS:
                eager = await outcome(wf.eager, q, docs)
                assert await outcome(unoptimized, q, docs) == eager, (q, docs)
                assert await outcome(wf, q, docs) == eager, (q, docs)


@pytest.mark.parametrize(
    "wf, q, docs",
    [
        (shapes.read_always, "plain", ["a"]),
        (shapes.read_in_a_prompt, "plain", ["a"]),
        (shapes.loop_may_not_run, "plain", []),
        (shapes.handler_binds_nothing_read_always, "FAIL", []),
    ],
)
async def test_a_read_where_python_raises_raises_unbound_local_error(
    wf: Any, q: str, docs: list[str]
) -> None:
    async with scripted_runtime():
        eager = await outcome(wf.eager, q, docs)
        assert eager[:2] == ("raised", "UnboundLocalError")
        assert await outcome(ayo.workflow(wf.fn, passes=[]), q, docs) == eager
        assert await outcome(wf, q, docs) == eager


async def test_a_graph_handing_on_unbound_names_round_trips_through_json() -> None:
    wf = shapes.plain_statement  # `if len(q) > 12: tag = "long"`, read under the same condition
    graph = wf.graph("q", [])
    assert "const(<unbound>)" in str(graph)
    again = Graph.from_json(graph.to_json(), trusted=True)
    assert str(again) == str(graph)
    codes = [n.attrs["code"] for n in again.walk() if n.op == "python"]
    assert [c.unbound for c in codes if c.unbound] == [("tag",), ("tag",)]
    async with scripted_runtime() as rt:
        for q in ("a long question here", "short"):
            assert await rt.run(again, {"q": q, "docs": []}) == await wf.eager(q, [])


async def test_the_runtime_refuses_to_give_unbound_to_a_primitive() -> None:
    # the tracer checks every read of a name a path may leave unbound; were one missed, the run
    # fails naming the node rather than embedding the sentinel
    g = Graph("unchecked")
    text = g.add("const", (), {"value": UNBOUND}, name="text")
    vector = g.add("embed", [text], {"engine": None}, name="vector")
    g.add("output", [vector])
    async with scripted_runtime() as rt:
        with pytest.raises(ayo.NodeError, match=r"%vector.*left unbound"):
            await rt.run(g, {})
