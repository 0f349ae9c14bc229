"""A call whose function (or graph constant) is what a plain function of the user's returns
(``await pick(q)(q)`` of ``def pick(q): return short if len(q) < 14 else long``; ``step =
pick(q)``; ``collection=choose(q)`` returning a module's constant) is a ``cond`` over the names its
``return`` statements give (``dispatch._returned``), each arm traced; a last arm runs the call as
written for a value none of them is (a name bound anew since the trace). A picker that changes
something (it is called again there) or returns a value it computes stays as written. Generated
over the picker and the use; eager ≡ traced ≡ optimized on fresh module copies, a failing call
among them."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.frontend.programs import load
from tests.util import fresh_copies_agree

MODULE = """
import ayo_trace as ayo

KB_SHORT = "kb_short"
KB_LONG = "kb_long"
PICKED = []


async def short(q):
    return await ayo.llm(f"Briefly: {q}", max_tokens=2)


async def long(q):
    return await ayo.llm(f"In detail: {q}", max_tokens=4)


async def other(q):
    return q.upper()
"""

PICKERS = {  # (the picker's body, what it picks among: functions or collections, traced)
    "conditional": ("    return short if len(q) < 14 else long\n", "functions", True),
    "branches": ("    if 'FAIL' in q:\n        return long\n    return short\n", "functions", True),
    "three": (
        "    if len(q) < 5:\n        return other\n    elif len(q) < 14:\n        return short\n    return long\n",
        "functions",
        True,
    ),
    "collections": ("    return KB_SHORT if len(q) < 14 else KB_LONG\n", "collections", True),
    "shadowed": ("    long = short\n    return long if q else other\n", "functions", False),
    "logging": ("    PICKED.append(q)\n    return short if len(q) < 14 else long\n", "functions", False),
    "computed": ("    return [short, long][len(q) % 2]\n", "functions", False),
}
USES = {
    "functions": {
        "inline": "    return await pick(q)(q), list(PICKED)\n",
        "bound": "    step = pick(q)\n    return await step(q + '!'), list(PICKED)\n",
    },
    "collections": {
        "inline": (
            "    await ayo.ingest([f'doc {q}'], collection=pick(q))\n"
            "    return [h.text for h in await ayo.search(q, collection=pick(q), top_k=1)], list(PICKED)\n"
        ),
        "bound": (
            "    kb = pick(q)\n    await ayo.ingest([f'doc {q}'], collection=kb)\n"
            "    return [h.text for h in await ayo.search(q, collection=kb, top_k=1)], list(PICKED)\n"
        ),
    },
}
CASES = list(itertools.product(PICKERS, ["inline", "bound"]))
QUESTIONS = ["heap", "what is a heap exactly", "explain FAIL here"]


@pytest.mark.parametrize(("picker", "use"), CASES, ids=["-".join(c) for c in CASES])
def test_a_choice_a_function_returns_agrees(picker: str, use: str, tmp_path: Any) -> None:
    body, kind, traced = PICKERS[picker]
    src = MODULE + f"\n\ndef pick(q):\n{body}\n\n@ayo.workflow\nasync def wf(q, docs):\n" + USES[kind][use]
    graph = load(src, tmp_path).wf.graph("q", [])
    ops = [n.op for n in graph.walk()]
    assert ("cond" in ops) == traced, graph
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)
