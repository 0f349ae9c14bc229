"""Shared checks for golden pass texts: each shape's printed graph as traced and after each pass of
``DEFAULT_PASSES`` (run cumulatively, in order). ``SAME`` marks a pass that must change nothing."""

from __future__ import annotations

from collections.abc import Callable

from ayo_trace.ir import Graph
from ayo_trace.passes import DEFAULT_PASSES, PASS_NAMES, apply_pass, run_passes

SAME = "<unchanged>"
STAGES = ("traced", *PASS_NAMES)


def expected_text(golden: dict[str, str], stage: str) -> str:
    """The printed graph expected after ``stage``, resolving ``SAME`` to the stage before."""
    i = STAGES.index(stage)
    while golden[STAGES[i]] == SAME:
        i -= 1
    return golden[STAGES[i]]


def check_traced(build: Callable[[], Graph], golden: dict[str, str]) -> None:
    graph = build()
    graph.lint()
    assert str(graph) == golden["traced"]


def check_pass(build: Callable[[], Graph], golden: dict[str, str], pass_name: str) -> None:
    """Run the passes before ``pass_name``, then ``pass_name`` alone; compare text and ``changed``."""
    k = PASS_NAMES.index(pass_name)
    graph = run_passes(build(), DEFAULT_PASSES[:k])
    before = STAGES[k]
    assert str(graph) == expected_text(golden, before)
    result = apply_pass(DEFAULT_PASSES[k], graph)
    result.graph.lint()
    assert str(result.graph) == expected_text(golden, pass_name)
    assert result.changed is (golden[pass_name] != SAME)
