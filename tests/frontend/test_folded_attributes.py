"""An attribute of a module's object folded into the graph is checked before each call, as a
global is: set from outside, the next call is traced again and answers as eager code does. Set by
a query (``setattr`` in a handler or a function), it is a change the workflow makes, as
``CFG.tokens = 1`` is, and a value it changes is not folded: the call reading it runs as
written (a graph break naming the keyword), with the value Python reads, query after query (it was
refused at trace time)."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo
from tests.util import outcome, run_in_new_loop, scripted_runtime

from . import folded_attribute_shapes as shapes

QUERIES = ["one", "FAIL two", "three", "four"]


@pytest.mark.parametrize("wf", shapes.SHAPES, ids=lambda w: w.fn.__name__)
def test_an_attribute_a_query_sets_is_not_folded(wf: Any) -> None:
    unoptimized = ayo.workflow(wf.fn, passes=[])

    async def queries(run: Any) -> list[Any]:
        shapes.reset()
        async with scripted_runtime():
            return [await outcome(run, q, ["d"]) for q in QUERIES]

    async def main() -> None:
        eager = await queries(wf.eager)
        assert len({len(a) for a in eager if isinstance(a, str) and a != "err"}) > 1  # (it changed)
        for graph in (unoptimized, wf):
            assert await queries(graph) == eager

    reasons = [str(n.attrs.get("reason")) for n in wf.graph("one", ["d"]).walk() if n.op == "break"]
    assert len(reasons) == 1 and "`max_tokens=`" in reasons[0], reasons

    run_in_new_loop(main)


def test_an_attribute_set_from_outside_between_calls_is_read_when_it_runs() -> None:
    wf = shapes.collection_read_from_an_object

    async def main() -> None:
        shapes.reset()
        async with scripted_runtime():
            first = await wf("alpha", ["alpha one", "beta"])
            shapes.CFG.collection = "other"
            second = await wf("gamma", ["gamma two"])
            assert second == await wf.eager("gamma", ["gamma two"])
            assert "alpha one" in first and "alpha one" not in second

    run_in_new_loop(main)
