"""Tasks started by a ``for`` loop into a list or a dict made just before it (``tasks = []``, then
``tasks.append(asyncio.create_task(f(d)))``, or ``t = asyncio.ensure_future(f(d))`` then
``tasks.append(t)``, or ``tasks[d] = asyncio.create_task(f(d))`` after ``tasks = {}``) trace as the
comprehension they stand for (``frontend/group_loops.py``), so awaiting them one by one later
(``for t in tasks: out.append(await t)``, ``[await t for t in tasks]``) no longer runs as written.
A filter (``if cond:`` around the append, ``if cond: continue`` before it) and names bound per item
before it (``text = d.strip()``) are its clauses (``if cond``, ``for text in [d.strip()]``).
Generated over the items, the task maker, how the loop keeps them, how they are awaited and a
``try`` around: no graph break, and eager ≡ traced ≡ optimized, failing calls among them. Loops the
comprehension would not stand for stay as they were, and agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.util import every_pair, run_in_new_loop, three_runs_agree

from .programs import load

HEAD = """
import asyncio
from asyncio import create_task as start

import ayo_trace as ayo


async def ask(text):
    return await ayo.llm(f"Q: {text}", max_tokens=3)
"""

ITEMS = {  # (loop target, iterable, the call's argument, the dict key)
    "docs": ("d", "docs", "d", "d"),
    "enumerate": ("i, d", "enumerate([q, *docs])", "f'{i} {d}'", "i"),
    "zip": ("a, b", "zip(docs, [q] * len(docs))", "a + b", "a"),
    "range": ("k", "range(len(docs))", "docs[k]", "k"),
}
MAKERS = {
    "create_task": "asyncio.create_task",
    "ensure_future": "asyncio.ensure_future",
    "imported": "start",
}
KEPT = {  # (before the loop, the loop's body, how the tasks are listed when awaited)
    "append": ("tasks = []", ["tasks.append({maker}(ask({text})))"], "tasks"),
    "named": ("tasks = []", ["task = {maker}(ask({text}))", "tasks.append(task)"], "tasks"),
    "keyed": ("tasks = {{}}", ["tasks[{key}] = {maker}(ask({text}))"], "tasks.values()"),
    "guarded": (
        "tasks = []",
        ["if 'b' not in str({text}):", "    tasks.append({maker}(ask({text})))"],
        "tasks",
    ),
    "skipping": (
        "tasks = []",
        ["if 'b' in str({text}):", "    continue", "tasks.append({maker}(ask({text})))"],
        "tasks",
    ),
    "bound": ("tasks = []", ["item = str({text}).upper()", "tasks.append({maker}(ask(item)))"], "tasks"),
}
AWAITED = {
    "loop": ["out = []", "for t in {listed}:", "    out.append(await t)", "return out"],
    "comprehension": ["return [await t for t in {listed}]"],
    "gather": ["return list(await asyncio.gather(*{listed}))"],
    "work_first": ["head = await ask('head ' + q)", "return [head] + [await t for t in {listed}]"],
}
AROUND = {
    "plain": ([], "", []),
    "try": (["try:"], "    ", ["except RuntimeError as exc:", "    return 'failed: ' + str(exc)"]),
}
CASES = every_pair(ITEMS, MAKERS, KEPT, AWAITED, AROUND)


def _case(items: str, maker: str, kept: str, awaited: str, around: str) -> list[str]:
    target, iterable, text, key = ITEMS[items]
    before, body, listed = KEPT[kept]
    opening, indent, handler = AROUND[around]
    lines = [
        before.format(),
        f"for {target} in {iterable}:",
        *("    " + b.format(maker=MAKERS[maker], text=text, key=key) for b in body),
        *(a.format(listed=listed) for a in AWAITED[awaited]),
    ]
    if kept == "keyed" and awaited == "gather":
        lines[-1] = "return list(await asyncio.gather(*tasks.values()))"
    return [*opening, *(indent + line for line in lines), *handler]


STAY = {  # loops the comprehension would not stand for: they run as Python, and agree
    "target_read_after": [
        "tasks = []",
        "d = 'none'",
        "for d in docs:",
        "    tasks.append(asyncio.create_task(ask(d)))",
        "return [await t for t in tasks], d",
    ],
    "guard_reads_list": [
        "tasks = []",
        "for d in docs:",
        "    if len(tasks) > 1:",
        "        continue",
        "    tasks.append(asyncio.create_task(ask(d)))",
        "return [await t for t in tasks]",
    ],
    "bound_read_after": [
        "tasks = []",
        "item = ''",
        "for d in docs:",
        "    item = d.upper()",
        "    tasks.append(asyncio.create_task(ask(item)))",
        "return [await t for t in tasks], item",
    ],
    "more_lines": [
        "tasks = []",
        "for d in docs:",
        "    print(d)",
        "    tasks.append(asyncio.create_task(ask(d)))",
        "return [await t for t in tasks]",
    ],
    "not_emptied": [
        "tasks = [asyncio.create_task(ask('first'))]",
        "for d in docs:",
        "    tasks.append(asyncio.create_task(ask(d)))",
        "return [await t for t in tasks]",
    ],
    "loop_else": [
        "tasks = []",
        "for d in docs:",
        "    tasks.append(asyncio.create_task(ask(d)))",
        "else:",
        "    tasks.append(asyncio.create_task(ask('last')))",
        "return [await t for t in tasks]",
    ],
    "called_key": [
        "tasks = {}",
        "for d in docs:",
        "    tasks[d.upper()] = asyncio.create_task(ask(d))",
        "return [await t for t in tasks.values()]",
    ],
    # (an argument that may raise, a `try` reading the list after: the loop keeps the tasks made
    # before the error, a comprehension would keep none)
    "read_after_try": [
        "tasks = []",
        "try:",
        "    for d in docs:",
        "        tasks.append(asyncio.create_task(ask(d.split()[1])))",
        "except IndexError:",
        "    pass",
        "return [await t for t in tasks]",
    ],
}
# (a list of tasks made in a `try` and awaited after it runs as written, as the comprehension
# does; a dict of tasks read another way than the ways a comprehension's may be is left as it was,
# where the comprehension's is refused)
AGREE_ONLY = {
    "dict_listed": [
        "tasks = {}",
        "for d in docs:",
        "    tasks[d] = asyncio.create_task(ask(d))",
        "return [await t for t in list(tasks.values())]",
    ],
    "read_after_try_simple": [
        "tasks = []",
        "try:",
        "    for d in docs:",
        "        tasks.append(asyncio.create_task(ask(d)))",
        "except RuntimeError:",
        "    pass",
        "return [await t for t in tasks]",
    ],
}


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = HEAD
    for c in CASES:
        body = "".join(f"    {line}\n" for line in _case(*c))
        source += f"\n\n@ayo.workflow\nasync def wf_{'_'.join(c)}(q, docs):\n{body}"
    for name, lines in {**STAY, **AGREE_ONLY}.items():
        body = "".join(f"    {line}\n" for line in lines)
        source += f"\n\n@ayo.workflow\nasync def wf_{name}(q, docs):\n{body}"
    return load(source, Path(tmp_path_factory.mktemp("task_loops")))


QUESTIONS = ["what is rust", "FAIL q"]
DOCS = [["a b", "FAIL b", "c d"], ["x y", "y z"], []]


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_loop_starting_tasks_traces_whole(module: Any, case: tuple[str, ...]) -> None:
    wf = getattr(module, "wf_" + "_".join(case))
    assert graph_breaks(wf.graph("q", ["a", "b"])) == [], case
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("name", [*STAY, *AGREE_ONLY])
def test_other_task_loops_agree(module: Any, name: str) -> None:
    wf = getattr(module, f"wf_{name}")
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))


def test_a_stay_loop_is_left_as_written(module: Any) -> None:
    """The loops in ``STAY`` are not rewritten: awaiting their tasks one by one runs as written."""
    for name in STAY:
        assert graph_breaks(getattr(module, f"wf_{name}").graph("q", ["a", "b"])) != [], name


# a list of coroutines (any calls) grown by such a loop and read only spread into a call
# (`gather(*coros)`): the comprehension the tracer defers to the gather (``coroutine_lists``),
# its `coros = []` gone (a `pass` stands there); filters and names bound per item are clauses too
COROUTINE_BODIES = {
    "append": ["coros.append(ask({text}))"],
    "guarded": ["if 'b' not in str({text}):", "    coros.append(ask({text}))"],
    "skipping": ["if 'b' in str({text}):", "    continue", "coros.append(ask({text}))"],
    "bound": ["item = str({text}).upper()", "coros.append(ask(item))"],
}
GATHERS = {
    "raising": "return list(await asyncio.gather(*coros))",
    "returning": "return [str(r) for r in await asyncio.gather(*coros, return_exceptions=True)]",
}
COROUTINE_CASES = every_pair(ITEMS, COROUTINE_BODIES, GATHERS, AROUND)


def _coroutine_case(items: str, body: str, gathered: str, around: str) -> str:
    target, iterable, text, _ = ITEMS[items]
    opening, indent, handler = AROUND[around]
    lines = [
        "coros = []",
        f"for {target} in {iterable}:",
        *("    " + b.format(text=text) for b in COROUTINE_BODIES[body]),
        GATHERS[gathered],
    ]
    body_lines = [*opening, *(indent + line for line in lines), *handler]
    return HEAD + "\n\n@ayo.workflow\nasync def wf(q, docs):\n" + "".join(f"    {x}\n" for x in body_lines)


@pytest.mark.parametrize("case", COROUTINE_CASES, ids=["-".join(c) for c in COROUTINE_CASES])
def test_a_loop_growing_a_gathered_list_of_calls_traces_whole(case: tuple[str, ...], tmp_path: Path) -> None:
    wf = load(_coroutine_case(*case), tmp_path).wf
    assert graph_breaks(wf.graph("q", ["a", "b"])) == [], case
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_list_of_calls_read_another_way_is_left_as_it_was(tmp_path: Path) -> None:
    """``len(coros)`` read too: not rewritten (the loop's ``coros = []`` stays), and it agrees."""
    src = HEAD + (
        "\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        "    coros = []\n"
        "    for d in docs:\n"
        "        if d:\n"
        "            coros.append(ask(d))\n"
        "    n = len(coros)\n"
        "    return n, list(await asyncio.gather(*coros))\n"
    )
    wf = load(src, tmp_path).wf
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))
