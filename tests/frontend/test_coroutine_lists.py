"""A list of coroutines built statement by statement (a literal, ``append``s, a loop appending a
call, ``extend`` of a generator, an ``if`` known at trace time) and spread into ``gather`` is traced
whole, its calls where the gather stands (``frontend/coroutine_lists.py``): the same answers and
requests as plain Python, effects ordered as Python orders them (a coroutine runs when awaited).
Where deferring the calls could change what they read, or the gather is not traced, the gather
stays a graph break, run eagerly with the same answers."""

from __future__ import annotations

from typing import Any

import pytest

from . import coroutine_list_shapes as c
from .test_run_time_constants import three_ways

pytestmark = pytest.mark.anyio


def _id(case: tuple[Any, tuple[Any, ...]]) -> str:
    return f"{case[0].fn.__name__}-{len(case[1][0])}"


@pytest.mark.parametrize(("wf", "args"), c.TRACED, ids=[_id(x) for x in c.TRACED])
async def test_a_list_of_coroutines_grown_then_gathered_is_traced(wf: Any, args: tuple[Any, ...]) -> None:
    graph = wf.graph(*args)
    assert [n.attrs["reason"] for n in graph.walk() if n.op == "break"] == []
    eager, plain, optimized = await three_ways(wf, args)
    assert eager == plain == optimized


@pytest.mark.parametrize(("wf", "args"), c.BREAKS, ids=[_id(x) for x in c.BREAKS])
async def test_a_list_that_cannot_be_deferred_keeps_its_gather_a_graph_break(
    wf: Any, args: tuple[Any, ...]
) -> None:
    graph = wf.graph(*args)
    assert len([n for n in graph.walk() if n.op == "break"]) == 1
    eager, plain, optimized = await three_ways(wf, args)
    assert eager == plain == optimized


def test_the_loop_is_a_map_whose_items_run_at_once_and_the_calls_follow_the_ingest() -> None:
    graph = c.appended_in_a_loop.graph("q", optimized=True)
    (mapped,) = [n for n in graph.nodes if n.op == "map"]
    assert mapped.attrs["concurrency"] is None  # every item at once
    graph = c.ingest_before_the_gather.graph("q")
    order = [n.op for n in graph.nodes if n.op in ("ingest", "search")]
    assert order == ["ingest", "search"]
