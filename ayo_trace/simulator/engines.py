"""Profile engines: the scripted engines (``ayo_trace.testing``: the engine protocol kept exactly,
deterministic outputs) whose calls take the time a ``SimProfile`` says, on the device it places
them on. They are built by the runtime from ``EngineConfig(backend="profile", options=...)``
(``simulate`` makes those configs), so every instance gets its own engine scheduler, as real
engines do.

Outputs: the LLM completes a prompt with ``respond(prompt)`` (the simulation's script of what the
model says; its length in words is the number of decode steps), the embedder hashes words into
vectors, the store searches them, the reranker (and the LLM, scoring) scores word overlap. A
simulation embeds and scores the same passages many times, so each text's vector and words are
remembered (``Memo``). Only their timing comes from the profile.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, TypeVar

from ..backend.config import EngineConfig
from ..backend.engines.base import Engine
from ..testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore, words
from .devices import Device, Devices
from .profile import EngineModel

MEMO_SIZE = 100_000  # texts remembered per engine (the seed workloads hold 16 x 666 passages)

K = TypeVar("K")
V = TypeVar("V")
_MISSING: Any = object()


class Memo(Generic[K, V]):
    """What ``compute`` gave for each key, for the last ``size`` keys computed (oldest forgotten
    first): outputs are pure functions of the text, so remembering them changes no result."""

    def __init__(self, compute: Callable[[K], V], size: int = MEMO_SIZE) -> None:
        self.compute = compute
        self.size = size
        self.computed = 0
        self._held: dict[K, V] = {}

    def __len__(self) -> int:
        return len(self._held)

    def __call__(self, key: K) -> V:
        held = self._held
        value = held.get(key, _MISSING)
        if value is _MISSING:
            if len(held) >= self.size:
                del held[next(iter(held))]
            value = held[key] = self.compute(key)
            self.computed += 1
        return value


class _Profiled:
    """The profile's timing, shared by the four engines, and the words of each text they score."""

    spec: EngineModel
    device: Device
    name: str
    interruptible: ClassVar[bool] = True  # a call takes the profile's (virtual) time

    def _place(self, spec: EngineModel, devices: Devices, base: str) -> None:
        self.spec = spec
        instance = int(self.name.rpartition("#")[2]) if "#" in self.name else 0
        self.device = devices.get(spec.device_of(base, instance))
        self._words: Memo[str, tuple[list[str], frozenset[str]]] = Memo(_words_of)

    def relevance(self, context: str, text: str) -> float:
        """``overlap_score(context, text)``, from each text's remembered words."""
        want = self._words(text)[0]
        if not want:
            return 0.0
        have = self._words(context)[1]
        return math.log(sum(w in have for w in want) / len(want) + 1e-3)

    def count_tokens(self, text: str) -> int:
        return math.ceil(len(text) / self.spec.chars_per_token)

    async def _serve(
        self, op: str, seconds: float, *, items: int = 1, chars: int = 0, steps: int = 0, out_chars: int = 0
    ) -> None:
        cpt = self.spec.chars_per_token
        cost = self.spec.ops[op].seconds(items, chars / cpt, steps, out_chars / cpt)
        await self.device.run(cost, self.spec.demand)


class ProfileLLM(_Profiled, ScriptedLLM):
    """An LLM with the profile's prefill, decode and scoring times; ``respond`` scripts its outputs."""

    def __init__(
        self,
        name: str = "llm",
        *,
        spec: EngineModel,
        devices: Devices,
        base: str = "llm",
        respond: Callable[[str], str] | Mapping[str, str] | None = None,
        context_length: int = 32768,
    ) -> None:
        super().__init__(name, respond, context_length=context_length, history=False)
        self._place(spec, devices, base)

    @property
    def max_sessions(self) -> int | None:
        return self.spec.max_sessions

    async def prefill(self, batch: Any) -> Any:
        if not self.spec.prefix_cache:
            batch = [r if not r.shared else _unshared(r) for r in batch]
        return await super().prefill(batch)


def _words_of(text: str) -> tuple[list[str], frozenset[str]]:
    ws = words(text)
    return ws, frozenset(ws)


def _unshared(r: Any) -> Any:
    import dataclasses

    return dataclasses.replace(r, shared=False)


class ProfileEmbedder(_Profiled, ScriptedEmbedder):
    """An embedder with the profile's times; vectors are cached per text."""

    def __init__(
        self, name: str = "embed", *, spec: EngineModel, devices: Devices, base: str = "embed"
    ) -> None:
        super().__init__(name)
        self._place(spec, devices, base)
        self._vectors: Memo[str, list[float]] = Memo(super().vector)

    def vector(self, text: str) -> list[float]:
        return self._vectors(text)


class ProfileReranker(_Profiled, ScriptedReranker):
    """A reranker (a cross-encoder) with the profile's per-pair times."""

    def __init__(
        self, name: str = "rerank", *, spec: EngineModel, devices: Devices, base: str = "rerank"
    ) -> None:
        super().__init__(name)
        self._place(spec, devices, base)


class ProfileStore(_Profiled, ScriptedStore):
    """A vector store with the profile's search and insert times."""

    def __init__(
        self, name: str = "store", *, spec: EngineModel, devices: Devices, base: str = "store"
    ) -> None:
        super().__init__(name)
        self.history = False
        self._place(spec, devices, base)


_PROFILE = {
    "llm": ProfileLLM,
    "embedding": ProfileEmbedder,
    "rerank": ProfileReranker,
    "vector_store": ProfileStore,
}


def build_profile(config: EngineConfig, name: str, built: Mapping[str, Engine]) -> Engine:
    """The ``"profile"`` backend's factory: the profile engine of ``config.kind``, made with
    ``config.options`` (``simulate`` puts the engine's model and the devices there)."""
    return _PROFILE[config.kind](name=name, **config.options)


__all__ = ["ProfileEmbedder", "ProfileLLM", "ProfileReranker", "ProfileStore", "build_profile"]
