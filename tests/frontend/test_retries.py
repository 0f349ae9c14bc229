"""Retry idioms (a loop around a ``try`` that returns or breaks on success, a handler that
re-raises on the last attempt with a bare ``raise``; a handler that logs and re-raises) trace
whole and answer as eager whether no attempt, some or all fail. They were refused: a bare `raise`
made the `try` a graph break, and a graph break cannot leave a loop."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.passes import DEFAULT_PASSES
from tests.util import run_in_new_loop

from . import retry_shapes as r
from .test_corpus_control import engines, run_modes
from .test_differential import assert_all_equal

QUESTIONS = {
    "first works": "a|b|c",
    "third works": "FAIL a|FAIL b|c",
    "all fail": "FAIL a|FAIL b|FAIL c",
}


@pytest.mark.parametrize("question", QUESTIONS.values(), ids=list(QUESTIONS))
@pytest.mark.parametrize("wf", r.CASES, ids=[wf.fn.__name__ for wf in r.CASES])
def test_a_retry_traces_whole_and_answers_or_fails_as_eager(wf: Any, question: str) -> None:
    graph = wf.graph(question)
    assert all("asyncio.sleep" in n.attrs["code"].source for n in graph.walk() if n.op == "break")
    assert "try" in [n.op for n in graph.walk()]
    assert_all_equal(run_in_new_loop(run_modes, wf, (question,), 3, [[], list(DEFAULT_PASSES)]))


async def caught(wf: Any, question: str) -> list[str]:
    out = []
    async with ayo.Runtime(engines=engines(None), batching=False, retries=0):
        for run in (wf.eager, ayo.workflow(wf.fn, passes=[]), wf):
            try:
                await run(question)
            except ayo.EngineError as e:
                out.append(type(e).__name__)
    return out


@pytest.mark.parametrize("wf", [r.return_or_reraise, r.reraise_by_name, r.log_then_reraise])
def test_the_reraised_error_is_the_engine_error_the_caller_catches(wf: Any) -> None:
    """Re-raised by the user's handler, the error reaches the caller as the `ayo.EngineError` the
    eager code raises (not wrapped as an error of the user's own code)."""
    assert run_in_new_loop(caught, wf, QUESTIONS["all fail"]) == ["EngineError"] * 3
