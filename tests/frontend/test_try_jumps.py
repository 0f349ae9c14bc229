"""A ``break`` or ``continue`` anywhere in a ``try`` part of a loop body (in an ``if``, a ``match``
or an inner ``try`` of the body, a handler or the ``else``; also with a ``return`` in a part) is
traced: the part sets which jump it ran where the jump stands (``control_flow.in_part``) and the
rest of the loop body runs only when none did. They were refused with a ``TraceError``. Eager ≡
traced ≡ optimized over inputs that take every path, calls failing among them; the random programs
(``programs.py``, kind ``try_jump_loop``) cover the class further."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedStore
from tests.util import outcome

from . import try_jump_shapes as shapes

pytestmark = pytest.mark.anyio

DOCS = [[], ["a"], ["a", "skip b", "c"], ["a", "FAIL b", "c"], ["FAIL skip", "d", "stop", "e"], ["bb", "ccc"]]


def arguments(wf: Any) -> list[tuple[Any, ...]]:
    if wf is shapes.while_retries:
        return [("q",), ("FAIL q",), ("a longer question",)]
    return [(q, docs) for q in ("q", "FAIL") for docs in DOCS]


@pytest.mark.parametrize("wf", shapes.WORKFLOWS, ids=[wf.fn.__name__ for wf in shapes.WORKFLOWS])
async def test_a_jump_in_a_try_part_is_traced(wf: Any) -> None:
    args = arguments(wf)
    assert [n for n in wf.graph(*args[0]).walk() if n.op == "break"] == []
    unoptimized = ayo.workflow(wf.fn, passes=[])
    for a in args:
        results = []
        for run in (wf.eager, unoptimized, wf):
            llm = ScriptedLLM("llm", fail=lambda p: "FAIL" in p)
            async with ayo.Runtime([llm, ScriptedEmbedder("embed"), ScriptedStore("store")], batching=False):
                results.append((await outcome(run, *a, text=False), sorted(llm.prompts)))
        assert results[0] == results[1] == results[2], a
