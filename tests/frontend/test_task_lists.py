"""Lists of tasks: ``tasks = [asyncio.create_task(f(x)) for x in xs]`` (or ``ensure_future``), over
every iterable shape, consumed every way Python code does (``gather(*tasks)``, among other calls,
``[await t for t in tasks]``, a loop awaiting each, ``t.result()``). Each combination: the tasks run
as one ``map`` where they are created (where they are gathered, when only a ``gather`` reads them),
and eager ≡ traced ≡ optimized. A task used other than by awaiting it (``t.done()``) is Python's task,
made by a graph break (its call runs eagerly): the graph would have run its call where it is
created, so there it would have finished. Awaited inside a ``try`` it was
not created in, each task keeps its error (``Failed``) until it is awaited, so the handler there
catches it; made inside the ``try`` (or gathered there), an engine error is caught as in Python."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from ayo_trace.errors import TraceError
from ayo_trace.passes import DEFAULT_PASSES
from tests.util import every_pair, run_in_new_loop

from .programs import load
from .test_corpus_control import run_modes
from .test_differential import DOCS, QUESTION, assert_all_equal

HEADER = "import asyncio\nimport ayo_trace as ayo\n\n\n@ayo.workflow\nasync def program(question, docs):\n"

MAKERS = ["asyncio.create_task", "asyncio.ensure_future"]
ITEMS = {  # the comprehension's clauses, and its call's prompt
    "plain": ("for d in docs", 'f"Sum: {d}"'),
    "enumerate": ("for i, d in enumerate(docs)", 'f"Sum {i}: {d}"'),
    "filtered": ('for d in docs if "lists" not in d', 'f"Sum: {d}"'),
    "from a call": ("for d in sorted(docs, key=len)", 'f"Sum: {d} / {question}"'),
}
CONSUMERS = {  # the lines after the tasks are made, and whether they trace without a graph break
    "gather": (["outs = await asyncio.gather(*tasks)"], True),
    "gather among calls": (
        ['outs = await asyncio.gather(ayo.llm(f"Head: {question}", max_tokens=3), *tasks)'],
        True,
    ),
    "await each": (["outs = [await t for t in tasks]"], True),
    "loop": (["outs = []", "for t in tasks:", "    outs.append((await t).strip())"], True),
    "as completed": (
        ["outs = []", "for f in asyncio.as_completed(tasks):", "    outs.append(await f)", "outs.sort()"],
        True,
    ),
    "wait": (["done, pending = await asyncio.wait(tasks)", "outs = sorted(t.result() for t in done)"], True),
    "enumerate": (["outs = {}", "for i, t in enumerate(tasks):", "    outs[i] = await t"], True),
    "zip": (["outs = [(d, await t) for d, t in zip(docs, tasks, strict=False)]"], True),
    "count then gather": (["n = len(tasks)", "outs = [n, *(await asyncio.gather(*tasks))]"], True),
}


def _try(body: str, handler: str, depth: int = 1) -> list[str]:
    """A ``try`` running ``body`` whose ``except ayo.EngineError as e`` runs ``handler``, its lines
    indented ``depth`` levels (1: under a ``for``)."""
    return [
        "    " * depth + x for x in ("try:", f"    {body}", "except ayo.EngineError as e:", f"    {handler}")
    ]


def source(maker: str, items: str, consumer: str) -> str:
    clauses, prompt = ITEMS[items]
    lines = [f"tasks = [{maker}(ayo.llm({prompt}, max_tokens=4)) {clauses}]", *CONSUMERS[consumer][0]]
    lines.append("return outs")
    return HEADER + "".join(f"    {line}\n" for line in lines)


COMBINATIONS = every_pair(MAKERS, ITEMS, CONSUMERS)


@pytest.mark.parametrize(("maker", "items", "consumer"), COMBINATIONS)
def test_a_list_of_tasks_runs_as_one_map_and_returns_what_eager_returns(
    maker: str, items: str, consumer: str, tmp_path: Path
) -> None:
    module = load(source(maker, items, consumer), tmp_path)
    graph = module.program.graph(QUESTION, DOCS)
    ops = [n.op for n in graph.walk()]
    assert ops.count("map") >= 1  # the tasks' calls, all at once
    assert ("break" not in ops) == CONSUMERS[consumer][1], str(graph)
    results = run_in_new_loop(run_modes, module.program, (QUESTION, DOCS), 3, [[], list(DEFAULT_PASSES)])
    assert_all_equal(results)


# awaited inside a `try` they are not made in, or gathered returning exceptions: the tasks keep their
# errors (`Failed`) until then, so the handler (or the gather) gets each as in Python
CAUGHT = {
    "loop": ["outs = []", "for t in tasks:", *_try("outs.append(await t)", "outs.append('failed')")],
    "gather": _try("outs = await asyncio.gather(*tasks)", "outs = ['failed', type(e).__name__]", 0),
    "returning exceptions": [
        "outs = [o if isinstance(o, str) else repr(o) for o in await asyncio.gather(*tasks, return_exceptions=True)]"
    ],
    "among calls returning exceptions": [
        "outs = await asyncio.gather(*tasks, ayo.llm(question, max_tokens=3), return_exceptions=True)",
        "outs = [type(o).__name__ for o in outs]",
    ],
    "enumerate": ["outs = {}", "for i, t in enumerate(tasks):", *_try("outs[i] = await t", "outs[i] = None")],
    "reversed": [
        "outs = []",
        "for t in reversed(tasks):",
        *_try("outs.append(await t)", "outs.append('failed')"),
    ],
    "as completed": [
        "outs = []",
        "for f in asyncio.as_completed(tasks):",
        *_try("outs.append(await f)", "outs.append('failed')"),
        "outs.sort()",
    ],
    "work between": [
        'head = await ayo.llm(f"Head: {question}", max_tokens=3)',
        "outs = [head]",
        "for t in tasks:",
        *_try("outs.append(await t)", "outs.append(await ayo.llm('again', max_tokens=2))"),
    ],
    "comprehension": _try("outs = [await t for t in tasks]", "outs = 'failed'", 0),
}


@pytest.mark.parametrize("docs", [DOCS, ["one", "FAIL two", "three"]], ids=["none fail", "one fails"])
@pytest.mark.parametrize(("maker", "items", "consumer"), list(itertools.product(MAKERS[:1], ITEMS, CAUGHT)))
def test_tasks_awaited_where_their_error_is_caught_run_as_one_map_and_answer_as_eager(
    maker: str, items: str, consumer: str, docs: list[str], tmp_path: Path
) -> None:
    clauses, prompt = ITEMS[items]
    lines = [
        f"tasks = [{maker}(ayo.llm({prompt}, max_tokens=4)) {clauses}]",
        *CAUGHT[consumer],
        "return outs",
    ]
    module = load(HEADER + "".join(f"    {line}\n" for line in lines), tmp_path)
    ops = [n.op for n in module.program.graph(QUESTION, docs).walk()]
    assert "map" in ops and ("break" not in ops) == (
        consumer != "reversed"
    )  # (its `await t` runs as written)
    assert_all_equal(
        run_in_new_loop(run_modes, module.program, (QUESTION, docs), 3, [[], list(DEFAULT_PASSES)])
    )


TRY_AROUND_AWAIT = """    t = asyncio.create_task(ayo.llm(docs[1], max_tokens=4))
    try:
        out = await t
    except ayo.EngineError:
        out = "fallback"
    return out
