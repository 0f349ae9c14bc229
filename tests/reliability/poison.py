"""Scripted engines that fail any batch holding a poisoned request, and record every batch they run.

A request is poisoned when its text holds ``POISON`` (for a search: when its vector is the scripted
embedding of a poisoned text). Each engine fails only the one kind of call it is made for (an LLM
poisoned for ``decode`` prefills and scores normally), raising ``RuntimeError`` for the whole batch
as a real engine would, and records each batch of that kind as a list of request texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio

import ayo_trace as ayo
from ayo_trace.backend.engines.base import (
    DecodeChunk,
    DecodeRequest,
    PrefillRequest,
    PrefillResult,
    RerankRequest,
    ScoreRequest,
    Vector,
)
from ayo_trace.ir import Hit
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore

POISON = "\u2620 poison"  # valid Unicode: it passes every check made before batching


def poisoned(text: str) -> bool:
    return POISON in text


class _Recorder:
    poison_kind: str
    batches: list[list[str]]

    def _record(self, kind: str, texts: list[str]) -> None:
        if kind != self.poison_kind:
            return
        self.batches.append(texts)
        if any(poisoned(t) for t in texts):
            raise RuntimeError(f"scripted {kind} failure: a poisoned request in a batch of {len(texts)}")

    def batches_with_poison_after_it_failed_alone(self) -> list[list[str]]:
        """Batches holding a poisoned request together with others, run after that request had
        already failed alone: what the quarantine must prevent."""
        alone: set[str] = set()
        bad: list[list[str]] = []
        for batch in self.batches:
            for t in batch:
                if poisoned(t) and t in alone and len(batch) > 1:
                    bad.append(batch)
            if len(batch) == 1 and poisoned(batch[0]):
                alone.add(batch[0])
        return bad

    def batches_with_poison_after_it_failed(self) -> list[list[str]]:
        """Batches holding a poisoned request together with others, after any batch holding that
        request had failed: what a quarantine of every failed member must prevent."""
        failed: set[str] = set()
        bad: list[list[str]] = []
        for batch in self.batches:
            if len(batch) > 1 and any(t in failed for t in batch):
                bad.append(batch)
            if any(poisoned(t) for t in batch):
                failed.update(batch)
        return bad

    def mixed_batches(self) -> int:
        """Batches that held poisoned and innocent requests together (the precondition)."""
        return sum(1 for b in self.batches if any(map(poisoned, b)) and not all(map(poisoned, b)))


class PoisonLLM(_Recorder, ScriptedLLM):
    def __init__(self, kind: str, **kwargs: Any) -> None:
        super().__init__("llm", **kwargs)
        self.poison_kind = kind
        self.batches = []

    async def prefill(self, batch: Sequence[PrefillRequest]) -> list[PrefillResult]:
        self._record("prefill", [self.sessions.get(r.session, "") + r.text for r in batch])
        return await super().prefill(batch)

    async def decode(self, batch: Sequence[DecodeRequest], max_steps: int) -> list[DecodeChunk]:
        self._record("decode", [self.sessions.get(r.session, "") for r in batch])
        return await super().decode(batch, max_steps)

    async def score(self, batch: Sequence[ScoreRequest]) -> list[float]:
        self._record("score", [r.context + r.continuation for r in batch])
        return await super().score(batch)


class NonAtomicPoisonLLM(PoisonLLM):
    """As ``PoisonLLM``, on an engine whose failed decode may have advanced sessions."""

    atomic_decode = False


class PoisonEmbedder(_Recorder, ScriptedEmbedder):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__("embed", **kwargs)
        self.poison_kind = "embed"
        self.batches = []

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self._record("embed", list(texts))
        return await super().embed(texts)


class PoisonReranker(_Recorder, ScriptedReranker):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__("rerank", **kwargs)
        self.poison_kind = "rerank"
        self.batches = []

    async def score(self, batch: Sequence[RerankRequest]) -> list[list[float]]:
        self._record("rerank", [r.query for r in batch])
        return await super().score(batch)


class PoisonStore(_Recorder, ScriptedStore):
    """Fails a search batch holding the vector of a poisoned text (``embedder`` makes vectors)."""

    def __init__(self, embedder: ScriptedEmbedder, texts: Sequence[str], **kwargs: Any) -> None:
        super().__init__("store", **kwargs)
        self.poison_kind = "search"
        self.batches = []
        self._names = {tuple(embedder.vector(t)): t for t in texts}

    async def search(self, collection: str, vectors: Sequence[Vector], top_k: int) -> list[list[Hit]]:
        self._record("search", [self._names.get(tuple(v), "?") for v in vectors])
        return await super().search(collection, vectors, top_k)


async def outcomes(calls: list[Any]) -> list[Any]:
    """Run ``calls`` at once; each one's result, or the ayo error it raised, in order."""
    out: list[Any] = [None] * len(calls)

    async def one(i: int) -> None:
        try:
            out[i] = await calls[i]()
        except ayo.AyoError as exc:
            out[i] = exc

    async with anyio.create_task_group() as tg:
        for i in range(len(calls)):
            tg.start_soon(one, i)
    return out
