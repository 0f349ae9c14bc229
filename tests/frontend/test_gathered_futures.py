"""``jobs = asyncio.gather(...)`` awaited later traces as the task of that gather would
(``frontend/parallel._task_assignment``): its calls start where it is made, the error of the
first one to fail is raised where it is awaited; eager ≡ traced ≡ optimized with failing calls.
Used other than by awaiting it (``jobs.done()``, ``asyncio.wait_for(jobs, 30)``), it runs as
written."""

from __future__ import annotations

from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.util import run_in_new_loop, scripted_runtime, three_runs_agree, traces_whole_and_agrees

from . import gathered_future_shapes as shapes

QUESTIONS = ["a longer question", "short", "FAIL q"]  # (FAIL: the LLM fails the call)
DOCS = [[], ["alpha"], ["alpha", "beta", "gamma"], ["one", "FAIL two"]]


@pytest.mark.parametrize("wf", shapes.TRACED, ids=[wf.fn.__name__ for wf in shapes.TRACED])
def test_a_gather_awaited_later_traces_whole_and_agrees(wf: Any) -> None:
    # (a loop of its own: eagerly, a failed gather never awaited reports its error to the loop)
    traces_whole_and_agrees(wf, QUESTIONS, DOCS, graph=("q", ["a", "b"]))


@pytest.mark.parametrize("wf", shapes.AS_WRITTEN, ids=[wf.fn.__name__ for wf in shapes.AS_WRITTEN])
def test_a_gather_used_otherwise_runs_as_written_and_agrees(wf: Any) -> None:
    assert graph_breaks(wf.graph("q", ["a", "b"]))
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))


def test_the_calls_run_where_the_gather_is_made() -> None:
    async def check() -> None:
        async with scripted_runtime():
            a, b = await shapes.ask("a q"), await shapes.ask("b q")
            assert await shapes.g_later("q", []) == ("Q", a, b)
            assert await shapes.g_try("q", ["x", "FAIL y"]) == ("2 docs", ["E", "EngineError"])

    run_in_new_loop(check)
