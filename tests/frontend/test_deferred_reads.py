"""Calls made a statement before the one that awaits them are traced whole however the statements
are written (``frontend/coroutine_lists.py``, ``frontend/normalize.py``): an annotated assignment
(``batch: list[...] = []``) is the assignment it annotates, a ``for`` statement's iterable
(``for fut in asyncio.as_completed(coros)``) is evaluated once like a comprehension's first one,
and a dict's keys may be read in the statement gathering its values (they are the same before and
after). Eager ≡ traced ≡ optimized: the answers, also when a call fails, and the prompts decoded
when none does; a statement that sees the coroutines unawaited, or ``as_completed`` inside other
code (``enumerate(asyncio.as_completed(coros))``), stays a graph break."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.errors import TraceError
from ayo_trace.frontend.coroutine_lists import Deferred, bound
from ayo_trace.ir.code import SourceLoc
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedStore
from tests.util import outcome

from . import deferred_read_shapes as s

pytestmark = pytest.mark.anyio

ARGS = [("q", ["a", "b", "c"]), ("q", []), ("q", ["a", "FAIL b"]), ("FAIL", ["a"])]  # (FAIL: fails)


async def runs(wf: Any, args: tuple[Any, ...]) -> list[tuple[Any, list[Any]]]:
    """The outcome (answer, or the error's class and text) and the requests of ``wf`` eager,
    traced and optimized, each on fresh scripted engines."""
    out = []
    for run in (wf.eager, ayo.workflow(wf.fn, passes=[]), wf):
        llm = ScriptedLLM("llm", fail=lambda p: "FAIL" in p)
        async with ayo.Runtime(
            [llm, ScriptedEmbedder("embed"), ScriptedStore("store")], batching=False, retries=0
        ):
            answer = await outcome(run, *args, text=False)
        out.append((answer, sorted(llm.prompts)))
    return out


def breaks(wf: Any) -> list[str]:
    return [n.attrs["reason"] for n in wf.graph("q", ["a", "b"]).walk() if n.op == "break"]


@pytest.mark.parametrize("wf", s.TRACED, ids=[wf.fn.__name__ for wf in s.TRACED])
@pytest.mark.parametrize("args", ARGS, ids=["three", "none", "one fails", "all fail"])
async def test_calls_made_before_their_await_are_traced(wf: Any, args: tuple[Any, ...]) -> None:
    assert breaks(wf) == []
    eager, plain, optimized = await runs(wf, args)
    assert eager[0] == plain[0] == optimized[0]
    if not any("FAIL" in str(a) for a in args):  # (a failed query's other calls may be cut short)
        assert eager[1] == plain[1] == optimized[1]


@pytest.mark.parametrize("wf", s.BREAKS, ids=[wf.fn.__name__ for wf in s.BREAKS])
# (a failing call: Python's as_completed leaves coroutines never awaited, a warning pytest raises)
@pytest.mark.parametrize("args", ARGS[:2], ids=["three", "none"])
async def test_calls_seen_unawaited_run_as_written(wf: Any, args: tuple[Any, ...]) -> None:
    assert len(breaks(wf)) >= 1
    eager, plain, optimized = await runs(wf, args)
    assert eager == plain == optimized


def test_an_annotated_assignment_is_traced_as_the_assignment() -> None:
    printed = str(s.annotated_list_appended.graph("q", ["a"]))
    assert "batch: list" not in printed and "map(" in printed


def test_a_deferred_list_reaching_code_run_as_written_is_refused_at_trace_time() -> None:
    """The guard behind the rules: were a rule to defer a list some code then reads as written,
    the trace is refused there, not the run failing on the tracer's placeholder."""
    with pytest.raises(TraceError, match="`coros`, a list of calls traced where it is gathered"):
        bound(Deferred(()), "coros", SourceLoc("wf.py", 3))
    assert bound([1], "xs", SourceLoc("wf.py", 3)) == [1]
