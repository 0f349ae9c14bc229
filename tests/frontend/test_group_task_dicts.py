"""A task group's tasks kept in a dict: ``tasks = {w: tg.create_task(f(w)) for w in words}`` in the
group, or a loop ``tasks[k] = tg.create_task(f(d))`` after ``tasks = {}`` (``group_loops`` makes
it that comprehension), read after the group (``t.result()``, ``tasks.items()``, gathered). Traced
as one ``map`` whose failure fails the group (``task_dicts.task_dict`` with the group's tasks not
keeping their errors), where the whole group ran as written. Eager ≡ traced ≡ optimized, failing
calls among them, raised as the group's ``ExceptionGroup`` or caught by ``except ExceptionGroup``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.util import every_pair, run_in_new_loop, three_runs_agree, traces_whole_and_agrees

from .programs import load

GROUPS = {"asyncio": "asyncio.TaskGroup()"}
MADE = {  # how the dict is made: the lines before the group, and those in it
    "comprehension": ([], ["tasks = {{{key}: tg.create_task(ask({text})) for {target} in {items}}}"]),
    "loop": (
        ["tasks = {{}}"],
        ["for {target} in {items}:", "    tasks[{key}] = tg.create_task(ask({text}))"],
    ),
}
ITEMS = {  # (target, iterable, key, text)
    "words": ("w", "q.split() + docs", "w", "w"),
    "indexed": ("i, d", "enumerate([q, *docs])", "i", "f'{i} {d}'"),
}
READS = {  # what reads the dict after the group
    "results": "out = {k: t.result() for k, t in tasks.items()}",
    "loop": "out = []\n    for k, t in tasks.items():\n        out.append((k, t.result().strip()))",
    "gathered": "out = await asyncio.gather(*tasks.values())",
}
CAUGHT = ["raised", "caught"]
# (tasks gathered after the `try` around their group: a graph break, for a list of them too)
CASES = [c for c in every_pair(GROUPS, MADE, ITEMS, READS, CAUGHT) if c[3:] != ("gathered", "caught")]

HEAD = """
import asyncio

import anyio

import ayo_trace as ayo


async def ask(text):
    return await ayo.llm(f"Q: {text}", max_tokens=3)
"""


def _body(group: str, made: str, items: str, reads: str, caught: str) -> str:
    target, iterable, key, text = ITEMS[items]
    before, inside = MADE[made]
    fill = {"target": target, "items": iterable, "key": key, "text": text}
    inner = [line.format(**fill) for line in inside]
    lines = [line.format(**fill) for line in before]
    if caught == "caught":
        lines += ["try:", f"    async with {GROUPS[group]} as tg:", *(f"        {s}" for s in inner)]
        lines += ["except ExceptionGroup as eg:", "    return 'failed', len(eg.exceptions)"]
    else:
        lines += [f"async with {GROUPS[group]} as tg:", *(f"    {s}" for s in inner)]
    lines += [READS[reads], "return out"]
    return "".join(f"    {s}\n" for s in lines)


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = HEAD + "".join(
        f"\n\n@ayo.workflow\nasync def wf_{'_'.join(c)}(q, docs):\n{_body(*c)}" for c in CASES
    )
    return load(source, Path(tmp_path_factory.mktemp("group_task_dicts")))


QUESTIONS = ["what is rust", "FAIL q"]
DOCS = [["a", "FAIL b"], ["x", "y"], []]


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_groups_dict_of_tasks_traces_whole(module: Any, case: tuple[str, ...]) -> None:
    traces_whole_and_agrees(getattr(module, "wf_" + "_".join(case)), QUESTIONS, DOCS, graph=("q", ["a"]))


# anyio's `create_task` hands back a `TaskHandle` (`return_value`, no `result()`): a group keeping
# its handles runs as written, so `t.result()` raises `AttributeError` as in Python (it was traced
# as asyncio's tasks, and answered); its handles unread, the group traces
ANYIO = {  # (the group's lines, the lines after it binding `out`)
    "dict_read": (["tasks = {w: tg.create_task(ask(w)) for w in q.split()}"], ["out = sorted(tasks)"]),
    "list_read": (
        ["tasks = [tg.create_task(ask(w)) for w in q.split()]"],
        ["out = [t.result() for t in tasks]"],
    ),
    "line_read": (["t = tg.create_task(ask(q))"], ["out = t.return_value"]),
    "unread": (["tg.create_task(ask(q))", "tg.create_task(ask('b'))"], ["out = 'done'"]),
}


@pytest.mark.parametrize("name", list(ANYIO))
def test_anyio_task_handles_kept_run_the_group_as_written(name: str, tmp_path: Path) -> None:
    inside, after = ANYIO[name]
    lines = [
        "async with anyio.create_task_group() as tg:",
        *(f"    {s}" for s in inside),
        *after,
        "return out",
    ]
    source = f"{HEAD}\n\n@ayo.workflow\nasync def wf(q, docs):\n" + "".join(f"    {s}\n" for s in lines)
    wf = load(source, tmp_path).wf
    breaks = graph_breaks(wf.graph("q", []))
    assert (breaks == []) == (name == "unread"), source
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, [[]]))
