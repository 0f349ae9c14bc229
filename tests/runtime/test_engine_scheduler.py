"""Engine schedulers batch across concurrent requesters, with no background task."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from ayo_trace.backend.config import BatchPolicy
from ayo_trace.backend.engine_pool import EnginePool
from ayo_trace.backend.engine_scheduler import EngineScheduler
from ayo_trace.backend.engines.base import PrefillRequest
from ayo_trace.errors import EngineError, Overloaded
from ayo_trace.ir import SamplingParams
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM

pytestmark = pytest.mark.anyio


async def gather(*fns: Any) -> list[Any]:
    out: list[Any] = [None] * len(fns)

    async def one(i: int) -> None:
        out[i] = await fns[i]()

    async with anyio.create_task_group() as tg:
        for i in range(len(fns)):
            tg.start_soon(one, i)
    return out


async def test_concurrent_requests_form_one_batch() -> None:
    emb = ScriptedEmbedder(call_s=0.01)
    sched = EngineScheduler(emb, BatchPolicy(max_batch=16, max_wait_s=0.05))
    texts = [f"text {i}" for i in range(8)]
    out = await gather(*(lambda t=t: sched.embed([t]) for t in texts))
    assert out == [[emb.vector(t)] for t in texts]
    assert emb.batch_sizes["embed"] == [8]


async def test_requests_arriving_while_the_engine_is_busy_batch_together() -> None:
    emb = ScriptedEmbedder(call_s=0.05)
    sched = EngineScheduler(emb, BatchPolicy(max_batch=16, max_wait_s=0.0))

    async def late(i: int) -> Any:
        await anyio.sleep(0.01)
        return await sched.embed([f"late {i}"])

    await gather(lambda: sched.embed(["first"]), *(lambda i=i: late(i) for i in range(5)))
    assert emb.batch_sizes["embed"] == [1, 5]


async def test_a_full_queue_refuses_at_once() -> None:
    emb = ScriptedEmbedder(call_s=0.1)
    sched = EngineScheduler(emb, BatchPolicy(max_batch=1, max_wait_s=0.0), max_queue=2)
    results: list[str] = []

    async def one(i: int) -> None:
        await anyio.sleep(0.001 * i)
        try:
            await sched.embed([str(i)])
            results.append("ok")
        except Overloaded as exc:
            assert exc.engine == "embed"
            results.append("overloaded")

    async with anyio.create_task_group() as tg:
        for i in range(5):
            tg.start_soon(one, i)
    # one request runs, two wait in the queue, the other two are refused
    assert sorted(results) == ["ok"] * 3 + ["overloaded"] * 2
    assert sched.stats()["rejected"] == 2


async def test_an_engine_failure_fails_only_that_batch() -> None:
    emb = ScriptedEmbedder(fail=lambda t: t == "bad")
    sched = EngineScheduler(emb, BatchPolicy(max_batch=1, max_wait_s=0.0))
    outcomes: dict[str, str] = {}

    async def one(t: str) -> None:
        try:
            await sched.embed([t])
            outcomes[t] = "ok"
        except EngineError as exc:
            outcomes[t] = str(exc)
            assert isinstance(exc.__cause__, RuntimeError)

    async with anyio.create_task_group() as tg:
        for t in ("a", "bad", "b"):
            tg.start_soon(one, t)
    assert outcomes["a"] == outcomes["b"] == "ok"
    assert "engine 'embed'" in outcomes["bad"] and "RuntimeError" in outcomes["bad"]
    assert sched.stats()["failed_batches"] == 1


async def test_a_cancelled_waiting_request_leaves_the_queue() -> None:
    emb = ScriptedEmbedder(call_s=0.05)
    sched = EngineScheduler(emb, BatchPolicy(max_batch=1, max_wait_s=0.0))
    async with anyio.create_task_group() as tg:
        tg.start_soon(sched.embed, ["first"])
        await anyio.sleep(0.005)  # "first" leads: its batch is running
        with anyio.move_on_after(0.01):
            await sched.embed(["cancelled"])
        assert sched.stats()["queued"] == 0
    assert emb.batch_sizes["embed"] == [1]
    assert emb.calls["embed"] == 1


async def test_a_cancelled_leader_still_delivers_to_its_batch() -> None:
    emb = ScriptedEmbedder(call_s=0.05)
    sched = EngineScheduler(emb, BatchPolicy(max_batch=8, max_wait_s=0.01))
    got: list[Any] = []

    async def follower(t: str) -> None:
        got.append(await sched.embed([t]))

    async with anyio.create_task_group() as tg:
        with anyio.CancelScope() as leader_scope:
            tg.start_soon(follower, "b")
            tg.start_soon(follower, "c")

            async def cancel_soon() -> None:
                await anyio.sleep(0.03)  # the batch is running by now
                leader_scope.cancel()

            tg.start_soon(cancel_soon)
            await sched.embed(["a"])  # first in: the leader
            pytest.fail("the leader was cancelled")
    assert emb.batch_sizes["embed"] == [3]
    assert sorted(got) == sorted([[emb.vector("b")], [emb.vector("c")]])


async def test_continuous_batching_advances_all_decoding_sessions_together() -> None:
    llm = ScriptedLLM(respond=lambda p: " one two three four five six", decode_s_per_step=0.002)
    sched = EngineScheduler(llm, BatchPolicy(max_batch=8, max_wait_s=0.005), decode_steps=2)
    texts: dict[str, list[str]] = {}

    async def session(i: int) -> None:
        s = f"s{i}"
        await sched.prefill(PrefillRequest(s, f"prompt {i}"))

        async def on_delta(d: str) -> None:
            texts.setdefault(s, []).append(d)

        assert await sched.decode(s, SamplingParams(), on_delta) == "stop"
        await sched.release(s)

    await gather(*(lambda i=i: session(i) for i in range(4)))
    assert {s: "".join(t) for s, t in texts.items()} == {
        f"s{i}": " one two three four five six" for i in range(4)
    }
    assert all(len(t) == 3 for t in texts.values())  # six tokens, two per round
    assert llm.batch_sizes["decode"] == [4, 4, 4]
    assert llm.sessions == {}


async def test_a_pool_balances_load_and_pins_sessions() -> None:
    a, b = ScriptedLLM("llm#0", decode_s_per_step=0.005), ScriptedLLM("llm#1", decode_s_per_step=0.005)
    pool = EnginePool("llm", "llm", [EngineScheduler(e, BatchPolicy(max_wait_s=0.0)) for e in (a, b)])

    async def session(i: int) -> None:
        s = f"s{i}"
        await pool.prefill(PrefillRequest(s, "hello"))

        async def on_delta(d: str) -> None:
            return None

        await pool.decode(s, SamplingParams(max_tokens=4), on_delta)
        await pool.release(s)

    await gather(*(lambda i=i: session(i) for i in range(6)))
    assert a.calls["prefill"] > 0 and b.calls["prefill"] > 0
    # every session decoded where it was prefilled (an unknown session would raise InvalidRequest)
    assert sorted(a.released + b.released) == [f"s{i}" for i in range(6)]
    assert a.sessions == b.sessions == {}
