"""A task starts when the workflow next waits; the graph runs its call where the task is made.
Where the task and the workflow's statements before its await touch different objects, the task
is traced and eager ≡ traced ≡ optimized; where they touch one, changing it, the statements from
the task's to the one awaiting it run as written, a graph break naming the object and both lines
(``frontend/task_windows.py``, ``frontend/task_regions.py``). A list of
tasks is traced at its gather only when the workflow does not wait before it
(``coroutine_lists._started_early``)."""

from __future__ import annotations

from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.util import run_in_new_loop, scripted_runtime, three_runs_agree

from . import task_window_shapes as shapes

pytestmark = pytest.mark.anyio

QUESTIONS = ["a plain question", "FAIL x"]  # (FAIL: the LLM fails the call)
DOCS = [[], ["alpha"], ["alpha", "beta FAIL", "gamma"], ["one", "two", "three"]]


@pytest.mark.parametrize("wf", shapes.TRACED, ids=[wf.fn.__name__ for wf in shapes.TRACED])
def test_tasks_apart_from_the_workflow_meanwhile_are_traced(wf: Any) -> None:
    wf.graph("q", ["a", "b"])  # (traced: not refused)

    async def compare() -> None:
        await three_runs_agree(wf, QUESTIONS, DOCS)

    # (a loop of its own: eagerly, a task left unawaited when an earlier call failed reports its
    # error to the loop, as asyncio does, which the test runner's loop would raise)
    run_in_new_loop(compare)


@pytest.mark.parametrize("wf", shapes.AS_WRITTEN, ids=[wf.fn.__name__ for wf in shapes.AS_WRITTEN])
def test_tasks_touching_what_the_workflow_touches_meanwhile_run_with_it_as_written(wf: Any) -> None:
    (found,) = graph_breaks(wf.graph("q", ["a", "b"]))
    reason = str(found.attrs["reason"])
    assert "`notes`" in reason or "`out`" in reason
    assert "run as written" in reason or "runs eagerly, as written" in reason
    if wf is not shapes.notes_shuffled_by_the_random_module:  # (its shuffle differs run to run)
        run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))


@pytest.mark.parametrize("wf", shapes.EAGER, ids=[wf.fn.__name__ for wf in shapes.EAGER])
def test_a_gather_of_calls_interleaving_at_their_awaits_runs_eagerly(wf: Any) -> None:
    (found,) = graph_breaks(wf.graph("q", ["a", "b"]))
    assert "Python interleaves runs eagerly" in str(found.attrs["reason"])
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))


async def test_the_shapes_run_as_written_answer_otherwise_than_the_graph_would() -> None:
    async with scripted_runtime():
        notes, _ = await shapes.note_between_making_and_awaiting.eager("q", [])
        assert notes == ["main", "start q", "done q"]  # the graph ran the task first
        notes, _, _ = await shapes.note_after_another_wait.eager("q", [])
        assert notes == ["start q", "main", "done q"]
        out, _ = await shapes.tasks_started_by_a_wait_before_the_gather.eager("q", ["a", "b"])
        assert out == ["start a", "start b", "head"]  # the graph ran them at the gather
        out = await shapes.group_with_a_note_between_tasks.eager("q", [])
        assert out[0] == "between"


def test_the_break_names_the_task_the_object_and_the_lines_run_as_written() -> None:
    wf = shapes.note_after_another_wait
    (found,) = graph_breaks(wf.graph("q", []))
    reason = str(found.attrs["reason"])
    first = wf.fn.__code__.co_firstlineno
    noted = shapes.noted.__code__.co_firstlineno
    assert "the task running `noted(...)`" in reason
    assert f"the workflow's line {first + 5} both touch `notes`" in reason
    assert f"(`noted` at line {noted + 1})" in reason
    assert f"the statements from line {first + 3} to the end run as written" in reason
