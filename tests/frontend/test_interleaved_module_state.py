"""Calls run at once that change module state through code the helper does not write out: a plain
function of the module (``note(x)`` appending to ``LOG``, ``bump()`` counting in ``STATS``) or a
name the helper declares ``global`` (``CALLS += 1``, a lazily made client). Python interleaves the
calls at their awaits; where one call's change before its wait and another's touch after it meet,
the gather (or task group) runs eagerly, as a graph break (``interleaving``: ``sites.function_changes``,
``shared_names``). Found by probes zq (a timing decorator's ``mark("start")``/``mark("end")``
around the call) and zo (a lazily made singleton behind ``global``): the graph ran each call whole,
one after another, and the log, the counters and the clients differed. Every way to change the
state x where the helper changes it x how the calls are made together: eager ≡ traced ≡
optimized on fresh module copies, three calls each; changes after the wait only (every call
finishing: ``return_exceptions=True``) are still traced whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.util import every_pair, fresh_copies_agree

from .programs import load

HEAD = """
import asyncio

import ayo_trace as ayo

LOG = []
STATS = {"n": 0}
CALLS = 0
READY = False
SEEN = []


def note(x):
    LOG.append(x)


def bump():
    STATS["n"] += 1
"""

# how a helper changes the state (the declaration it needs, the change), and a read of it
CHANGES = {
    "function_list": ("", "note(text)", "str(len(LOG))"),
    "function_counter": ("", "bump()", 'str(STATS["n"])'),
    "global_counter": ("global CALLS", "CALLS += 1", "str(CALLS)"),
    "global_flag": ("global READY", "READY = not READY", "str(READY)"),
    "global_list": ("global SEEN", "SEEN = SEEN + [text]", "str(len(SEEN))"),
}
# where the helper changes it, against its one wait
WHERE = {
    "before": ["CHANGE", "r = await ayo.llm(text, max_tokens=3)", "return r"],
    "after": ["r = await ayo.llm(text, max_tokens=3)", "CHANGE", "return r"],
    "both_sides": ["CHANGE", "r = await ayo.llm(text, max_tokens=3)", "CHANGE", "return r"],
    "read_after": ["CHANGE", "r = await ayo.llm(text, max_tokens=3)", "return r + @READ"],
}
GATHERS = {
    "gather": ["out = list(await asyncio.gather(step('a ' + q), step('b ' + q)))"],
    "comprehension": ["out = list(await asyncio.gather(*[step(w) for w in ['a', 'b', q]]))"],
    "task_group": [
        "async with asyncio.TaskGroup() as tg:",
        "    t1 = tg.create_task(step('a ' + q))",
        "    t2 = tg.create_task(step('b ' + q))",
        "out = [t1.result(), t2.result()]",
    ],
}
CASES = every_pair(CHANGES, WHERE, GATHERS)


def _source(change: str, where: str, gather: str) -> str:
    declared, line, read = CHANGES[change]
    body = [declared] if declared else []
    body += [s.replace("CHANGE", line).replace("@READ", read) for s in WHERE[where]]
    helper = "async def step(text):\n" + "".join(f"    {s}\n" for s in body)
    workflow = [*GATHERS[gather], "return out, list(LOG), dict(STATS), CALLS, READY, list(SEEN)"]
    return f"{HEAD}\n\n{helper}\n\n@ayo.workflow\nasync def wf(q, docs):\n" + "".join(
        f"    {s}\n" for s in workflow
    )


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_calls_at_once_changing_module_state_agree(case: tuple[str, str, str], tmp_path: Path) -> None:
    # (the failing query last: when a gather's call fails, Python's gather leaves the others running
    # past the query's end, and what they do after is a race with the next query)
    fresh_copies_agree(_source(*case), tmp_path, ["what is rust", "again", "FAIL x"])


@pytest.mark.parametrize("change", list(CHANGES))
def test_changes_after_the_wait_only_are_traced(change: str, tmp_path: Path) -> None:
    # (with `return_exceptions=True`: otherwise a failing call makes the gather run as written,
    # since Python's gather lets the other calls go on, changing the state, where the graph stops;
    # changes before the wait only run as written too: Python starts every call before one fails)
    from ayo_trace.frontend.breaks import graph_breaks

    source = _source(change, "after", "gather").replace("q)))", "q), return_exceptions=True))")
    wf = load(source, tmp_path).wf
    assert graph_breaks(wf.graph("q", [])) == []


@pytest.mark.parametrize("change", list(CHANGES))
def test_changes_on_both_sides_run_the_gather_as_written(change: str, tmp_path: Path) -> None:
    from ayo_trace.frontend.breaks import describe_break, graph_breaks

    wf = load(_source(change, "both_sides", "gather"), tmp_path).wf
    reasons = [describe_break(b) for b in graph_breaks(wf.graph("q", []))]
    assert len(reasons) == 1 and "interleaves" in reasons[0], reasons
