"""Calls run at once interleave at their awaits in Python; the graph runs each whole, in order.
Where the two would answer alike (changes on one side of the wait only, each call its own object,
log lines) the calls are traced and eager ≡ traced ≡ optimized; where a later call's part before
its wait and an earlier call's part after it touch one object, changing it, a gather or task
group making the calls runs eagerly, as a graph break whose reason names the object and both
lines (``strict=True`` refuses it), and calls made before (a list of tasks, of coroutines built
in a loop) are refused at trace time (``frontend/interleaving.py``)."""

from __future__ import annotations

import re
from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.errors import TraceError
from ayo_trace.frontend.breaks import describe_break, graph_breaks
from tests.util import scripted_runtime, three_runs_agree

from . import interleaving_shapes as shapes

pytestmark = pytest.mark.anyio

QUESTIONS = ["a plain question", "FAIL x"]  # (FAIL: the LLM fails the call)
DOCS = [[], ["alpha"], ["alpha", "beta FAIL", "gamma"], ["one", "two", "three"]]


@pytest.mark.parametrize("wf", shapes.TRACED, ids=[wf.fn.__name__ for wf in shapes.TRACED])
async def test_calls_whose_interleaving_does_not_matter_are_traced(wf: Any) -> None:
    wf.graph("q", ["a", "b"])  # (traced: not refused)
    await three_runs_agree(wf, QUESTIONS, DOCS)


@pytest.mark.parametrize("wf", shapes.EAGER, ids=[wf.fn.__name__ for wf in shapes.EAGER])
async def test_calls_made_together_touching_one_object_on_both_sides_of_their_wait_run_eagerly(
    wf: Any,
) -> None:
    reasons = [str(n.attrs["reason"]) for n in graph_breaks(wf.graph("q", ["a", "b"]))]
    assert len(reasons) == 1, reasons
    assert re.search(r"Python interleaves runs eagerly, as written: `", reasons[0])
    assert re.search(
        r"before it first waits \(line \d+\) and `[\w.]+` after it waited \(line \d+\)", reasons[0]
    )
    await three_runs_agree(wf, QUESTIONS, DOCS)
    with pytest.raises(TraceError, match="interleave at their awaits"):  # (strict refuses the break)
        ayo.workflow(wf.fn, strict=True).graph("q", ["a", "b"])


@pytest.mark.parametrize("wf", shapes.REFUSED, ids=[wf.fn.__name__ for wf in shapes.REFUSED])
def test_calls_made_before_touching_one_object_on_both_sides_of_their_wait_are_refused(wf: Any) -> None:
    with pytest.raises(TraceError) as caught:
        wf.graph("q", ["a", "b"])
    message = str(caught.value)
    assert "interleave at their awaits" in message
    assert re.search(r"before it first waits \(line \d+\) and `[\w.]+` after it waited \(line \d+\)", message)


@pytest.mark.parametrize("wf", shapes.PYTHONS_TASKS, ids=[wf.fn.__name__ for wf in shapes.PYTHONS_TASKS])
async def test_tasks_touching_one_object_on_both_sides_of_their_wait_are_pythons(wf: Any) -> None:
    reasons = [str(b.attrs["reason"]) for b in graph_breaks(wf.graph("q", ["a", "b"]))]
    assert any("are Python's" in r and "interleave at their awaits" in r for r in reasons), reasons
    await three_runs_agree(wf, QUESTIONS, DOCS)


async def test_the_refused_shapes_answer_otherwise_in_python() -> None:
    async with scripted_runtime():
        # both questions are asked before either reply comes back
        history = await shapes.one_agent_gathered.eager("q", [])
        assert [h.split(":")[0] for h in history] == [
            "solo asked",
            "solo asked",
            "solo got",
            "solo got",
        ]
        # each call reads the count every call made before any of them waited
        assert await shapes.counter_read_after_the_wait.eager("q", []) == [2, 2]


def test_the_reason_names_the_object_the_lines_and_the_fix() -> None:
    wf = shapes.cache_looked_up_before_filled_after
    (found,) = graph_breaks(wf.graph("q", []))
    described = describe_break(found)
    first = wf.fn.__code__.co_firstlineno
    assert "`cached(...)` and `cached(...)` run at once" in described
    assert f"touches `cache` before it first waits (line {first + 5})" in described
    assert f"after it waited (line {first + 8})" in described
    assert "fix: change the shared object on one side of the calls' awaits only" in described


@pytest.mark.parametrize("wf", shapes.STARTED, ids=[wf.fn.__name__ for wf in shapes.STARTED])
async def test_a_gather_whose_calls_change_what_a_caught_failure_sees_before_waiting_runs_eagerly(
    wf: Any,
) -> None:
    (found,) = graph_breaks(wf.graph("q", ["a", "b"]))
    assert "before it first waits" in str(found.attrs["reason"])
    await three_runs_agree(wf, QUESTIONS, DOCS)


@pytest.mark.parametrize("wf", shapes.STARTED_UNSEEN, ids=[wf.fn.__name__ for wf in shapes.STARTED_UNSEEN])
async def test_a_change_before_waiting_that_no_one_sees_after_a_failure_is_traced(wf: Any) -> None:
    assert graph_breaks(wf.graph("q", ["a", "b"])) == []
    await three_runs_agree(wf, QUESTIONS, DOCS)


def test_calls_made_before_changing_what_a_caught_failure_sees_before_waiting_are_refused() -> None:
    with pytest.raises(TraceError, match=r"before it first waits .* with `return_exceptions=True`"):
        shapes.started_tasks_gathered_later.graph("q", ["a"])
