"""A helper recursing on values known only when the workflow runs (a divide-and-conquer summary
over a list, a loop written as recursion until an answer is short, mutual recursion, a method, a
helper defined in the workflow) cannot be unrolled at trace time: the workflow is traced again with
that helper's calls run eagerly, as graph breaks named in ``explain()`` (refused under
``strict=True``); the rest is traced. Recursion on static values still unrolls."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ayo_trace as ayo
from ayo_trace.testing import ScriptedLLM
from tests.util import run_in_new_loop

from . import recursion_shapes as r

pytestmark = pytest.mark.anyio


def respond(prompt: str) -> str:
    return f"<{len(prompt)}:{prompt[:6]}>" * (1 + len(prompt) % 3)


async def three_ways(wf: Any, args: tuple[Any, ...]) -> list[tuple[Any, list[str]]]:
    """The answer and the sorted prompts of ``wf`` eager, traced and optimized, on fresh engines."""
    out = []
    for run in (wf.eager, ayo.workflow(wf.fn, passes=[]), wf):
        llm = ScriptedLLM("llm", respond)
        async with ayo.Runtime([llm], batching=False):
            answer = await run(*args)
        out.append((answer, sorted(llm.prompts)))
    return out


def marked(wf: Any, text: str) -> set[int]:
    source, start = inspect.getsourcelines(wf.fn)
    return {start + i for i, line in enumerate(source) if text in line}


CASES = [
    (r.tree_summary, (["a", "b", "c", "d", "e"],), "tree"),
    (r.tree_summary, ([],), "tree"),
    (r.tree_then_answer, ("q", ["a", "b"]), "tree"),
    (r.shorten, ("a question",), "until_short"),
    (r.mutual, ("q", [1, 2, 3]), "ping"),
    (r.local_recursion, ("q", ["x", "y", "z"]), "expand"),
    (r.method_recursion, ("g", ["a", "b"]), "plan"),
    (r.deep_static_recursion, ("g",), "plan"),
]


@pytest.mark.parametrize(
    ("wf", "args", "helper"), CASES, ids=[f"{c[0].fn.__name__}-{i}" for i, c in enumerate(CASES)]
)
async def test_recursion_on_run_time_values_is_a_graph_break_with_eagers_answers(wf, args, helper) -> None:
    graph = wf.graph(*args)
    breaks = {n.loc.line: n.attrs["reason"] for n in graph.walk() if n.op == "break"}
    assert set(breaks) == marked(wf, "# break")
    assert all(f"a call of `{helper}`, which recurses" in why for why in breaks.values()), breaks
    eager, traced, optimized = await three_ways(wf, args)
    assert eager == traced == optimized
    assert f"`{helper}`" in wf.explain(*args)
    with pytest.raises(ayo.TraceError, match="graph break"):
        ayo.workflow(wf.fn, strict=True).graph(*args)


# (a method's recursion is found at the depth bound: its object may differ from call to call)
RUN_TIME = [c for c in CASES if c[0] not in (r.deep_static_recursion, r.method_recursion)]


@pytest.mark.parametrize(
    ("wf", "args", "helper"), RUN_TIME, ids=[f"{c[0].fn.__name__}-{i}" for i, c in enumerate(RUN_TIME)]
)
def test_recursion_on_run_time_values_is_found_at_its_first_recursive_call(
    wf: Any, args: tuple[Any, ...], helper: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a call of the function inside its own inlined call with no argument known at trace time
    # would trace as the outer one did, without end: it runs eagerly at once, rather than after
    # MAX_INLINE_DEPTH nested calls (each traced again: a merge sort's first trace took 30 s)
    from ayo_trace.frontend.compiler import Compiler

    inlined = Compiler.inlined
    calls: list[str] = []

    def counting(self: Any, src: Any, env: Any) -> Any:
        calls.append(src.node.name.value)
        return inlined(self, src, env)

    monkeypatch.setattr(Compiler, "inlined", counting)
    ayo.workflow(wf.fn).graph(*args)
    assert len(calls) <= 6, calls


async def test_recursion_on_static_values_still_unrolls() -> None:
    graph = r.static_recursion.graph("g")
    assert [n for n in graph.walk() if n.op == "break"] == []
    assert len([n for n in graph.walk() if n.op == "llm"]) == 3
    eager, traced, optimized = await three_ways(r.static_recursion, ("g",))
    assert eager == traced == optimized


def test_a_workflow_recursing_on_itself_is_still_refused() -> None:
    # run eagerly, a nested workflow's call would be a query inside the query
    from . import bad_shapes as b

    with pytest.raises(ayo.TraceError, match="calls deep"):
        b.endless_recursion.graph("q", "x" * 100)


@settings(max_examples=8, deadline=None)
@given(
    chunks=st.lists(st.text("abc ", min_size=0, max_size=4), max_size=9), question=st.text("xyz", max_size=5)
)
def test_divide_and_conquer_equals_eager_for_any_list(chunks: list[str], question: str) -> None:
    eager, traced, optimized = run_in_new_loop(three_ways, r.tree_then_answer, (question, chunks))
    assert eager == traced == optimized
