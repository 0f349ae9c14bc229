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
