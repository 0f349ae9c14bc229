"""bench/serve.py end to end, tiny: a real ``ayo serve`` subprocess on the scripted engines, 2
queries at 1 and 2 clients, then the same in-process. Counts only: no assertion reads a clock."""

from __future__ import annotations

from typing import Any

import pytest

from bench import serve
from tests.util import in_new_thread

pytestmark = pytest.mark.slow

LEVELS = [1, 2]
QUERIES = 2


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    args = ["--engines", "scripted", "--queries", str(QUERIES), "--concurrency", *map(str, LEVELS)]
    return in_new_thread(serve.main, [*args, "--docs", "8"])  # its anyio.run needs a loop of its own


def test_every_level_runs_over_http_and_in_process(rows: list[dict[str, Any]]) -> None:
    assert [(r["side"], r["concurrency"]) for r in rows] == [
        *(("http", c) for c in LEVELS),
        *(("in-process", c) for c in LEVELS),
    ]
    for r in rows:
        assert r["failures"] == 0 and r["queries"] == QUERIES
        assert r["throughput_qps"] > 0
        assert r["latency_p95_s"] >= r["latency_p50_s"] > 0
        assert r["ttft_p50_s"] is not None, "the naive RAG's answer streams: every query has a first token"


def test_each_level_reports_the_runtime_batches_and_prefix_hits(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        engines = r["engines"]
        assert {"llm", "embed", "store", "rerank"} <= set(engines)
        for e in engines.values():
            assert e["max_batch"] >= e["mean_batch"] >= 1 and e["batches"] >= 1
        llm = engines["llm"]
        # The example's constant prompt head (about 28 tokens) is shorter than one 64-token prefill
        # block (the default LLM profile's): it is not split off, so no session forks a kept prefix.
        assert llm.get("prefix_hits", 0) == llm.get("prefix_misses", 0) == 0
    text = serve._line(rows[0])
    assert "llm batch" in text


def test_the_delta_counts_only_what_ran_between_two_scrapes() -> None:
    def scrape(size1: int, size3: int, hits: int) -> str:
        labels = 'engine="llm",kind="llm"'
        return (
            f'ayo_engine_batch_size_batches_total{{{labels},size="1"}} {size1}\n'
            f'ayo_engine_batch_size_batches_total{{{labels},size="3"}} {size3}\n'
            f"ayo_engine_prefix_hits_total{{{labels}}} {hits}\n"
            f"ayo_engine_prefix_misses_total{{{labels}}} 1\n"
        )

    delta = serve.engine_delta(scrape(4, 0, 2), scrape(5, 1, 6))
    assert delta == {
        "llm": {"batches": 2, "mean_batch": 2.0, "max_batch": 3, "prefix_hits": 4, "prefix_misses": 0}
    }
    assert serve.engine_delta(scrape(4, 0, 2), scrape(4, 0, 2)) == {}
