"""A ``try`` node's handler runs the user's code as inside Python's ``except``: the shapes of
``handled_shapes.py`` (``sys.exc_info()``, ``traceback.format_exc()``, a bare ``raise`` in a
function the handler calls, an error's ``__context__``) agree eager ≡ unoptimized ≡ optimized,
traced with no graph break."""

from __future__ import annotations

from typing import Any

import pytest

from tests.util import run_in_new_loop, three_runs_agree

from . import handled_shapes as shapes

QUESTIONS = ["a plain question", "FAIL x", "FAIL plain"]
DOCS = [[], ["alpha", "beta FAIL", "gamma"]]


@pytest.mark.parametrize("wf", shapes.SHAPES, ids=lambda w: w.fn.__name__)
def test_a_handler_sees_the_error_it_handles(wf: Any) -> None:
    graph = wf.graph("q", ["d"])
    assert not [n for n in graph.walk() if n.op == "break"], graph
    run_in_new_loop(three_runs_agree, wf, QUESTIONS, DOCS)
