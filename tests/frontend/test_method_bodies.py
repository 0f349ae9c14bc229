"""A method calling another method of a static ``self`` inside a nested body (a branch, a
comprehension's map, a loop, a ``gather``, a ``while``, a ``try``) inlines it like any helper: the
callee is found through the bodies around (it was a graph break there), and awaiting ``self.m()``
does not count as changing ``self`` (which made ``self`` a loop's carried value)."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedStore

from . import method_shapes as m

pytestmark = pytest.mark.anyio

DOCS = ["generators yield values", "lists hold values", ""]

CASES = [
    (m.in_a_branch, ("odd?",)),
    (m.in_a_branch, ("even",)),
    (m.in_a_comprehension, (DOCS,)),
    (m.in_a_loop, (DOCS,)),
    (m.in_a_loop, ([],)),
    (m.in_a_carried_loop, (DOCS,)),
    (m.in_a_gather, ("what yields",)),
    (m.in_a_while, ("q",)),
    (m.in_a_try, ("values",)),
    (m.PIPELINE.answer, ("what holds values",)),
]


async def three_ways(wf: Any, args: tuple[Any, ...]) -> list[tuple[Any, list[str]]]:
    out = []
    eager = wf.eager
    traced = ayo.workflow(wf.fn, passes=[])
    if getattr(wf, "bound_self", None) is not None:
        traced = traced.__get__(wf.bound_self)
    for run in (eager, traced, wf):
        llm = ScriptedLLM("llm")
        async with ayo.Runtime([llm, ScriptedEmbedder("embed"), ScriptedStore("store")], batching=False):
            await ayo.ingest(DOCS[:2], collection="kb")
            answer = await run(*args)
        out.append((answer, sorted(llm.prompts)))
    return out


@pytest.mark.parametrize(("wf", "args"), CASES, ids=[f"{c[0].fn.__name__}-{i}" for i, c in enumerate(CASES)])
async def test_methods_of_self_in_nested_bodies_are_traced(wf, args) -> None:
    graph = wf.graph(*args)
    assert [n.attrs["reason"] for n in graph.walk() if n.op == "break"] == []
    assert not [n for n in graph.walk() if n.op in ("loop", "map") and "self" in n.attrs.get("carried", ())]
    eager, traced, optimized = await three_ways(wf, args)
    assert eager == traced == optimized
