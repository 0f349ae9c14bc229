"""Workflows written the way people write them, which the graph once answered differently from
Python or crashed on (``found_shapes.py`` says how): eager ≡ traced ≡ optimized over inputs with
failing calls, and the rule behind each fix."""

from __future__ import annotations

from typing import Any

import pytest

from tests.util import three_runs_agree

from . import found_shapes as shapes

pytestmark = pytest.mark.anyio

QUESTIONS = ["a plain question", "stop now", "FAIL x"]  # (FAIL: the LLM fails the call)
DOCS = [[], ["alpha"], ["alpha", "beta FAIL", "gamma"], ["one", "two", "three"]]


@pytest.mark.parametrize("wf", shapes.SHAPES, ids=[wf.fn.__name__ for wf in shapes.SHAPES])
async def test_eager_traced_and_optimized_agree(wf: Any) -> None:
    await three_runs_agree(wf, QUESTIONS, DOCS)


def test_a_loop_in_a_nested_body_extends_the_list_with_its_items() -> None:
    graph = str(shapes.loop_appends_in_an_if.graph("q", ["a"]))
    assert "out.extend(out)" not in graph


def test_a_loop_whose_progress_a_handler_would_see_is_a_graph_break() -> None:
    for wf in (shapes.loop_counts_in_a_try, shapes.loop_in_suppress):
        breaks = [n.attrs.get("reason") for n in wf.graph("q", ["a"]).walk() if n.op == "break"]
        assert breaks, wf.fn.__name__
    # under `except ayo.EngineError`, the loop with the `try` inside it (`try_loops`)
    graph = shapes.loop_appends_in_a_try.graph("q", ["a"])
    assert not [n for n in graph.walk() if n.op == "break"]
    # a `finally` alone re-raises: the loop is traced
    graph = shapes.loop_extends_in_a_try_finally.graph("q", ["a"])
    assert not [n for n in graph.walk() if n.op == "break"]


def test_an_unread_call_stays_in_the_optimized_graph() -> None:
    graph = shapes.unread_call.graph("q", [], optimized=True)
    assert [n.op for n in graph.walk() if n.op.startswith("llm")] == ["llm_prefill", "llm_decode"]


def test_a_default_from_a_workflow_variable_is_a_read_of_it() -> None:
    graph = str(shapes.def_default_from_an_answer.graph("q", []))
    assert "%fmt = python(%head)" in graph
