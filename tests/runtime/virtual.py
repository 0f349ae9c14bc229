"""Virtual time for scheduling tests: trio's ``MockClock`` jumps to the next deadline whenever every
task is blocked, so scripted engine latencies (``anyio.sleep``) take no real time and the schedule
is exact, whatever the machine's load."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import anyio
import pytest

from ayo_trace.backend.engines.base import PrefillRequest, PrefillResult
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM

trio_testing = pytest.importorskip("trio.testing", reason="trio is in the 'dev' extra")

T = TypeVar("T")


def in_virtual_time(fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run ``fn(*args)`` on trio with a mock clock that starts at 0 and autojumps, in a new thread
    (a new event loop even under pytest's anyio runner)."""
    clock = trio_testing.MockClock(autojump_threshold=0)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, fn, *args, backend="trio", backend_options={"clock": clock}).result()


class RecordingEmbedder(ScriptedEmbedder):
    """A scripted embedder that costs ``call_s`` virtual seconds per call and records, per call,
    the texts it embedded and when the call started."""

    def __init__(self, call_s: float = 1.0) -> None:
        super().__init__("embed", call_s=call_s, per_text_s=0.0)
        self.log: list[tuple[float, tuple[str, ...]]] = []

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.log.append((anyio.current_time(), tuple(texts)))
        return await super().embed(texts)

    def order(self) -> list[str]:
        """The texts in the order the engine embedded them."""
        return [t for _, texts in self.log for t in texts]


class RecordingLLM(ScriptedLLM):
    """A scripted LLM that records, per prefill call, its sessions' texts."""

    def __init__(self, **kw: Any) -> None:
        super().__init__("llm", **kw)
        self.prefills: list[list[str]] = []

    async def prefill(self, batch: Sequence[PrefillRequest]) -> list[PrefillResult]:
        self.prefills.append([r.text for r in batch])
        return await super().prefill(batch)
