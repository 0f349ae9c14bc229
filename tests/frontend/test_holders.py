"""Calls gathered on objects holding one shared object (``frontend/holders``): Python interleaves
their changes of it at their awaits, so the gather runs as written (a graph break, or, for tasks
made before they are awaited, Python's tasks) and eager ≡ traced ≡ optimized; objects holding
nothing shared still trace whole."""

from __future__ import annotations

from typing import Any

import pytest

from tests.util import run_in_new_loop, three_runs_agree

from . import holder_shapes as shapes

QUESTIONS = ["a plain question", "FAIL x"]  # (FAIL: the LLM fails the call)
DOCS = [[], ["alpha"], ["alpha", "beta FAIL", "gamma"], ["FAIL one", "two"], ["one", "two", "three"]]


@pytest.mark.parametrize("wf", shapes.SHARED, ids=[wf.fn.__name__ for wf in shapes.SHARED])
def test_calls_on_holders_of_one_object_agree(wf: Any) -> None:
    assert "break" in [n.op for n in wf.graph("q", ["a", "b"]).walk()]
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))


def test_the_reason_names_the_shared_object() -> None:
    text = shapes.h_two_named.explain("q", ["a"])
    assert "`board`" in text and "interleave" in text


def test_holders_of_nothing_shared_trace_whole() -> None:
    wf = shapes.h_own_boards
    assert "break" not in [n.op for n in wf.graph("q", ["a", "b"]).walk()]
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))


def test_pythons_tasks_of_unfollowed_calls_run_as_written_with_a_change_before_their_await(
    tmp_path: Any,
) -> None:
    # (the call is not followed: its task is Python's, which the graph starts sooner than Python;
    # it was refused, now the statements from the task's to its await run as written)
    from ayo_trace.frontend.breaks import graph_breaks
    from tests.util import run_in_new_loop, three_runs_agree

    from .programs import load

    code = (
        "import asyncio\nimport ayo_trace as ayo\nfrom tests.frontend.holder_shapes import Poster\n\n\n"
        "@ayo.workflow\nasync def program(q, docs):\n"
        "    board = []\n"
        "    posters = [Poster(d, board) for d in docs]\n"
        "    tasks = [asyncio.create_task(p.post(q)) for p in posters]\n"
        '    board.append("main")\n'
        "    return [await t for t in tasks], board\n"
    )
    module = load(code, tmp_path)
    (found,) = graph_breaks(module.program.graph("q", ["a", "b"]))
    reason = str(found.attrs["reason"])
    assert "changes `board` before awaiting it" in reason and "line 11" in reason
    assert "the statements from line 10 to the end run as written" in reason
    run_in_new_loop(lambda: three_runs_agree(module.program, ["q", "FAIL q"], [["a", "b"], []]))
