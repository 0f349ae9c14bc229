"""An anyio task group's tasks started by a ``for`` loop (``for d in docs: tg.start_soon(f, d)``,
the way anyio's tasks are started: their results go into an object they share) trace as the
comprehension they stand for (``frontend/group_loops.py``, ``task_groups._soon_list``): no graph
break, and eager ≡ traced ≡ optimized, failing calls among them (the group's ``ExceptionGroup``,
caught by ``except*`` or not). They ran as written, the whole group a graph break. A loop whose
names are read after it, one passing ``name=``, and ``start_soon`` of an asyncio group (which has
none: Python's ``AttributeError``) stay graph breaks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.util import every_pair, run_in_new_loop, three_runs_agree, traces_whole_and_agrees

from .programs import load

ITEMS = {
    "docs": ("d", "docs", "d"),
    "enumerate": ("i, d", "enumerate([q, *docs])", "f'{i} {d}'"),
    "zip": ("a, b", "zip(docs, [q] * len(docs))", "a + b"),
    "range": ("k", "range(len(docs))", "docs[k]"),
}
STARTS = {  # what the loop starts, what the workflow holds before, and what it returns
    "module_fn": (["out = {}"], "tg.start_soon(fill, out, {text})", "sorted(out.items())"),
    "closure": (
        ["got = []", "async def note(text):", "    got.append(await ayo.llm('N: ' + text, max_tokens=3))"],
        "tg.start_soon(note, {text})",
        "sorted(got)",
    ),
    "two_args": (["out = {}"], "tg.start_soon(fill, out, {text}, 'X')", "sorted(out.items())"),
    "create_task": (["out = {}"], "tg.create_task(fill(out, {text}))", "sorted(out.items())"),
}
BODIES = {  # the loop's body before the line starting the task
    "one_line": [],
    "filtered": ["if not {text}: continue"],
    "bound": ["text = ({text}).strip()"],
}
CAUGHT = {
    "raised": (["async with anyio.create_task_group() as tg:"], "    ", []),
    "caught": (
        ["status = 'ok'", "try:", "    async with anyio.create_task_group() as tg:"],
        "        ",
        ["except* RuntimeError as eg:", "    status = f'failed {len(eg.exceptions)}'"],
    ),
}
CASES = every_pair(ITEMS, STARTS, BODIES, CAUGHT)

HEAD = """
import asyncio

import anyio

import ayo_trace as ayo


async def fill(out, text, mark=''):
    out[text] = mark + await ayo.llm(f"F: {text}", max_tokens=3)
"""

STAY_BREAKS = {
    "name_read_after": """
    out = {}
    d = "none"
    async with anyio.create_task_group() as tg:
        for d in docs:
            tg.start_soon(fill, out, d)
    return d, sorted(out.items())
""",
    "named": """
    out = {}
    async with anyio.create_task_group() as tg:
        for d in docs:
            tg.start_soon(fill, out, d, name=f"fill {d}")
    return sorted(out.items())
""",
    "asyncio_group": """
    out = {}
    status = "ok"
    try:
        async with asyncio.TaskGroup() as tg:
            for d in docs:
                tg.start_soon(fill, out, d)
    except* AttributeError as eg:
        status = f"no start_soon {len(eg.exceptions)}"
    return status, sorted(out.items())
""",
}


def _case(items: str, start: str, body: str, caught: str) -> list[str]:
    target, iterable, text = ITEMS[items]
    before, line, result = STARTS[start]
    opening, indent, handler = CAUGHT[caught]
    lines = [s.format(text=text) for s in BODIES[body]]
    if body == "bound":
        text = "text"
    inner = [f"for {target} in {iterable}:", *(f"    {s}" for s in lines), f"    {line.format(text=text)}"]
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
    return load(source, Path(tmp_path_factory.mktemp("anyio_group_loops")))


QUESTIONS = ["what is rust", "FAIL q"]
DOCS = [["a", "FAIL b", "c"], ["x", "", "y"], []]


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_loop_starting_an_anyio_groups_tasks_traces_whole(module: Any, case: tuple[str, ...]) -> None:
    wf = getattr(module, "wf_" + "_".join(case))
    if case[-1] == "raised":
        return traces_whole_and_agrees(wf, QUESTIONS, DOCS, graph=("q", ["a", "b"]))
    # (a `try` around a group with `except*` binding a name is a graph break of its own: not the loop's)
    reasons = [str(b.attrs["reason"]) for b in graph_breaks(wf.graph("q", ["a", "b"]))]
    assert not any("task group" in r for r in reasons), reasons
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))


@pytest.mark.parametrize("name", list(STAY_BREAKS))
def test_other_anyio_loops_stay_graph_breaks(module: Any, name: str) -> None:
    wf = getattr(module, f"wf_{name}")
    assert graph_breaks(wf.graph("q", ["a", "b"])) != []
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))
