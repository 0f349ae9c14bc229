"""What the workflow prints or writes to a file comes out in Python's order. ``print(...)`` (to
``sys.stdout``, or ``file=sys.stderr``), ``sys.stdout.write``, a plain helper of the user's
printing, and one appending to a file (``with open(path, "a")``) write to the process's streams
or to the file system (``frontend/hidden_state``): calls at once printing on both sides of their awaits
interleave there in Python (``start left``, ``start right``, ``done left``...), and a failed
gather's other calls print on; such a gather runs as written, a graph break naming the stream.
Before, the graph ran each call whole and printed ``start left``, ``done left``, ``start right``.

Generated over how the text is written, where the helper writes around its await and how the
calls run; eager ≡ traced ≡ optimized on fresh module copies, comparing what each wrote to both
streams as well as what it returned."""

from __future__ import annotations

from pathlib import Path

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.util import every_pair, runs_on_fresh_copies

from .programs import load

WRITES = {
    "print": "print({text})",
    "stderr": "print({text}, file=sys.stderr)",
    "write": "sys.stdout.write(' '.join(map(str, ({text},))) + '\\n')",
    "helper": "say({text})",
    "file": "log_line({text})",
}
PLACES = ["before", "after", "both"]
RUNS = {
    "gather": "parts = await asyncio.gather(step('left', q), step('right', q.upper()))",
    "group": (
        "async with asyncio.TaskGroup() as tg:\n        ts = [tg.create_task(step(s, q)) for s in ('left', 'right')]\n"
        "    parts = [t.result() for t in ts]"
    ),
    "one_by_one": "parts = [await step(s, q) for s in ('left', 'right')]",
}
CASES = [*every_pair(WRITES, PLACES, RUNS), ("print", "both", "gather"), ("helper", "both", "group")]


def _source(write: str, place: str, runs: str) -> str:
    first = WRITES[write].format(text="'start', name") if place != "after" else "pass"
    last = WRITES[write].format(text="'done', name, len(out)") if place != "before" else "pass"
    return f"""
import asyncio
import os
import sys

import ayo_trace as ayo


def say(*parts):
    print(*parts)


PATH = os.path.join(os.path.dirname(__file__), "log.txt")


def log_line(*parts):
    with open(PATH, "a") as f:
        f.write(" ".join(map(str, parts)) + "\\n")


async def step(name, q):
    {first}
    out = await ayo.llm(f"{{name}}: {{q}}", max_tokens=2)
    {last}
    return out


@ayo.workflow
async def wf(q, docs):
    open(PATH, "w").close()
    {WRITES[write].format(text="'begin', q")}
    {RUNS[runs]}
    {WRITES[write].format(text="'both done'")}
    merged = await ayo.llm(f"merge {{parts}}", max_tokens=2)
    with open(PATH) as f:
        written = f.read()
    return merged, written
"""


QUESTIONS = ["what is a heap", "explain FAIL here", "sort lists"]


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_what_is_printed_comes_in_pythons_order(case: tuple[str, str, str], tmp_path: Path) -> None:
    source = _source(*case)
    (tmp_path / "graph").mkdir()
    reasons = [b.attrs["reason"] for b in graph_breaks(load(source, tmp_path / "graph").wf.graph("q", []))]
    if case[2] == "one_by_one":
        assert reasons == []
    else:  # (before the waits: Python's other calls print before any fails; after: they print on)
        stream = {"stderr": "`sys.stderr`", "file": "`files`"}.get(case[0], "`sys.stdout`")
        assert [stream in r for r in reasons] == [True], reasons
    runs = runs_on_fresh_copies(source, tmp_path, QUESTIONS, written=True)
    assert runs["eager"][1] or runs["eager"][2] or case[0] == "file", runs  # (something was written)
    assert runs["unoptimized"] == runs["eager"], runs
    assert runs["optimized"] == runs["eager"], runs
