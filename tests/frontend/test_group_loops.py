"""A task group's tasks started by a ``for`` loop (``for d in docs: tg.create_task(f(d))``, or
``tasks.append(tg.create_task(f(d)))`` after ``tasks = []``) trace as the comprehension they stand
for (``frontend/group_loops.py``): no graph break, and eager ≡ traced ≡ optimized, failing calls
among them (the group's ``ExceptionGroup``). They ran as written, the whole group a graph break.
Loops whose names are read after them, or with more than the one line, stay graph breaks."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.util import run_in_new_loop, three_runs_agree, traces_whole_and_agrees

from .programs import load

ITEMS = {
    "docs": ("d", "docs", "d"),
    "enumerate": ("i, d", "enumerate([q, *docs])", "f'{i} {d}'"),
    "zip": ("a, b", "zip(docs, [q] * len(docs))", "a + b"),
    "range": ("k", "range(len(docs))", "docs[k]"),
}
STARTS = {  # how the loop starts its tasks, and what the workflow returns
    "bare": (["out = {}"], "tg.create_task(fill(out, {text}))", "sorted(out.items())"),
    "primitive": ([], "tg.create_task(ayo.llm({text}, max_tokens=3))", "'done'"),
    "appended": (["tasks = []"], "tasks.append(tg.create_task(ask({text})))", "[t.result() for t in tasks]"),
    "appended_inside": (None, "tasks.append(tg.create_task(ask({text})))", "[t.result() for t in tasks]"),
}
CAUGHT = {
    "raised": (["async with asyncio.TaskGroup() as tg:"], "    ", []),
    "caught": (
        ["status = 'ok'", "try:", "    async with asyncio.TaskGroup() as tg:"],
        "        ",
        ["except* RuntimeError as eg:", "    status = f'failed {len(eg.exceptions)}'"],
    ),
}
CASES = list(itertools.product(ITEMS, STARTS, CAUGHT))

HEAD = """
import asyncio

import ayo_trace as ayo


async def ask(text):
    return await ayo.llm(f"Q: {text}", max_tokens=3)


async def fill(out, text):
    out[text] = await ayo.llm(f"F: {text}", max_tokens=3)
"""

STAY_BREAKS = {
    "name_read_after": """
    d = "none"
    async with asyncio.TaskGroup() as tg:
        for d in docs:
            tg.create_task(ask(d))
    return d
""",
    "two_lines": """
    seen = []
    async with asyncio.TaskGroup() as tg:
        for d in docs:
            seen.append(d)
            tg.create_task(ask(d))
    return seen
""",
    "list_not_empty": """
    tasks = ["head"]
    async with asyncio.TaskGroup() as tg:
        for d in docs:
            tasks.append(tg.create_task(ask(d)))
    return [t if isinstance(t, str) else t.result() for t in tasks]
""",
}

# tasks of calls the tracer runs as written (a helper behind a decorator defined in the workflow):
# the whole group runs as written, however its tasks are started (found by probe zq: refused with
# "`tg` may not be assigned" where a loop or a comprehension started them)
DECORATED = """
    def logged(fn):
        async def wrapper(*args):
            LOG.append(args)
            return await fn(*args)
        return wrapper

    @logged
    async def score(d):
        return await ayo.llm("S: " + d, max_tokens=3)
"""
UNTRACED_STARTS = {
    "loop": "    async with asyncio.TaskGroup() as tg:\n        for d in docs:\n            tg.create_task(score(d))\n"
    "    return len(LOG)\n",
    "appended": "    tasks = []\n    async with asyncio.TaskGroup() as tg:\n        for d in docs:\n"
    "            tasks.append(tg.create_task(score(d)))\n    return [t.result() for t in tasks]\n",
    "comprehension": "    async with asyncio.TaskGroup() as tg:\n        tasks = [tg.create_task(score(d)) for d in docs]\n"
    "    return [t.result() for t in tasks]\n",
    "lines": "    async with asyncio.TaskGroup() as tg:\n        a = tg.create_task(score(q))\n"
    "        b = tg.create_task(score('b'))\n    return a.result(), b.result()\n",
}


def _case(items: str, start: str, caught: str) -> list[str]:
    target, iterable, text = ITEMS[items]
    before, line, result = STARTS[start]
    opening, indent, handler = CAUGHT[caught]
    inner = [f"for {target} in {iterable}:", f"    {line.format(text=text)}"]
    if before is None:  # (the list made in the group, right before the loop)
        before, inner = [], ["tasks = []", *inner]
    status = ["return status, " + result] if caught == "caught" else ["return " + result]
    return [*before, *opening, *(indent + s for s in inner), *handler, *status]


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = HEAD
    for c in CASES:
        body = "".join(f"    {line}\n" for line in _case(*c))
        source += f"\n\n@ayo.workflow\nasync def wf_{'_'.join(c)}(q, docs):\n{body}"
    for name, body in STAY_BREAKS.items():
        source += f"\n\n@ayo.workflow\nasync def wf_{name}(q, docs):{body}"
    source += "\n\nLOG = []\n"
    for name, start in UNTRACED_STARTS.items():
        source += (
            f"\n\n@ayo.workflow\nasync def untraced_{name}(q, docs):\n    LOG.clear()\n{DECORATED}{start}"
        )
    return load(source, Path(tmp_path_factory.mktemp("group_loops")))


QUESTIONS = ["what is rust", "FAIL q"]
DOCS = [["a", "FAIL b", "c"], ["x", "y"], []]


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_loop_starting_a_groups_tasks_traces_whole(module: Any, case: tuple[str, str, str]) -> None:
    wf = getattr(module, "wf_" + "_".join(case))
    if case[2] == "raised":
        return traces_whole_and_agrees(wf, QUESTIONS, DOCS, graph=("q", ["a", "b"]))
    # (a `try` around a group with `except*` binding a name is a graph break of its own, as it is
    # for the comprehension: not the loop's)
    reasons = [str(b.attrs["reason"]) for b in graph_breaks(wf.graph("q", ["a", "b"]))]
    assert not any("task group used other than" in r for r in reasons), reasons
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))


@pytest.mark.parametrize("name", list(STAY_BREAKS))
def test_other_loops_stay_graph_breaks(module: Any, name: str) -> None:
    wf = getattr(module, f"wf_{name}")
    assert graph_breaks(wf.graph("q", ["a", "b"])) != []
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))


@pytest.mark.parametrize("name", list(UNTRACED_STARTS))
def test_a_group_of_tasks_run_as_written_runs_as_written(module: Any, name: str) -> None:
    wf = getattr(module, f"untraced_{name}")
    assert graph_breaks(wf.graph("q", ["a", "b"])) != []
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))
