"""A task made in one branch of a conditional expression (``t = create_task(f()) if c else None``)
is the ``if`` statement it stands for, and a task's name may be tested (``t is None``, ``if t``)
or bound again: traced, and eager ≡ traced ≡ optimized with failing calls."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo
from tests.util import run_in_new_loop, three_runs_agree

from . import conditional_task_shapes as shapes

QUESTIONS = ["a plain question", "FAIL x"]  # (FAIL: the LLM fails the call)
DOCS = [[], ["alpha"], ["alpha", "beta FAIL", "gamma"], ["FAIL one", "two"]]


@pytest.mark.parametrize("wf", shapes.SHAPES, ids=[wf.fn.__name__ for wf in shapes.SHAPES])
def test_conditional_tasks_trace_and_agree(wf: Any) -> None:
    wf.graph("q", ["a", "b"])  # (not refused)
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))


def test_the_task_of_a_conditional_is_traced_as_a_task() -> None:
    ops = [n.op for n in shapes.c_awaited_condition.graph("q", ["a"]).walk()]
    assert ops.count("llm") == 3 and "try" in ops  # (the deep call kept as a task in its branch)


def test_the_lines_after_the_rewrite_keep_their_own_numbers() -> None:
    import asyncio

    @ayo.workflow
    async def later(q, docs):
        t = asyncio.create_task(ayo.llm(f"t {q}")) if docs else None
        a = await ayo.llm(f"a {q}")
        return a, await t if t is not None else None

    first = later.fn.__code__.co_firstlineno  # (the decorator's line)
    lines = {n.op: n.loc.line for n in later.graph("q", ["a"]).walk() if n.op in ("llm", "cond")}
    assert lines == {"llm": first + 3, "cond": first + 2} or lines["llm"] == first + 3
    made = [n for n in later.graph("q", ["a"]).walk() if n.op == "llm"]
    assert sorted(n.loc.line for n in made) == [first + 2, first + 3]


def test_a_conditional_over_several_lines_keeps_the_lines_after_it() -> None:
    import asyncio

    @ayo.workflow
    async def spread(q, docs):
        t = (
            asyncio.create_task(ayo.llm(f"t {q}"))
            if docs
            else None
        )  # fmt: skip
        a = await ayo.llm(f"a {q}")
        return a, await t if t is not None else None

    first = spread.fn.__code__.co_firstlineno  # (the decorator's line)
    made = [n for n in spread.graph("q", ["a"]).walk() if n.op == "llm"]
    assert sorted(n.loc.line for n in made) == [first + 2, first + 7]
