"""The shapes of ``agent_shapes.py``: eager ≡ unoptimized ≡ optimized over inputs with failing
calls (none of them a graph break but the helper whose `return` stands in an `async with`), and a
clean refusal for what the graph cannot mean."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.errors import TraceError
from tests.util import outcome, run_in_new_loop, scripted_runtime, three_runs_agree

from . import agent_shapes as shapes

QUESTIONS = ["a plain question", "FAIL x"]
DOCS = [[], ["alpha"], ["alpha", "beta FAIL", "gamma"], ["one", "two", "three"]]


@pytest.mark.parametrize("wf", shapes.SHAPES, ids=lambda w: w.fn.__name__)
def test_agrees_with_eager(wf: Any) -> None:
    breaks = [n.attrs.get("reason") for n in wf.graph("q", ["d"]).walk() if n.op == "break"]
    ordered = (
        shapes.a_call_left_of_an_await_changes_what_it_reads,
        shapes.a_read_left_of_an_awaited_method_that_changes_it,
    )
    if wf not in (
        shapes.tool_with_a_timeout_in_an_fstring,
        shapes.helper_loop_in_a_try_keeps_its_progress,
        *ordered,
    ):
        assert not breaks, breaks
    run_in_new_loop(three_runs_agree, wf, QUESTIONS, DOCS)


@pytest.mark.parametrize("wf", shapes.STATEFUL, ids=lambda w: w.fn.__name__)
def test_module_state_changed_through_a_member_is_read_query_after_query(wf: Any) -> None:
    unoptimized = ayo.workflow(wf.fn, passes=[])

    async def three_queries(run: Any) -> list[Any]:
        shapes.reset()
        async with scripted_runtime():
            return [await outcome(run, q, ["d"]) for q in ("one", "two", "FAIL three", "four")]

    async def main() -> None:
        eager = await three_queries(wf.eager)
        assert await three_queries(unoptimized) == eager
        assert await three_queries(wf) == eager

    run_in_new_loop(main)


@pytest.mark.parametrize("wf", shapes.REFUSED, ids=lambda w: w.fn.__name__)
def test_refused_naming_the_line(wf: Any) -> None:
    with pytest.raises(TraceError) as info:
        wf.graph("q", ["d"])
    assert "agent_shapes.py:" in str(info.value)


def test_an_unread_statement_stays_in_the_optimized_graph() -> None:
    graph = shapes.a_statement_whose_value_nothing_reads.graph("q", ["d"], optimized=True)
    assert any("first = docs[0]" in n.attrs["code"].source for n in graph.walk() if n.op == "python")
