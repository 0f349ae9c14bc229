"""A helper whose ayo calls are gathered, made into tasks or passed by name (not awaited one by
one) is inlined like any helper; it was a graph break."""

from __future__ import annotations

from typing import Any

import pytest

from . import helper_call_shapes as h
from .test_run_time_constants import three_ways
from .test_unrolled_loops import _upstream

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(("wf", "args"), h.CASES, ids=[wf.fn.__name__ for wf, _ in h.CASES])
async def test_helpers_that_gather_or_spawn_are_inlined(wf: Any, args: tuple[Any, ...]) -> None:
    graph = wf.graph(*args)
    assert [n.attrs["reason"] for n in graph.walk() if n.op == "break"] == []
    eager, plain, optimized = await three_ways(wf, args)
    assert eager == plain == optimized


def test_calls_a_helper_gathers_run_at_once() -> None:
    """The two calls ``both_ways`` gathers do not wait for each other in the optimized graph, and
    the comparison waits for both."""
    decodes = [n for n in h.unpacked_gather.graph("alpha", optimized=True).nodes if n.op == "llm_decode"]
    assert len(decodes) == 3
    brief, detail, compare = decodes
    assert detail not in _upstream(brief) and brief not in _upstream(detail)
    assert {brief, detail} <= _upstream(compare)
