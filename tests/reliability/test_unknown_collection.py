"""A search of a collection that was never created is an error, not an empty answer (issue 17, point
10): a mistyped name raises ``UnknownCollection`` naming the collection and the fix, at the node and
line of the search when traced; an ingest, even of nothing, creates its collection, so ingesting
nothing and then searching still answers ``[]``."""

from __future__ import annotations

import os
from typing import Any

import anyio
import pytest

import ayo_trace as ayo
from ayo_trace.backend import Runtime
from ayo_trace.backend.config import BatchPolicy
from ayo_trace.backend.engine_scheduler import EngineScheduler
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore

pytestmark = pytest.mark.anyio

DOCS = ["Paris is the capital of France.", "The Nile flows through Egypt."]


def line_of(marker: str) -> int:
    with open(__file__, encoding="utf-8") as f:
        for i, line in enumerate(f, start=1):
            if marker in line and "line_of(" not in line:
                return i
    raise AssertionError(f"{marker!r} not in {__file__}")


@ayo.workflow
async def mistyped(question: str) -> list[str]:
    await ayo.ingest(DOCS, collection="kb")
    hits = await ayo.search(question, collection="kbb", top_k=1)  # the mistyped search
    return [h.text for h in hits]


@ayo.workflow
async def ingest_nothing_then_search(question: str, docs: list[str]) -> list[str]:
    await ayo.ingest(docs, collection="kb")
    hits = await ayo.search(question, collection="kb", top_k=1)
    return [h.text for h in hits]


def engines(store: ScriptedStore | None = None) -> list[Any]:
    return [
        ScriptedLLM("llm"),
        ScriptedEmbedder("embed"),
        store or ScriptedStore("store"),
        ScriptedReranker("rerank"),
    ]


def assert_names_the_collection_and_the_fix(err: ayo.UnknownCollection, collection: str) -> None:
    assert err.collection == collection and err.engine == "store"
    assert f"collection {collection!r} does not exist: ingest into it first" in str(err)
    assert isinstance(err, ayo.InvalidRequest)


# --- the scripted store's contract (the real store's is in tests/engines/test_store.py) ---------------


async def test_the_scripted_store_refuses_a_collection_never_created_or_dropped() -> None:
    emb, store = ScriptedEmbedder(), ScriptedStore()
    for queries in (await emb.embed(["q"]), []):
        with pytest.raises(ayo.UnknownCollection) as info:
            await store.search("kb", queries, 1)
        assert_names_the_collection_and_the_fix(info.value, "kb")
    assert await store.count("kb") == 0
    await store.insert("kb", DOCS, await emb.embed(DOCS))
    assert len((await store.search("kb", await emb.embed(["q"]), 1))[0]) == 1
    await store.drop("kb")
    with pytest.raises(ayo.UnknownCollection):
        await store.search("kb", await emb.embed(["q"]), 1)


async def test_the_scripted_store_creates_a_collection_on_an_empty_insert() -> None:
    emb, store = ScriptedEmbedder(), ScriptedStore()

    async def no_chunks() -> Any:
        for _ in ():
            yield [], []

    assert await store.insert("a", [], []) == 0
    assert await store.insert_stream("b", no_chunks()) == 0
    for name in ("a", "b"):
        assert await store.search(name, await emb.embed(["q", "r"]), 3) == [[], []]
        assert await store.count(name) == 0


# --- eager and traced -------------------------------------------------------------------------------


async def test_an_eager_search_of_a_mistyped_collection_raises() -> None:
    async with Runtime(engines=engines()):
        await ayo.ingest(DOCS, collection="kb")
        with pytest.raises(ayo.UnknownCollection) as info:
            await ayo.search("capital of France", collection="kbb", top_k=1)
        assert_names_the_collection_and_the_fix(info.value, "kbb")
        assert [h.text for h in await ayo.search("capital of France", collection="kb", top_k=1)] == DOCS[:1]


