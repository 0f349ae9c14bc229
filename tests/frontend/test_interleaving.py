"""Calls run at once interleave at their awaits in Python; the graph runs each whole, in order.
Where the two would answer alike (changes on one side of the wait only, each call its own object,
log lines) the calls are traced and eager ≡ traced ≡ optimized; where a later call's part before
its wait and an earlier call's part after it touch one object, changing it, the gather (task
group, list of tasks) is refused at trace time, naming the object and both lines
(``frontend/interleaving.py``)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ayo_trace.errors import TraceError
from tests.util import scripted_runtime, three_runs_agree

from . import interleaving_shapes as shapes

pytestmark = pytest.mark.anyio

QUESTIONS = ["a plain question", "FAIL x"]  # (FAIL: the LLM fails the call)
DOCS = [[], ["alpha"], ["alpha", "beta FAIL", "gamma"], ["one", "two", "three"]]


@pytest.mark.parametrize("wf", shapes.TRACED, ids=[wf.fn.__name__ for wf in shapes.TRACED])
async def test_calls_whose_interleaving_does_not_matter_are_traced(wf: Any) -> None:
    wf.graph("q", ["a", "b"])  # (traced: not refused)
    await three_runs_agree(wf, QUESTIONS, DOCS)


@pytest.mark.parametrize("wf", shapes.REFUSED, ids=[wf.fn.__name__ for wf in shapes.REFUSED])
def test_calls_touching_one_object_on_both_sides_of_their_wait_are_refused(wf: Any) -> None:
    with pytest.raises(TraceError) as caught:
        wf.graph("q", ["a", "b"])
    message = str(caught.value)
    assert "interleave at their awaits" in message
    assert re.search(r"before it first waits \(line \d+\) and `[\w.]+` after it waited \(line \d+\)", message)


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


def test_the_message_names_the_object_and_the_lines() -> None:
    with pytest.raises(TraceError) as caught:
        shapes.cache_looked_up_before_filled_after.graph("q", [])
    message = str(caught.value)
    first = shapes.cache_looked_up_before_filled_after.fn.__code__.co_firstlineno
    assert "`cached(...)` and `cached(...)` run at once" in message
    assert f"touches `cache` before it first waits (line {first + 5})" in message
    assert f"after it waited (line {first + 8})" in message
