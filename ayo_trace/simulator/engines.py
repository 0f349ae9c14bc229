"""Profile engines: the scripted engines (``ayo_trace.testing``: the engine protocol kept exactly,
deterministic outputs) whose calls take the time a ``SimProfile`` says, on the device it places
them on. They are built by the runtime from ``EngineConfig(backend="profile", options=...)``
(``simulate`` makes those configs), so every instance gets its own engine scheduler, as real
engines do.

Outputs: the LLM completes a prompt with ``respond(prompt)`` (the simulation's script of what the
model says; its length in words is the number of decode steps), the embedder hashes words into
vectors (cached per text: a simulation embeds the same passages many times), the store searches
them, the reranker scores word overlap. Only their timing comes from the profile.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from ..backend.config import EngineConfig
from ..backend.engines.base import Engine
from ..testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore
from .devices import Device, Devices
from .profile import EngineModel


class _Profiled:
    """The profile's timing, shared by the four engines."""

    spec: EngineModel
    device: Device
    name: str

    def _place(self, spec: EngineModel, devices: Devices, base: str) -> None:
        self.spec = spec
        instance = int(self.name.rpartition("#")[2]) if "#" in self.name else 0
        self.device = devices.get(spec.device_of(base, instance))

    def count_tokens(self, text: str) -> int:
        return math.ceil(len(text) / self.spec.chars_per_token)

    async def _serve(
        self, op: str, seconds: float, *, items: int = 1, chars: int = 0, steps: int = 0
    ) -> None:
        cost = self.spec.ops[op].seconds(items, chars / self.spec.chars_per_token, steps)
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
        self._vectors: dict[str, list[float]] = {}

    def vector(self, text: str) -> list[float]:
        v = self._vectors.get(text)
        if v is None:
            v = self._vectors[text] = super().vector(text)
        return v


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
