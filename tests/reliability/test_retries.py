"""Retries of a lowered LLM's prefill and decode (issue 17, point 6): the session is reopened (released
and prefilled again) so the retried node sees it exactly as before its first attempt; a decode that
already handed items to its consumer is never retried; attempts are spaced by a doubling backoff."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.backend import Runtime, graph_scheduler
from ayo_trace.backend.engines.base import DecodeChunk, DecodeRequest, PrefillRequest, PrefillResult
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore

from ..runtime import graphs as G
from ..runtime.conftest import respond

pytestmark = pytest.mark.anyio

Q = "why is the sky blue?"


class FailingLLM(ScriptedLLM):
    """Raises on the ``nth`` call (1-based) of ``method``, ``times`` times in a row."""

    def __init__(self, method: str, nth: int, times: int = 1) -> None:
        super().__init__("llm", respond)
        self.method, self.nth, self.times = method, nth, times
        self.seen = 0
        self.failed = 0

    def _maybe_fail(self, method: str) -> None:
        if method != self.method:
            return
        self.seen += 1
        if self.seen >= self.nth and self.failed < self.times:
            self.failed += 1
            raise RuntimeError(f"{method} call {self.seen} failed")

    async def prefill(self, batch: Sequence[PrefillRequest]) -> list[PrefillResult]:
        self._maybe_fail("prefill")
        return await super().prefill(batch)

    async def decode(self, batch: Sequence[DecodeRequest], max_steps: int) -> list[DecodeChunk]:
        self._maybe_fail("decode")
        return await super().decode(batch, max_steps)


def runtime(llm: ScriptedLLM, **kwargs: Any) -> Runtime:
    engines = [llm, ScriptedEmbedder("embed"), ScriptedStore("store"), ScriptedReranker("rerank")]
    return Runtime(engines=engines, batching=False, decode_steps=2, retry_backoff_s=0.0, **kwargs)


async def reference(graph: ayo.Graph) -> Any:
    async with runtime(ScriptedLLM("llm", respond)) as rt:
        return await rt.run(graph, {"question": Q})


async def test_a_decode_that_failed_mid_way_is_retried_from_the_start_of_its_answer() -> None:
    want = await reference(G.split_prompt())
    llm = FailingLLM("decode", nth=3)  # two rounds of 2 tokens went to the consumer-less decode
    async with runtime(llm, retries=1) as rt:
        assert await rt.run(G.split_prompt(), {"question": Q}) == want
    assert llm.failed == 1 and llm.sessions == {}


async def test_a_failed_second_part_of_a_prompt_is_prefilled_on_the_whole_session_again() -> None:
    want = await reference(G.split_prompt())
    llm = FailingLLM("prefill", nth=2)  # the question's part, after the shared prefix
    async with runtime(llm, retries=2) as rt:
        assert await rt.run(G.split_prompt(), {"question": Q}) == want
    assert llm.failed == 1 and llm.prompts[-1].startswith("You answer questions.\nQ: ")


async def test_a_decode_that_already_streamed_items_is_not_retried() -> None:
    llm = FailingLLM("decode", nth=4)  # the expansion decode has emitted its first lines by then
    async with runtime(llm, retries=3) as rt:
        with pytest.raises(ayo.EngineError) as info:
            await rt.run(G.expansion_lowered(stream=True), {"question": Q})
    assert info.value.node == "subs"
    assert llm.failed == 1  # one failure, no retry


async def test_no_retry_without_retries() -> None:
    llm = FailingLLM("decode", nth=1)
    async with runtime(llm, retries=0) as rt:
        with pytest.raises(ayo.EngineError) as info:
            await rt.run(G.split_prompt(), {"question": Q})
    assert info.value.node == "answer" and llm.failed == 1


async def test_attempts_are_spaced_by_a_doubling_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(graph_scheduler, "backoff", record)
    llm = FailingLLM("decode", nth=1, times=3)
    engines = [llm, ScriptedEmbedder("embed"), ScriptedStore("store"), ScriptedReranker("rerank")]
    async with Runtime(engines=engines, batching=False, retries=3, retry_backoff_s=0.25) as rt:
        await rt.run(G.split_prompt(), {"question": Q})
    assert waits == [0.25, 0.5, 1.0]


def test_a_negative_or_infinite_backoff_is_a_config_error() -> None:
    for bad in (-1.0, float("inf"), float("nan")):
        with pytest.raises(ayo.ConfigError):
            Runtime(engines=[ScriptedLLM("llm")], retry_backoff_s=bad)
