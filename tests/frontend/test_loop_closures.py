"""A function made in a loop that awaits and kept past its turn, reading a name the loop binds, is
refused (Python reads the name when it is called, the graph when it is made); one called in its
turn or binding the value as a default is traced, eager ≡ traced ≡ optimized
(``frontend/loop_closures.py``)."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.errors import TraceError
from tests.util import outcome, scripted_runtime

from . import loop_closure_shapes as shapes

pytestmark = pytest.mark.anyio

DOCS = [[], ["alpha"], ["alpha", "beta FAIL", "gamma"], ["one", "two", "three"]]


@pytest.mark.parametrize("wf", shapes.REFUSED, ids=[wf.fn.__name__ for wf in shapes.REFUSED])
def test_a_function_kept_past_its_turn_is_refused(wf: Any) -> None:
    with pytest.raises(TraceError) as caught:
        wf.graph("q", ["a", "b"])
    assert "which the loop binds again at its next turn" in str(caught.value)


@pytest.mark.parametrize("wf", shapes.TRACED, ids=[wf.fn.__name__ for wf in shapes.TRACED])
async def test_a_function_used_in_its_turn_is_traced(wf: Any) -> None:
    unoptimized = ayo.workflow(wf.fn, passes=[])
    async with scripted_runtime():
        for docs in DOCS:
            eager = await outcome(wf.eager, "q", docs)
            assert await outcome(unoptimized, "q", docs) == eager, docs
            assert await outcome(wf, "q", docs) == eager, docs


async def test_python_gives_every_kept_function_the_last_turn() -> None:
    async with scripted_runtime():
        assert await shapes.lambdas_kept_in_a_list.eager("q", ["one", "two", "three"]) == ["three"] * 3
