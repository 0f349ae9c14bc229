"""A task awaited inside a ``try`` it was not made in, or gathered with ``return_exceptions=True``,
keeps its call's error until it is awaited, as Python's does: traced whole (the calls still run
where the tasks are made, at once), and eager ≡ traced ≡ optimized with failing calls
(``frontend/parallel._task``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.util import run_in_new_loop, scripted_runtime, three_runs_agree

from . import kept_task_shapes as shapes

QUESTIONS = ["a plain question", "FAIL x"]  # (FAIL: the LLM fails the call)
DOCS = [[], ["alpha"], ["alpha", "beta FAIL", "gamma"], ["FAIL one", "two"]]


@pytest.mark.parametrize("wf", shapes.KEPT, ids=[wf.fn.__name__ for wf in shapes.KEPT])
def test_tasks_awaited_where_their_error_is_caught_trace_and_agree(wf: Any) -> None:
    ops = [n.op for n in wf.graph("q", ["a", "b"]).walk()]
    assert "break" not in ops and "try" in ops
    # (a loop of its own: eagerly, a failed task never awaited reports its error to the loop)
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))


@pytest.mark.parametrize("wf", shapes.REVERSED, ids=[wf.fn.__name__ for wf in shapes.REVERSED])
def test_tasks_awaited_in_reverse_agree(wf: Any) -> None:
    wf.graph("q", ["a", "b"])  # (not refused)
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))


def test_the_error_is_raised_where_the_task_is_awaited() -> None:
    async def check() -> None:
        async with scripted_runtime():
            # the background task failed, yet the work between making and awaiting it ran
            assert await shapes.s_bg_try("FAIL q", ["a", "b"]) == (
                "none",
                [await shapes.ask("doc a"), await shapes.ask("doc b")],
            )
            assert await shapes.t_loop_try("q", ["a", "FAIL b"]) == [await shapes.ask("n a"), "E"]
            assert await shapes.d_retexc("q", ["a", "FAIL b"]) == {
                "a": await shapes.ask("k a"),
                "FAIL b": "E",
            }

    run_in_new_loop(check)
