"""Objects held by an object the workflow makes (``self.retriever = Retriever(kb)`` in its
``__init__``) whose class only sets fields and whose methods only read them: their methods are
inlined with their fields as graph constants, at any depth, also gathered (they were graph breaks),
and eager ≡ traced ≡ optimized. Held objects their methods change are traced by their class
(``Fields.held``); held objects handed on bare, reading ``self`` bare, or whose fields a module
sets, run as written. ``await Chat().ask(q)`` makes its
object once per query (the trace made one object, which every query then shared: a wrong answer
from the second query on)."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo

from . import nested_object_setter
from . import nested_object_shapes as m
from .test_run_time_constants import engines, three_ways

pytestmark = pytest.mark.anyio


def breaks(wf: Any, *args: Any) -> list[str]:
    return [n.attrs["reason"] for n in wf.graph(*args).walk() if n.op == "break"]


@pytest.mark.parametrize("wf", m.CASES, ids=[wf.fn.__name__ for wf in m.CASES])
@pytest.mark.parametrize("question", ["what is q", "q1"])
async def test_held_objects_methods_are_traced_with_their_constants(wf: Any, question: str) -> None:
    assert breaks(wf, question) == []
    eager, plain, optimized = await three_ways(wf, (question,))
    assert eager == plain == optimized


def test_a_held_objects_fields_are_the_calls_constants() -> None:
    graph = m.two_runs.graph("q")
    searches = [n for n in graph.walk() if n.op == "search"]
    llms = [n for n in graph.walk() if n.op == "llm"]
    assert {(n.attrs["params"].collection, n.attrs["params"].top_k) for n in searches} == {("kb1", 3)}
    assert {n.attrs["sampling"].max_tokens for n in llms} == {4}
    layered = m.gathered_and_layered.graph("q")
    found = {
        (n.attrs["params"].collection, n.attrs["params"].top_k) for n in layered.walk() if n.op == "search"
    }
    assert found == {("kb0", 2), ("kb1", 1)}


@pytest.mark.parametrize("wf", m.AS_WRITTEN, ids=[wf.fn.__name__ for wf in m.AS_WRITTEN])
@pytest.mark.parametrize("question", ["what is q", "q1"])
async def test_held_objects_that_change_or_escape_run_as_written(wf: Any, question: str) -> None:
    assert breaks(wf, question)
    eager, plain, optimized = await three_ways(wf, (question,))
    assert eager == plain == optimized


@pytest.mark.parametrize("wf", m.HELD, ids=[wf.fn.__name__ for wf in m.HELD])
@pytest.mark.parametrize("question", ["what is q", "q1"])
async def test_held_objects_that_change_are_traced_by_their_class(wf: Any, question: str) -> None:
    assert breaks(wf, question) == []
    eager, plain, optimized = await three_ways(wf, (question,))
    assert eager == plain == optimized


@pytest.mark.parametrize(
    "wf", [nested_object_setter.retargeted, nested_object_setter.module_object_retargetable]
)
async def test_a_field_a_module_sets_is_not_a_constant(wf: Any) -> None:
    assert breaks(wf, "q")
    eager, plain, optimized = await three_ways(wf, ("q",))
    assert eager == plain == optimized


@pytest.mark.parametrize("wf", m.FRESH, ids=[wf.fn.__name__ for wf in m.FRESH])
async def test_an_object_made_in_the_call_is_made_per_query(wf: Any) -> None:
    assert breaks(wf, "q") == []
    answers = []
    for run in (wf.eager, wf):
        engs, llm = engines()
        async with ayo.Runtime(engs, batching=False):
            got = [await run(q) for q in ("first", "second", "third")]
        answers.append((got, sorted(llm.requests, key=repr)))
    assert answers[0] == answers[1]
