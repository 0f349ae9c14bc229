"""A task the workflow uses other than by awaiting it (``asyncio.wait_for(t, 30)``, ``shield``,
``cancel``, ``asyncio.wait(..., timeout=)``, handed to a helper) is Python's task: the statement
making it is a graph break, named in ``explain``, and eager ≡ traced ≡ optimized with failing calls.
A task only awaited stays the graph's (``test_kept_tasks.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.util import run_in_new_loop, three_runs_agree

from . import python_task_shapes as shapes

QUESTIONS = ["a plain question", "FAIL x"]  # (FAIL: the LLM fails the call)
DOCS = [[], ["alpha"], ["alpha", "beta FAIL", "gamma"], ["FAIL one", "two"]]


@pytest.mark.parametrize("wf", shapes.SHAPES, ids=[wf.fn.__name__ for wf in shapes.SHAPES])
def test_tasks_used_other_than_by_awaiting_are_pythons_and_agree(wf: Any) -> None:
    graph = wf.graph("q", ["a", "b"])
    made = [n for n in graph.walk() if n.op == "break" and "other than by awaiting" in n.attrs["reason"]]
    assert len(made) == 1 and "asyncio." in made[0].attrs["code"].source, str(graph)
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))


def test_the_reason_names_the_use_and_its_line() -> None:
    wf = shapes.p_wait_for
    line = wf.fn.__code__.co_firstlineno + 4  # (the decorator's line, then four more)
    assert (
        f"the task `t` is used other than by awaiting it (`asyncio.wait_for(t, timeout=30)`, line {line})"
        in (wf.explain("q", ["a"]))
    )


def test_the_calls_beside_a_pythons_task_are_still_traced() -> None:
    ops = [n.op for n in shapes.p_wait_for.graph("q", ["a"]).walk()]
    assert ops.count("llm") == 1  # (`b`: the graph's; `a`: Python's task's, eagerly)


@pytest.mark.parametrize("wf", shapes.DISPLAYS, ids=[wf.fn.__name__ for wf in shapes.DISPLAYS])
def test_tasks_in_a_display_or_a_set_are_pythons_and_agree(wf: Any) -> None:
    graph = wf.graph("q", ["a", "b"])
    made = [n for n in graph.walk() if n.op == "break" and "is not one the graph keeps" in n.attrs["reason"]]
    assert len(made) == 1, str(graph)
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))
