"""A task group raises what fails in it as an ``ExceptionGroup``; in the graph the failed call
raises its error itself, so the tracer reads ``async with asyncio.TaskGroup() as tg:`` (and
anyio's task group) inside a ``try`` that wraps the error as the group does (``normalize.py``).
Eager ≡ traced ≡ optimized, with the group in a loop, in a branch, caught by ``except
ExceptionGroup`` and by ``except*``."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

import ayo_trace as ayo
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedStore
from tests.util import outcome

pytestmark = pytest.mark.anyio


@ayo.workflow
async def group_in_a_loop(q: str, docs: list[str]) -> list[str]:
    out = []
    for d in docs:
        async with asyncio.TaskGroup() as tg:
            a = tg.create_task(ayo.llm(f"A {d}", max_tokens=3))
            b = tg.create_task(ayo.llm(f"B {d}", max_tokens=3))
        out.append(a.result() + b.result())
    return out


@ayo.workflow
async def group_in_a_branch(q: str, docs: list[str]) -> Any:
    if len(docs) > 1:
        async with asyncio.TaskGroup() as tg:
            a = tg.create_task(ayo.llm(f"A {q}", max_tokens=3))
            b = tg.create_task(ayo.llm(f"B {docs[1]}", max_tokens=3))
        return a.result(), b.result()
    return await ayo.llm(q, max_tokens=3)


@ayo.workflow
async def group_caught(q: str, docs: list[str]) -> list[str]:
    try:
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(ayo.llm(f"S {d}", max_tokens=3)) for d in docs]
    except ExceptionGroup as eg:
        return ["failed", type(eg.exceptions[0]).__name__]
    return [t.result() for t in tasks]


@ayo.workflow
async def group_caught_by_except_star(q: str, docs: list[str]) -> list[Any]:
    failed = 0
    try:
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(ayo.llm(f"S {d}", max_tokens=3)) for d in docs]
    except* RuntimeError as eg:
        failed = len(eg.exceptions)
    return ["failed", failed] if failed else [t.result() for t in tasks]


@ayo.workflow
async def anyio_group(q: str, docs: list[str]) -> list[Any]:
    out = {}

    async def one(d: str) -> None:
        out[d] = await ayo.llm(f"S {d}", max_tokens=3)

    async with anyio.create_task_group() as tg:
        tg.start_soon(one, q)
        tg.start_soon(one, q + "!")
    return sorted(out.items())


@ayo.workflow
async def group_body_fails(q: str, docs: list[str]) -> str:
    async with asyncio.TaskGroup() as tg:
        t = tg.create_task(ayo.llm(f"S {q}", max_tokens=3))
        first = docs[0]  # (IndexError without docs: the group raises it as an ExceptionGroup)
    return t.result() + first


WORKFLOWS = [
    group_in_a_loop,
    group_in_a_branch,
    group_caught,
    group_caught_by_except_star,
    anyio_group,
    group_body_fails,
]


@pytest.mark.parametrize("wf", WORKFLOWS, ids=[wf.fn.__name__ for wf in WORKFLOWS])
async def test_a_failure_in_a_task_group_raises_as_the_group_does(wf: Any) -> None:
    llm = ScriptedLLM("llm", fail=lambda p: "FAIL" in p)
    unoptimized = ayo.workflow(wf.fn, passes=[])
    raised = set()
    async with ayo.Runtime(
        [llm, ScriptedEmbedder("embed"), ScriptedStore("store")], batching=False, retries=0
    ):
        for q in ("a question", "FAIL x"):
            for docs in ([], ["alpha"], ["alpha", "beta FAIL", "gamma"]):
                eager = await outcome(wf.eager, q, docs)
                if isinstance(eager, tuple) and eager[:1] == ("raised",):
                    raised.add(eager[1])
                assert await outcome(unoptimized, q, docs) == eager, (q, docs)
                assert await outcome(wf, q, docs) == eager, (q, docs)
    if wf not in (group_caught, group_caught_by_except_star):
        assert "ExceptionGroup" in raised  # (the inputs make the group fail)


def test_the_try_is_on_the_line_of_the_group() -> None:
    graph = group_in_a_loop.graph("q", ["a"])
    group_line = group_in_a_loop.fn.__code__.co_firstlineno + 4  # (the `async with` line)
    tries = [n for n in graph.walk() if n.op == "try"]
    assert [n.loc.line for n in tries] == [group_line]
