"""bench/handwritten.py, the hand-parallelized peer: it starts what it can early (the query rewrite
during the indexing, indexing chunks at once) and answers what the workflow answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

import ayo_trace as ayo
from bench import handwritten as H
from bench import workflows as W
from bench.e2e_engines import scripted_engines


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def logged(log: list[str]) -> list[Any]:
    """``bench/e2e_engines.scripted_engines`` whose LLM prefills and store inserts are logged."""
    llm, embed, store, rerank = scripted_engines()
    prefill, insert = llm.prefill, store.insert

    async def logged_prefill(batch: Sequence[Any]) -> Any:
        log.append("prefill")
        return await prefill(batch)

    async def logged_insert(collection: str, texts: Sequence[str], vectors: Sequence[Any]) -> int:
        log.append(f"insert {len(texts)}")
        return await insert(collection, texts, vectors)

    llm.prefill, store.insert = logged_prefill, logged_insert  # type: ignore[method-assign]
    embed.per_text_s = 0.002  # indexing takes a while: 64 passages, 0.13 s
    return [llm, embed, store, rerank]


@pytest.mark.anyio
async def test_the_advanced_workload_rewrites_while_it_indexes_in_chunks() -> None:
    log: list[str] = []
    inputs = W.inputs_for("seed_advanced_rag", W.QUERIES[0], passages=64)
    async with ayo.Runtime(engines=logged(log), batching=False):
        async with ayo.current_runtime().serve():
            by_hand = await H.seed_advanced_rag(**inputs)
        traced = await W.make_workflows([])["seed_advanced_rag"](**inputs)
    assert by_hand == traced
    first_insert = next(i for i, e in enumerate(log) if e.startswith("insert"))
    assert log.index("prefill") < first_insert  # the rewrite started before any chunk was stored
    assert log[: log.index("prefill", first_insert)].count(f"insert {H.INGEST_CHUNK}") == 2
