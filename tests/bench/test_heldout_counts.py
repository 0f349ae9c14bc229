"""``bench/heldout_like.py --counts``: the work figures it compares are the counters' numeric leaves,
without the ones load changes (busy times, waits, utilization, means)."""

from __future__ import annotations

from bench import heldout_like


def test_counts_flatten_the_numeric_counters_and_leave_out_what_load_changes() -> None:
    stats = {
        "requests": {"prefill": 3, "decode": 6},
        "batch_sizes": {1: 4, 8: 1},
        "busy_s": 1.5,
        "queue_wait_mean_s": 0.2,
        "utilization": 0.9,
        "mean_batch": 2.5,
        "engine_stats": {"prompt_tokens_computed": 221, "prefix_hits": 1, "started": True},
        "engine": "llm",
    }
    assert heldout_like._numbers(stats, "llm.") == {
        "llm.requests.prefill": 3.0,
        "llm.requests.decode": 6.0,
        "llm.batch_sizes.1": 4.0,
        "llm.batch_sizes.8": 1.0,
        "llm.engine_stats.prompt_tokens_computed": 221.0,
        "llm.engine_stats.prefix_hits": 1.0,
    }


def test_the_table_shows_the_decode_work_counted_per_query_and_a_dash_where_a_run_lacks_it() -> None:
    runs = []
    for busy, passes, generated in ((2.0, 10, 40), (2.2, 10, 40), (1.8, 14, 48)):  # e, u, o at c=2
        run = heldout_like.Run(latencies=[1.0, 2.0], makespan=2.0)
        run.llm = {
            "busy_s": busy,
            "prompt_tokens": 100.0,
            "scored_tokens": 0.0,
            "decode_passes": float(passes),
            "generated_tokens": float(generated),
            "batches": 4.0,
            "items": 8.0,
        }
        runs.append(heldout_like.summarize([run], 2))
    row = dict(zip(heldout_like.VARIANTS, runs, strict=True))
    text = heldout_like.table({"wf": {"2": row}}, [2])
    assert (
        "| 1.00 / 1.10 / 0.90 s | 50 / 50 / 50 | 2.0 / 2.0 / 2.0 | 5.0 / 5.0 / 7.0 | 20.0 / 20.0 / 24.0 |"
        in text
    )
    old = {
        v: {k: x for k, x in r.items() if k not in ("decode_passes_q", "generated_q")} for v, r in row.items()
    }
    assert "| - / - / - | - / - / - |" in heldout_like.table({"wf": {"2": old}}, [2])
