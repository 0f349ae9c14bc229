"""A name a ``match``'s cases bind, read after it where no case may have matched, is traced and
raises ``UnboundLocalError`` when the graph runs on that path (as Python does), whether a case
returns, the cases capture it or the ``match`` is in a loop body: eager ≡ unoptimized ≡ optimized."""

from __future__ import annotations

from typing import Any

import pytest

from tests.util import run_in_new_loop, three_runs_agree

from . import match_unbound_shapes as shapes

QUESTIONS = ["a plain question", "another one", "third", "FAIL x"]
DOCS = [[], ["alpha", "beta", "gamma", "delta"], ["one", "two", "three"]]


@pytest.mark.parametrize("wf", shapes.SHAPES, ids=lambda w: w.fn.__name__)
def test_a_name_no_case_bound_raises_where_it_is_read(wf: Any) -> None:
    wf.graph("q", ["d"])  # (traced: not refused)
    run_in_new_loop(three_runs_agree, wf, QUESTIONS, DOCS)
