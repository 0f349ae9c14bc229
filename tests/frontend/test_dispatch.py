"""A call whose function the workflow picks when it runs from a few known when traced (a table of
tools, a router's sub-workflows, a name bound to one of them, a conditional expression of
functions) is traced as a ``cond`` over the candidates, each arm a traced call; the call as written
stays, as a graph break, only for a callee that is none of them. It was a graph break whole."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo

from . import dispatch_shapes as d
from .test_run_time_constants import engines, three_ways

pytestmark = pytest.mark.anyio

FALLBACK = "a call of a function (or with a graph constant) computed when the workflow runs that is none"
NOT_AYO = "await of something that is not an ayo primitive"


@pytest.mark.parametrize("choice", d.CHOICES)
@pytest.mark.parametrize("wf", d.CASES, ids=[wf.fn.__name__ for wf in d.CASES])
async def test_every_arm_answers_as_eager(wf: Any, choice: str) -> None:
    eager, plain, optimized = await three_ways(wf, ("alpha", choice))
    assert eager == plain == optimized


@pytest.mark.parametrize("wf", d.CASES, ids=[wf.fn.__name__ for wf in d.CASES])
def test_the_calls_are_traced_in_a_cond(wf: Any) -> None:
    """Every break left is the call as written (the last arm) or the arm of `count`, which calls no
    primitive; the candidates' primitives are nodes of the graph."""
    graph = wf.graph("alpha", "ask")
    reasons = [n.attrs["reason"] for n in graph.walk() if n.op == "break"]
    assert all(r.startswith((FALLBACK, NOT_AYO)) for r in reasons), reasons
    assert any(n.op == "cond" for n in graph.walk())
    assert {"llm", "search"} <= {n.op for n in graph.walk()}


async def test_a_missing_key_fails_as_in_python() -> None:
    """The last arm raises Python's KeyError (as the node's error, naming it), and a handler in the
    workflow catches it as it does eagerly."""
    llm_engines, _ = engines()
    async with ayo.Runtime(llm_engines, batching=False):
        await ayo.ingest(["alpha one"], collection="kb0")
        with pytest.raises(KeyError):
            await d.module_table.eager("alpha", "nope")
        for run in (ayo.workflow(d.module_table.fn, passes=[]), d.module_table):
            with pytest.raises(ayo.UserCodeError, match="KeyError: 'nope'"):
                await run("alpha", "nope")
        assert await d.caught_missing_tool("alpha", "nope") == "no such tool"


async def test_an_entry_added_after_the_trace_runs_through_the_last_arm() -> None:
    d.module_table.graph("alpha", "ask")  # traced with the three tools

    async def shout(arg: str) -> str:
        return (await ayo.llm(arg, max_tokens=2)).upper()

    d.TOOLS["shout"] = shout
    try:
        eager, plain, optimized = await three_ways(d.module_table, ("alpha", "shout"))
        assert eager == plain == optimized
    finally:
        del d.TOOLS["shout"]


def test_a_callee_none_of_whose_candidates_traces_stays_one_break() -> None:
    graph = d.only_waiting_candidates.graph("alpha", "count")
    assert not any(n.op == "cond" for n in graph.walk())
    assert [n.attrs["reason"][: len(NOT_AYO)] for n in graph.walk() if n.op == "break"] == [NOT_AYO]


async def test_candidates_that_never_wait_are_inlined() -> None:
    graph = d.only_eager_candidates.graph("alpha", "count")  # (tools with an async signature)
    assert any(n.op == "cond" for n in graph.walk())  # (an arm per candidate, a last one for any key)
    for tool in ("count", "shout"):
        eager, plain, optimized = await three_ways(d.only_eager_candidates, ("alpha", tool))
        assert eager == plain == optimized


@pytest.mark.parametrize("choice", d.CHOICES)
@pytest.mark.parametrize("wf", d.ARGUMENT_CASES, ids=[wf.fn.__name__ for wf in d.ARGUMENT_CASES])
async def test_a_graph_constant_chosen_at_run_time_is_traced_per_candidate(wf: Any, choice: str) -> None:
    """``collection=kb`` with ``kb = "a" if ... else "b"``, ``max_tokens=BUDGET.get(kind, 3)``: a
    ``cond`` whose arms are the call with each candidate as its constant; no graph break left
    when the candidates are all the value can be."""
    graph = wf.graph("alpha", choice)
    reasons = [n.attrs["reason"] for n in graph.walk() if n.op == "break"]
    assert all(r.startswith(FALLBACK) for r in reasons), reasons
    assert any(n.op == "cond" for n in graph.walk())
    eager, plain, optimized = await three_ways(wf, ("alpha", choice))
    assert eager == plain == optimized


def test_the_arms_carry_the_candidates_as_constants() -> None:
    graph = d.routed_collection.graph("alpha", "ask")
    assert sorted(n.attrs["params"].collection for n in graph.walk() if n.op == "search") == ["kb0", "kb1"]
    assert not [n for n in graph.walk() if n.op == "break"]  # both candidates known: no last arm
    graph = d.collection_from_a_table.graph("alpha", "ask")
    assert sorted(n.attrs["params"].collection for n in graph.walk() if n.op == "search") == ["kb0", "kb1"]
    assert [n.attrs["reason"][: len(FALLBACK)] for n in graph.walk() if n.op == "break"] == [FALLBACK]
    graph = d.budget_and_temperature.graph("alpha", "ask")
    sampling = sorted(
        (n.attrs["sampling"].max_tokens, n.attrs["sampling"].temperature)
        for n in graph.walk()
        if n.op == "llm"
    )
    assert sampling == [(2, 0.0), (2, 0.5), (6, 0.0), (6, 0.5)]  # the keys `kind` can be: no default


def test_a_key_known_to_be_one_of_a_few_calls_only_their_entries() -> None:
    """`TOOLS["lookup" if ... else "ask"]`: those two entries, no last arm."""
    graph = d.key_from_a_condition.graph("alpha", "ask")
    assert not [n for n in graph.walk() if n.op == "break"]
    assert {n.op for n in graph.walk()} >= {"search", "llm", "cond"}
