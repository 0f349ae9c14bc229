"""A list or set comprehension whose ``if`` filter awaits (``[c for c in cands if await
passes(c)]``) is read as one whose element awaits (``frontend/filter_awaits.py``): a ``map``, where
it was a graph break. Generated over the filter (a helper, a primitive, plain filters before and
after it, ``and``), the element (the item, a call of it, one that raises for items the filter
drops, one that awaits), the kind, the items and the layout; the filter's helper logs to module
state, read after. No graph break, and eager ≡ traced ≡ optimized on fresh module copies, failing
calls among them."""

from __future__ import annotations

from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.frontend.programs import load
from tests.util import every_pair, fresh_copies_agree

MODULE = """
import ayo_trace as ayo

LOG = []
WORDS = ["alpha", "12", "beta gamma", "7"]


async def passes(c):
    LOG.append(c)
    reply = await ayo.llm(f"Keep {c}?", max_tokens=3)
    return reply[-1] in "02468ace"  # (the scripted reply ends in its prompt's hash)


def numeric(c):
    return c.strip().isdigit()
"""

FILTERS = {
    "helper": "if await passes(c)",
    "primitive": "if (await ayo.llm('Judge ' + c, max_tokens=3))[-1] < '8'",
    "plain_first": "if len(c) > 1 if await passes(c)",
    "plain_after": "if await passes(c) if c",
    "and": "if c and await passes(c)",
    "numeric": "if numeric(c) if await passes(c)",
}
ELEMENTS = {
    "item": "c",
    "call": "c.upper()",
    "raising": "int(c)",  # (raises for items the `numeric` filter drops, never for a kept one there)
    "awaits": "(await ayo.llm('Say ' + c, max_tokens=3))[-4:]",
}
KINDS = {"list": ("[", "]", "{}"), "set": ("{", "}", "sorted({})")}
ITEMS = {
    "module": "WORDS",
    "local": "[q, q + ' 2', '3']",
    "split": "q.split()",
}
LAYOUTS = {"one_line": False, "lines": True}
CASES = every_pair(FILTERS, ELEMENTS, KINDS, ITEMS, LAYOUTS)


def source(filter_: str, element: str, kind: str, items: str, layout: str) -> str:
    opening, closing, result = KINDS[kind]
    elt, clause = ELEMENTS[element], f"for c in {ITEMS[items]}"
    if LAYOUTS[layout]:
        made = f"{opening}\n        {elt}\n        {clause}\n        {FILTERS[filter_]}\n    {closing}"
    else:
        made = f"{opening}{elt} {clause} {FILTERS[filter_]}{closing}"
    return (
        MODULE
        + "\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + "    LOG.clear()\n"
        + f"    kept = {made}\n"
        + "    tail = await ayo.llm('after', max_tokens=2)\n"
        + f"    return {result.format('kept')}, list(LOG), tail\n"
    )


QUESTIONS = ["what is a heap", "4 5 FAIL", "1 22 333"]


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_an_awaiting_filter_traces_whole_and_agrees(case: tuple[str, ...], tmp_path: Any) -> None:
    filter_, element, *_ = case
    if element == "raising" and filter_ != "numeric":
        case = ("numeric", *case[1:])  # (int() of a word: raised in every variant, at the first)
    src = source(*case)
    assert graph_breaks(load(src, tmp_path).wf.graph("q", [])) == [], src
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)


def test_an_awaiting_filter_of_a_generator_or_an_async_for_stays_as_written(tmp_path: Any) -> None:
    """A generator's filter, an ``async for``, an inner ``for``: not rewritten (the break says so)."""
    src = MODULE + (
        "\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        "    LOG.clear()\n"
        "    pairs = [(a, b) for a in q.split() for b in WORDS if await passes(a + b)]\n"
        "    return pairs, list(LOG)\n"
    )
    (b,) = graph_breaks(load(src, tmp_path).wf.graph("q", []))
    assert "`if` filter" in str(b.attrs["reason"])
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)
