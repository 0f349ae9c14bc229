"""The shapes of ``alias_shapes.py`` (one object under two names, changed through one, read
through the other): eager ≡ unoptimized ≡ optimized on inputs with failing calls, with no graph
break."""

from __future__ import annotations

from typing import Any

import pytest

from tests.util import run_in_new_loop, three_runs_agree

from . import alias_shapes as shapes

QUESTIONS = ["a plain question", "FAIL x"]
DOCS = [[], ["alpha"], ["alpha", "beta FAIL", "gamma"], ["one", "two", "one"]]


@pytest.mark.parametrize("wf", shapes.TRACED, ids=lambda w: w.fn.__name__)
def test_traced_agrees_with_eager(wf: Any) -> None:
    graph = wf.graph("q", ["d"])
    assert not [n for n in graph.walk() if n.op == "break"], graph
    run_in_new_loop(three_runs_agree, wf, QUESTIONS, DOCS)