@pytest.mark.parametrize("optimized", [True, False])
async def test_a_traced_search_of_a_mistyped_collection_names_its_node_and_line(optimized: bool) -> None:
    question = "capital of France"
    async with Runtime(engines=engines()) as rt:
        with pytest.raises(ayo.UnknownCollection) as info:
            await rt.run(mistyped.graph(question, optimized=optimized), {"question": question})
    err = info.value
    assert_names_the_collection_and_the_fix(err, "kbb")
    assert err.node is not None and err.node.startswith("hits")
    assert err.loc is not None and os.path.basename(err.loc.file) == os.path.basename(__file__)
    assert err.loc.line == line_of("# the mistyped search")
    assert f"node %{err.node} ({err.loc})" in str(err)


async def test_a_workflow_call_raises_it_too() -> None:
    async with Runtime(engines=engines()):
        with pytest.raises(ayo.UnknownCollection) as info:
            await mistyped("capital of France")
    assert info.value.loc is not None and info.value.loc.line == line_of("# the mistyped search")


async def test_ingesting_nothing_then_searching_answers_nothing_traced_and_eager() -> None:
    async with Runtime(engines=engines()):
        assert await ingest_nothing_then_search("capital of France", []) == []
        assert await ingest_nothing_then_search("capital of France", DOCS) == DOCS[:1]
    async with Runtime(engines=engines()):
        assert await ingest_nothing_then_search.eager("capital of France", []) == []


# --- batches and retries ----------------------------------------------------------------------------


async def test_a_batch_of_searches_of_a_missing_collection_fails_as_a_whole() -> None:
    """Every search in a batch names one collection: the batch fails once, every member with its own
    copy of the error, without being bisected (two calls a search) or quarantined."""
    emb, store = ScriptedEmbedder(), ScriptedStore("store")
    sched = EngineScheduler(store, BatchPolicy(max_batch=8, max_wait_s=30.0))  # waits for all eight
    errors: list[BaseException] = []

    async def one(i: int) -> None:
        try:
            await sched.search("kbb", emb.vector(f"question {i}"), 1)
        except ayo.UnknownCollection as e:
            errors.append(e)

    async with anyio.create_task_group() as tg:
        for i in range(8):
            tg.start_soon(one, i)
    assert len(errors) == 8 and len({id(e) for e in errors}) == 8
    assert store.batch_sizes["search"] == [8]
    assert len(sched._quarantine) == 0


async def test_a_search_of_a_missing_collection_is_not_retried() -> None:
    store = ScriptedStore("store")
    async with Runtime(engines=engines(store), retries=3, retry_backoff_s=0.0) as rt:
        with pytest.raises(ayo.UnknownCollection):
            await rt.run(mistyped.graph("q", optimized=True), {"question": "q"})
    assert store.batch_sizes["search"] == [1]


# --- the real store ---------------------------------------------------------------------------------


@ayo.workflow(static=("collection",))
async def search_in(question: str, collection: str) -> list[str]:
    hits = await ayo.search(question, collection=collection, top_k=1)  # the search of the real store
    return [h.text for h in hits]


@ayo.workflow(static=("collection",))
async def ingest_then_search_in(question: str, collection: str, docs: list[str]) -> list[str]:
    await ayo.ingest(docs, collection=collection)
    hits = await ayo.search(question, collection=collection, top_k=1)
    return [h.text for h in hits]


@pytest.mark.real
async def test_on_pgvector_a_mistyped_collection_raises_at_its_line_and_an_empty_ingest_answers_nothing(
    pg_store: Any, collection: str
) -> None:
    with anyio.fail_after(120):
        async with Runtime(engines=[ScriptedLLM("llm"), ScriptedEmbedder("embed"), pg_store]):
            with pytest.raises(ayo.UnknownCollection) as info:
                await search_in("capital of France", collection)
            assert await ingest_then_search_in("capital of France", collection, []) == []
            assert await search_in("capital of France", collection) == []  # it exists now, empty
            assert await ingest_then_search_in("capital of France", collection, DOCS) == DOCS[:1]
            with pytest.raises(ayo.UnknownCollection):
                await search_in.eager("capital of France", f"{collection}_typo")
    err = info.value
    assert err.collection == collection and err.engine == pg_store.name
    assert "ingest into it first" in str(err)
    assert err.loc is not None and err.loc.line == line_of("# the search of the real store")
