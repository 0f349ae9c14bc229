"""A query served by one batch gets the engine back for its next step before the next query's batch.

Each query reranks two passages with the likelihood reranker (two scores on the LLM) and then asks
the LLM for one token, like a RAG answer after its rerank; three arrive together and the LLM runs
batches of two. The query-level policy ranks the first query first, so its answer's prefill must run
right after its scores, before the second query's scores. It used to run after them: the prefill
arrives some scheduler passes after the scores' batch returns and then waits ``max_wait_s`` for
batch mates, and meanwhile the next query's scores, a full batch, took the engine for a whole call.
On trio in virtual time (``virtual.py``: the schedule is exact) and on asyncio in real time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import anyio
import anyio.lowlevel
import pytest

from ayo_trace.backend import BatchPolicy, Runtime
from ayo_trace.backend.engines.base import PrefillRequest, PrefillResult, ScoreRequest
from ayo_trace.backend.engines.likelihood_rerank import LikelihoodReranker
from ayo_trace.ir.params import SamplingParams
from ayo_trace.testing import ScriptedLLM
from tests.util import run_in_new_loop

from .virtual import in_virtual_time


class TimedLLM(ScriptedLLM):
    """A scripted LLM whose calls take virtual time, as a real engine's do; it logs each call."""

    interruptible: ClassVar[bool] = True  # a real engine's calls take milliseconds or more

    def __init__(self, call_s: float) -> None:
        super().__init__("llm", respond=lambda prompt: "x", call_s=call_s)
        self.log: list[tuple[str, tuple[str, ...]]] = []

    async def prefill(self, batch: Sequence[PrefillRequest]) -> list[PrefillResult]:
        self.log.append(("prefill", tuple(r.text.split()[-1] for r in batch)))
        return await super().prefill(batch)

    async def score(self, batch: Sequence[ScoreRequest]) -> list[float]:
        self.log.append(("score", tuple(sorted(r.context.split("Passage: ")[1].split()[0] for r in batch))))
        return await super().score(batch)


async def three_queries(
    max_wait_s: float, call_s: float
) -> tuple[list[tuple[str, tuple[str, ...]]], dict[str, float]]:
    llm = TimedLLM(call_s)
    done: dict[str, float] = {}
    engines: list[Any] = [llm, LikelihoodReranker(llm, "rerank")]
    async with Runtime(engines=engines, batch=BatchPolicy(max_batch=2, max_wait_s=max_wait_s)) as rt:

        async def query(name: str) -> None:
            async with rt.serve(name, 3.0):
                await rt.rerank(f"question {name}", [f"{name}-a text", f"{name}-b text"], top_k=1)
                await rt.llm(f"answer {name}", SamplingParams(max_tokens=1))
            done[name] = anyio.current_time()

        async with anyio.create_task_group() as tg:
            for name in ("q1", "q2", "q3"):
                tg.start_soon(query, name)
                await anyio.lowlevel.checkpoint()  # arrival order q1, q2, q3
    return [c for c in llm.log if c[0] != "decode"], done


@pytest.mark.parametrize("backend", ["trio", "asyncio"])
@pytest.mark.parametrize("max_wait_s", [0.0, 0.002])
def test_a_query_finishes_before_the_next_query_gets_the_engine(max_wait_s: float, backend: str) -> None:
    if backend == "trio":
        calls, done = in_virtual_time(three_queries, max_wait_s, 1.0)
    else:  # real time, calls of 20 ms: asyncio wakes tasks in another order than trio
        calls, done = run_in_new_loop(three_queries, max_wait_s, 0.02)
    assert calls == [
        ("score", ("q1-a", "q1-b")),
        ("prefill", ("q1",)),
        ("score", ("q2-a", "q2-b")),
        ("prefill", ("q2",)),
        ("score", ("q3-a", "q3-b")),
        ("prefill", ("q3",)),
    ]
    assert done["q1"] < done["q2"] < done["q3"]
