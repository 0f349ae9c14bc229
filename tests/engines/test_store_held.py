"""``PgVectorStore.held``: which texts a collection holds already (what ingest leaves unembedded)."""

from __future__ import annotations

import pytest

from ayo_trace.backend.engines.pgvector_store import PgVectorStore

pytestmark = [pytest.mark.real, pytest.mark.anyio]


async def test_held_names_the_texts_a_collection_holds(pg_store: PgVectorStore, collection: str) -> None:
    assert await pg_store.held(collection, ["a"]) == set()  # no such collection yet
    await pg_store.insert(collection, ["a", "b 🙂", "c"], [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    asked = ["b 🙂", "d", "a", "a", "c\x01"]
    assert await pg_store.held(collection, asked) == {"a", "b 🙂"}
    assert await pg_store.held(collection, []) == set()
