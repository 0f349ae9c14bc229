"""The engine client: the one way to the engines, for the graph scheduler and the eager API alike.

It turns a primitive into engine-pool requests: ``prefill``/``decode``/``release`` of an LLM
``Session``, ``generate`` (all three), ``embed``, ``insert``/``insert_stream``, ``db_search``,
``search`` (embed, then search), ``ingest`` (embed, then insert), ``rerank``, and ``call``: one
request of a registered primitive (``ir.spec``) to its engine method. A traced node and
the eager call of the same primitive go through the same method, so they compute the same value.
``priority`` is the request's place within its query (the graph's remaining critical path; 0 for
eager calls); the query itself is the ``QueryTag`` of the context (``policy.serving``).

A ``Session`` is the handle of one LLM session: its id on the engine, the engine that serves it and
the parts prefilled into it so far. Whoever opens it owns it (a ``QueryContext`` for a graph, the
eager call for ``generate``) and releases it; ``release`` frees the engine's state once per
opening, however many times it is called (after the decode, and again when the query ends).
``reopen`` puts a session back to its prefilled parts (a retried node's fresh start).

This is also the seam for observing engine calls: every request of a query passes through one of
these methods.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ..ir.ops import DEFAULT_ENGINE
from ..ir.params import Hit, SamplingParams, SearchParams, check_passages, check_text
from ..ir.parsers import Parser
from ..ir.spec import PrimitiveSpec, engine_request
from . import events
from .cached_calls import CachedCalls
from .config import EngineConfig
from .engine_pool import EnginePool
from .engines.base import Engine, LLMScoredReranker, PrefillRequest, RerankRequest, Vector
from .response_cache import ResponseCache

Emit = Callable[[Any], Awaitable[None]]
"""Hands one streamed item (a parsed decode item, a vector) on to its consumers."""


@dataclass(frozen=True)
class Part:
    """One prefilled part of a session: its text, whether it is a constant prefix shared across
    queries, and whether it ran ahead of the session's other inputs."""

    text: str
    shared: bool = False
    ahead: bool = False


@dataclass(eq=False)
class Session:
    """One LLM session (see the module docstring); made by ``EngineClient.session``."""

    id: str
    engine: str | None = None  # the LLM engine's name (None: the default LLM)
    parts: list[Part] = field(default_factory=list)  # prefilled so far, replayed by ``reopen``
    open: bool = False  # holds engine state that ``release`` must free


