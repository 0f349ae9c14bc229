"""A method of an object the workflow made (``agent = Agent(...)``, then ``await agent.step(q)``)
is inlined like a helper: the class is known when traced, ``self`` is the traced object, and what
the method changes in it is ordered before what reads it later. It was a graph break."""

from __future__ import annotations

from typing import Any

import pytest

from . import made_object_shapes as m
from .test_run_time_constants import three_ways

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(("wf", "args"), m.CASES, ids=[wf.fn.__name__ for wf, _ in m.CASES])
async def test_methods_of_objects_the_workflow_made_are_inlined(wf: Any, args: tuple[Any, ...]) -> None:
    graph = wf.graph(*args)
    assert [n.attrs["reason"] for n in graph.walk() if n.op == "break"] == []
    eager, plain, optimized = await three_ways(wf, args)
    assert eager == plain == optimized
