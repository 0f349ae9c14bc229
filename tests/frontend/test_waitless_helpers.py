"""An ``async def`` helper that never waits is inlined (no graph break), and eager ≡ traced ≡
optimized; one that waits for anything not ayo stays a graph break (``waitless_helpers.py``)."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo
from tests.util import outcome, scripted_runtime

from . import waitless_helpers as shapes

pytestmark = pytest.mark.anyio

QUESTIONS = ["a plain question", "FAIL x"]  # (FAIL: the LLM fails the call)
DOCS = [[], ["alpha"], ["alpha", "beta FAIL", "gamma"]]


def _breaks(wf: Any) -> list[Any]:
    return [n.attrs.get("reason") for n in wf.graph("q", ["a"]).walk() if n.op == "break"]


@pytest.mark.parametrize("wf", shapes.INLINED, ids=[wf.fn.__name__ for wf in shapes.INLINED])
async def test_a_helper_that_never_waits_is_inlined(wf: Any) -> None:
    assert _breaks(wf) == []
    unoptimized = ayo.workflow(wf.fn, passes=[])
    async with scripted_runtime():
        for q in QUESTIONS:
            for docs in DOCS:
                eager = await outcome(wf.eager, q, docs)
                assert await outcome(unoptimized, q, docs) == eager, (q, docs)
                assert await outcome(wf, q, docs) == eager, (q, docs)


async def test_a_helper_that_waits_for_something_else_stays_a_graph_break() -> None:
    assert _breaks(shapes.a_tool_that_waits)
    async with scripted_runtime():
        eager = await outcome(shapes.a_tool_that_waits.eager, "q", [])
        assert await outcome(shapes.a_tool_that_waits, "q", []) == eager
