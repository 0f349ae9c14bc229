"""An ``async with`` run as written says why in its own terms: a task group its body uses another
way than the tracer takes (a loop doing more than starting a task) names the shapes that trace
and how to write them; ``asyncio.timeout`` says it runs under its timeout and how to keep a
deadline in the graph. Each break's answers agree with eager's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ayo_trace.frontend.breaks import fix_for, graph_breaks
from tests.util import run_in_new_loop, three_runs_agree

from .programs import load

SOURCE = """
import asyncio

import ayo_trace as ayo


async def summarize(d):
    return await ayo.llm(f"Summarize: {d}", max_tokens=4)


@ayo.workflow
async def loop_and_more(q, docs):
    seen = []
    async with asyncio.TaskGroup() as tg:
        for d in docs:
            seen.append(d)
            tg.create_task(summarize(d))
    return seen


@ayo.workflow
async def under_a_timeout(q, docs):
    async with asyncio.timeout(30):
        first = await summarize(q)
    return first
"""
# (a loop whose one line starts a task, appends it to a list made just before, or keeps it in a
# dict, traces: ``test_group_loops``, ``test_group_task_dicts``)
GROUPS = ["loop_and_more"]


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return load(SOURCE, Path(tmp_path_factory.mktemp("with_break_reasons")))


def _reason(wf: Any) -> str:
    (node,) = graph_breaks(wf.graph("q", ["a", "b"]))
    return str(node.attrs["reason"])


@pytest.mark.parametrize("name", GROUPS)
def test_a_task_group_used_another_way_names_the_shapes_that_trace(module: Any, name: str) -> None:
    wf = getattr(module, name)
    reason = _reason(wf)
    assert reason.startswith("a task group used other than by `t = tg.create_task(f(...))` lines"), reason
    assert "tasks = [tg.create_task(f(x)) for x in xs]" in (fix_for(reason) or "")
    run_in_new_loop(lambda: three_runs_agree(wf, ["what is rust", "FAIL q"], [[], ["one", "two"]]))


def test_a_timeout_says_it_runs_under_its_timeout(module: Any) -> None:
    reason = _reason(module.under_a_timeout)
    assert "asyncio.timeout(...)" in reason and "under its timeout" in reason
    assert "deadline_s=" in (fix_for(reason) or "")
    run_in_new_loop(lambda: three_runs_agree(module.under_a_timeout, ["what is rust", "FAIL q"], [[]]))
