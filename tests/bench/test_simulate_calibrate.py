"""bench/simulate_calibrate.py: a validation's profiles scaled, per engine operation, to the busy
time the real engines spent. On virtual-time runs: a profile that is uniformly (or in one
operation) slower than the engines it describes is calibrated back to their speed, and then
predicts their latencies."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo
from bench import e2e
from bench import simulate_calibrate as C
from bench import simulate_validate as V
from bench import workflows as W

pytest.importorskip("trio", reason="trio is in the 'dev' extra")

OPTS = e2e.Options(
    workflows=["naive_rag"],
    concurrency=[1, 3],
    queries=3,
    bound_queries=1,
    variants=["unoptimized", "optimized"],
)
SCRIPT = V.Script(
    chars_per_token=4.0, answers={"naive_rag": {q.question: "In its own module." for q in W.QUERIES}}
)


def test_busy_time_is_summed_per_engine_and_kind_over_batches_only() -> None:
    events = [
        {"ph": "M", "pid": 2, "name": "thread_name"},
        {"ph": "X", "pid": 1, "cat": "llm_prefill", "dur": 9e6, "args": {"query": "q"}},
        {"ph": "X", "pid": 2, "cat": "prefill", "dur": 1.5e6, "args": {"engine": "llm"}},
        {"ph": "X", "pid": 2, "cat": "prefill", "dur": 0.5e6, "args": {"engine": "llm#1"}},
        {"ph": "X", "pid": 2, "cat": "embed", "dur": 0.25e6, "args": {"engine": "embed"}},
    ]
    assert C.busy_by_operation(events) == {"llm.prefill": 2.0, "embed.embed": 0.25}


def test_scaling_multiplies_every_term_of_the_operations_named_and_no_other() -> None:
    profile = V.scripted_profile(1)
    out = C.scaled(profile, {"llm.decode": 2.0, "rerank.score": 0.5, "llm.nothing": 3.0}, "test")
    decode, before = out.engines["llm"].ops["decode"], profile.engines["llm"].ops["decode"]
    assert decode.fixed_s == pytest.approx(2 * before.fixed_s)
    assert decode.per_step_s == tuple((b, pytest.approx(2 * s)) for b, s in before.per_step_s)
    assert out.engines["rerank"].ops["score"].per_item_s == pytest.approx(0.5 * 5e-4)
    assert out.engines["llm"].ops["prefill"] == profile.engines["llm"].ops["prefill"]
    assert "x2.000 (test)" in decode.source and out.source.endswith("test")
    assert "llm.prefill" in C.operations(profile) and "rerank.score" in C.operations(profile)
    assert C.factors({"a.x": 2.0, "b.y": 1.0}, {"a.x": 4.0}, ["a.x", "b.y", "c.z"]) == {
        "a.x": 0.5,
        "b.y": 1.0,  # the simulation never ran it: nothing to scale by
        "c.z": 1.0,
    }


def as_real_run(sim: dict[tuple[str, str, int], ayo.SimResult]) -> dict[str, Any]:
    """A simulation written down as a real run's record (what ``bench/e2e.py`` saves)."""
    real: dict[str, Any] = {"workflows": {}, "engine_use": {}}
    for (w, v, c), s in sim.items():
        assert s.timeline is not None
        busy = C.busy_by_operation(s.timeline.events)
        real["engine_use"][f"{w}/{v}/c{c}"] = {k: {"busy_s": b} for k, b in busy.items()}
        point = {"p50": s.p50, "qps": s.throughput_qps, "queries": s.queries, "errors": []}
        real["workflows"].setdefault(w, {"variants": {}})["variants"].setdefault(v, {})[str(c)] = point
    return real


@pytest.mark.timeout(300)
@pytest.mark.parametrize("per_variant", [False, True])
@pytest.mark.parametrize("drift", ["uniform", "prefill only"])
def test_a_profile_slower_than_the_engines_is_calibrated_back_to_them(per_variant: bool, drift: str) -> None:
    truth = V.scripted_profile(20)
    blocks = [V.block_key(w, c) for w in OPTS.workflows for c in OPTS.concurrency]
    engines = V.simulate_run({b: truth for b in blocks}, SCRIPT, OPTS, 16, 100_000)
    real = as_real_run(engines)  # "the real run": engines exactly as fast as the truth
    # the store's inserts run as transactions beside the batches, not in the timeline: a drift in
    # them is not seen (nor calibrated); here they are as fast as the truth's
    seen = [op for op in C.operations(truth) if op != "store.insert"]
    slow = C.scaled(truth, dict.fromkeys(seen if drift == "uniform" else ["llm.prefill"], 3.0), "slow")
    profiles = {b: slow for b in blocks}
    before = V.simulate_run(profiles, SCRIPT, OPTS, 16, 100_000)
    assert all(before[k].p50 > 1.05 * engines[k].p50 for k in engines)  # the slow profile misses
    after = V.simulate_run(C.calibrated(real, before, profiles, OPTS, per_variant), SCRIPT, OPTS, 16)
    for k, s in engines.items():
        assert after[k].p50 == pytest.approx(s.p50, rel=0.03), k
        assert after[k].throughput_qps == pytest.approx(s.throughput_qps, rel=0.03), k
