"""Helpers for tests that drive an LLM engine's sessions directly: unique session names released
after the test, decoding a session to its end, and an engine's batching turned off for a while."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

from ayo_trace.backend.engines.base import DecodeChunk, DecodeRequest, LLMEngine, PrefillRequest
from ayo_trace.ir.params import SamplingParams


@asynccontextmanager
async def session_names(engine: LLMEngine) -> AsyncIterator[Callable[..., str]]:
    """Yields ``make(stem="s")``, which returns a fresh session name; all of them are released on exit."""
    made: list[str] = []

    def make(stem: str = "s") -> str:
        made.append(f"{stem}-{uuid.uuid4().hex[:8]}")
        return made[-1]

    try:
        yield make
    finally:
        await engine.release(made)


async def chunks_of(
    engine: LLMEngine, session: str, params: SamplingParams, step: int = 64
) -> list[DecodeChunk]:
    """Decode ``session`` ``step`` tokens per call until it is done; every chunk, in order."""
    chunks: list[DecodeChunk] = []
    while not (chunks and chunks[-1].done):
        chunks += await engine.decode([DecodeRequest(session, params)], step)
    return chunks


async def generate(engine: LLMEngine, session: str, params: SamplingParams, step: int = 64) -> str:
    return "".join(c.text for c in await chunks_of(engine, session, params, step))


async def complete(engine: LLMEngine, session: str, prompt: str, params: SamplingParams) -> str:
    await engine.prefill([PrefillRequest(session, prompt)])
    return await generate(engine, session, params)


@contextmanager
def batching(engine: LLMEngine, on: bool) -> Iterator[None]:
    """Run with the engine's ``batching`` option (``_session_llm``) set to ``on``, then restore it."""
    old = engine.batching  # type: ignore[attr-defined]
    engine.batching = on  # type: ignore[attr-defined]
    try:
        yield
    finally:
        engine.batching = old  # type: ignore[attr-defined]
