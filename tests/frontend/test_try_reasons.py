"""A ``try`` that runs as written says why (``frontend/try_reasons.py``), with a fix that fits: its
graph break's reason was the bare word "try", whose one fix (bind names in the body's last
statement only) fit none of the shapes the probes met (a ``finally`` counting steps, ``except*``,
a loop over a generator). Each shape here gives its own reason and fix, and its three runs agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ayo_trace.frontend import try_reasons
from ayo_trace.frontend.breaks import describe_break, fix_for, graph_breaks
from tests.util import run_in_new_loop, three_runs_agree

from .programs import load

HEAD = """
import asyncio

import ayo_trace as ayo

STATS = {"steps": 0}


def words(q):
    for w in q.split():
        yield w
"""

SHAPES = {  # name: (body, the reason)
    "finally_counts": (
        """
    out = []
    for w in q.split()[:2]:
        try:
            out.append(await ayo.llm(w, max_tokens=3))
        except ayo.EngineError:
            out.append(None)
        finally:
            STATS["steps"] += 1
    return out
""",
        try_reasons.FINALLY_NAMES,
    ),
    "except_star": (
        """
    status = "ok"
    try:
        async with asyncio.TaskGroup() as tg:
            t = tg.create_task(ayo.llm(q, max_tokens=3))
    except* ayo.EngineError as eg:
        status = f"failed {len(eg.exceptions)}"
    return status
""",
        try_reasons.EXCEPT_STAR,
    ),
    "loop_over_generator": (
        """
    out = []
    try:
        for w in words(q):
            out.append(await ayo.llm(w, max_tokens=3))
    except ayo.EngineError:
        out.append("failed")
    return out
""",
        try_reasons.KEEPS_PROGRESS,
    ),
    "bound_early": (
        """
    draft = None
    try:
        if q:
            draft = await ayo.llm("draft " + q, max_tokens=3)
            final = await ayo.llm(f"polish {draft}", max_tokens=3)
        else:
            final = "empty"
    except ayo.EngineError:
        final = "failed"
    return draft, final
""",
        try_reasons.BOUND_EARLY,
    ),
    "class_at_run_time": (
        """
    kind = ayo.EngineError if q else ValueError
    try:
        answer = await ayo.llm(q, max_tokens=3)
    except kind:
        answer = "failed"
    return answer
""",
        try_reasons.CLASS_AT_RUN_TIME,
    ),
}


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = HEAD + "".join(
        f"\n\n@ayo.workflow\nasync def wf_{name}(q, docs):{body}" for name, (body, _) in SHAPES.items()
    )
    return load(source, Path(tmp_path_factory.mktemp("try_reasons")))


@pytest.mark.parametrize("name", list(SHAPES))
def test_a_try_run_as_written_says_why(module: Any, name: str) -> None:
    wf = getattr(module, f"wf_{name}")
    reasons = [str(b.attrs["reason"]) for b in graph_breaks(wf.graph("what is a heap", []))]
    assert SHAPES[name][1] in reasons, reasons
    fix = fix_for(SHAPES[name][1])
    assert fix is not None
    # (the old fix of every `try`: it fits the name bound before the last await only)
    assert fix.startswith("assign names in the `try` body's last") == (name == "bound_early"), fix
    assert all(describe_break(b) for b in graph_breaks(wf.graph("what is a heap", [])))
    run_in_new_loop(lambda: three_runs_agree(wf, ["what is a heap", "explain FAIL here"], [[]]))
