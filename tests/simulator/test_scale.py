"""A thousand queries through the real runtime in virtual time: every one completes, a closed loop
of one client gives exactly the single-query schedule a thousand times over, and many queries at
once batch. The wall time is bounded by the marker (the issue asks for under 10 s on an idle
machine; ``bench/simulate.py --speed`` records it) rather than asserted: this machine is shared."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo

from .test_schedule import PROMPT, ask, four_tokens, llm_only

pytest.importorskip("trio", reason="trio is in the 'dev' extra")


def run(**load: Any) -> ayo.SimResult:
    return ayo.simulate(
        ask,
        lambda i: {"prompt": PROMPT},
        profile=llm_only(),
        respond=four_tokens,
        runtime_options={"decode_steps": 1},
        queries=1000,
        **load,
    )


@pytest.mark.timeout(120)
def test_a_thousand_queries_one_after_another_repeat_the_single_schedule() -> None:
    r = run(concurrency=1)
    assert r.completed == 1000 and not r.errors
    assert min(r.latencies) == pytest.approx(0.5) and max(r.latencies) == pytest.approx(0.5)
    assert r.makespan_s == pytest.approx(500.0)


@pytest.mark.timeout(120)
def test_a_thousand_queries_at_once_all_complete_and_batch() -> None:
    r = run()
    assert r.completed == 1000 and not r.errors
    assert r.engines["llm"]["mean_batch"] > 8  # admission lets 16 in at once; they share calls
    # better than one client's 2 queries/s, below the prefill's bound (0.1 s of prompt per query)
    assert 2.0 < r.throughput_qps < 10.0
    assert r.bottleneck == "llm" and 0.99 <= r.engines["llm"]["utilization"] <= 1.0 + 1e-9
