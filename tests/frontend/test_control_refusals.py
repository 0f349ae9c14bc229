"""What the control-flow tracer refuses or leaves as a graph break, and why: never a wrong graph."""

from __future__ import annotations

import pytest

from ayo_trace.errors import TraceError
from tests.util import run_in_new_loop

from .corpus_control import refused
from .test_corpus_control import assert_all_equal, breaks, run_modes


def test_reading_the_handlers_exception_after_the_try_is_refused() -> None:
    with pytest.raises(TraceError) as info:
        refused.reads_error_after_handler.graph("q")
    assert "`e`" in str(info.value) and "refused.py:" in str(info.value)


def test_a_break_inside_a_try_body_is_refused_with_the_fix() -> None:
    with pytest.raises(TraceError) as info:
        refused.break_inside_try_body.graph(["a"])
    assert "move it into an `if` of the loop body" in str(info.value)


@pytest.mark.parametrize(
    ("wf", "args"),
    [
        (refused.await_in_while_condition, ("q",)),
        (refused.partial_body_then_handler, ("q",)),
        (refused.partial_body_then_handler, ("FAIL",)),
    ],
)
def test_what_cannot_be_traced_whole_is_a_graph_break_that_equals_eager(wf: object, args: tuple[str]) -> None:
    graph = wf.graph(*args)  # type: ignore[attr-defined]
    assert breaks(graph)
    assert_all_equal(run_in_new_loop(run_modes, wf, args, 3, [[]]))


def test_gather_returning_exceptions_is_not_traced_as_a_list_of_values() -> None:
    with pytest.raises(TraceError) as info:
        refused.gather_returning_exceptions.graph("q")
    assert "refused.py:" in str(info.value)


@pytest.mark.parametrize("wf", [refused.fire_and_forget, refused.tasks_in_a_list])
def test_a_task_started_but_not_awaited_in_the_statement_is_refused(wf: object) -> None:
    with pytest.raises(TraceError) as info:
        wf.graph(*(("q",) if wf is refused.fire_and_forget else (["a"],)))  # type: ignore[attr-defined]
    assert "asyncio.create_task" in str(info.value) and "refused.py:" in str(info.value)
