"""Query-level scheduling in virtual time: queries finish one after another in SRPT-like order, none
starves under a stream of new ones, admission bounds the queries in service, deadlines order the
queue and fail a query that cannot make it before it takes engine time.

Each query here is a ``Runtime.serve`` block of eager embed calls on one scripted embedder that
costs 1 virtual second per call and runs one call at a time (``max_batch=1``), so the engine's call
log is the schedule."""

from __future__ import annotations

import anyio
import pytest

from ayo_trace.backend import BatchPolicy, Runtime
from ayo_trace.errors import Overloaded, QueryTimeout

from .virtual import RecordingEmbedder, in_virtual_time

ONE_AT_A_TIME = BatchPolicy(max_batch=1, max_wait_s=0.0)


def runtime(emb: RecordingEmbedder, policy: str = "query", **kw: object) -> Runtime:
    return Runtime(engines=[emb], batch=ONE_AT_A_TIME, policy=policy, **kw)  # type: ignore[arg-type]


async def query(
    rt: Runtime, name: str, steps: int, *, at: float, work: float | None = None, done: dict[str, float]
) -> None:
    """A query arriving at virtual time ``at`` that makes ``steps`` engine calls one after another
    (estimated work: ``steps`` seconds unless ``work`` says otherwise)."""
    await anyio.sleep(at)
    async with rt.serve(name, float(steps) if work is None else work):
        for i in range(steps):
            await rt.embed(f"{name}{i}")
    done[name] = anyio.current_time()


async def schedule(policy: str, plan: list[tuple[str, int, float]]) -> tuple[list[str], dict[str, float]]:
    emb = RecordingEmbedder()
    done: dict[str, float] = {}
    async with runtime(emb, policy) as rt, anyio.create_task_group() as tg:
        for name, steps, at in plan:
            tg.start_soon(lambda n=name, s=steps, a=at: query(rt, n, s, at=a, done=done))
    return emb.order(), done


def test_queries_arriving_together_run_shortest_first() -> None:
    plan = [("a", 3, 0.0), ("b", 1, 0.001), ("c", 2, 0.002)]
    order, done = in_virtual_time(schedule, "query", plan)
    # a's first call started before b and c arrived; then SRPT: b (1 left), c (2), a (2 left, ranked 3)
    assert order == ["a0", "b0", "c0", "c1", "a1", "a2"]
    assert done == pytest.approx({"b": 2.0, "c": 4.0, "a": 6.0})


def test_the_critical_path_policy_interleaves_the_same_queries() -> None:
    plan = [("a", 3, 0.0), ("b", 1, 0.001), ("c", 2, 0.002)]
    order, done = in_virtual_time(schedule, "critical_path", plan)
    assert order == ["a0", "b0", "c0", "a1", "c1", "a2"]
    assert done == pytest.approx({"b": 2.0, "c": 5.0, "a": 6.0})


def test_a_short_query_arriving_later_goes_ahead_of_a_long_one_at_the_next_call() -> None:
    order, done = in_virtual_time(schedule, "query", [("long", 3, 0.0), ("short", 1, 0.5)])
    assert order == ["long0", "short0", "long1", "long2"]
    assert done == pytest.approx({"short": 2.0, "long": 4.0})


async def stream(policy: str) -> tuple[dict[str, float], list[str]]:
    """One long query at t=0, then a short query every 0.5 s for 40 s: twice what the engine serves."""
    emb = RecordingEmbedder()
    done: dict[str, float] = {}
    async with runtime(emb, policy, max_active=None) as rt:
        with anyio.move_on_after(45):
            async with anyio.create_task_group() as tg:

                async def long() -> None:
                    await query(rt, "long", 5, at=0.0, done=done)
                    tg.cancel_scope.cancel()  # the stream goes on; the test has seen enough

                tg.start_soon(long)
                for i in range(80):
                    tg.start_soon(lambda i=i: query(rt, f"s{i}-", 1, at=0.25 + 0.5 * i, done=done))
    return done, emb.order()


def test_no_query_starves_under_a_continuous_stream_of_shorter_ones() -> None:
    done, order = in_virtual_time(stream, "query")
    # Its rank is arrival + work = 5: only the short queries ranked before that (s0-s7, arrived by
    # t=3.75, ranked 1.25 ... 4.75) go ahead of it; every later one waits for it, however many come.
    assert order[:13] == ["long0", *(f"s{i}-0" for i in range(8)), "long1", "long2", "long3", "long4"]
    assert done["long"] == pytest.approx(13.0)


