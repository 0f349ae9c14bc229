"""A function of the workflow's module named as a temporary of the compiler (``prompt`` around
``await ayo.llm(prompt(q))``) is read as the function, not as the temporary: eager, the unoptimized
and the optimized graphs agree (``state.unshadowed``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.util import run_in_new_loop, three_runs_agree

from . import temp_name_shapes

QUESTIONS = ["A question", "FAIL it"]
DOCS = [[], ["alpha"], ["beta FAIL", "gamma "]]


@pytest.mark.parametrize("wf", temp_name_shapes.SHAPES, ids=lambda w: w.fn.__name__)
def test_a_function_named_as_a_temporary_is_called(wf: Any) -> None:
    graph = wf.graph("q", ["d"])
    assert not [n for n in graph.walk() if n.op == "break"], graph
    run_in_new_loop(three_runs_agree, wf, QUESTIONS, DOCS)


def test_the_temporary_is_renamed_in_the_node() -> None:
    text = str(temp_name_shapes.llm_prompt.graph("q", ["d"]))
    # (named apart from the function it calls where the node is made: `FunctionSource.target`)
    assert "prompt_ = prompt(q, len(docs))" in text, text
