"""Dicts of calls (``{k: f(x) for ...}`` gathered by ``gather(*d.values())``) and of tasks
(``{k: asyncio.create_task(f(x)) for ...}``): traced, eager ≡ traced ≡ optimized whether no call,
one or all fail. A dict of calls was a graph break, a dict of tasks refused. A dict of calls read
before its gather, or gathered in a branch, runs as written; a dict of tasks used before all are
awaited is refused; gathered with ``return_exceptions=True``, or awaited in a ``try`` it is not
made in, its tasks keep their errors until they are awaited, as Python's do."""

from __future__ import annotations

from typing import Any

import pytest

from ayo_trace.errors import TraceError
from ayo_trace.passes import DEFAULT_PASSES
from tests.util import run_in_new_loop

from . import dict_shapes as d
from .test_corpus_control import run_modes
from .test_differential import assert_all_equal

ARGS = [  # (the scripted LLM fails a prompt holding FAIL)
    ("q", ["a", "b", "c"]),
    ("q", ["a", "FAIL b", "c"]),
    ("FAIL", ["a", "b"]),
    ("q", []),
]


@pytest.mark.parametrize("args", ARGS, ids=["none fail", "one fails", "all fail", "no items"])
@pytest.mark.parametrize("wf", d.CASES, ids=[wf.fn.__name__ for wf in d.CASES])
def test_dicts_of_calls_and_tasks_are_traced_and_answer_as_eager(wf: Any, args: tuple[Any, ...]) -> None:
    graph = wf.graph(*args)
    assert [n.attrs["reason"] for n in graph.walk() if n.op == "break"] == []
    assert "map" in [n.op for n in graph.walk()] or wf is d.tasks_awaited_by_key
    assert_all_equal(run_in_new_loop(run_modes, wf, args, 3, [[], list(DEFAULT_PASSES)]))


def test_a_dict_of_calls_runs_them_at_its_gather_at_once() -> None:
    graph = d.among_other_calls.graph("q", ["a", "b"], optimized=True)
    maps = [n for n in graph.nodes if n.op == "map"]
    heads = [n for n in graph.nodes if n.op.startswith("llm")]
    assert len(maps) == 1 and heads
    assert all(maps[0] not in h.args and maps[0] not in h.after for h in heads)


@pytest.mark.parametrize(
    "wf", [d.read_before_the_gather, d.gathered_in_a_branch], ids=["read first", "in a branch"]
)
def test_a_dict_of_calls_read_first_or_gathered_in_a_branch_runs_as_written(wf: Any) -> None:
    graph = wf.graph("q", ["a"])
    assert "llm" not in [n.op for n in graph.walk()]  # Python runs the calls, at the gather
    for args in ARGS:
        assert_all_equal(run_in_new_loop(run_modes, wf, args, None, [list(DEFAULT_PASSES)]))


@pytest.mark.parametrize(
    ("wf", "match"),
    [
        (d.task_inspected_first, "before they are all awaited"),
    ],
    ids=["inspected first"],
)
def test_other_uses_of_a_dict_of_tasks_are_refused(wf: Any, match: str) -> None:
    with pytest.raises(TraceError, match=match) as info:
        wf.graph("q", ["a"])
    assert "dict_shapes.py:" in str(info.value)


@pytest.mark.parametrize("args", ARGS, ids=["none fail", "one fails", "all fail", "no items"])
@pytest.mark.parametrize(
    "wf",
    [d.tasks_gathered_returning_exceptions, d.task_awaited_in_a_try],
    ids=["return_exceptions", "in a try"],
)
def test_tasks_awaited_where_their_error_is_caught_keep_it_until_then(wf: Any, args: tuple[Any, ...]) -> None:
    # each task `Completed` or `Failed` (``parallel._task``): its error raised where it is awaited
    assert "break" not in [n.op for n in wf.graph(*args).walk()]
    assert_all_equal(run_in_new_loop(run_modes, wf, args, 3, [[], list(DEFAULT_PASSES)]))