async def admitted(max_active: int | None) -> tuple[dict[str, float], dict[str, float]]:
    emb = RecordingEmbedder()
    started: dict[str, float] = {}
    done: dict[str, float] = {}
    batch = BatchPolicy(max_batch=16, max_wait_s=0.0)
    async with Runtime(engines=[emb], batch=batch, max_active=max_active) as rt:

        async def one(i: int) -> None:
            await anyio.sleep(0.001 * i)
            async with rt.serve(f"q{i}"):
                started[f"q{i}"] = anyio.current_time()
                await rt.embed(f"q{i}")
            done[f"q{i}"] = anyio.current_time()

        async with anyio.create_task_group() as tg:
            for i in range(5):
                tg.start_soon(one, i)
    return started, done


def test_admission_bounds_the_queries_in_service_and_admits_in_arrival_order() -> None:
    started, done = in_virtual_time(admitted, 2)
    # (queries admitted in one instant start in the order trio runs their tasks: any)
    assert [round(started[f"q{i}"]) for i in range(5)] == [0, 0, 1, 2, 2]
    # q0 runs alone (q1 arrives during its call), then the gate lets two at a time into a batch
    assert sorted(round(t) for t in done.values()) == [1, 2, 2, 3, 3]


def test_without_admission_every_query_starts_at_once() -> None:
    _, done = in_virtual_time(admitted, None)
    assert sorted(round(t) for t in done.values()) == [1, 2, 2, 2, 2]


async def overflow() -> list[str]:
    emb = RecordingEmbedder()
    outcome: list[str] = []
    async with Runtime(engines=[emb], batch=ONE_AT_A_TIME, max_active=1, max_queue=2) as rt:

        async def one(i: int) -> None:
            await anyio.sleep(0.001 * i)
            try:
                async with rt.serve(f"q{i}"):
                    await rt.embed(f"q{i}")
                outcome.append(f"q{i} ok")
            except Overloaded:
                outcome.append(f"q{i} refused")

        async with anyio.create_task_group() as tg:
            for i in range(4):
                tg.start_soon(one, i)
        assert rt.stats()["admission"]["refused"] == 1
    return outcome


def test_past_the_queue_bound_a_query_is_refused_at_once() -> None:
    assert in_virtual_time(overflow) == ["q3 refused", "q0 ok", "q1 ok", "q2 ok"]


async def with_deadlines(fail_early: bool = True) -> tuple[list[str], dict[str, str]]:
    emb = RecordingEmbedder()
    outcome: dict[str, str] = {}
    async with runtime(emb, max_active=None, fail_early=fail_early) as rt:

        async def one(name: str, at: float, deadline: float | None) -> None:
            await anyio.sleep(at)
            try:
                async with rt.serve(name, 1.0, deadline):
                    await rt.embed(name)
                outcome[name] = f"ok at {anyio.current_time():.0f}"
            except QueryTimeout as exc:
                outcome[name] = f"timeout at {anyio.current_time():.0f}: {exc}"

        async with anyio.create_task_group() as tg:
            tg.start_soon(one, "busy", 0.0, None)  # holds the engine for [0, 1]
            tg.start_soon(one, "late", 0.1, 10.0)  # deadline 10.1
            tg.start_soon(one, "soon", 0.2, 3.0)  # deadline 3.2: goes first
            tg.start_soon(one, "plain", 0.3, None)  # rank 1.3: before both deadlines
            tg.start_soon(one, "hopeless", 0.4, 0.5)  # 1 s of work in 0.5 s: fails at once
            tg.start_soon(one, "expires", 0.5, 1.2)  # still queued at its deadline (1.7): never runs
    return emb.order(), outcome


def test_deadlines_order_the_queue_and_unmeetable_ones_fail_before_running() -> None:
    order, outcome = in_virtual_time(with_deadlines)
    assert order == ["busy", "plain", "soon", "late"]
    assert outcome["busy"] == "ok at 1" and outcome["plain"] == "ok at 2"
    assert outcome["soon"] == "ok at 3" and outcome["late"] == "ok at 4"
    assert outcome["hopeless"].startswith("timeout at 0:") and "cannot be met" in outcome["hopeless"]
    assert outcome["expires"].startswith("timeout at 2:") and "cannot be met" in outcome["expires"]


def test_without_fail_early_deadlines_still_order_the_queue_but_estimates_fail_nothing() -> None:
    order, outcome = in_virtual_time(with_deadlines, False)
    assert order == [
        "busy",
        "hopeless",
        "plain",
        "expires",
        "soon",
        "late",
    ]  # by rank: deadline, else arrival + work
    assert all(v.startswith("ok") for v in outcome.values()), outcome