"""

TRY_AROUND_GATHER = """    tasks = [asyncio.create_task(ayo.llm(d, max_tokens=4)) for d in docs]
    n = len(tasks)
    try:
        outs = await asyncio.gather(*tasks)
    except ayo.EngineError:
        outs = ["fallback"]
    return n, outs
"""

# read only by the gather: the tasks are made where they are gathered (``parallel.Deferred``), so
# their error is raised there, inside the handler's reach, as Python raises it
GATHERED_IN_TRY = """    tasks = [asyncio.create_task(ayo.llm(d, max_tokens=4)) for d in docs]
    try:
        outs = await asyncio.gather(*tasks)
    except ayo.EngineError as e:
        outs = ["fallback", type(e).__name__]
    return outs
"""

TRY_AROUND_BOTH = """    try:
        tasks = [asyncio.create_task(ayo.llm(d, max_tokens=4)) for d in docs]
        outs = await asyncio.gather(*tasks)
    except ayo.EngineError as e:
        outs = ["fallback", type(e).__name__]
    return outs
"""


TRY_IN_THE_LOOP = """    tasks = [asyncio.create_task(ayo.llm(d, max_tokens=4)) for d in docs]
    outs = []
    for t in tasks:
        try:
            outs.append(await t)
        except ayo.EngineError:
            outs.append("fallback")
    return outs
