"""The edges of the four idioms: ``functools.partial`` binds its arguments when it is made and a
call's keywords win; a partial of a traced value (which a later in-place change could make differ
from the node it was made from), ``map`` over two iterables and a generator that
awaits in its filter stay graph breaks (not refusals); ``return`` in ``finally`` or in a nested
``try`` keeps the rest-of-function break; other returns in ``try`` trace whole. Every mode returns
what eager Python returns."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo
from tests.util import run_in_new_loop

from . import idiom_shapes as s
from .test_corpus_control import run_modes
from .test_differential import ALL_SUBSETS, DOCS, QUESTION, assert_all_equal

CASES: dict[str, tuple[Any, tuple[Any, ...], int]] = {  # workflow, arguments, graph breaks
    "partial_keyword_overridden": (s.partial_keyword_overridden, (QUESTION,), 0),
    "partial_argument_rebound_later": (s.partial_argument_rebound_later, (QUESTION,), 0),
    "partial_of_a_traced_value": (s.partial_of_a_traced_value, (QUESTION,), 1),
    "partial_of_a_workflow": (s.partial_of_a_workflow, (DOCS,), 0),
    "partial_positional": (s.partial_positional, (DOCS,), 0),
    "partial_of_a_traced_positional": (s.partial_of_a_traced_positional, (QUESTION, DOCS), 1),
    "gather_map_of_two_iterables": (s.gather_map_of_two_iterables, (DOCS,), 1),
    "gather_map_then_spread_among_calls": (s.gather_map_then_spread_among_calls, (QUESTION, DOCS), 0),
    "return_in_finally": (s.return_in_finally, (QUESTION,), 1),
    "return_in_except_only": (s.return_in_except_only, (QUESTION,), 0),
    "return_in_except_only_fails": (s.return_in_except_only, ("FAIL",), 0),
    "return_in_a_nested_try": (s.return_in_a_nested_try, (QUESTION,), 1),
    "returns_on_some_paths_of_try": (s.returns_on_some_paths_of_try, (QUESTION, True), 0),
    "returns_on_some_paths_of_try_lenient": (s.returns_on_some_paths_of_try, (QUESTION, False), 0),
    "returns_on_some_paths_of_try_fails": (s.returns_on_some_paths_of_try, ("FAIL", True), 0),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_graph_breaks(name: str) -> None:
    wf, args, breaks = CASES[name]
    graph = wf.graph(*args)
    graph.lint()
    assert len([n for n in graph.walk() if n.op == "break"]) == breaks, str(graph)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_mode_returns_what_eager_returns(name: str) -> None:
    wf, args, _ = CASES[name]
    results = run_in_new_loop(run_modes, wf, args, 5, ALL_SUBSETS)
    assert_all_equal(results)


def test_a_generator_awaiting_in_its_filter_is_refused() -> None:
    # (`*` of an async generator raises TypeError eagerly: refused with the fix, source_checks.py)
    with pytest.raises(ayo.TraceError, match="generator expression that awaits"):
        s.gather_generator_awaiting_in_its_filter.graph(DOCS)


def _llm_max_tokens(wf: Any, *args: Any) -> list[int]:
    return [n.attrs["sampling"].max_tokens for n in wf.graph(*args).walk() if n.op == "llm"]


def test_a_call_keyword_wins_over_the_partials() -> None:
    assert _llm_max_tokens(s.partial_keyword_overridden, QUESTION) == [2]


def test_a_partial_keeps_the_value_its_argument_had_when_it_was_made() -> None:
    assert _llm_max_tokens(s.partial_argument_rebound_later, QUESTION) == [3]


def test_a_map_spread_among_calls_keeps_gathers_order() -> None:
    graph = s.gather_map_then_spread_among_calls.graph(QUESTION, DOCS)
    assert [n.op for n in graph.nodes if n.op in {"llm", "map"}] == ["llm", "map", "llm"]
