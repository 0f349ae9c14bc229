"""``async with`` an asyncio or anyio semaphore, lock or capacity limiter around awaits traces its
body as if the statement were not there; it was a graph break (a helper using one ran eagerly)."""

from __future__ import annotations

from typing import Any

import pytest

from . import lock_shapes as k
from .test_run_time_constants import three_ways

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(("wf", "args"), k.CASES, ids=[f"{wf.fn.__name__}-{args[0]}" for wf, args in k.CASES])
async def test_a_lock_around_awaits_is_traced_through(wf: Any, args: tuple[Any, ...]) -> None:
    graph = wf.graph(*args)
    assert [n.attrs["reason"] for n in graph.walk() if n.op == "break"] == []
    eager, plain, optimized = await three_ways(wf, args)
    assert eager == plain == optimized


def test_calls_a_semaphore_bounds_still_run_at_once() -> None:
    decodes = [n for n in k.module_sem.graph("alpha beta", optimized=True).walk() if n.op == "llm_decode"]
    assert len(decodes) == 1  # one map body: the items run at once


async def test_another_context_manager_stays_a_graph_break() -> None:
    graph = k.other_context_manager.graph("q")
    assert [n.attrs["reason"] for n in graph.walk() if n.op == "break"] == ["async with"]
    eager, plain, optimized = await three_ways(k.other_context_manager, ("q",))
    assert eager == plain == optimized
