"""A module-level object of a library's class that the workflow changes by its methods (a database
connection, ``DB.execute("INSERT ...")``) keeps Python's order: the tracer does not read a
library's code, so a method not known to only read (``_READ_ONLY_METHODS``) may change its object,
and the statements reading it (``n = DB.execute("SELECT count(*) ...").fetchone()[0]``) keep their
place among the changes. Before, such an object counted as unchanged but for the standard
library's buffers, queues and arrays (an ``io.StringIO``, a ``queue.SimpleQueue``, an
``array.array``: here beside it): the optimized graph read the count before the insert that Python
made first.

Generated over the object, whether the workflow changes it itself or through a helper of its own,
and how the changes stand around the awaits (one after another; calls at once changing it on both
sides of their awaits, or after them only); eager ≡ traced ≡ optimized on fresh module copies."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.util import fresh_copies_agree

from .programs import load

KINDS = {  # (made, written by `write(x)`, read by `size()`, emptied by `reset()`)
    "sqlite": (
        "import sqlite3\nOBJ = sqlite3.connect(':memory:', check_same_thread=False)\n"
        "OBJ.execute('CREATE TABLE notes (body TEXT)')",
        "OBJ.execute('INSERT INTO notes VALUES (?)', (x,))",
        "OBJ.execute('SELECT count(*) FROM notes').fetchone()[0]",
        "OBJ.execute('DELETE FROM notes')",
    ),
    "stringio": (
        "import io\nOBJ = io.StringIO()",
        "OBJ.write(x + ';')",
        "OBJ.tell()",
        "OBJ.seek(0) or OBJ.truncate()",
    ),
    "queue": ("import queue\nOBJ = queue.SimpleQueue()", "OBJ.put(x)", "OBJ.qsize()", "OBJ.get()"),
    "array": (
        "import array\nOBJ = array.array('i')",
        "OBJ.append(len(x))",
        "OBJ.buffer_info()[1]",
        "OBJ.pop() if OBJ else 0",
    ),
}
VIA = ["direct", "helper"]
LAYOUTS = ["in_turn", "at_once_both_sides", "at_once_after"]
CASES = list(itertools.product(KINDS, VIA, LAYOUTS))


def _source(kind: str, via: str, layout: str) -> str:
    made, write, size, reset = KINDS[kind]
    write_line = "write(x)" if via == "helper" else write
    body = {
        "in_turn": f"""
    n0 = size()
    x = await ayo.llm(f"Draft: {{q}}", max_tokens=2)
    {write_line}
    before = size()
    x = await ayo.llm(f"Final: {{q}}", max_tokens=2)
    {write_line}
    after = size()
    return n0, before, after""",
        "at_once_both_sides": """
    n0 = size()
    parts = await asyncio.gather(step("left", q), step("right", q), step("third", q))
    return n0, parts, size()""",
        "at_once_after": """
    n0 = size()
    parts = await asyncio.gather(late("left", q), late("right", q))
    return n0, parts, size()""",
    }[layout]
    return f"""
import asyncio
{made}

import ayo_trace as ayo


def write(x):
    {write}


def size():
    return {size}


def reset():
    while size():
        {reset}


async def step(name, q):
    x = name
    {write_line}
    seen = size()
    x = await ayo.llm(f"{{name}}: {{q}}", max_tokens=2)
    {write_line}
    return seen, size()


async def late(name, q):
    x = await ayo.llm(f"{{name}}: {{q}}", max_tokens=2)
    {write_line}
    return x


@ayo.workflow
async def wf(q, docs):
    reset(){body}
"""


QUESTIONS = ["what is a heap", "explain FAIL here", "sort lists"]


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_library_object_changed_by_its_methods_keeps_pythons_order(
    case: tuple[str, str, str], tmp_path: Path
) -> None:
    source = _source(*case)
    (tmp_path / "graph").mkdir()
    reasons = [b.attrs["reason"] for b in graph_breaks(load(source, tmp_path / "graph").wf.graph("q", []))]
    if case[2] == "in_turn":
        assert reasons == []
    elif case[2] == "at_once_both_sides":  # (Python interleaves the calls at their awaits)
        assert len(reasons) == 1 and ("`OBJ`" in reasons[0] or "`write`" in reasons[0]), reasons
    fresh_copies_agree(source, tmp_path, QUESTIONS)
