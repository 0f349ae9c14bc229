"""A nested workflow called from code the graph runs as written raises what its code raised, as
called eagerly (``graph_scheduler.run_query``: a query run by a node's code hands back the cause of
its ``UserCodeError``), so that code's ``except AppError`` and ``except* AppError`` catch it.
eager ≡ traced ≡ optimized."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo
from tests.util import run_in_new_loop, scripted_runtime, three_runs_agree

from . import nested_error_shapes as shapes

DOCS = [[], ["alpha"], ["alpha", "beta bad"], ["FAIL one", "two"], ["a bad", "b bad"]]


@pytest.mark.parametrize("wf", shapes.SHAPES, ids=[wf.fn.__name__ for wf in shapes.SHAPES])
def test_code_run_as_written_catches_a_nested_workflows_error(wf: Any) -> None:
    assert "graph breaks: 0" not in wf.explain("q", ["a"])  # (the code runs as written)
    run_in_new_loop(lambda: three_runs_agree(wf, ["q", "FAIL q"], DOCS))


def test_a_querys_caller_still_gets_a_user_code_error() -> None:
    async def check() -> None:
        async with scripted_runtime():
            with pytest.raises(ayo.UserCodeError) as info:
                await shapes.sub_work("a bad")
            assert isinstance(info.value.__cause__, shapes.AppError)

    run_in_new_loop(check)
