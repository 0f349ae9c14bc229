"""The cost annotation runs after the last pass, so the nodes a pass creates (split prompt parts)
carry the critical-path estimate the engine schedulers order requests by."""

from __future__ import annotations

import pytest

from ayo_trace.backend.batching import Dispatch, Waiting, next_batch
from ayo_trace.backend.config import BatchPolicy
from ayo_trace.backend.policy import critical_path_order, query_order
from ayo_trace.ir import Graph
from ayo_trace.passes import DEFAULT_PASSES, run_passes

from . import shapes


@pytest.mark.parametrize("shape", [shapes.naive_rag, shapes.query_expansion, shapes.late_holes])
def test_every_split_part_carries_its_remaining_critical_path(shape: object) -> None:
    graph: Graph = run_passes(shape(), DEFAULT_PASSES)  # type: ignore[operator]
    parts = [n for n in graph.nodes if n.op == "llm_prefill" and n.attrs.get("parts", 1) > 1]
    assert parts
    for p in parts:
        after = max(u.meta["remaining"] for u in p.users)
        assert p.meta["remaining"] > after > 0  # its own cost, then the longest path after it


def test_split_parts_are_served_critical_path_first() -> None:
    """At query start the LLM holds two prefixes run ahead: the one whose query path is longest
    (the expansion prompt: expand, search, answer) goes first though it came second."""
    graph = run_passes(shapes.query_expansion(), DEFAULT_PASSES)
    answer, queries = graph.find("answer_prefill_p1"), graph.find("queries_prefill_p1")
    queue = [
        Waiting(("prefill", "ahead"), priority=answer.meta["remaining"], arrival=0.0, ahead=True),
        Waiting(("prefill", "ahead"), priority=queries.meta["remaining"], arrival=0.001, ahead=True),
    ]
    policy = BatchPolicy(max_batch=1, max_wait_s=0.0)
    for order in (critical_path_order, query_order):
        assert next_batch(queue, policy, 0.0, order=order) == Dispatch((1,))
