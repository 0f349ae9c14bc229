"""The control-flow corpus: eager ≡ traced ≡ optimized under every pass subset, with no graph break.

Each workflow of ``corpus_control/`` is written the way users write parallel code and control flow;
the tracer must turn every construct into graph nodes (``loop``, ``try``, ``cond``, ``map``, parallel
primitive nodes), never into a ``break`` node, and every mode must return what plain Python returns.
"""

from __future__ import annotations

from typing import Any

import pytest

from ayo_trace.ir import Graph
from tests.util import run_in_new_loop

from .corpus_control import agents, loops, parallel_wfs, try_match
from .test_differential import ALL_SUBSETS, DOCS, QUESTION, assert_all_equal, run_modes

CASES: dict[str, tuple[Any, tuple[Any, ...]]] = {
    # parallel constructs
    "gather_two_views": (parallel_wfs.gather_two_views, (QUESTION,)),
    "gather_spread_generator": (parallel_wfs.gather_spread_generator, (QUESTION,)),
    "gather_spread_list": (parallel_wfs.gather_spread_list, (DOCS,)),
    "gather_search_and_classify": (parallel_wfs.gather_search_and_classify, (QUESTION, DOCS)),
    "gather_workflows": (parallel_wfs.gather_workflows, ("generators", "coroutines")),
    "task_group_results": (parallel_wfs.task_group_results, (QUESTION,)),
    "create_task_then_await": (parallel_wfs.create_task_then_await, (QUESTION,)),
    "anyio_task_group": (parallel_wfs.anyio_task_group, (DOCS, QUESTION)),
}


def breaks(graph: Graph) -> list[str]:
    return [f"%{n.name}: {n.attrs.get('reason')}" for n in graph.walk() if n.op == "break"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_traces_whole(name: str) -> None:
    wf, args = CASES[name]
    graph = wf.graph(*args)
    graph.lint()
    assert breaks(graph) == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_eager_equals_traced_under_every_pass_subset(name: str) -> None:
    wf, args = CASES[name]
    results = run_in_new_loop(run_modes, wf, args, 11, ALL_SUBSETS)
    assert len(results) == len(ALL_SUBSETS) + 2
    assert not any(isinstance(v, tuple) and v[:1] == ("raised",) for _, v in results[:1]), results[0]
    assert_all_equal(results)
