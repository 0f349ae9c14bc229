"""The simulator reproduces hand-computed schedules exactly: the real runtime's batching and
ordering over profile engines, in virtual time (trio's MockClock)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

import ayo_trace as ayo

pytest.importorskip("trio", reason="trio is in the 'dev' extra")

PROMPT = "x" * 400  # 100 tokens at 4 characters per token


@ayo.workflow
async def ask(prompt: str) -> Any:
    return await ayo.llm(prompt, max_tokens=16)


def llm_only(max_wait_s: float = 0.002) -> ayo.SimProfile:
    """One LLM: prefill 1 ms per token; a decode step 0.1 s alone, 0.15 s for two sessions."""
    return ayo.SimProfile(
        engines={
            "llm": ayo.EngineModel(
                "llm",
                ops={
                    "prefill": ayo.Cost(per_token_s=0.001),
                    "decode": ayo.Cost(per_step_s=((1, 0.1), (2, 0.15))),
                },
                batch=ayo.BatchPolicy(max_batch=16, max_wait_s=max_wait_s),
            ),
        }
    )


def four_tokens(prompt: str) -> str:
    return " a b c d"  # four tokens, then the end of the sequence: four decode rounds of one step


def run(**load: Any) -> ayo.SimResult:
    return ayo.simulate(
        ask,
        lambda i: {"prompt": PROMPT},
        profile=llm_only(),
        respond=four_tokens,
        runtime_options={"decode_steps": 1},
        **load,
    )


def test_one_client_runs_the_queries_one_after_another() -> None:
    # prefill 100 tokens (0.1 s, alone: no wait for batch mates), four rounds of 0.1 s: 0.5 s each
    r = run(concurrency=1, queries=2)
    assert r.latencies == pytest.approx((0.5, 0.5))
    assert r.makespan_s == pytest.approx(1.0)
    assert r.throughput_qps == pytest.approx(2.0)
    assert r.engines["llm"]["utilization"] == pytest.approx(1.0)
    assert r.engines["llm"]["calls"] == 12  # 2 prefills, 8 decode rounds, 2 releases (no time)


def test_two_queries_at_once_share_a_prefill_batch_and_every_decode_round() -> None:
    # the prefill batch waits max_wait_s (2 ms) for mates, then costs 200 tokens (0.2 s); then four
    # rounds of two sessions at 0.15 s: both answers at 0.002 + 0.2 + 0.6
    r = run(queries=2)
    assert r.latencies == pytest.approx((0.802, 0.802))
    assert r.engines["llm"]["calls"] == 6  # a prefill, four rounds, the two releases together
    assert r.engines["llm"]["mean_batch"] == pytest.approx(2.0)


def test_a_later_query_waits_behind_the_earlier_ones_decode() -> None:
    # query 0 arrives at 0 and runs alone (prefill 0.1, rounds to 0.5); query 1 arrives at 0.25 and
    # its prefill waits: the query-level policy serves query 0's rounds first. Then query 1: prefill
    # [0.5, 0.6], four rounds alone [0.6, 1.0].
    r = run(rate=4.0, queries=2)
    assert sorted(r.latencies) == pytest.approx([0.5, 0.75])
    assert r.makespan_s == pytest.approx(1.0)


def test_a_full_engine_queue_refuses_queries_as_the_runtime_does() -> None:
    profile = ayo.SimProfile(engines={"llm": dataclasses.replace(llm_only().engines["llm"], max_queue=1)})
    r = ayo.simulate(
        ask,
        lambda i: {"prompt": PROMPT},
        profile=profile,
        respond=four_tokens,
        queries=4,
        runtime_options={"max_active": None},
    )
    assert r.completed + len(r.errors) == 4 and r.completed >= 1
    assert r.errors and all("Overloaded" in e for e in r.errors)


def test_the_timeline_shows_the_simulated_schedule_in_virtual_time_without_the_setup() -> None:
    async def setup(rt: ayo.Runtime) -> None:
        await ask(PROMPT)  # a query before the clock starts: not in the load's timeline

    r = ayo.simulate(
        ask,
        lambda i: {"prompt": PROMPT},
        profile=llm_only(),
        respond=four_tokens,
        concurrency=1,
        queries=2,
        setup=setup,
        runtime_options={"decode_steps": 1, "timeline_size": 1000},
    )
    assert r.timeline is not None
    runs = [e for e in r.timeline.events if e["ph"] == "X"]
    busy: dict[str, float] = {}
    batches = [e for e in runs if e["pid"] == 2]
    for e in batches:
        busy[e["cat"]] = busy.get(e["cat"], 0.0) + e["dur"] / 1e6
    # as test_one_client_runs_the_queries_one_after_another: two prefills of 0.1 s, 8 rounds of 0.1 s
    assert busy["prefill"] == pytest.approx(0.2)
    assert busy["decode"] == pytest.approx(0.8)
    assert len({e["args"]["query"] for e in runs if e["pid"] == 1}) == 2
    assert run(concurrency=1, queries=1).timeline is None  # no timeline kept: none returned