"""


@pytest.mark.parametrize("body", [TRY_AROUND_AWAIT, TRY_AROUND_GATHER, TRY_IN_THE_LOOP])
@pytest.mark.parametrize("docs", [DOCS, ["one", "FAIL two", "three"]])
def test_a_task_awaited_in_a_try_it_was_not_created_in_keeps_its_error_until_then(
    body: str, docs: list[str], tmp_path: Path
) -> None:
    # each call a `try` making its task (`Completed`, or `Failed` holding the error), raised where
    # the task is awaited: the handler there catches it, as in Python
    module = load(HEADER + body, tmp_path)
    ops = [n.op for n in module.program.graph(QUESTION, docs).walk()]
    assert "break" not in ops and "try" in ops
    results: Any = run_in_new_loop(run_modes, module.program, (QUESTION, docs), 3, [[], list(DEFAULT_PASSES)])
    assert_all_equal(results)
    assert ("fallback" in repr(results[0][1])) == (docs is not DOCS)


INSPECTED = [  # Python's tasks may still be running here; the graph's would have finished
    "    tasks = [asyncio.create_task(ayo.llm(d, max_tokens=4)) for d in docs]\n"
    "    return [t.result() for t in tasks if t.done()]\n",
    "    t = asyncio.create_task(ayo.llm(question, max_tokens=4))\n"
    "    running = not t.done()\n"
    "    return running, await t\n",
    "    tasks = [asyncio.ensure_future(ayo.llm(d, max_tokens=4)) for d in docs]\n"
    "    first = tasks[0]\n"
    "    return await first\n",
    "    tasks = [asyncio.create_task(ayo.llm(d, max_tokens=4)) for d in docs]\n"
    "    return [(await t, t.done()) for t in tasks]\n",
]


@pytest.mark.parametrize("body", INSPECTED)
def test_a_task_used_other_than_by_awaiting_it_is_pythons_task(body: str, tmp_path: Path) -> None:
    module = load(HEADER + body, tmp_path)
    graph = module.program.graph(QUESTION, DOCS)
    made = [n for n in graph.walk() if n.op == "break" and "other than by awaiting" in n.attrs["reason"]]
    assert len(made) == 1 and "asyncio." in made[0].attrs["code"].source, str(graph)
    assert "llm" not in [n.op for n in graph.walk()]  # (Python's tasks make the calls, eagerly)
    results = run_in_new_loop(run_modes, module.program, (QUESTION, DOCS), 3, [[], list(DEFAULT_PASSES)])
    assert_all_equal(results)


@pytest.mark.parametrize("body", [TRY_AROUND_BOTH, GATHERED_IN_TRY])
@pytest.mark.parametrize("docs", [DOCS, ["one", "FAIL two", "three"]])
def test_tasks_awaited_in_a_try_catch_the_engine_error_as_python_does(
    body: str, docs: list[str], tmp_path: Path
) -> None:
    module = load(HEADER + body, tmp_path)
    assert "break" not in [n.op for n in module.program.graph(QUESTION, docs).walk()]
    results: Any = run_in_new_loop(run_modes, module.program, (QUESTION, docs), 3, [[], list(DEFAULT_PASSES)])
    assert_all_equal(results)
    assert (results[0][1][0] == "fallback") == (docs is not DOCS)


REGATHERED = [  # gathered again in a loop: Python fails on the second await of the coroutines
    "    coros = [ayo.llm(d, max_tokens=4) for d in docs]\n"
    "    outs = []\n"
    "    for i in range(2):\n"
    "        outs.append(await asyncio.gather(*coros))\n"
    "    return outs\n",
    # tasks gathered twice: Python returns the same values twice, the calls run once
    "    tasks = [asyncio.create_task(ayo.llm(d, max_tokens=4)) for d in docs]\n"
    "    outs = []\n"
    "    for i in range(2):\n"
    "        outs.append(await asyncio.gather(*tasks))\n"
    "    return outs\n",
]


@pytest.mark.parametrize("body", REGATHERED)
def test_coroutines_or_tasks_gathered_in_a_loop_are_not_made_again_each_time(
    body: str, tmp_path: Path
) -> None:
    module = load(HEADER + body, tmp_path)
    results = run_in_new_loop(run_modes, module.program, (QUESTION, DOCS), 3, [[], list(DEFAULT_PASSES)])
    assert_all_equal(results)


@pytest.mark.parametrize("line", ["return await tasks", "return (await asyncio.gather(tasks))"])
def test_awaiting_the_list_itself_fails_as_python_fails(line: str, tmp_path: Path) -> None:
    body = f"    tasks = [asyncio.create_task(ayo.llm(d, max_tokens=4)) for d in docs]\n    {line}\n"
    module = load(HEADER + body, tmp_path)
    try:
        graph = module.program.graph(QUESTION, DOCS)
    except TraceError:
        return  # refused at trace time: also right
    assert graph is not None
    results = run_in_new_loop(run_modes, module.program, (QUESTION, DOCS), 3, [[], list(DEFAULT_PASSES)])
    assert_all_equal(results)
    assert results[0][1][0] == "raised"


GROUP = """    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(ayo.llm({prompt}, max_tokens=4)) {clauses}]
"""
GROUP_CONSUMERS = {  # after the group has exited, every task has finished, in Python too
    "result": (["outs = [t.result() for t in tasks]"], True),
    "gather": (["outs = await asyncio.gather(*tasks)"], True),
    "await each": (["outs = [await t for t in tasks]"], True),  # (as `CONSUMERS`)
    "done and result": (["outs = [t.result() for t in tasks if t.done()]"], True),
}


@pytest.mark.parametrize(("items", "consumer"), list(itertools.product(ITEMS, GROUP_CONSUMERS)))
def test_a_task_groups_list_of_tasks_runs_as_one_map(items: str, consumer: str, tmp_path: Path) -> None:
    """``tasks = [tg.create_task(f(x)) for x in xs]`` in ``async with asyncio.TaskGroup() as tg``:
    one ``map`` (it was a graph break of the whole group), read after the group any way Python
    reads finished tasks."""
    clauses, prompt = ITEMS[items]
    lines = [*GROUP_CONSUMERS[consumer][0], "return outs"]
    code = HEADER + GROUP.format(prompt=prompt, clauses=clauses) + "".join(f"    {line}\n" for line in lines)
    module = load(code, tmp_path)
    graph = module.program.graph(QUESTION, DOCS)
    ops = [n.op for n in graph.walk()]
    assert "map" in ops  # the tasks' calls, all at once (in the `try` that wraps a group's error)
    assert ("break" not in ops) == GROUP_CONSUMERS[consumer][1], str(graph)
    results = run_in_new_loop(run_modes, module.program, (QUESTION, DOCS), 3, [[], list(DEFAULT_PASSES)])
    assert_all_equal(results)


def test_a_task_groups_task_inspected_inside_the_group_runs_the_group_as_written(tmp_path: Path) -> None:
    # (Python runs the line before any task starts: `done()` is False there, and the line has run
    # when a task fails; the graph would run the tasks first)
    code = (
        HEADER
        + GROUP.format(prompt='f"Sum: {d}"', clauses="for d in docs")
        + ("        first = tasks[0].done()\n    return first\n")
    )
    module = load(code, tmp_path)
    graph = module.program.graph(QUESTION, DOCS)
    assert [n.attrs["reason"] for n in graph.walk() if n.op == "break"] == [
        "a task group whose tasks Python interleaves runs eagerly, as written: its line 9 runs after "
        "a task is started, and Python runs it before any of the group's tasks (they start where its "
        "body ends), so a failing task leaves it run; the graph runs each task where it is made"
    ]
    results = run_in_new_loop(run_modes, module.program, (QUESTION, DOCS), 3, [[], list(DEFAULT_PASSES)])
    assert_all_equal(results)


WAITED = {  # what code does with `done` after `asyncio.wait(tasks)`: wait itself raises no task's error
    "exception": ['outs = sorted("E" if t.exception() else t.result() for t in done)'],
    "result in try": [
        "outs = []",
        "for t in done:",
        "    try:",
        "        outs.append(t.result())",
        "    except ayo.EngineError as e:",
        "        outs.append(type(e).__name__)",
        "outs.sort()",
    ],
    "result, raising": ["outs = sorted(t.result() for t in done)"],
    "counted": ["outs = [len(done), len(pending), sum(t.exception() is None for t in done)]"],
    "failures": ["outs = sorted(str(t.exception()) for t in done if t.exception())"],
}


@pytest.mark.parametrize(("maker", "items", "use"), every_pair(MAKERS, ITEMS, WAITED))
@pytest.mark.parametrize("docs", [DOCS, ["one", "FAIL two", "three"], ["FAIL"]])
def test_tasks_waited_keep_their_errors_as_python_does(
    maker: str, items: str, use: str, docs: list[str], tmp_path: Path
) -> None:
    clauses, prompt = ITEMS[items]
    lines = [
        f"tasks = [{maker}(ayo.llm({prompt}, max_tokens=4)) {clauses}]",
        'marks = ["made"]',
        "done, pending = await asyncio.wait(tasks)",
        *WAITED[use],
        "return marks, outs",
    ]
    module = load(HEADER + "".join(f"    {line}\n" for line in lines), tmp_path)
    assert "break" not in [n.op for n in module.program.graph(QUESTION, docs).walk()]
    results: Any = run_in_new_loop(run_modes, module.program, (QUESTION, docs), 3, [[], list(DEFAULT_PASSES)])
    assert_all_equal(results)
