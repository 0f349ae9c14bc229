"""A loop that awaits over a lazy builtin kept in a name (``it = filter(None, docs)``, ``it =
map(str.strip, docs)``, then ``for c in it:``) is judged as the same call written in the loop's
header (``map_loops._drawn``): traced when the functions it calls change nothing, where any held
lazy iterator ran as written. One whose function changes state (``map(record, docs)``), or read
elsewhere too (``next(it)`` first), stays as written. Generated over the source, the body and
what else reads the name; eager ≡ traced ≡ optimized on fresh module copies, failing calls and
bad items among them."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.frontend.programs import load
from tests.util import fresh_copies_agree

MODULE = """
import ayo_trace as ayo

SEEN = []
RAW = ["  heap ", "", " FAIL list ", "7"]


def record(d):
    SEEN.append(d)
    return d
"""

SOURCES = {  # (the source, whether it traces whole)
    "strip": ("map(str.strip, RAW + q.split())", True),
    "nonempty": ("filter(None, RAW)", True),
    "numbered": ("enumerate(q.split())", True),
    "paired": ("zip(q.split(), range(3))", True),
    "ints": ("map(int, ['1', '2'] + q.split()[:1])", True),
    "recorded": ("map(record, RAW)", False),
}
BODIES = {
    "append": "        out.append(await ayo.llm(f'{q}: {c}', max_tokens=2))\n",
    "length": "        out.append(len(await ayo.llm(f'Say {c}', max_tokens=2)) + len(str(c)))\n",
}
READS = {"loop": "", "next_first": "    first = next(it, None)\n"}
CASES = list(itertools.product(SOURCES, BODIES, READS))
QUESTIONS = ["what is a heap", "explain FAIL here", "3 4"]


def source(src: str, body: str, reads: str) -> str:
    return (
        MODULE
        + "\n\n@ayo.workflow\nasync def wf(q, docs):\n    out = []\n"
        + f"    it = {SOURCES[src][0]}\n"
        + READS[reads]
        + "    for c in it:\n"
        + BODIES[body]
        + "    return out, list(SEEN)\n"
    )


@pytest.mark.parametrize(("src", "body", "reads"), CASES, ids=["-".join(c) for c in CASES])
def test_a_named_lazy_source_agrees(src: str, body: str, reads: str, tmp_path: Any) -> None:
    text = source(src, body, reads)
    breaks = graph_breaks(load(text, tmp_path).wf.graph("q", []))
    if reads == "loop":  # (read elsewhere too: as before, by what the call making it does)
        assert (breaks == []) == SOURCES[src][1], breaks
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(text, tmp_path / "runs", QUESTIONS)
