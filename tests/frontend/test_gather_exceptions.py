"""``asyncio.gather(..., return_exceptions=True)`` of calls and comprehensions of calls: each call
is a ``try`` node whose error is its value, so the list is gather's (values and errors in order),
eager ≡ traced ≡ optimized whether no call, some or all fail. It was a graph break."""

from __future__ import annotations

from typing import Any

import pytest

from ayo_trace.passes import DEFAULT_PASSES
from tests.util import run_in_new_loop, three_runs_agree

from . import gather_exception_shapes as g
from .test_corpus_control import run_modes
from .test_differential import assert_all_equal

ARGS = [  # (the scripted LLM fails a prompt holding FAIL)
    ("q", ["a", "b"]),
    ("FAIL", ["a", "FAIL b", "c"]),
    ("q", ["FAIL", "x"]),
    ("q", []),
]


@pytest.mark.parametrize("args", ARGS, ids=["none fail", "most fail", "one fails", "no items"])
@pytest.mark.parametrize("wf", g.CASES, ids=[wf.fn.__name__ for wf in g.CASES])
def test_gather_returning_exceptions_is_traced_and_answers_as_eager(wf: Any, args: tuple[Any, ...]) -> None:
    graph = wf.graph(*args)
    assert [n for n in graph.walk() if n.op == "break"] == []
    assert_all_equal(run_in_new_loop(run_modes, wf, args, 3, [[], list(DEFAULT_PASSES)]))


def test_each_call_is_a_try_node_and_the_calls_still_run_at_once() -> None:
    graph = g.two_calls.graph("q", ["a"], optimized=True)
    tries = [n for n in graph.nodes if n.op == "try"]
    assert len(tries) == 2
    assert tries[0] not in tries[1].args and tries[0] not in tries[1].after
    assert [n.op for n in g.over_the_docs.graph("q", ["a"]).walk()].count("try") == 1  # in the map body


def test_tasks_made_before_a_gather_returning_exceptions_hand_back_their_errors() -> None:
    """Gathered with ``return_exceptions=True``, tasks keep their errors (``Failed``) until the
    gather, which hands each back as its value, as Python's gather does; the calls still run
    where the tasks are made, at once."""
    graph = g.tasks_made_before.graph("q", ["a"])
    assert "break" not in [n.op for n in graph.walk()]
    run_in_new_loop(lambda: three_runs_agree(g.tasks_made_before, ["q"], [["a", "FAIL b", "c"], ["a"], []]))
