"""Helpers behind the user's own decorators are traced as the wrapper (what it does around the
call kept), ``*args``/``**kwargs`` a helper passes on are its arguments one by one, and a helper
given the functions it calls is inlined with them: eager ≡ traced ≡ optimized, no graph break."""

from __future__ import annotations

from typing import Any

import pytest

from . import decorator_shapes as d
from .test_run_time_constants import three_ways

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("wf", d.CASES, ids=[wf.fn.__name__ for wf in d.CASES])
async def test_decorated_and_forwarding_helpers_trace_whole(wf: Any) -> None:
    graph = wf.graph("alpha")
    assert [n.attrs["reason"] for n in graph.walk() if n.op == "break"] == []
    eager, plain, optimized = await three_ways(wf, ("alpha",))
    assert eager == plain == optimized


async def test_what_a_wrapper_does_to_the_answer_is_kept() -> None:
    """(It was lost: the graph ran the wrapped function alone.)"""
    (answer, requests), *_ = await three_ways(d.result_changed, ("alpha",))
    assert answer.endswith("!") and answer == answer.upper()
    (_, requests), *_ = await three_ways(d.argument_changed, ("alpha",))
    assert [prompt for prompt, _ in requests] == ["About alpha"]
    (answer, _), *_ = await three_ways(d.workflow_whose_answer_a_decorator_changes, ("alpha",))
    assert answer.endswith("!") and answer == answer.upper()


async def test_a_helper_given_a_spread_computed_at_run_time_is_a_graph_break() -> None:
    """(It was refused.)"""
    graph = d.helper_given_a_run_time_spread.graph("alpha")
    assert [n.op for n in graph.walk()].count("break") == 1
    eager, plain, optimized = await three_ways(d.helper_given_a_run_time_spread, ("alpha",))
    assert eager == plain == optimized
