"""A task group's body runs whole before any of its tasks starts (they start where the body ends,
or where it first waits), so a line after the one starting a task has run when that task fails,
and its own error comes before any task runs. The graph runs each task where it is made: such a
group now runs as written (``task_groups._run_after_tasks``). It was traced whole, and a failing
task left the line unrun (``LOG.append`` after the tasks: eager counted it, the graph did not; found
by probe b05). Lines that only start tasks, ``pass``, and lines after the body's first wait keep
the group traced. Eager ≡ traced ≡ optimized on fresh module copies, a failing call among them."""

from __future__ import annotations

from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.frontend.programs import load
from tests.util import every_pair, fresh_copies_agree

GROUPS = {
    "asyncio": "asyncio.TaskGroup()",
    "anyio": "anyio.create_task_group()",
}
STARTS = {  # the lines starting the tasks (each word of the question)
    "lines": ["tg.create_task(work(words[0]))", "tg.create_task(work(words[-1]))"],
    "loop": ["for w in words:", "    tg.create_task(work(w))"],
    "comprehension": ["made = [tg.create_task(work(w)) for w in words]"],
}
AFTER = {  # a line after them, in the group's body
    "module_log": "LOG.append(len(words))",
    "status": "status = 'started'",
    "attribute": "BOX.note = words[0]",
    "raises": "status = {}['missing']",
    "printed": "print('started', len(words))",
}
CAUGHT = {
    "raised": False,
    "caught": True,
}
CASES = every_pair(GROUPS, STARTS, AFTER, CAUGHT)

HEAD = """
import asyncio
import types

import anyio

import ayo_trace as ayo

LOG = []
BOX = types.SimpleNamespace(note=None)
"""


def _source(group: str, start: str, after: str, caught: str) -> str:
    inner = [*STARTS[start], AFTER[after]]
    lines = [
        "words = q.split()",
        "status = 'none'",
        "got = []",
        "async def work(w):",
        "    got.append(await ayo.llm('define ' + w, max_tokens=3))",
    ]
    if CAUGHT[caught]:
        lines += ["try:", f"    async with {GROUPS[group]} as tg:", *(f"        {s}" for s in inner)]
        lines += ["except* (RuntimeError, KeyError) as eg:", "    status += f' failed {len(eg.exceptions)}'"]
    else:
        lines += [f"async with {GROUPS[group]} as tg:", *(f"    {s}" for s in inner)]
    lines.append("return status, sorted(got), len(LOG), BOX.note")
    body = "".join(f"    {s}\n" for s in lines)
    return f"{HEAD}\n\n@ayo.workflow\nasync def wf(q, docs):\n{body}"


QUESTIONS = ["what is a heap", "explain FAIL here", "sort lists"]


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_line_after_a_groups_tasks_runs_before_them(case: tuple[str, ...], tmp_path: Any) -> None:
    source = _source(*case)
    (tmp_path / "graph").mkdir()
    wf = load(source, tmp_path / "graph").wf
    reasons = [str(b.attrs["reason"]) for b in graph_breaks(wf.graph("a b", []))]
    if case[-1] == "raised":
        assert any("runs after a task is started" in r for r in reasons), reasons
    else:  # (a `try` with `except*` binding a name is a graph break of its own, around the group)
        assert reasons, reasons
    fresh_copies_agree(source, tmp_path, QUESTIONS)


KEPT_TRACED = {  # a group whose other lines come before its tasks, or after its first wait
    "before": ["LOG.append(1)", "tg.create_task(work(words[0]))", "tg.create_task(work(words[-1]))"],
    "pass": ["tg.create_task(work(words[0]))", "pass"],
    "waited": ["t = tg.create_task(work(words[0]))", "await t", "LOG.append(1)"],
}


@pytest.mark.parametrize("name", list(KEPT_TRACED))
def test_other_lines_keep_the_group_traced(name: str, tmp_path: Any) -> None:
    inner = "".join(f"        {s}\n" for s in KEPT_TRACED[name])
    source = (
        f"{HEAD}\n\n@ayo.workflow\nasync def wf(q, docs):\n    words = q.split()\n    got = []\n"
        "    async def work(w):\n        got.append(await ayo.llm('define ' + w, max_tokens=3))\n"
        f"    async with asyncio.TaskGroup() as tg:\n{inner}    return sorted(got), len(LOG)\n"
    )
    (tmp_path / "graph").mkdir()
    wf = load(source, tmp_path / "graph").wf
    assert graph_breaks(wf.graph("a b", [])) == []
    fresh_copies_agree(source, tmp_path, QUESTIONS)
