"""Instances of one engine share its work by size, not by request count: an embed request of fifty
texts weighs fifty, so a pool does not send every large request to one instance while small ones
keep the other looking busy (found with the simulator: the optimized naive RAG's question
embedding, sent beside each query's passages, left a 16-GPU embedder pool 58-99% loaded and cost
8-20% of its throughput)."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo

pytest.importorskip("trio", reason="trio is in the 'dev' extra")


@ayo.workflow
async def index_and_ask(docs: list[str], question: str) -> Any:
    vectors = await ayo.embed(docs)  # one request of len(docs) texts
    asked = await ayo.embed(question)  # a request of one text, at the same time
    return [len(vectors), len(asked)]


def test_a_pool_balances_embedding_by_texts() -> None:
    profile = ayo.SimProfile(
        engines={
            "embed": ayo.EngineModel(
                "embedding",
                ops={"embed": ayo.Cost(fixed_s=0.05, per_item_s=0.01)},
                instances=2,
                batch=ayo.BatchPolicy(max_batch=1024, max_wait_s=0.0),
            )
        }
    )
    r = ayo.simulate(
        index_and_ask,
        lambda i: {"docs": [f"passage {i} {j}" for j in range(50)], "question": f"q{i}"},
        profile=profile,
        queries=8,
        runtime_options={"max_active": None},
    )
    assert r.completed == 8
    # 8 x 51 texts at 10 ms (and 50 ms a call): about 2.1 s each when shared evenly; balanced by
    # request count, one instance took the large requests (3.1 s, the other 37% busy)
    assert r.makespan_s < 2.4
    assert min(r.devices.values()) > 0.9, r.devices
