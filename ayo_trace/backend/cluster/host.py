"""``EngineHost``: the engines of one Ray actor, run in the actor's own process and event loop.

Plain Python (``ray_engines`` wraps it in ``ray.remote``), so it is tested and read without Ray.
A host builds its engines from their ``EngineConfig``s in its own process (model weights load
there), starts them on the first call (an actor that Ray restarts starts them again the same way),
and answers every call with a ``Reply`` that names its *incarnation*: a random id drawn when the
host is built, so a restarted actor answers with a new one.

Sessions: an LLM session's KV state lives in one incarnation. Every prefill, decode and release of a
session the caller already opened carries the incarnation that opened it (``expect``); a host of
another incarnation does not serve it but reports it in ``Reply.lost``, so a session lost with its
actor is never continued on the restarted one (a chained prefill would otherwise open a fresh
session holding only the later part of the prompt).
"""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio

from ...errors import AyoError, ConfigError, EngineError
from ..config import Backend, EngineConfig, build_engine
from ..engines.base import DecodeRequest, Engine, LLMEngine, PrefillRequest

# Methods ``call`` may forward, per engine kind (LLM sessions go through prefill/decode/release).
_CALLS = {
    "llm": frozenset({"score", "count_tokens"}),
    "embedding": frozenset({"embed"}),
    "rerank": frozenset({"score"}),
    "vector_store": frozenset({"insert", "search", "count", "drop"}),
}


@dataclass(frozen=True)
class Reply:
    """What a host answers: its incarnation, the value (or the error the call raised), and the
    indices of requests not served because their session lived in another incarnation."""

    incarnation: str
    value: Any = None
    error: AyoError | None = None
    lost: tuple[int, ...] = field(default_factory=tuple)


class EngineHost:
    """Builds, starts and serves the engines of one actor, each given as (config, instance): the
    first is the actor's own engine; later ones wrap it (a likelihood reranker scoring with this LLM)
    and live beside it."""

    def __init__(
        self, engines: Sequence[tuple[EngineConfig, int]], backends: Mapping[str, Backend] | None = None
    ) -> None:
        self.incarnation = uuid.uuid4().hex[:12]
        self._configs = list(engines)
        # The driver's registry entries for these configs (a backend registered there, like the
        # tests' "scripted", need not be registered in this process).
        self._backends = dict(backends or {})
        self._engines: dict[str, Engine] = {}
        self._started: list[Engine] = []
        self._lock: anyio.Lock | None = None
        self._ready = False

    def _reply(self, value: Any = None, lost: Sequence[int] = ()) -> Reply:
        return Reply(self.incarnation, value, None, tuple(lost))

    def _failed(self, name: str, exc: Exception) -> Reply:
        if isinstance(exc, EngineError | ConfigError):  # errors that pickle by their args
            err: AyoError = exc
        else:
            err = EngineError(f"{type(exc).__name__}: {exc}", engine=name)
        err.add_note("in the Ray actor:\n" + "".join(traceback.format_exception(exc)).rstrip())
        err.__cause__ = err.__context__ = None  # the traceback travels as text
        err.__traceback__ = None
        return Reply(self.incarnation, None, err)

    async def _start(self) -> None:
        if self._ready:
            return
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            if self._ready:
                return
            by_name: dict[str, Engine] = {}
            for config, instance in self._configs:
                engine = build_engine(
                    config, by_name, instance=instance, backend=self._backends.get(config.backend)
                )
                by_name[config.name] = by_name[engine.name] = engine
                self._engines[engine.name] = engine
                await engine.start()
                self._started.append(engine)
            self._ready = True

    def _engine(self, name: str) -> Engine:
        engine = self._engines.get(name)
        if engine is None:
            raise EngineError(f"this actor hosts {sorted(self._engines)}, not {name!r}", engine=name)
        return engine

    # --- the actor's methods ---------------------------------------------------------------------

    async def describe(self) -> Reply:
        """Start the engines; per engine, what its proxy must answer without a call."""
        try:
            await self._start()
        except Exception as exc:
            return self._failed(self._configs[0][0].name, exc)
        info: dict[str, dict[str, Any]] = {}
        for name, engine in self._engines.items():
            facts: dict[str, Any] = {"kind": engine.kind}
            if isinstance(engine, LLMEngine):
                facts["context_length"] = engine.context_length
                facts["max_sessions"] = engine.max_sessions
            if engine.kind == "embedding":
                facts["dim"] = engine.dim  # type: ignore[attr-defined]
            info[name] = facts
        return self._reply(info)

    async def prefill(
        self, name: str, batch: Sequence[PrefillRequest], expect: Sequence[str | None]
    ) -> Reply:
        return await self._sessions(name, "prefill", batch, expect)

    async def decode(
        self, name: str, batch: Sequence[DecodeRequest], max_steps: int, expect: Sequence[str | None]
    ) -> Reply:
        return await self._sessions(name, "decode", batch, expect, max_steps)

    async def release(self, name: str, sessions: Sequence[str], expect: Sequence[str | None]) -> Reply:
        """Free the sessions this incarnation holds; the others died with an earlier one."""
        try:
            await self._start()
            engine = self._engine(name)
            assert isinstance(engine, LLMEngine)
            mine = [s for s, inc in zip(sessions, expect, strict=True) if inc in (None, self.incarnation)]
            if mine:
                await engine.release(mine)
            return self._reply()
        except Exception as exc:
            return self._failed(name, exc)

    async def _sessions(
        self,
        name: str,
        method: str,
        batch: Sequence[Any],
        expect: Sequence[str | None],
        max_steps: int | None = None,
    ) -> Reply:
        try:
            await self._start()
            engine = self._engine(name)
            assert isinstance(engine, LLMEngine)
            lost = [i for i, inc in enumerate(expect) if inc not in (None, self.incarnation)]
            live = [r for i, r in enumerate(batch) if i not in lost]
            results: list[Any] = []
            if live:
                if method == "prefill":
                    results = list(await engine.prefill(live))
                else:
                    assert max_steps is not None
                    results = list(await engine.decode(live, max_steps))
            it = iter(results)
            return self._reply([None if i in lost else next(it) for i in range(len(batch))], lost)
        except Exception as exc:
            return self._failed(name, exc)

    async def call(self, name: str, method: str, args: tuple[Any, ...]) -> Reply:
        """Any other protocol method of engine ``name`` (embed, score, search, insert, ...)."""
        try:
            await self._start()
            engine = self._engine(name)
            if method not in _CALLS.get(engine.kind, ()):
                raise EngineError(f"a Ray actor does not forward {method!r}", engine=name)
            value = getattr(engine, method)(*args)
            if hasattr(value, "__await__"):
                value = await value
            return self._reply(value)
        except Exception as exc:
            return self._failed(name, exc)

    async def stats(self) -> Reply:
        return self._reply({name: e.stats() for name, e in self._engines.items()})

    async def stop(self) -> Reply:
        """Stop the engines, last started first (the actor is killed after)."""
        errors: list[str] = []
        while self._started:
            engine = self._started.pop()
            try:
                await engine.stop()
            except Exception as exc:
                errors.append(f"{engine.name}: {type(exc).__name__}: {exc}")
        self._ready = False
        return self._reply(errors)


__all__ = ["EngineHost", "Reply"]
