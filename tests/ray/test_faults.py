"""Faults: an engine actor killed mid-flight is restarted by Ray; the queries it was serving are
retried (``llm`` nodes, and lowered ``llm_prefill``/``llm_decode`` nodes, on a session prefilled
again from scratch) or, with no retries left, fail with ``EngineDied`` naming the engine and the
node; no other query is disturbed; a session lost with its actor is never continued; the runtime
keeps serving."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

import ayo_trace as ayo

pytest.importorskip("ray")  # before anything that imports it

from ayo_trace.backend.cluster.ray_engines import RemoteLLM
from ayo_trace.backend.engines.base import DecodeChunk, DecodeRequest, PrefillRequest

from ..examples.conftest import load_example
from .common import default_runtime, reference, run_all
from .scripted import configs

pytestmark = [pytest.mark.ray, pytest.mark.anyio]

example = load_example("naive_rag")
QUESTIONS = [f"How do I copy a file's permission bits, case {i}?" for i in range(8)]
INPUTS = [{"question": q, "docs": example.SMALL_INPUTS["docs"]} for q in QUESTIONS]
SAMPLING = ayo.SamplingParams(max_tokens=24)


@pytest.fixture(scope="module")
async def slow_runtime(ray_cluster: Any) -> AsyncIterator[ayo.Runtime]:
    """Scripted engines as actors; decoding takes a few rounds of 8 steps at 20 ms a step."""
    async with ayo.Runtime(engines=configs(decode_s_per_step=0.02), cluster="ray") as rt:
        yield rt


@pytest.fixture(scope="module")
async def expected() -> list[str]:
    return await reference(example.naive_rag, INPUTS)


async def kill_while_decoding(rt: ayo.Runtime, instance: int = 0) -> str:
    """Kill (Ray restarts it) the actor of LLM instance ``instance`` once it is decoding."""
    sched = rt.pool("llm").schedulers[instance]
    with anyio.fail_after(60):
        while True:
            if sched.active_decodes:
                break
            await anyio.sleep(0.005)
    engine = sched.engine
    assert isinstance(engine, RemoteLLM)
    ray = pytest.importorskip("ray")
    ray.kill(engine.actor.handle, no_restart=False)
    return engine.name


async def run_and_kill(rt: ayo.Runtime, workflow: Any) -> tuple[list[Any], str]:
    killed: list[str] = []
    results: list[Any] = []

    async def queries() -> None:
        results.extend(await run_all(workflow, INPUTS))

    async def killer() -> None:
        killed.append(await kill_while_decoding(rt))

    with default_runtime(rt):
        async with anyio.create_task_group() as tg:
            tg.start_soon(queries)
            tg.start_soon(killer)
    return results, killed[0]


async def test_killing_an_llm_actor_fails_only_its_queries_then_serves_again(
    slow_runtime: ayo.Runtime, expected: list[str]
) -> None:
    restarts = slow_runtime.engines["llm"][0].stats()["restarts"]

    slow_runtime.retries = 0
    try:
        results, killed = await run_and_kill(slow_runtime, example.naive_rag)
    finally:
        slow_runtime.retries = 1

    failed = [r for r in results if isinstance(r, Exception)]
    for got, want in zip(results, expected, strict=True):
        if isinstance(got, Exception):
            assert isinstance(got, ayo.EngineDied), repr(got)
            assert got.engine == killed
            assert f"engine {killed!r}" in str(got)
            node = getattr(got, "node", None)
            assert node and f"node %{node}" in str(got) and "naive_rag.py:" in str(got)
        else:
            assert got == want
    assert 1 <= len(failed) < len(results), results  # the other instance's queries were not disturbed

    with default_runtime(slow_runtime):
        again = await run_all(example.naive_rag, INPUTS)
    assert again == expected
    assert slow_runtime.engines["llm"][0].stats()["restarts"] == restarts + 1


async def test_a_retried_llm_decode_reopens_its_session(
    slow_runtime: ayo.Runtime, expected: list[str]
) -> None:
    # Optimized, the answer is an llm_prefill and an llm_decode: the decode's retry releases the
    # lost session and prefills it again before decoding.
    results, _ = await run_and_kill(slow_runtime, example.naive_rag)

    assert results == expected


async def test_a_retried_llm_node_prefills_again(slow_runtime: ayo.Runtime, expected: list[str]) -> None:
    # Unoptimized, the answer is one idempotent `llm` node: its retry redoes prefill and decode.
    unoptimized = ayo.Workflow(example.naive_rag.fn, passes=[])

    results, _ = await run_and_kill(slow_runtime, unoptimized)

    assert results == expected


async def test_a_session_lost_with_its_actor_is_never_continued(
    ray_cluster: Any, slow_runtime: ayo.Runtime
) -> None:
    ray = ray_cluster
    llm = slow_runtime.engines["llm"][1]
    assert isinstance(llm, RemoteLLM)
    lost_before = llm.stats()["lost_sessions"]
    await llm.prefill([PrefillRequest("lost/s", "Question: why?\n")])
    killed = llm.actor.incarnation
    ray.kill(llm.actor.handle, no_restart=False)
    with anyio.fail_after(60):
        while True:  # until the restarted actor answers (the kill itself takes a moment)
            with contextlib.suppress(ayo.EngineDied):
                await llm.remote_stats()
                if llm.actor.incarnation != killed:
                    break
            await anyio.sleep(0.05)
    await llm.prefill([PrefillRequest("lost/fresh", "Question: new?\n")])

    decoded = await llm.decode([DecodeRequest("lost/s", SAMPLING), DecodeRequest("lost/fresh", SAMPLING)], 8)
    chained = await llm.prefill([PrefillRequest("lost/s", " And how?")])

    lost, fresh = decoded
    assert isinstance(lost, ayo.EngineDied) and "session 'lost/s' was lost" in str(lost)
    assert isinstance(chained[0], ayo.EngineDied)
    assert isinstance(fresh, DecodeChunk) and fresh.text  # its batch mate was served
    # released, the name opens a new session from scratch
    await llm.release(["lost/s"])
    await llm.prefill([PrefillRequest("lost/s", "Question: why?\n")])
    assert isinstance((await llm.decode([DecodeRequest("lost/s", SAMPLING)], 8))[0], DecodeChunk)
    assert llm.stats()["lost_sessions"] == lost_before + 2
    await llm.release(["lost/s", "lost/fresh"])
