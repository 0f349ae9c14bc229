"""An opt-in cache of engine responses for deterministic calls: greedy ``llm``, ``embed``, ``rerank``.

``Runtime(cache=CacheConfig(...))`` turns it on (off by default). A response is kept under a key made
of the call's kind, the engine's identity (its config: backend, model and every option; or, for an
engine object, its class, name and model), the whole input and every parameter (``SamplingParams``
for ``llm``), hashed with SHA-256; so any change of any of them is a different key, and a stale
response can never be returned for it. Only deterministic calls are cached: an ``llm`` call with
``temperature > 0`` is neither looked up nor stored, and a call that fails or is cancelled stores
nothing.

What a hit saves:

* ``llm``: the decode is not run. When the whole prompt is known before any engine work (eager
  calls, unoptimized graphs, and the last part of a split prompt whose full text has a cached
  response), its prefill is not run either; parts prefilled ahead of time (``split_prefill``) ran
  before the prompt was complete, and stay done. The parser sees the cached text as one delta.
* ``embed``: only the texts without a cached vector go to the engine, in one call.
* ``rerank``: the scoring is not run.

Two identical requests in flight at once compute once: the second waits for the first and takes
its result (``joined`` in the stats); if the first fails, the second computes for itself.

Bounds: in memory, the least recently used responses go once there are more than ``max_entries``
or their sizes (pickled) add up to more than ``max_bytes``. With ``disk_dir``, every response is
also written to a ``diskcache.Cache`` there (bounded by ``disk_bytes``, its own LRU eviction), which
a later ``Runtime`` on the same folder reads: a memory miss that hits on disk comes back to memory.
Disk access runs in a worker thread, one at a time.

``stats()`` (in ``Runtime.stats()["cache"]``): ``hits``, ``misses``, ``joined``, ``disk_hits``,
``stores``, ``evictions``, ``entries``, ``bytes``, and ``saved``: the engine work not done
(``llm_decodes``, ``llm_prefills``, ``embedded_texts``, ``rerank_calls``).
"""

from __future__ import annotations

import hashlib
import pickle
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from ..errors import ConfigError
from ..ir.params import SamplingParams

Deliver = Callable[[str], Awaitable[None]]

_MISSING = object()


@dataclass(frozen=True)
class CacheConfig:
    """How much the response cache keeps: at most ``max_entries`` responses of at most ``max_bytes``
    in all (pickled sizes) in memory; with ``disk_dir``, also on disk, up to ``disk_bytes``."""

    max_entries: int = 10_000
    max_bytes: int = 64 * 2**20
    disk_dir: str | Path | None = None
    disk_bytes: int = 2**30

    def __post_init__(self) -> None:
        if self.max_entries < 1 or self.max_bytes < 1 or self.disk_bytes < 1:
            raise ConfigError("cache: max_entries, max_bytes and disk_bytes must be at least 1")


def engine_identity(spec: Any) -> str:
    """What makes an engine's answers what they are: a config's backend, kind, model and options, or
    an engine object's class, name and model (whatever attribute names it)."""
    if hasattr(spec, "backend") and hasattr(spec, "options"):
        options = sorted((k, repr(v)) for k, v in dict(spec.options).items())
        return repr((spec.kind, spec.backend, spec.model, spec.device, options))
    model = next(
        (
            getattr(spec, a)
            for a in ("model", "_model_name", "_model_path", "model_path")
            if getattr(spec, a, None)
        ),
        None,
    )
    return repr((type(spec).__module__, type(spec).__qualname__, getattr(spec, "name", None), str(model)))


