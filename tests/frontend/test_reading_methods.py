"""A statement calling a method that only reads its object beside an await of a call reading that
object (``THREAD.add(await ayo.llm(THREAD.render()))``, ``f"{THREAD.render()}: {await ...}"``)
keeps its meaning when the graph lifts the await out (``operand_order.reading_calls``: such a
method changes nothing); it ran as written, every method call counting as a change of its object.
A method changing its object, handing it on or changing module state still does. Generated over
the object (the module's, the workflow's own), the statement and the method read; eager ≡ traced ≡
optimized on fresh module copies, a failing call among them."""

from __future__ import annotations

from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.frontend.programs import load
from tests.util import every_pair, fresh_copies_agree

MODULE = """
import ayo_trace as ayo

SEEN = []


def describe(thread):
    thread.lines.append("described")
    return "described"


class Thread:
    def __init__(self):
        self.lines = []

    def add(self, text):
        self.lines.append(text)

    def render(self):
        return "\\n".join(self.lines[-3:])

    def summary(self, q):
        return f"{q}: {self.render()} ({self.size()})"

    def size(self):
        return len(self.lines)

    def pop_last(self):
        return self.lines.pop() if self.lines else ""

    def described(self):
        return describe(self)

    def noted(self):
        SEEN.append(len(self.lines))
        return self.render()


THREAD = Thread()
"""

OBJECTS = {
    "module": ("", "THREAD"),
    "own": ("    t = Thread()\n", "t"),
}
STATEMENTS = {
    "argument": "    {o}.add(await ayo.llm({o}.{m}, max_tokens=3))\n",
    "left_operand": "    line = str({o}.{m}) + ' | ' + await ayo.llm(q, max_tokens=3)\n    {o}.add(line)\n",
    "f_string": "    {o}.add(f\"{{{o}.{m}}} -> {{await ayo.llm('say ' + q, max_tokens=3)}}\")\n",
}
READING = {"render": "render()", "summary": "summary(q)", "size": "size()"}
CHANGING = {"pop_last": "pop_last()", "described": "described()", "noted": "noted()"}
CASES = every_pair(OBJECTS, STATEMENTS, [*READING, *CHANGING])  # (every pair of choices)


def source(obj: str, statement: str, method: str) -> str:
    made, o = OBJECTS[obj]
    m = {**READING, **CHANGING}[method]
    return (
        MODULE
        + "\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + made
        + f"    {o}.add(q)\n"
        + STATEMENTS[statement].format(o=o, m=m)
        + f"    return list({o}.lines), list(SEEN)\n"
    )


QUESTIONS = ["what is a heap", "explain FAIL here", "sort"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("obj", "statement", "method"), CASES, ids=["-".join(c) for c in CASES])
def test_a_reading_method_beside_an_await_agrees(
    obj: str, statement: str, method: str, tmp_path: Any
) -> None:
    src = source(obj, statement, method)
    if method in READING:
        assert graph_breaks(load(src, tmp_path).wf.graph("q", [])) == [], src
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)
