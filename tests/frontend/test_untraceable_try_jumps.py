"""A ``break`` or ``continue`` of a loop that awaits, inside a ``try`` that cannot carry it (a ``try``
with a ``finally`` inside it, a name bound before the await that may fail and read after it, a
bare ``raise`` in a handler), makes the loop run as written (a graph break naming the fix:
``control_flow.NestedJump``, ``nested_loops.LoopAsWritten``), as a nested loop's jump through such
a statement did; it was refused. A ``return`` through it is still refused. Generated over the
jump, the ``try`` and the loop; eager ≡ traced ≡ optimized on fresh module copies, failing calls
among them."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ayo_trace.errors import TraceError
from ayo_trace.frontend.breaks import graph_breaks
from tests.frontend.programs import load
from tests.util import fresh_copies_agree

TRIES = {
    "nested_finally": [
        "try:",
        "    try:",
        "        out.append(await ayo.llm(q + c, max_tokens=2))",
        "    finally:",
        "        out.append(c)",
        "except ayo.EngineError:",
        "    {jump}",
    ],
    "bound_before": [
        "try:",
        "    if c:",
        "        found = c.upper()",
        "        out.append(await ayo.llm(q + c, max_tokens=2))",
        "        {jump}",
        "except ayo.EngineError:",
        "    out.append('failed')",
    ],
    "reraised": [
        "try:",
        "    out.append(await ayo.llm(q + c, max_tokens=2))",
        "    if len(out) > 1:",
        "        {jump}",
        "except ayo.EngineError:",
        "    if c == 'c':",
        "        raise",
        "    out.append('skipped')",
    ],
}
LOOPS = {
    "for": ["for c in ['a', 'b', 'c']:"],
    "while": ["items = ['a', 'b', 'c']", "while items:", "    c = items.pop(0)"],
}
JUMPS = ["break", "continue"]
CASES = list(itertools.product(TRIES, LOOPS, JUMPS))


def source(try_: str, loop: str, jump: str) -> str:
    body = [line.format(jump=jump) for line in TRIES[try_]]
    lines = ["out = []", "found = ''", *LOOPS[loop], *("    " + b for b in body), "return out, found"]
    return "import ayo_trace as ayo\n\n\n@ayo.workflow\nasync def wf(q, docs):\n" + "".join(
        f"    {x}\n" for x in lines
    )


QUESTIONS = ["what is a heap", "explain FAIL here", "sort"]


@pytest.mark.parametrize(("try_", "loop", "jump"), CASES, ids=["-".join(c) for c in CASES])
def test_a_jump_through_a_try_that_cannot_carry_it_runs_the_loop_as_written(
    try_: str, loop: str, jump: str, tmp_path: Any
) -> None:
    src = source(try_, loop, jump)
    load(src, tmp_path).wf.graph("q", [])  # (traced: no refusal)
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)


def test_a_return_through_such_a_try_is_still_refused(tmp_path: Any) -> None:
    src = source("nested_finally", "for", "return out, found")
    with pytest.raises(TraceError):
        load(src, tmp_path).wf.graph("q", [])


def test_the_loop_runs_as_written_saying_why(tmp_path: Any) -> None:
    (b,) = graph_breaks(load(source("nested_finally", "for", "break"), tmp_path).wf.graph("q", []))
    assert str(b.attrs["reason"]).startswith("for loop whose body"), b.attrs["reason"]
