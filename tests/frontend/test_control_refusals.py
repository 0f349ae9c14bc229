"""What the control-flow tracer refuses or leaves as a graph break, and why: never a wrong graph."""

from __future__ import annotations

import pytest

import ayo_trace as ayo
from ayo_trace.errors import TraceError
from tests.util import run_in_new_loop

from .corpus_control import refused
from .test_corpus_control import assert_all_equal, breaks, engines, run_modes


def test_reading_the_handlers_exception_after_the_try_is_refused() -> None:
    with pytest.raises(TraceError) as info:
        refused.reads_error_after_handler.graph("q")
    assert "`e`" in str(info.value) and "refused.py:" in str(info.value)


@pytest.mark.parametrize("args", [["a"], ["FAIL", "b"], ["", "c", "d"]])
def test_a_break_inside_a_try_that_cannot_carry_it_runs_the_loop_as_written(args: list[str]) -> None:
    """(It was refused; the loop around now runs as written, its reason naming the fix. A name
    bound by a statement of the body before its last is traced: test_cut_try.py.)"""
    wf = refused.bound_in_the_last_statement_before_its_await
    (reason,) = breaks(wf.graph(["a"]))
    # (the `try`'s own rule and its fix: ``try_reasons``)
    assert ": for loop whose body" in reason and "binds a name before its last await" in reason, reason
    assert "again in every handler" in reason, reason
    assert_all_equal(run_in_new_loop(run_modes, wf, (args,), 3, [[]]))


async def run_modes_eager(wf: object, arg: str) -> object:
    async with ayo.Runtime(engines=engines(None), batching=False, retries=0):
        try:
            return await wf.eager(arg)  # type: ignore[attr-defined]
        except Exception as e:
            return ("raised", type(e).__name__, str(e))


@pytest.mark.parametrize(
    ("wf", "args"),
    [
        (refused.partial_body_then_handler, ("q",)),
        (refused.partial_body_then_handler, ("FAIL",)),
        (refused.partial_body_then_handler, ("q|FAIL",)),  # only the second call fails
        (refused.partial_body_may_leave_unbound, ("q",)),
        # the first call fails: `first` is unbound, and its read raises UnboundLocalError as eagerly
        (refused.partial_body_may_leave_unbound, ("FAIL",)),
        (refused.break_inside_try_body, (["FAIL", "q"],)),
        (refused.break_inside_try_body, (["q", "FAIL"],)),
    ],
)
def test_a_body_binding_before_its_last_statement_is_cut_and_equals_eager(
    wf: object, args: tuple[str]
) -> None:
    """(These were graph breaks, or refused in a loop: the ``try`` is cut in two after the statement
    binding the name, ``try_except._cut``.)"""
    graph = wf.graph(*args)  # type: ignore[attr-defined]
    assert not breaks(graph)
    assert_all_equal(run_in_new_loop(run_modes, wf, args, 3, [[]]))


def test_a_cut_try_hands_on_what_python_leaves_bound() -> None:
    (outer,) = [n for n in refused.partial_body_then_handler.graph("q").nodes if n.op == "try"]
    assert set(outer.attrs["names"]) == {"first", "second"}  # not `e`: deleted, read nowhere
    (inner,) = [n for n in outer.attrs["orelse"].nodes if n.op == "try"]
    assert set(inner.attrs["names"]) == {"second"}


@pytest.mark.parametrize("arg", ["q", "FAIL"])  # with FAIL the exceptions are values of the list
def test_gather_returning_exceptions_traces_each_call_in_a_try(arg: str) -> None:
    """(It was a graph break; more shapes: test_gather_exceptions.py.)"""
    graph = refused.gather_returning_exceptions.graph(arg)
    ops = [n.op for n in graph.walk()]
    assert "break" not in ops and ops.count("try") == 2 and ops.count("llm") == 2
    assert_all_equal(run_in_new_loop(run_modes, refused.gather_returning_exceptions, (arg,), 3, [[]]))
    eager = run_in_new_loop(run_modes_eager, refused.gather_returning_exceptions, "FAIL")
    assert isinstance(eager, list) and all(r.startswith("EngineError: ") for r in eager), eager


def test_a_task_started_but_not_awaited_in_the_statement_is_refused() -> None:
    with pytest.raises(TraceError) as info:
        refused.fire_and_forget.graph("q")
    assert "asyncio.create_task" in str(info.value) and "refused.py:" in str(info.value)
