"""A loop or comprehension over a few constants known when traced, whose item is a graph constant
of a call, is traced unrolled (``frontend/unroll.py``): no graph break, the same answers and
requests (sampling parameters included) as plain Python, and its calls still run at once in the
optimized graph. Past its bounds (too many items, a ``break``, a list changed after it is made) the
call stays a graph break."""

from __future__ import annotations

from typing import Any

import pytest

from ayo_trace.ir.graph import Graph

from . import unroll_shapes as u
from .test_run_time_constants import three_ways

pytestmark = pytest.mark.anyio

PRIMITIVES = ("llm", "search")


def _name(wf: Any) -> str:
    return wf.fn.__name__


@pytest.mark.parametrize(("wf", "args"), u.CASES, ids=[_name(wf) for wf, _ in u.CASES])
async def test_a_loop_over_constants_is_traced_unrolled(wf: Any, args: tuple[Any, ...]) -> None:
    graph = wf.graph(*args)
    assert [n.attrs["reason"] for n in graph.walk() if n.op == "break"] == []
    calls = [n for n in graph.walk() if n.op in PRIMITIVES]
    assert set(calls) <= set(graph.nodes)  # each a node of the workflow, none in a loop's body
    eager, plain, optimized = await three_ways(wf, args)
    assert eager == plain == optimized  # same answers, same prompts with the same sampling parameters


@pytest.mark.parametrize(("wf", "args"), u.BOUNDARY, ids=[_name(wf) for wf, _ in u.BOUNDARY])
async def test_past_its_bounds_a_loop_keeps_its_graph_break(wf: Any, args: tuple[Any, ...]) -> None:
    graph = wf.graph(*args)
    assert [n for n in graph.walk() if n.op == "break"]
    eager, plain, optimized = await three_ways(wf, args)
    assert eager == plain == optimized


async def test_a_loop_that_breaks_is_not_unrolled_but_a_cond_over_its_items() -> None:
    """(It stayed a graph break: ``dispatch._loop_items``, test_loop_item_constants.py.)"""
    graph = u.loop_that_breaks.graph("q")
    ops = [n.op for n in graph.walk()]
    assert "break" not in ops and "loop" in ops and "cond" in ops, graph
    eager, plain, optimized = await three_ways(u.loop_that_breaks, ("q",))
    assert eager == plain == optimized


def _upstream(node: Any) -> set[Any]:
    seen: set[Any] = set()
    todo = [*node.args, *node.after]
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo += [*n.args, *n.after]
    return seen


def _calls(graph: Graph) -> list[Any]:
    return [n for n in graph.nodes if n.op in ("llm_decode", "db_search")]


@pytest.mark.parametrize(
    "wf", [u.search_each_kb, u.self_consistency, u.styles_with_budgets, u.local_list_of_temperatures]
)
def test_the_unrolled_calls_run_at_once(wf: Any) -> None:
    """No call of an unrolled loop waits for another (the graph orders them by their data only)."""
    calls = _calls(wf.graph("q", optimized=True))
    assert len(calls) >= 2
    for call in calls:
        assert not set(calls) & _upstream(call), call


def test_the_unrolled_calls_carry_their_items_constants() -> None:
    graph = u.self_consistency.graph("q")
    assert sorted(n.attrs["sampling"].seed for n in graph.walk() if n.op == "llm") == [0, 1, 2]
    graph = u.module_constant.graph("q")
    assert [n.attrs["params"].collection for n in graph.walk() if n.op == "search"] == ["kb0", "kb1"]


def test_a_parameter_iterated_over_specializes_the_trace_only_when_it_unrolls() -> None:
    """A loop over a workflow parameter (or a field of one) holding a few constants traces again
    with that parameter static (a guard), then unrolled; another value traces again. A long list,
    or one the workflow changes, is not made static: its calls stay graph breaks."""
    graph = u.over_a_parameter.graph("q", ["kb0", "kb1"])
    assert "kbs" in graph.guards
    assert [n.attrs["params"].collection for n in graph.walk() if n.op == "search"] == ["kb0", "kb1"]
    other = u.over_a_parameter.graph("q", ["kb1"])
    assert [n.attrs["params"].collection for n in other.walk() if n.op == "search"] == ["kb1"]
    graph = u.over_a_field.graph("q", u.Settings())
    assert sorted(n.attrs["sampling"].max_tokens for n in graph.walk() if n.op == "llm") == [2, 5]
    long = u.over_a_long_parameter.graph("q", ["a"] * 17)
    assert not long.guards and [n for n in long.walk() if n.op == "break"]
    changed = u.over_a_changed_parameter.graph("q", ["kb1"])
    assert not changed.guards
    assert not u.parameter_passed_to_a_helper.graph("q", ["kb1"]).guards


def test_the_graph_keeps_a_copy_of_a_list_it_specialized_on() -> None:
    """The trace is keyed by the list's items: a caller changing its list after a call must not
    change the graph a later call with those items reuses."""
    kbs = ["kb0", "kb1"]
    first = u.over_a_parameter.graph("q", kbs)
    kbs.append("kb0")
    assert first.statics["kbs"] == ["kb0", "kb1"]
    assert str(u.over_a_parameter.graph("q", ["kb0", "kb1"])) == str(first)
