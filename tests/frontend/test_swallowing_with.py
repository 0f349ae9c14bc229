"""A context manager may swallow the error its body raised part-way: a name the body would have
bound after it keeps its value from before (the ``with`` binds it only maybe), eager ≡
unoptimized ≡ optimized for the shapes of ``with_shapes.py``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.util import run_in_new_loop, three_runs_agree

from . import with_shapes as shapes

QUESTIONS = ["a plain question", "FAIL x", "7 FAIL"]
DOCS = [[], ["alpha", "beta FAIL", "gamma"]]


@pytest.mark.parametrize("wf", shapes.SHAPES, ids=lambda w: w.fn.__name__)
def test_what_a_swallowed_error_left_unbound_keeps_its_value(wf: Any) -> None:
    wf.graph("q", ["d"])
    run_in_new_loop(three_runs_agree, wf, QUESTIONS, DOCS)
