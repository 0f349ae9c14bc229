"""``asyncio.wait_for`` around a primitive or helper: a per-call timeout that raises ``TimeoutError``.

The runtime has no per-node deadline that raises ``TimeoutError`` (a query's ``deadline_s`` raises
``QueryTimeout``), so the tracer keeps the call's meaning by running that one await eagerly, under
its timeout: a graph break that names ``asyncio.wait_for`` and says what keeps a deadline in the
graph. A ``try``/``except TimeoutError`` around it still traces as a ``try`` node, and catches the
timeout exactly as eager code does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.passes import DEFAULT_PASSES, run_passes
from ayo_trace.testing import ScriptedLLM
from tests.util import run_in_new_loop

from .corpus_control import idioms
from .test_corpus_control import run_modes
from .test_differential import DOCS, QUESTION, assert_all_equal, respond

CASES: dict[str, tuple[Any, tuple[Any, ...]]] = {
    "wait_for_llm": (idioms.wait_for_llm, (QUESTION,)),
    "wait_for_with_fallback": (idioms.wait_for_with_fallback, (QUESTION,)),
    "wait_for_helper": (idioms.wait_for_helper, (DOCS[0],)),
    "wait_for_per_doc": (idioms.wait_for_per_doc, (DOCS,)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_wait_for_is_one_named_break(name: str) -> None:
    wf, args = CASES[name]
    graph = wf.graph(*args)
    graph.lint()
    reasons = [n.attrs["reason"] for n in graph.walk() if n.op == "break"]
    assert len(reasons) == 1 and reasons[0].startswith("asyncio.wait_for"), reasons
    assert "deadline_s=" in wf.explain(*args)


@pytest.mark.parametrize("name", sorted(CASES))
def test_wait_for_runs_like_eager(name: str) -> None:
    wf, args = CASES[name]
    results = run_in_new_loop(run_modes, wf, args, 3, [[], list(DEFAULT_PASSES)])
    assert_all_equal(results)


def test_the_try_around_it_traces_whole_but_for_the_call() -> None:
    graph = idioms.wait_for_with_limit.graph(QUESTION, 1.0)
    assert [n.op for n in graph.nodes if n.op in {"try", "break"}] == ["try"]
    assert [n.op for n in graph.walk() if n.op == "break"] == ["break"]


async def _run_slow(limit: float, passes: Sequence[Any] | None) -> Any:
    """``wait_for_with_limit`` on an LLM that takes 0.5 s a token (6 tokens), eager (``passes``
    None) or traced."""
    slow = ScriptedLLM("llm", respond, decode_s_per_step=0.5)
    async with ayo.Runtime(engines=[slow], batching=False, retries=0) as rt:
        wf = idioms.wait_for_with_limit
        if passes is None:
            return await wf.eager(QUESTION, limit)
        graph = run_passes(wf.graph(QUESTION, limit), passes)
        return await rt.run(graph, {"question": QUESTION})


@pytest.mark.parametrize("passes", [None, [], list(DEFAULT_PASSES)], ids=["eager", "traced", "optimized"])
def test_a_timeout_is_caught_as_eager_code_catches_it(passes: Sequence[Any] | None) -> None:
    # a 0.05 s limit on a call that takes seconds: the handler's value, in every mode
    assert run_in_new_loop(_run_slow, 0.05, passes) == "too slow"


def test_a_call_within_its_timeout_returns_its_answer_in_every_mode() -> None:
    results = run_in_new_loop(
        run_modes, idioms.wait_for_with_limit, (QUESTION, 30.0), 3, [[], list(DEFAULT_PASSES)]
    )
    assert results[0][1] != "too slow"
    assert_all_equal(results)