def cache_key(kind: str, engine: str, payload: Any, params: Any = None) -> str:
    return hashlib.sha256(repr((kind, engine, payload, params)).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(eq=False)
class _Prompt:
    """What the runtime prefilled into one session so far, and a last part held back."""

    text: str = ""
    held: Callable[[], Awaitable[Any]] | None = None  # the prefill not sent yet (a hit may skip it)


@dataclass(eq=False)
class ResponseCache:
    config: CacheConfig
    _memory: OrderedDict[str, tuple[Any, int]] = field(default_factory=OrderedDict)
    _bytes: int = 0
    _flights: dict[str, anyio.Event] = field(default_factory=dict)
    _prompts: dict[str, _Prompt] = field(default_factory=dict)
    counters: Counter[str] = field(default_factory=Counter)
    saved: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._disk: Any = None
        self._disk_limiter = anyio.CapacityLimiter(1)
        if self.config.disk_dir is not None:
            import diskcache

            folder = Path(self.config.disk_dir).expanduser()
            self._disk = diskcache.Cache(str(folder), size_limit=self.config.disk_bytes)

    def close(self) -> None:
        """Close the disk cache's files (diskcache reopens them on the next access)."""
        if self._disk is not None:
            self._disk.close()

    def stats(self) -> dict[str, Any]:
        names = ("hits", "misses", "joined", "disk_hits", "stores", "evictions")
        return {
            **{n: self.counters[n] for n in names},
            "entries": len(self._memory),
            "bytes": self._bytes,
            "saved": {
                n: self.saved[n] for n in ("llm_decodes", "llm_prefills", "embedded_texts", "rerank_calls")
            },
        }

    # --- storage ---------------------------------------------------------------------------------

    async def get(self, key: str) -> Any:
        """The response under ``key`` (memory, then disk), or ``_MISSING``."""
        if key in self._memory:
            self._memory.move_to_end(key)
            return self._memory[key][0]
        if self._disk is None:
            return _MISSING
        value = await anyio.to_thread.run_sync(self._disk.get, key, _MISSING, limiter=self._disk_limiter)
        if value is not _MISSING:
            self.counters["disk_hits"] += 1
            self._remember(key, value)
        return value

    async def put(self, key: str, value: Any) -> None:
        self.counters["stores"] += 1
        self._remember(key, value)
        if self._disk is not None:
            await anyio.to_thread.run_sync(self._disk.set, key, value, limiter=self._disk_limiter)

    def _remember(self, key: str, value: Any) -> None:
        size = len(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        if key in self._memory:
            self._bytes -= self._memory.pop(key)[1]
        if size > self.config.max_bytes:
            return  # larger than the whole budget: kept on disk only
        self._memory[key] = (value, size)
        self._bytes += size
        while len(self._memory) > self.config.max_entries or self._bytes > self.config.max_bytes:
            _, (_, dropped) = self._memory.popitem(last=False)
            self._bytes -= dropped
            self.counters["evictions"] += 1

    async def through(self, key: str, compute: Callable[[], Awaitable[Any]]) -> tuple[Any, bool]:
        """``(response, computed_here)``: the cached response, else the one an identical request in
        flight computes, else ``compute()``'s, stored."""
        while True:
            value = await self.get(key)
            if value is not _MISSING:
                self.counters["hits"] += 1
                return value, False
            flight = self._flights.get(key)
            if flight is None:
                break
            await flight.wait()  # then look again: it stored its response, or failed
            self.counters["joined"] += 1
        self.counters["misses"] += 1
        done = self._flights[key] = anyio.Event()
        try:
            value = await compute()
            await self.put(key, value)
        finally:
            del self._flights[key]
            done.set()
        return value, True

    # --- llm -------------------------------------------------------------------------------------

    async def prefill(self, session: str, text: str, ahead: bool, send: Callable[[], Awaitable[Any]]) -> bool:
        """Note a prefill of ``session``; True when it is held back (the caller sends nothing now):
        the last part of a prompt whose whole text has a cached response."""
        p = self._prompts.setdefault(session, _Prompt())
        if p.held is not None:  # another part follows the held one: the held one goes first
            held, p.held = p.held, None
            await held()
        p.text += text
        if ahead or await self.get(_prompt_key(p.text)) is _MISSING:
            return False
        p.held = send
        return True

    async def decode(
        self,
        session: str,
        sampling: SamplingParams,
        engine: str,
        run: Callable[[Deliver], Awaitable[Any]],
        deliver: Deliver,
    ) -> None:
        """Decode ``session`` through the cache: ``run(deliver)`` decodes it on the engine."""
        p = self._prompts.get(session, _Prompt())

        async def send_held() -> None:
            if p.held is not None:
                held, p.held = p.held, None
                await held()

        if not sampling.greedy:
            await send_held()
            await run(deliver)
            return

        async def compute() -> str:
            await send_held()
            parts: list[str] = []

            async def collect(delta: str) -> None:
                parts.append(delta)
                await deliver(delta)

            await run(collect)
            return "".join(parts)

        key = cache_key("llm", engine, p.text, sampling)
        text, computed = await self.through(key, compute)
        if computed:
            await self.put(_prompt_key(p.text), True)
            return
        self.saved["llm_decodes"] += 1
        if p.held is not None:
            p.held = None
            self.saved["llm_prefills"] += 1
        if text:
            await deliver(text)

    def forget(self, session: str) -> None:
        """The session was released: a part still held back is never sent."""
        self._prompts.pop(session, None)

    # --- embed and rerank ------------------------------------------------------------------------

    async def embed(
        self, engine: str, texts: Sequence[str], run: Callable[[list[str]], Awaitable[list[list[float]]]]
    ) -> list[list[float]]:
        """A vector per text: cached ones, the rest from one ``run`` call on the texts that miss."""
        keys = {t: cache_key("embed", engine, t) for t in texts}
        found: dict[str, Any] = {}
        for text in dict.fromkeys(texts):
            found[text] = await self._get_counted(keys[text])
        todo = [t for t, v in found.items() if v is _MISSING and keys[t] not in self._flights]
        waiting = [t for t, v in found.items() if v is _MISSING and keys[t] in self._flights]
        self.saved["embedded_texts"] += len(texts) - len(todo) - len(waiting)
        if todo:
            found.update(await self._compute_embeddings(keys, todo, run))
        for text in waiting:
            value, computed = await self.through(keys[text], lambda t=text: _one(run, t))  # type: ignore[misc]
            if not computed:
                self.saved["embedded_texts"] += 1
            found[text] = value
        return [found[t] for t in texts]

    async def _get_counted(self, key: str) -> Any:
        value = await self.get(key)
        if value is not _MISSING:
            self.counters["hits"] += 1
        return value

    async def _compute_embeddings(
        self,
        keys: Mapping[str, str],
        todo: list[str],
        run: Callable[[list[str]], Awaitable[list[list[float]]]],
    ) -> dict[str, Any]:
        events = {t: anyio.Event() for t in todo}
        for t, event in events.items():
            self._flights[keys[t]] = event
        self.counters["misses"] += len(todo)
        try:
            vectors = await run(todo)
            for t, v in zip(todo, vectors, strict=True):
                await self.put(keys[t], v)
        finally:
            for t, event in events.items():
                del self._flights[keys[t]]
                event.set()
        return dict(zip(todo, vectors, strict=True))

    async def rerank(
        self, engine: str, query: str, texts: Sequence[str], run: Callable[[], Awaitable[Any]]
    ) -> list[float]:
        scores, computed = await self.through(cache_key("rerank", engine, (query, tuple(texts))), run)
        if not computed:
            self.saved["rerank_calls"] += 1
        return list(scores)


async def _one(run: Callable[[list[str]], Awaitable[list[list[float]]]], text: str) -> list[float]:
    return (await run([text]))[0]


def _prompt_key(prompt: str) -> str:
    """Marks a prompt that has some cached ``llm`` response (under any parameters)."""
    return cache_key("llm-prompt", "", prompt)


__all__ = ["CacheConfig", "ResponseCache", "cache_key", "engine_identity"]
