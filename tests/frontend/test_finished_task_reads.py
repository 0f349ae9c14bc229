"""What a finished task answers (``t.result()``, ``t.exception()``, ``t.done()``,
``t.cancelled()``), read where Python's task has surely finished: after a statement awaiting it in a
block holding the read (``await t``, ``await asyncio.gather(*tasks)``, ``done, _ = await
asyncio.wait(tasks)``). The graph's task answers it as Python's (``task_uses.finished_read``); it
was a graph break. Every way to make the tasks x to wait for them x to read them: traced whole and
eager ≡ traced ≡ optimized, failing calls among them. Reads where Python's task may still be
running (before the wait, after a wait under a condition, or after the name is bound again or given
another task) stay Python's tasks (a graph break) or are refused.
Also: ``await asyncio.wait(tasks)`` of no tasks raises ``ValueError`` as Python's does; the
optimized graph dropped the statement, its value unread (``effects``: a statement raising is kept)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ayo_trace.errors import TraceError
from ayo_trace.frontend.breaks import graph_breaks
from tests.util import every_pair, run_in_new_loop, three_runs_agree, traces_whole_and_agrees

from .programs import load

MADE = {
    "comprehension": ["tasks = [asyncio.create_task(ask(f'T {d}')) for d in [q, *docs]]"],
    "filtered": ["tasks = [asyncio.create_task(ask(f'F {d}')) for d in docs if d != 'skip']"],
}
MADE_BY_PYTHON = {  # tasks the graph does not keep (a graph break makes Python's): reads agree
    "appended": [
        "tasks = []",
        "for d in [*docs, q]:",
        "    tasks.append(asyncio.create_task(ask(f'A {d}')))",
    ],
    "literal": ["tasks = [asyncio.create_task(ask(f'L {q}')), asyncio.create_task(ask('other'))]"],
}
WAITED = {
    "wait": ["await asyncio.wait(tasks)"],
    "wait_bound": ["done, pending = await asyncio.wait(tasks)"],
    "wait_all": ["await asyncio.wait(tasks, return_when=asyncio.ALL_COMPLETED)"],
    "gather": ["values = await asyncio.gather(*tasks)"],
    "gather_caught": ["await asyncio.gather(*tasks, return_exceptions=True)"],
}
READ = {
    "comprehension": ["return [t.result() for t in tasks]"],
    "loop": ["out = []", "for t in tasks:", "    out.append(t.result())", "return out"],
    "enumerate": ["return {i: t.result() for i, t in enumerate(tasks) if t.done()}"],
    "errors": ["return [repr(t.exception()) if t.exception() else t.result() for t in tasks]"],
    "caught": [
        "out = []",
        "for t in tasks:",
        "    try:",
        "        out.append(t.result())",
        "    except RuntimeError as e:",
        "        out.append(f'failed: {e}')",
        "return out, [t.cancelled() for t in tasks]",
    ],
}
ONE = {  # one task: how it is waited for, then read
    "await": ["t = asyncio.create_task(ask(f'One {q}'))", "await t", "return t.result(), t.done()"],
    "await_bound": ["t = asyncio.create_task(ask(f'One {q}'))", "x = await t", "return x + t.result()"],
    "gather_two": [
        "t = asyncio.create_task(ask(f'One {q}'))",
        "u = asyncio.create_task(ask('two'))",
        "await asyncio.gather(t, u)",
        "return [t.result(), u.result()]",
    ],
    "in_branch": [
        "t = asyncio.create_task(ask(f'One {q}'))",
        "if docs:",
        "    await t",
        "    return t.result()",
        "return await t",
    ],
    "group": [
        "async with asyncio.TaskGroup() as tg:",
        "    t = tg.create_task(ask(f'One {q}'))",
        "    await t",
        "    first = t.result()",
        "return first, t.result()",
    ],
}
STILL_RUNNING = {  # Python's task may not have finished: not the graph's to answer
    "bound_again": [
        "tasks = [asyncio.create_task(ask(f'R {d}')) for d in docs]",
        "await asyncio.wait(tasks)",
        "tasks = [asyncio.create_task(ask(f'S {d}')) for d in docs]",
        "return [t.done() for t in tasks], len(await asyncio.gather(*tasks, return_exceptions=True))",
    ],
    "appended_after": [
        "tasks = [asyncio.create_task(ask(f'R {d}')) for d in docs]",
        "await asyncio.wait(tasks)",
        "tasks.append(asyncio.create_task(ask(q)))",
        "return [t.done() for t in tasks], len(await asyncio.gather(*tasks, return_exceptions=True))",
    ],
    "before": ["t = asyncio.create_task(ask(f'B {q}'))", "ready = t.done()", "return ready, await t"],
    "conditional_wait": [
        "tasks = [asyncio.create_task(ask(f'C {d}')) for d in docs]",
        "if q.startswith('what'):",
        "    await asyncio.wait(tasks)",
        "return [t.done() for t in tasks], [repr(r) for r in await asyncio.gather(*tasks, return_exceptions=True)]",
    ],
}
CASES = every_pair(MADE, WAITED, READ)
PYTHONS = every_pair(MADE_BY_PYTHON, WAITED, ["comprehension", "caught"])

HEAD = """
import asyncio

import ayo_trace as ayo


async def ask(p):
    return await ayo.llm(p, max_tokens=3)
"""


def _workflow(name: str, lines: list[str]) -> str:
    body = "".join(f"    {line}\n" for line in lines)
    return f"\n\n@ayo.workflow\nasync def wf_{name}(q, docs):\n{body}"


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = HEAD
    source += "".join(_workflow("_".join(c), MADE[c[0]] + WAITED[c[1]] + READ[c[2]]) for c in CASES)
    source += "".join(
        _workflow("_".join(c), MADE_BY_PYTHON[c[0]] + WAITED[c[1]] + READ[c[2]]) for c in PYTHONS
    )
    source += "".join(_workflow(f"one_{k}", v) for k, v in ONE.items())
    source += "".join(_workflow(f"running_{k}", v) for k, v in STILL_RUNNING.items())
    return load(source, Path(tmp_path_factory.mktemp("finished_task_reads")))


QUESTIONS = ["what is rust", "FAIL q"]
DOCS = [["a", "FAIL b"], []]


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_task_list_read_after_waiting_for_it(module: Any, case: tuple[str, str, str]) -> None:
    traces_whole_and_agrees(getattr(module, "wf_" + "_".join(case)), QUESTIONS, DOCS, graph=("q", ["a"]))


@pytest.mark.parametrize("case", list(ONE))
def test_one_task_read_after_waiting_for_it(module: Any, case: str) -> None:
    traces_whole_and_agrees(getattr(module, f"wf_one_{case}"), QUESTIONS, DOCS, graph=("q", ["a"]))


@pytest.mark.parametrize("case", list(STILL_RUNNING))
def test_a_task_maybe_running_stays_pythons(module: Any, case: str) -> None:
    wf = getattr(module, f"wf_running_{case}")
    try:
        graph = wf.graph("q", ["a"])
    except TraceError:
        return  # (refused: a task appended after the wait changes `t` before it is awaited)
    assert graph_breaks(graph) != []
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))


@pytest.mark.parametrize("case", PYTHONS, ids=["-".join(c) for c in PYTHONS])
def test_pythons_tasks_read_after_waiting_agree(module: Any, case: tuple[str, str, str]) -> None:
    run_in_new_loop(lambda: three_runs_agree(getattr(module, "wf_" + "_".join(case)), QUESTIONS, DOCS))
