"""A graph constant (``collection=``, ``seed=``, ``max_tokens=``) or the function called taken
from the variable of a loop over a few constants that the tracer does not unroll (it has a
``break`` or a ``continue``: ``for kb in KBS: hits = await ayo.search(q, collection=kb); if hits:
break``, a retry loop with ``seed=attempt``) is a ``cond`` over the items (``dispatch._loop_items``):
each arm traced with its constant, where the call was a graph break. Items written out
(``range(3)``, a tuple of constants) are all the variable can be; a module's list may be another
when the workflow runs, so a last arm runs the call as written for any other value. Generated over
the items, the use and the jump; eager ≡ traced ≡ optimized on fresh module copies, failing calls
among them, and a module list changed between queries."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.frontend.programs import load
from tests.util import fresh_copies_agree, outcome, run_in_new_loop, scripted_runtime

MODULE = """
import ayo_trace as ayo

KBS = ["kb_a", "kb_b", "kb_c"]
BUDGETS = (2, 3, 4)


async def brief(q):
    return await ayo.llm(f"Brief: {q}", max_tokens=2)


async def full(q):
    return await ayo.llm(f"Full: {q}", max_tokens=4)
"""

ITEMS = {  # (the loop's header, whether its items are written out)
    "module_list": ("for kb in KBS:", False),
    "tuple": ('for kb in ("kb_a", "kb_b", "kb_c"):', True),
    "enumerated": ("for i, kb in enumerate(KBS):", False),
}
USES = {
    "collection": "        hits = await ayo.search(q, collection=kb, top_k=2)\n        out.append(len(hits))\n",
    "callee_collection": (
        "        hits = await ayo.search(q, collection=kb, top_k=2)\n"
        "        out.append(await (brief if hits else full)(kb))\n"
    ),
}
JUMPS = {
    "break": "        if hits:\n            break\n",
    "continue": "        if not hits:\n            continue\n        out.append('kept')\n",
    "break_else": "        if hits:\n            break\n    else:\n        out.append('none')\n",
}
CASES = list(itertools.product(ITEMS, USES, JUMPS))
QUESTIONS = ["what is a heap", "explain FAIL here", "sort"]


def source(items: str, use: str, jump: str) -> str:
    return (
        MODULE
        + "\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + "    await ayo.ingest([f'doc {q}'], collection='kb_b')\n"
        + "    out = []\n"
        + f"    {ITEMS[items][0]}\n"
        + USES[use]
        + JUMPS[jump]
        + "    return out\n"
    )


@pytest.mark.parametrize(("items", "use", "jump"), CASES, ids=["-".join(c) for c in CASES])
def test_a_loop_items_constant_is_a_cond(items: str, use: str, jump: str, tmp_path: Any) -> None:
    src = source(items, use, jump)
    graph = load(src, tmp_path).wf.graph("q", [])
    assert "cond" in [n.op for n in graph.walk()], graph
    # (for a module's list, the last arm runs the call as written for an item added since)
    assert len(graph_breaks(graph)) == (0 if ITEMS[items][1] else 1), graph
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)


def test_a_retry_loop_with_seeds_and_a_callee_loop_trace(tmp_path: Any) -> None:
    src = MODULE + (
        "\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        "    replies = []\n"
        "    for attempt in range(3):\n"
        "        reply = await ayo.llm(f'Grade: {q}', max_tokens=3, seed=attempt, temperature=0.7)\n"
        "        replies.append(reply)\n"
        "        if reply.endswith(('0', '2', '4')):\n"
        "            break\n"
        "    for step in (brief, full):\n"
        "        last = await step(q)\n"
        "        if len(last) > 5:\n"
        "            break\n"
        "    return replies, last\n"
    )
    # (the functions' names may be bound anew: a last arm runs the call as written for another)
    assert len(graph_breaks(load(src, tmp_path).wf.graph("q", []))) == 1
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)


def test_a_module_list_changed_between_queries_is_read_anew(tmp_path: Any) -> None:
    module = load(source("module_list", "collection", "break"), tmp_path)

    async def go() -> None:
        async with scripted_runtime():
            for change in [
                None,
                lambda: module.KBS.insert(0, "kb_z"),
                lambda: module.KBS.__setitem__(0, "kb_b"),
            ]:
                if change is not None:
                    change()
                for q in QUESTIONS:
                    assert await outcome(module.wf, q, []) == await outcome(module.wf.eager, q, [])

    run_in_new_loop(go)


COMPUTED = {  # (the graph constant, computed from the loop's variable)
    "sum": "max_tokens=2 + attempt",
    "product": "max_tokens=attempt * 2 + 1",
    "seed": "seed=attempt * 7, temperature=0.5, max_tokens=3",
    "negated": "max_tokens=-(-attempt - 2)",
}


@pytest.mark.parametrize("computed", list(COMPUTED))
def test_a_constant_computed_from_a_retry_loops_variable_is_a_cond(computed: str, tmp_path: Any) -> None:
    """(`max_tokens=2 + attempt` in a retry loop that returns: each value of the arithmetic for
    each item, `dispatch._computed`; it was a graph break.)"""
    src = MODULE + (
        "\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        "    for attempt in range(3):\n"
        f"        ans = await ayo.llm(q + str(attempt), {COMPUTED[computed]})\n"
        "        if ans.endswith(('1', '3', '5')):\n"
        "            return ans, attempt\n"
        "    return None\n"
    )
    graph = load(src, tmp_path).wf.graph("q", [])
    assert "cond" in [n.op for n in graph.walk()] and graph_breaks(graph) == [], graph
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)
