"""Engines that oversubscribe the CPU take turns in the scheduling policy's order (``cpu_share.py``).

In virtual time: a ``CpuShare`` gives its turns best key first, skips waiters cancelled while they
wait, passes on a turn granted to a task cancelled as it was granted, and never leaves the CPU idle
while a batch waits; a runtime with ``cpu_share=True`` serves an older query's call on one engine
before a newer query's call on another, where without the share both run at once."""

from __future__ import annotations

import os
from typing import Any

import anyio
import pytest

from ayo_trace.backend import BatchPolicy, Runtime
from ayo_trace.backend.cpu_share import CpuShare, oversubscribed

from .virtual import RecordingEmbedder, in_virtual_time


def test_oversubscribed_counts_only_engines_that_compute_here() -> None:
    assert oversubscribed([2, 2], cores=2)
    assert not oversubscribed([2, 2], cores=4)
    assert not oversubscribed([4], cores=2)  # one engine alone has nothing to share with
    assert not oversubscribed([2, 0, 0], cores=1)
    assert oversubscribed([1, 1, 1], cores=2)


async def _turns(keys: dict[str, tuple[float, ...]], cancel: str | None = None) -> list[tuple[str, float]]:
    share = CpuShare()
    log: list[tuple[str, float]] = []

    async def use(name: str, key: tuple[float, ...], at: float) -> None:
        await anyio.sleep(at)
        async with share.turn(key):
            log.append((name, anyio.current_time()))
            await anyio.sleep(1.0)

    async with anyio.create_task_group() as tg:
        tg.start_soon(use, "first", (9.0,), 0.0)
        scopes = {}
        for name, key in keys.items():
            scope = anyio.CancelScope()
            scopes[name] = scope

            async def waiter(
                name: str = name, key: tuple[float, ...] = key, scope: anyio.CancelScope = scope
            ) -> None:
                with scope:
                    await use(name, key, 0.1)

            tg.start_soon(waiter)
        if cancel is not None:
            await anyio.sleep(0.5)
            scopes[cancel].cancel()
    return log


def test_turns_go_best_key_first_without_idle_time() -> None:
    log = in_virtual_time(_turns, {"late": (5.0,), "early": (1.0,), "middle": (3.0,)})
    assert [n for n, _ in log] == ["first", "early", "middle", "late"]
    starts = [t for _, t in log]
    assert starts == pytest.approx([0.0, 1.0, 2.0, 3.0])  # each turn starts as the last one ends


def test_a_waiter_cancelled_while_it_waits_is_skipped() -> None:
    log = in_virtual_time(_turns, {"late": (5.0,), "early": (1.0,)}, "early")
    assert [n for n, _ in log] == ["first", "late"]
    assert log[1][1] == pytest.approx(1.0)


class CpuEmbedder(RecordingEmbedder):
    """A recording embedder that says it computes on more threads than the machine has cores."""

    def __init__(self, name: str) -> None:
        super().__init__(call_s=1.0)
        self.name = name

    def cpu_threads(self) -> int:
        return (os.cpu_count() or 1) + 1


async def _two_queries(share: bool) -> dict[str, list[float]]:
    """Query ``old`` (started first) embeds on ``a`` then on ``b``; query ``new`` embeds on ``b``
    twice. Returns when each engine's calls started."""
    a, b = CpuEmbedder("a"), CpuEmbedder("b")
    one = BatchPolicy(max_batch=1, max_wait_s=0.0)
    async with Runtime(engines=[a, b], batch=one, cpu_share=share) as rt:
        assert (rt.cpu_share is not None) == share

        async def old() -> None:
            async with rt.serve("old", 2.0):
                await rt.embed("old-a", engine="a")
                await rt.embed("old-b", engine="b")

        async def new() -> None:
            await anyio.sleep(0.01)
            async with rt.serve("new", 2.0):
                await rt.embed("new-b1", engine="b")
                await rt.embed("new-b2", engine="b")

        async with anyio.create_task_group() as tg:
            tg.start_soon(old)
            tg.start_soon(new)
    return {"a": [t for t, _ in a.log], "b": [t for t, _ in b.log], "b_order": b.order()}  # type: ignore[dict-item]


