"""A deadline interrupts running engine work that no one waits for any more (issue 17, point 7),
and never the work other queries still wait for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio
import pytest

import ayo_trace as ayo
from ayo_trace.backend import BatchPolicy, Runtime
from ayo_trace.backend.engines.base import PrefillRequest, PrefillResult
from ayo_trace.testing import ScriptedLLM

from ..runtime import graphs as G
from ..runtime.conftest import respond

pytestmark = pytest.mark.anyio

SLOW_S = 30.0  # a prefill that would outlive any test


class SlowPrefill(ScriptedLLM):
    """Prefills of prompts holding ``slow`` take ``SLOW_S``; counts the calls cancelled mid-way."""

    interruptible = True  # its calls take long: a deadline interrupts them

    def __init__(self, slow_s: float = SLOW_S) -> None:
        super().__init__("llm", respond)
        self.slow = "slow"
        self.slow_s = slow_s
        self.cancelled = 0
        self.finished = 0

    async def prefill(self, batch: Sequence[PrefillRequest]) -> list[PrefillResult]:
        if any(self.slow in r.text for r in batch):
            try:
                await anyio.sleep(self.slow_s)
            except anyio.get_cancelled_exc_class():
                self.cancelled += 1
                raise
        self.finished += 1
        return await super().prefill(batch)


async def test_a_deadline_cancels_the_engine_call_of_its_query() -> None:
    llm = SlowPrefill()
    async with Runtime(engines=[llm], batching=False) as rt:
        with pytest.raises(ayo.QueryTimeout) as info:
            await rt.run(G.unsplit_prompt(), {"question": "slow question"}, deadline_s=0.05)
        assert llm.cancelled == 1  # the engine call itself was interrupted, not waited for
        assert llm.sessions == {}
        assert await rt.run(G.unsplit_prompt(), {"question": "fast question"})  # and it serves on
    assert info.value.node == "answer"


async def test_a_deadline_leaves_a_batch_that_others_wait_for_running() -> None:
    llm = SlowPrefill(slow_s=0.5)
    results: dict[str, Any] = {}
    policy = BatchPolicy(max_batch=2, max_wait_s=5.0)  # the batch starts when both have arrived

    async def query(rt: Runtime, name: str, deadline: float | None) -> None:
        try:
            results[name] = await rt.run(
                G.unsplit_prompt(), {"question": f"{name} slow"}, deadline_s=deadline
            )
        except ayo.AyoError as exc:
            results[name] = exc

    async with Runtime(engines=[llm], batch=policy) as rt, anyio.create_task_group() as tg:
        tg.start_soon(query, rt, "patient", None)
        tg.start_soon(query, rt, "hasty", 0.2)
    assert isinstance(results["hasty"], ayo.QueryTimeout)
    assert isinstance(results["patient"], str) and results["patient"]
    assert llm.cancelled == 0 and llm.batch_sizes["prefill"][0] == 2  # one shared batch, run to its end


class BriefPrefill(SlowPrefill):
    """The same slow prefill on an engine that declares its calls brief (``interruptible = False``):
    its batches are not watched, so they run to their end."""

    interruptible = False


async def test_an_engine_that_is_not_interruptible_finishes_its_call_and_the_query_still_times_out() -> None:
    llm = BriefPrefill(slow_s=0.3)
    async with Runtime(engines=[llm], batching=False) as rt:
        with pytest.raises(ayo.QueryTimeout):
            await rt.run(G.unsplit_prompt(), {"question": "slow question"}, deadline_s=0.05)
        assert llm.cancelled == 0 and llm.finished == 1  # not interrupted: the call ran to its end
        assert await rt.run(G.unsplit_prompt(), {"question": "fast question"})


def test_real_engines_are_interruptible_and_zero_latency_scripted_ones_are_not() -> None:
    from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine
    from ayo_trace.backend.engines.sentence_transformers import SentenceTransformerEmbedder

    assert LlamaCppEngine.interruptible and SentenceTransformerEmbedder.interruptible
    assert not ScriptedLLM.interruptible
