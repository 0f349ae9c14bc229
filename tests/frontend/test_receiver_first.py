"""A method call awaiting in its arguments on a receiver that runs code
(``groups.setdefault(k, []).append(await ask(w))``, the grouping idiom) is that receiver assigned
first, then the call on it (``normalize._receiver``): Python runs the receiver's code before the
await, so a failing call leaves the bucket it made. It was a graph break (a statement whose code
before its await changes an object). Generated over the receiver, the method and where the
statement stands; eager ≡ traced ≡ optimized on fresh module copies, failing calls among them."""

from __future__ import annotations

from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.frontend.programs import load
from tests.util import every_pair, fresh_copies_agree

MODULE = """
import ayo_trace as ayo


class Bag:
    def __init__(self):
        self.buckets = {}

    def bucket(self, k):
        return self.buckets.setdefault(k, [])


def bucket_of(groups, k):
    return groups.setdefault(k, [])
"""

# (the receiver, whether the statement then traces)
RECEIVERS = {
    "setdefault": ("groups.setdefault(len(w), [])", True),
    "nested": ("groups.setdefault('all', {}).setdefault(len(w), [])", True),
    "helper": ("bucket_of(groups, len(w))", False),
    "method": ("bag.bucket(len(w))", False),
}
METHODS = {
    "append": ".append(await ayo.llm(f'about {w}', max_tokens=3))",
    "extend": ".extend([w, await ayo.llm(f'about {w}', max_tokens=3)])",
    "insert": ".insert(0, await ayo.llm(f'{q} {w}', max_tokens=3))",
}
PLACES = {
    "loop": ["for w in q.split():", "    {stmt}"],
    "once": ["w = q[:4]", "{stmt}"],
    "assigned": ["for w in q.split():", "    got = {stmt}"],
    "one_line_loop": ["for w in q.split(): {stmt}"],
    "one_line_if": ["w = q[:4]", "if w: got = {stmt}"],
    "in_try": [
        "for w in q.split():",
        "    try:",
        "        {stmt}",
        "    except ayo.EngineError:",
        "        groups.setdefault('failed', []).append(w)",
    ],
}
CASES = every_pair(RECEIVERS, METHODS, PLACES)


def source(receiver: str, method: str, place: str) -> str:
    stmt = RECEIVERS[receiver][0] + METHODS[method]
    lines = ["groups = {}", "bag = Bag()", *(x.format(stmt=stmt) for x in PLACES[place])]
    lines.append("return groups, bag.buckets")
    return MODULE + "\n\n@ayo.workflow\nasync def wf(q, docs):\n" + "".join(f"    {x}\n" for x in lines)


QUESTIONS = ["what is a heap", "explain FAIL here", "sort"]


@pytest.mark.parametrize(("receiver", "method", "place"), CASES, ids=["-".join(c) for c in CASES])
def test_a_receiver_running_code_is_assigned_first(
    receiver: str, method: str, place: str, tmp_path: Any
) -> None:
    src = source(receiver, method, place)
    if RECEIVERS[receiver][1]:
        assert graph_breaks(load(src, tmp_path).wf.graph("q", [])) == [], src
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)


def test_the_line_keeps_its_number(tmp_path: Any) -> None:
    src = source("setdefault", "append", "loop")
    graph = load(src, tmp_path).wf.graph("q", [])
    (line,) = {n.loc.line for n in graph.walk() if n.op == "llm"}
    assert ".append(await ayo.llm(" in src.splitlines()[line - 1]