def test_with_the_share_an_older_query_runs_before_a_newer_one_on_another_engine() -> None:
    shared = in_virtual_time(_two_queries, True)
    # ``old`` runs on a (0-1 s) while ``new`` waits for the CPU; then ``old``'s call on b goes first.
    assert shared["b_order"] == ["old-b", "new-b1", "new-b2"]
    assert shared["a"] == pytest.approx([0.0])
    assert shared["b"] == pytest.approx([1.0, 2.0, 3.0])


def test_without_the_share_engines_run_side_by_side() -> None:
    apart = in_virtual_time(_two_queries, False)
    assert apart["b_order"][0] == "new-b1"  # b was free at once: the newer query started there
    assert apart["b"][0] == pytest.approx(0.01)


async def _next_step_elsewhere() -> list[str]:
    """Query ``old`` embeds on ``a`` then on ``c``; query ``new``, waiting for the CPU meanwhile,
    embeds on ``b``. Returns the calls in the order they started."""
    a, b, c = CpuEmbedder("a"), CpuEmbedder("b"), CpuEmbedder("c")
    one = BatchPolicy(max_batch=1, max_wait_s=0.0)
    starts: list[tuple[float, str]] = []
    async with Runtime(engines=[a, b, c], batch=one, cpu_share=True) as rt:

        async def old() -> None:
            async with rt.serve("old", 2.0):
                await rt.embed("old-a", engine="a")
                await rt.embed("old-c", engine="c")

        async def new() -> None:
            await anyio.sleep(0.01)
            async with rt.serve("new", 2.0):
                await rt.embed("new-b", engine="b")

        async with anyio.create_task_group() as tg:
            tg.start_soon(old)
            tg.start_soon(new)
    for e in (a, b, c):
        starts += [(t, text) for t, texts in e.log for text in texts]
    return [text for _, text in sorted(starts)]


def test_a_finished_turn_waits_for_its_query_to_ask_for_the_next_step() -> None:
    """The CPU is handed on only after the tasks the batch woke have run: ``old``'s next call, on
    a third engine, ranks before ``new``'s, which had been waiting longer."""
    assert in_virtual_time(_next_step_elsewhere) == ["old-a", "old-c", "new-b"]


def test_the_cpu_engines_say_how_many_threads_they_compute_on() -> None:
    """Constructed only (no model loaded): what ``Runtime`` adds up to decide on a share."""
    from ayo_trace.backend.engines.likelihood_rerank import LikelihoodReranker
    from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine
    from ayo_trace.backend.engines.sentence_transformers import (
        CrossEncoderReranker,
        SentenceTransformerEmbedder,
    )
    from ayo_trace.backend.engines.transformers_llm import TransformersEngine

    llama = LlamaCppEngine("llm", threads=3)
    assert llama.cpu_threads() == 3
    assert TransformersEngine("t", gguf_file="x.gguf", threads=2).cpu_threads() == 2
    assert TransformersEngine("t", gguf_file="x.gguf", device="cuda").cpu_threads() == 0
    assert CrossEncoderReranker("c", threads=1).cpu_threads() == 1
    assert SentenceTransformerEmbedder("e", device="cuda").cpu_threads() == 0
    assert SentenceTransformerEmbedder("e").cpu_threads() >= 1  # torch's own count
    # the likelihood reranker computes on its LLM's engine, which takes the turns
    assert LikelihoodReranker(llama).cpu_threads() == 0


def test_the_share_is_on_by_default_where_the_engines_oversubscribe_the_cores() -> None:
    async def shares(engines: list[Any]) -> bool:
        async with Runtime(engines=engines) as rt:
            return rt.cpu_share is not None

    assert in_virtual_time(shares, [CpuEmbedder("a"), CpuEmbedder("b")])
    assert not in_virtual_time(shares, [CpuEmbedder("a"), RecordingEmbedder()])  # one engine computes here
