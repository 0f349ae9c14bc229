"""A ``try`` whose body binds a name before its last statement that is read after the statement or
by a handler: Python keeps that binding when a later statement of the body fails. The tracer cuts
the ``try`` in two after that statement (``try_except._cut``), so the shapes trace with no graph
break, and eager, the unoptimized graph and the optimized graph agree on every input: JSON at the
first attempt, at a later one, never, and an engine failure at any attempt."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedStore
from tests.util import outcome, run_in_new_loop

from . import cut_try_shapes

ANSWERS = {
    "json": '{"n": 1}',
    "jsonx": '{"m": 2}',
    "digit": "about 7 of them",
}
QUESTIONS = [
    "json",
    "words|json",
    "words|words|json",
    "words",
    "FAIL|json",
    "words|FAIL|jsonx",
    "jsonx|json",
    "digit|json",
    "digit|FAIL",
    "json|FAIL",
    "FAIL",
]


def respond(prompt: str) -> str:
    for key in sorted(ANSWERS, key=len, reverse=True):
        if prompt.startswith(key):
            return ANSWERS[key]
    return f"plain words for {prompt}"


def runtime() -> ayo.Runtime:
    llm = ScriptedLLM("llm", respond, fail=lambda p: "FAIL" in p)
    return ayo.Runtime([llm, ScriptedEmbedder("embed"), ScriptedStore("store")], batching=False, retries=0)


async def fresh(run: Any, question: str) -> Any:
    async with runtime():
        return await outcome(run, question)


@pytest.mark.parametrize("wf", cut_try_shapes.SHAPES, ids=lambda w: w.fn.__name__)
def test_traces_without_a_break_and_agrees_with_eager(wf: Any) -> None:
    graph = wf.graph("q")
    assert not [n for n in graph.walk() if n.op == "break"], graph
    unoptimized = ayo.workflow(wf.fn, passes=[])

    async def main() -> None:
        for q in QUESTIONS:
            eager = await fresh(wf.eager, q)
            assert await fresh(unoptimized, q) == eager, q
            assert await fresh(wf, q) == eager, q

    run_in_new_loop(main)


def test_the_cut_puts_the_rest_of_the_body_in_the_else() -> None:
    """``raw = await ayo.llm(...)`` alone in the body; ``json.loads(raw)`` in the ``else`` (a
    ``python`` node there: it awaits nothing), so a handler of the parse sees the new ``raw``."""
    graph = cut_try_shapes.no_loop.graph("q")
    (node,) = [n for n in graph.nodes if n.op == "try"]
    assert [n.op for n in node.attrs["body"].nodes if n.op == "llm"] == ["llm"]
    orelse = node.attrs["orelse"]
    assert orelse is not None
    assert any("json.loads(raw)" in n.attrs["code"].source for n in orelse.nodes if n.op == "python")
    assert "json.loads" not in str(node.attrs["body"])
