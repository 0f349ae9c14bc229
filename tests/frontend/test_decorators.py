"""Helpers behind the user's own decorators are traced as the wrapper (what it does around the
call kept), ``*args``/``**kwargs`` a helper passes on are its arguments one by one, and a helper
given the functions it calls is inlined with them: eager ≡ traced ≡ optimized, no graph break."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo

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


async def test_a_helper_behind_a_librarys_decorator_runs_as_written() -> None:
    """tenacity's `@retry` (installed with the langchain extra): its wrapper is not the user's code,
    so the call runs eagerly, retries and all, as one graph break (it was traced as the wrapped
    function, dropping the retries)."""
    tenacity = pytest.importorskip("tenacity")

    @tenacity.retry(stop=tenacity.stop_after_attempt(3), reraise=True)
    async def robust(question: str) -> str:
        return await ayo.llm(f"Robust: {question}", max_tokens=2)

    @ayo.workflow
    async def retried_by_a_library(question: str) -> str:
        first = await robust(question)
        return await ayo.llm(f"Then: {first}", max_tokens=2)

    graph = retried_by_a_library.graph("alpha")
    assert [n.attrs["reason"] for n in graph.walk() if n.op == "break"] == [
        "a call behind a library's decorator (retrying, tracing spans): it runs eagerly, as written"
    ]
    eager, plain, optimized = await three_ways(retried_by_a_library, ("alpha",))
    assert eager == plain == optimized


async def test_a_workflow_behind_a_librarys_decorator_runs_as_one_graph_break() -> None:
    tenacity = pytest.importorskip("tenacity")

    @ayo.workflow
    @tenacity.retry(stop=tenacity.stop_after_attempt(3), reraise=True)
    async def retried_workflow(question: str, *, budget: int = 2) -> str:
        hits = await ayo.search(question, collection="kb0", top_k=1)
        return await ayo.llm(hits[0].text, max_tokens=budget)

    graph = retried_workflow.graph("alpha")
    (brk,) = [n for n in graph.walk() if n.op == "break"]
    assert [a.name for a in brk.args] == ["question"]  # it reads the workflow's arguments
    assert brk.loc is not None and brk.loc.file.endswith("test_decorators.py")  # not the library's
    eager, plain, optimized = await three_ways(retried_workflow, ("alpha",))
    assert eager == plain == optimized