class EngineClient(CachedCalls):
    """The engine pools of a runtime, by name, and the primitives over them (through the response
    cache when there is one, ``CachedCalls``)."""

    def __init__(self, *, share_prefixes: bool = True, cache: ResponseCache | None = None) -> None:
        self.share_prefixes = share_prefixes
        self.cache = cache
        self.pools: dict[str, EnginePool] = {}
        self._by_kind: dict[str, list[str]] = {}
        self._specs: list[EngineConfig | Engine] = []

    def set_pools(self, pools: Sequence[EnginePool], specs: Sequence[EngineConfig | Engine] = ()) -> None:
        """Serve with ``pools`` from now on (the runtime's engines, once started, built from
        ``specs``, which name what the response cache keys each engine's answers by)."""
        self._specs = list(specs)
        self.pools = {p.name: p for p in pools}
        self._by_kind = {}
        for p in pools:
            self._by_kind.setdefault(p.kind, []).append(p.name)

    def pool(self, kind: str, name: str | None = None) -> EnginePool:
        """The engine pool serving ``kind`` under ``name`` (None: the default engine of that kind)."""
        if name is None:
            names = self._by_kind.get(kind, [])
            default = DEFAULT_ENGINE.get(kind)
            if default in names:
                name = default
            elif names:
                name = names[0]
            else:
                raise ConfigError(f"no {kind} engine is configured (engines: {sorted(self.pools)})")
        pool = self.pools.get(name)
        if pool is None:
            raise ConfigError(f"no engine named {name!r} (engines: {sorted(self.pools)})")
        if pool.kind != kind:
            raise ConfigError(f"engine {name!r} is a {pool.kind} engine, not a {kind} engine")
        return pool

    def stats(self) -> dict[str, Any]:
        """Per engine, its pool's statistics (``EnginePool.stats``)."""
        return {name: pool.stats() for name, pool in self.pools.items()}

    # --- LLM sessions ----------------------------------------------------------------------------

    def session(self, session_id: str, engine: str | None = None) -> Session:
        """A handle for session ``session_id`` on ``engine``; it holds nothing until prefilled."""
        return Session(session_id, engine)

    async def prefill(
        self, session: Session, text: str, priority: float, *, shared: bool = False, ahead: bool = False
    ) -> None:
        """Extend ``session`` by ``text``. ``shared``: ``text`` is a constant prefix every query
        prefills alike (engines fork a kept copy; ignored with ``share_prefixes=False``); ``ahead``:
        the part runs before the session's later inputs are ready (see ``EnginePool``)."""
        part = Part(text, shared, ahead)
        events.record_prompt(text, await self._send(session, part, priority))
        session.parts.append(part)

    async def _send(self, session: Session, part: Part, priority: float) -> Any:
        pool = self.pool("llm", session.engine)
        session.open = True  # from the request on: a cancelled prefill may have left state
        shared = part.shared and self.share_prefixes
        return await self._prefill_call(
            pool, PrefillRequest(session.id, part.text, shared, part.ahead), priority
        )

    async def decode(
        self,
        session: Session,
        sampling: SamplingParams,
        parse: Parser | None,
        priority: float,
        *,
        emit: Emit | None = None,
    ) -> Any:
        """Decode ``session`` to its end and release it; the text, or with ``parse`` the list of
        parsed items, each handed to ``emit`` as soon as it is parsed."""
        pool = self.pool("llm", session.engine)
        parser = parse.incremental() if parse is not None else None
        parts: list[str] = []
        items: list[Any] = []
        sink = events.answer_sink()  # read in the caller's task: where a stream wants this call's deltas
        item_sink = events.answer_item_sink()

        async def on_delta(delta: str) -> None:
            parts.append(delta)
            sink(delta)
            if parser is not None:
                for item in parser.feed(delta):
                    items.append(item)
                    await item_sink(item)
                    if emit is not None:
                        await emit(item)

        try:
            await self._decode_call(pool, session.id, sampling, on_delta, priority)
        finally:
            await self.release(session)
            events.record_output("".join(parts))
        if parse is None or parser is None:
            return "".join(parts)
        for item in parser.close():
            items.append(item)
            await item_sink(item)
            if emit is not None:
                await emit(item)
        return parse.result("".join(parts), items)

    async def release(self, session: Session) -> None:
        """Free ``session``'s engine state (a no-op unless it holds some)."""
        self._forget(session.id)
        if session.open:
            session.open = False
            await self.pool("llm", session.engine).release(session.id)

    async def reopen(self, session: Session, priority: float) -> None:
        """Make ``session`` hold exactly its recorded parts again: release it, prefill them anew."""
        await self.release(session)
        for part in session.parts:
            await self._send(session, part, priority)

    async def generate(
        self,
        session: Session,
        prompt: str,
        sampling: SamplingParams,
        parse: Parser | None,
        priority: float,
        *,
        emit: Emit | None = None,
    ) -> Any:
        """Prefill ``prompt`` into a new ``session`` and decode it (released however it ends)."""
        try:
            await self.prefill(session, prompt, priority)
            return await self.decode(session, sampling, parse, priority, emit=emit)
        finally:
            await self.release(session)

    # --- embedding, store, reranking -------------------------------------------------------------

    async def embed(
        self,
        texts: str | Sequence[str],
        engine: str | None,
        priority: float,
        chunk: int | None = None,
        emit: Emit | None = None,
    ) -> Any:
        """A vector for a string, a list of vectors for a list of strings (requested ``chunk``
        texts at a time, default the engine's configured batch, each vector emitted as it comes)."""
        pool = self.pool("embedding", engine)
        if isinstance(texts, str):
            vector = (await self._embed_call(pool, [texts], priority))[0]
            if emit is not None:
                await emit(vector)
            return vector
        texts = list(texts)
        step = int(chunk) if chunk else pool.max_batch
        out: list[list[float]] = []
        for i in range(0, len(texts), step):
            vectors = await self._embed_call(pool, texts[i : i + step], priority)
            out.extend(vectors)
            if emit is not None:
                for v in vectors:
                    await emit(v)
        return out

    async def db_search(
        self, vector: Vector, params: SearchParams, engine: str | None, priority: float
    ) -> Any:
        return await self.pool("vector_store", engine).search(
            params.collection, vector, params.top_k, priority
        )

    async def search(
        self, query: str, params: SearchParams, engine: str | None, embed_engine: str | None, priority: float
    ) -> list[Hit]:
        vector = await self.embed(query, embed_engine, priority)
        return list(await self.db_search(vector, params, engine, priority))

    async def insert(
        self, collection: str, texts: Sequence[str], vectors: Sequence[Vector], engine: str | None
    ) -> int:
        return await self.pool("vector_store", engine).insert(collection, list(texts), list(vectors))

    async def insert_stream(
        self,
        collection: str,
        texts: Sequence[str],
        vectors: AsyncIterator[Vector],
        chunk: int,
        engine: str | None,
    ) -> int:
        """Insert ``texts`` with their vectors as they arrive, ``chunk`` rows at a time, in one
        transaction."""
        texts = list(texts)

        async def chunks() -> AsyncGenerator[tuple[Sequence[str], Sequence[Vector]], None]:
            buf: list[Vector] = []
            done = 0
            async for v in vectors:
                buf.append(v)
                if len(buf) >= chunk:
                    yield texts[done : done + len(buf)], buf
                    done += len(buf)
                    buf = []
            if buf:
                yield texts[done : done + len(buf)], buf

        async with aclosing(chunks()) as it:
            return await self.pool("vector_store", engine).insert_stream(collection, it)

    async def ingest(
        self,
        passages: Sequence[str],
        collection: str,
        engine: str | None,
        embed_engine: str | None,
        priority: float,
    ) -> int:
        """Embed ``passages`` and insert them into ``collection`` in one transaction; new rows."""
        check_passages(passages)  # only passages the collection lacks are embedded (and each once):
        held = await self._held(self.pool("vector_store", engine), collection, passages)
        passages = [p for p in dict.fromkeys(passages) if p not in held]
        vectors = await self.embed(passages, embed_engine, priority) if passages else []
        return await self.insert(collection, passages, vectors, engine)

    async def rerank(
        self, query: str, passages: Sequence[str | Hit], top_k: int, engine: str | None, priority: float
    ) -> list[Hit]:
        """The ``top_k`` most relevant passages, best first; str passages become ``Hit(text, score)``."""
        passages = list(passages)
        if not passages:
            return []
        texts = [p.text if isinstance(p, Hit) else check_text(p, "passage") for p in passages]
        request = RerankRequest(query, tuple(texts))
        pool = self.pool("rerank", engine)
        scores = await self._score_call(pool, request, priority)
        floats = [float(s) for _, s in zip(texts, scores, strict=True)]
        kept = sorted(range(len(floats)), key=lambda i: (-floats[i], i))[:top_k]
        hits = []  # only the kept ones are made
        for i in kept:
            p = passages[i]
            hits.append(
                dataclasses.replace(p, score=floats[i]) if isinstance(p, Hit) else Hit(texts[i], floats[i])
            )
        return hits

    # --- registered primitives -------------------------------------------------------------------

    async def call(self, spec: PrimitiveSpec, values: Mapping[str, Any], priority: float) -> Any:
        """One call of a primitive served by an engine method (``spec.engine_method``), its
        arguments by name in ``values``: one request to the engine named by ``values["engine"]``
        (None: the default of ``spec.engine_kind``), batched with other queries' requests."""
        if spec.engine_kind is None or spec.engine_method is None:
            raise ConfigError(f"primitive {spec.name!r} names no engine kind and method to serve it")
        pool = self.pool(spec.engine_kind, values.get("engine"))
        return await pool.call(spec.engine_method, engine_request(values), priority)

    def _scoring_llm(self, pool: EnginePool) -> EnginePool | None:
        """The LLM pool whose engine ``pool``'s reranker scores with (``LLMScoredReranker.llm``), or
        None: a reranker with its own model, or one whose LLM this runtime does not schedule (Ray)."""
        engine = pool.engines[0]
        if not isinstance(engine, LLMScoredReranker):
            return None
        for other in self.pools.values():
            if other.kind == "llm" and any(e is engine.llm for e in other.engines):
                return other
        return None


__all__ = ["Emit", "EngineClient", "Part", "Session"]
