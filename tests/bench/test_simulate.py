"""bench/simulate.py on the seed testbed profile: the prediction table, a small sweep and its plot."""

from __future__ import annotations

from pathlib import Path

import pytest

import ayo_trace as ayo
from bench import simulate as S

pytest.importorskip("trio", reason="trio is in the 'dev' extra")


def test_the_seed_testbed_profile_loads_and_cites_every_cost() -> None:
    profile = ayo.SimProfile.load(S.SEED_PROFILE)
    assert set(profile.engines) == {"llm", "embed", "rerank", "store"}
    for name, engine in profile.engines.items():
        assert engine.source, name
        for op, cost in engine.ops.items():
            assert cost.source or op == "score", (name, op)
    # every engine on a device of its own, as in the seed's testbed
    assert len({e.device for e in profile.engines.values()}) == 4


@pytest.mark.timeout(300)
def test_the_prediction_has_every_workload_and_the_optimized_graph_is_never_slower() -> None:
    results = S.predict(ayo.SimProfile.load(S.SEED_PROFILE), queries=1)
    assert len(results) == 4
    for name, r in results.items():
        assert r["optimized"].p50 <= r["unoptimized"].p50 + 1e-9, name
        assert r["optimized"].completed == 1
    table = S.seed_table(results)
    assert table.count("| seed_") == 4 and "3.72 s" in table and "7.40 s" in table


@pytest.mark.timeout(300)
def test_a_small_sweep_gives_a_row_per_point_and_a_plot(tmp_path: Path) -> None:
    profile = ayo.SimProfile.load(S.SEED_PROFILE)
    rows = S.sweep(profile, [1, 2], queries=4, workflows=["seed_naive_rag"], progress=lambda _: None)
    assert len(rows) == 2 * 2 * 2  # scalings x variants x instance counts
    assert all(r["failed"] == 0 and r["qps"] > 0 for r in rows)
    assert S.scaled(profile, 4, everything=True).engines["embed"].instances == 4
    assert "| LLM only | seed_naive_rag | optimized | 2 |" in S.sweep_table(rows)
    assert S.plot(rows, tmp_path / "p.png").stat().st_size > 0


def test_a_simulation_counts_failed_queries_and_runs_its_setup_first() -> None:
    @ayo.workflow
    async def search_kb(q: str) -> object:
        return await ayo.search(q, collection="kb", top_k=1)

    profile = ayo.SimProfile.load(S.SEED_PROFILE)
    failed = ayo.simulate(search_kb, lambda i: {"q": "x"}, profile=profile, queries=2)
    assert failed.completed == 0 and len(failed.errors) == 2 and "UnknownCollection" in failed.errors[0]

    async def setup(rt: ayo.Runtime) -> None:
        await rt.ingest(["a passage"], "kb")

    ok = ayo.simulate(search_kb, lambda i: {"q": "x"}, profile=profile, queries=2, setup=setup)
    assert ok.completed == 2 and not ok.errors


def test_the_load_comparison_gives_a_row_per_policy_and_policies_agree_without_queueing() -> None:
    from bench import simulate_load as L

    assert L.load_of("burst:8") == {"queries": 8}
    assert L.load_of("stream:32:0.5") == {"queries": 32, "rate": 2.0}
    with pytest.raises(ValueError, match="burst:N or stream:N:GAP"):
        L.load_of("stream:4")
    profile = L.machine_profile()
    assert profile.engines["llm"].demand == profile.devices["cpu"] == 2.0  # llama.cpp uses both cores
    rows = L.run(profile, ["burst:3", "stream:3:30"], variants=["optimized"], progress=lambda _: None)
    assert [(r["load"], r["policy"]) for r in rows] == [
        ("burst:3", "old"),
        ("burst:3", "new"),
        ("stream:3:30", "old"),
        ("stream:3:30", "new"),
    ]
    assert all(r["failed"] == 0 and r["p50"] > 0 for r in rows)
    old, new = rows[2], rows[3]  # a query every 30 s: none waits for another, so the policy is moot
    assert (old["p50"], old["p95"], old["makespan"]) == pytest.approx(
        (new["p50"], new["p95"], new["makespan"])
    )
    assert "| burst:3 | naive_rag | optimized | new |" in L.table(rows)
