"""An ``async def`` helper that never waits is inlined (no graph break), and eager ≡ traced ≡
optimized; one that waits for anything not ayo stays a graph break (``waitless_helpers.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.util import outcome, scripted_runtime, three_runs_agree

from . import waitless_helpers as shapes

pytestmark = pytest.mark.anyio

QUESTIONS = ["a plain question", "FAIL x"]  # (FAIL: the LLM fails the call)
DOCS = [[], ["alpha"], ["alpha", "beta FAIL", "gamma"]]


def _breaks(wf: Any) -> list[Any]:
    return [n.attrs.get("reason") for n in wf.graph("q", ["a"]).walk() if n.op == "break"]


@pytest.mark.parametrize("wf", shapes.INLINED, ids=[wf.fn.__name__ for wf in shapes.INLINED])
async def test_a_helper_that_never_waits_is_inlined(wf: Any) -> None:
    assert _breaks(wf) == []
    await three_runs_agree(wf, QUESTIONS, DOCS)


async def test_a_helper_that_waits_for_something_else_stays_a_graph_break() -> None:
    assert _breaks(shapes.a_tool_that_waits)
    async with scripted_runtime():
        eager = await outcome(shapes.a_tool_that_waits.eager, "q", [])
        assert await outcome(shapes.a_tool_that_waits, "q", []) == eager
