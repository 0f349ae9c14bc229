"""The runtime's engine calls for ``llm``, ``embed`` and ``rerank``, through the response cache when
``Runtime(cache=...)`` turns it on (``response_cache.py``), straight to the engine pools otherwise.

A base class of ``EngineClient``: each method is what the client would call on a pool, with the
cache consulted in between, so the client's primitives keep one call line each.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._concurrency import gather
from ..ir.params import SamplingParams
from .config import EngineConfig
from .engine_pool import EnginePool
from .engines.base import (
    Engine,
    LLMScoredReranker,
    PrefillRequest,
    RerankRequest,
    ScoreRequest,
    VectorStore,
)
from .response_cache import ResponseCache, engine_identity


class CachedCalls:
    cache: ResponseCache | None
    _specs: list[EngineConfig | Engine]

    if TYPE_CHECKING:

        def _scoring_llm(self, pool: EnginePool) -> EnginePool | None: ...

    async def _prefill_call(self, pool: EnginePool, request: PrefillRequest, priority: float) -> Any:
        """The engine's ``PrefillResult``, or None when the cache held the prefill back (a cached
        response may make it unnecessary)."""
        send = functools.partial(pool.prefill, request, priority)
        if self.cache is None or not await self.cache.prefill(
            request.session, request.text, request.ahead, send
        ):
            return await send()
        return None

    async def _decode_call(
        self,
        pool: EnginePool,
        session: str,
        sampling: SamplingParams,
        on_delta: Callable[[str], Awaitable[None]],
        priority: float,
    ) -> None:
        if self.cache is None:
            await pool.decode(session, sampling, on_delta, priority)
            return
        run = functools.partial(pool.decode, session, sampling, priority=priority)
        await self.cache.decode(session, sampling, self._identity(pool), run, on_delta)

    def _forget(self, session: str) -> None:
        if self.cache is not None:
            self.cache.forget(session)

    async def _embed_call(self, pool: EnginePool, texts: list[str], priority: float) -> list[list[float]]:
        if self.cache is None:
            return await pool.embed(texts, priority)
        return await self.cache.embed(self._identity(pool), texts, lambda todo: pool.embed(todo, priority))

    async def _score_call(self, pool: EnginePool, request: RerankRequest, priority: float) -> list[float]:
        run = functools.partial(self._score, pool, request, priority)
        if self.cache is None:
            return await run()
        return await self.cache.rerank(self._identity(pool), request.query, request.passages, run)

    async def _score(self, pool: EnginePool, request: RerankRequest, priority: float) -> list[float]:
        llm = self._scoring_llm(pool)
        if llm is None:
            return [float(s) for s in await pool.score(request, priority)]
        # A likelihood reranker scores with an LLM of this runtime: its scoring goes through that
        # LLM's scheduler (batched with other queries' scoring, ordered by priority, never run
        # beside the LLM's prefills and decode steps) instead of calling the engine directly.
        sched = pool.pick()
        reranker = sched.engine
        assert isinstance(reranker, LLMScoredReranker)

        async def scorer(requests: list[ScoreRequest]) -> list[float]:
            return await gather(functools.partial(llm.score, r, priority) for r in requests)

        scores = (await sched.direct("score", lambda: reranker.score_with([request], scorer)))[0]
        return [float(s) for s in scores]

    def _identity(self, pool: EnginePool) -> str:
        """What the response cache keys ``pool``'s answers by (a likelihood reranker's: with its LLM's)."""
        spec = next((s for s in self._specs if isinstance(s, EngineConfig) and s.name == pool.name), None)
        identity = engine_identity(spec if spec is not None else pool.engines[0])
        llm = self._scoring_llm(pool) if pool.kind == "rerank" else None
        return identity if llm is None else identity + self._identity(llm)

    async def _held(self, pool: EnginePool, collection: str, texts: Sequence[str]) -> set[str]:
        """Which of ``texts`` the store of ``pool`` holds in ``collection`` (ingest embeds the rest)."""
        sched = pool.pick()
        store = sched.engine
        assert isinstance(store, VectorStore)
        return set(await sched.direct("held", lambda: store.held(collection, texts)))


__all__ = ["CachedCalls"]
