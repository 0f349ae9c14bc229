"""SentenceTransformerEmbedder on the bundled all-MiniLM-L6-v2, against sentence-transformers itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest

from ayo_trace.backend.engines.sentence_transformers import (
    SentenceTransformerEmbedder,
    default_embedding_model,
)
from ayo_trace.errors import ConfigError, EngineError

pytestmark = [pytest.mark.real, pytest.mark.anyio]

TEXTS = [
    "The Eiffel Tower is in Paris.",
    "Photosynthesis turns light into chemical energy.",
    "a",
    "A much longer sentence that goes on for a while, so that the batch has to pad the shorter ones "
    "to its length when they are encoded together.",
    "Berlin is the capital of Germany.",
    "Wie spät ist es?",
    "🙂 emoji and punctuation!?",
    "The mitochondria is the powerhouse of the cell.",
]


@pytest.fixture(scope="module")
def reference() -> Iterator[Any]:
    """sentence-transformers' own model on the same files, for comparison."""
    from sentence_transformers import SentenceTransformer

    yield SentenceTransformer(str(default_embedding_model()), device="cpu", local_files_only=True)


async def test_vectors_match_sentence_transformers_encode(
    embedder: SentenceTransformerEmbedder, reference: Any
) -> None:
    vectors = await embedder.embed(TEXTS)
    expected = reference.encode(TEXTS, convert_to_numpy=True, show_progress_bar=False)
    assert np.allclose(np.asarray(vectors), expected, atol=1e-5)


async def test_vectors_are_plain_float_lists_of_the_model_dimension(
    embedder: SentenceTransformerEmbedder,
) -> None:
    vectors = await embedder.embed(TEXTS[:2])
    assert embedder.dim == 384
    assert len(vectors) == 2
    assert all(type(v) is list and len(v) == 384 and all(type(x) is float for x in v) for v in vectors)
    assert np.allclose(np.linalg.norm(np.asarray(vectors), axis=1), 1.0, atol=1e-5)


async def test_eight_concurrent_single_calls_equal_one_batch_of_eight(
    embedder: SentenceTransformerEmbedder,
) -> None:
    batch = await embedder.embed(TEXTS)
    singles: dict[int, list[float]] = {}

    async def one(i: int) -> None:
        [singles[i]] = await embedder.embed([TEXTS[i]])

    async with anyio.create_task_group() as tg:
        for i in range(len(TEXTS)):
            tg.start_soon(one, i)
    assert np.allclose(np.asarray(batch), np.asarray([singles[i] for i in range(len(TEXTS))]), atol=1e-5)


async def test_a_batch_larger_than_batch_size_matches_the_whole(
    embedder: SentenceTransformerEmbedder,
) -> None:
    small = SentenceTransformerEmbedder(batch_size=3, threads=2)
    async with small:
        assert np.allclose(
            np.asarray(await small.embed(TEXTS)), np.asarray(await embedder.embed(TEXTS)), atol=1e-5
        )


async def test_similar_texts_are_closer_than_unrelated_ones(embedder: SentenceTransformerEmbedder) -> None:
    capital, germany, cell = np.asarray(
        await embedder.embed(["What is the capital of Germany?", TEXTS[4], TEXTS[7]])
    )
    assert capital @ germany > capital @ cell + 0.3


async def test_an_empty_batch_embeds_to_nothing(embedder: SentenceTransformerEmbedder) -> None:
    assert await embedder.embed([]) == []


async def test_a_missing_model_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        await SentenceTransformerEmbedder(model_path=tmp_path / "missing").start()


async def test_embedding_before_start_is_an_engine_error() -> None:
    engine = SentenceTransformerEmbedder()
    with pytest.raises(EngineError, match="before start"):
        await engine.embed(["x"])
    with pytest.raises(EngineError, match="not started"):
        _ = engine.dim
