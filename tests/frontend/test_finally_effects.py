"""A ``finally`` whose effects reach outside the workflow runs on the failing path too: the
shapes of ``finally_shapes.py``, run query after query (some failing) eagerly, as the unoptimized
graph and optimized, leave the same answers, the same module state and the same arguments."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo
from tests.util import outcome, run_in_new_loop, scripted_runtime

from . import finally_shapes as shapes

QUERIES = [("one", ["a"]), ("FAIL two", ["b", "c"]), ("three", ["FAIL d", "e"]), ("four", [])]


@pytest.mark.parametrize("wf", shapes.SHAPES, ids=lambda w: w.fn.__name__)
def test_a_finally_reaching_outside_runs_when_the_call_fails(wf: Any) -> None:
    unoptimized = ayo.workflow(wf.fn, passes=[])

    async def queries(run: Any) -> Any:
        shapes.reset()
        outs = []
        async with scripted_runtime():
            for q, docs in QUERIES:
                given = list(docs)
                outs.append((await outcome(run, q, given), given))
        return outs, shapes.state()

    async def main() -> None:
        eager = await queries(wf.eager)
        assert await queries(unoptimized) == eager
        assert await queries(wf) == eager

    run_in_new_loop(main)
