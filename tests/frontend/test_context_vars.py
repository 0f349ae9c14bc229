"""A query's statements share one ``contextvars.Context``, as the workflow's body does eagerly
(``backend/user_context``): a variable set in one statement is seen by the next, a token made in
one resets in another, and a ``ContextVar`` set by a statement keeps its place among the
statements reading it (``frontend/impure.changed_object``). eager ≡ traced ≡ optimized, and one
query's variables are not another's."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import anyio
import pytest

from tests.util import outcome, run_in_new_loop, scripted_runtime, three_runs_agree

from . import context_var_shapes as shapes

QUESTIONS = ["a plain question", "FAIL x"]  # (FAIL: the LLM fails the call)
DOCS = [[], ["alpha"], ["alpha", "beta FAIL", "gamma"], ["FAIL one", "two"]]


async def in_own_context(run: Any, *args: Any) -> Any:
    """``outcome(run, *args)`` in a task of its own (a copy of this context): each run leaves in
    its caller's context what its code set (eagerly and as a graph alike), so runs sharing one
    would start from each other's state."""
    return await asyncio.create_task(outcome(run, *args), context=contextvars.copy_context())


@pytest.mark.parametrize("wf", shapes.SHAPES, ids=[wf.fn.__name__ for wf in shapes.SHAPES])
def test_context_variables_agree(wf: Any) -> None:
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS, run=in_own_context))


def test_a_variable_read_after_it_is_set_keeps_its_place() -> None:
    graph = shapes.v_set_get_across_awaits.graph("q", [], optimized=True)
    nodes = {n.name: n for n in graph.walk()}

    def source(n: Any) -> str:
        return n.attrs["code"].source if n.op == "python" else ""

    (setting,) = [n for n in nodes.values() if 'REQUEST.set("mine")' in source(n)]
    (reading,) = [n for n in nodes.values() if "seen = REQUEST.get()" in source(n)]
    before, todo = set(), [reading]  # (everything the read waits for, by data or order)
    while todo:
        n = todo.pop()
        for m in [*n.args, *n.after]:
            if m.name not in before:
                before.add(m.name)
                todo.append(m)
    assert setting.name in before


def test_the_callers_variables_are_seen_and_a_querys_own_stay_its_own() -> None:
    async def check() -> None:
        async with scripted_runtime():
            shapes.REQUEST.set("caller")
            assert await shapes.v_token_reset("q", []) == await shapes.v_token_reset.eager("q", [])
            assert (await shapes.v_token_reset("q", ["a"]))[1] == "req-1"
            assert shapes.REQUEST.get() == "caller"  # (reset by the query's `finally`)
            # (the caller's value is seen; what the body sets stays in the caller's context, as
            # eagerly, where the body runs in it)
            shapes.DEPTH.set(5)
            assert (await shapes.v_set_in_helper("q", ["a", "b"]))[1] == 7 and shapes.DEPTH.get() == 7
            shapes.DEPTH.set(5)
            assert (await shapes.v_set_in_helper.eager("q", ["a", "b"]))[1] == 7 and shapes.DEPTH.get() == 7

            results: dict[int, Any] = {}

            async def one(i: int) -> None:
                results[i] = await shapes.v_token_reset(f"q{i}", ["d"] * i)

            async with anyio.create_task_group() as tg:
                for i in range(4):
                    tg.start_soon(one, i)
            assert {i: r[1] for i, r in results.items()} == {i: f"req-{i}" for i in range(4)}

    run_in_new_loop(check)
