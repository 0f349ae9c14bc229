"""A name ``:=`` binds on some paths of a test only is traced: read where it is bound, it is its
value; where a path left it unbound, the read raises ``UnboundLocalError`` as Python does, at run
time (``expressions._walrus_node``). eager ≡ traced ≡ optimized."""

from __future__ import annotations

from typing import Any

import pytest

from tests.util import run_in_new_loop, three_runs_agree

from . import walrus_test_shapes as shapes

QUESTIONS = ["a plain question", "FAIL x"]  # (FAIL: the LLM fails the call)
DOCS = [[], ["alpha"], ["alpha", "beta FAIL", "gamma"], ["", "two"], ["one", "two", "three"]]


@pytest.mark.parametrize("wf", shapes.SHAPES, ids=[wf.fn.__name__ for wf in shapes.SHAPES])
def test_names_bound_by_a_tests_walrus_agree(wf: Any) -> None:
    assert "break" not in [n.op for n in wf.graph("q", ["a", "b"]).walk()]
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))


@pytest.mark.parametrize("wf", shapes.AWAITED, ids=[wf.fn.__name__ for wf in shapes.AWAITED])
def test_a_walrus_binding_an_awaited_value_in_a_test_agrees(wf: Any) -> None:
    assert "break" in [n.op for n in wf.graph("q", ["a", "b"]).walk()]
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))
