"""bench/load.py's sweep over sizes, at tiny sizes in virtual time: every figure is produced, and the
work per query (nodes, engine requests, engine batches), the queue depths and the peak memory do not
grow with the number of queries. Counts and memory only: no assertion reads a clock."""

from __future__ import annotations

from typing import Any

import pytest

from bench import load
from tests.runtime.virtual import in_virtual_time

CONCURRENCY = 8
SAMPLE_S = 0.001  # virtual: a sample each virtual millisecond, while batches wait up to 2 ms to fill


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return in_virtual_time(load.sweep, [50, 100], CONCURRENCY, SAMPLE_S)


def test_every_figure_is_produced(rows: list[dict[str, Any]]) -> None:
    assert [r["queries"] for r in rows] == [50, 100]
    for r in rows:
        assert r["wall_per_query_ms"] > 0 and r["peak_bytes"] > 0
        assert r["nodes_per_query"] > 0 and r["requests_per_query"] > 0 and r["batches_per_query"] > 0
        assert r["samples"] == len(r["series"]) > 0
        assert set(r["depth"]) == {"llm", "embed", "store", "rerank", "admission"}
        for depth in r["depth"].values():
            assert depth["max"] >= depth["mean"] >= 0
        assert len(r["profile"]) == 10 and all(d >= 0 for d in r["profile"])
    # the sampler saw requests waiting: a batch waits for others to join before it runs
    assert any(r["depth"][name]["max"] > 0 for r in rows for name in ("llm", "embed", "store"))
    text = load.sweep_text(rows, CONCURRENCY, SAMPLE_S)
    assert "| 50 |" in text and "| 100 |" in text and "store depth max / mean" in text


def test_work_per_query_does_not_grow_with_the_number_of_queries(rows: list[dict[str, Any]]) -> None:
    small, big = rows
    # every query runs the same graph: the same nodes and engine requests, whatever the load
    assert big["nodes_per_query"] == small["nodes_per_query"]
    assert big["requests_per_query"] == small["requests_per_query"]
    # batches form from the queries in flight (CONCURRENCY of them), not from all queries
    assert big["batches_per_query"] <= small["batches_per_query"] * 1.25


def test_queues_and_memory_are_bounded_by_the_queries_in_flight(rows: list[dict[str, Any]]) -> None:
    small, big = rows
    for r in rows:
        for name in ("llm", "embed", "store", "rerank"):
            # a query never has more requests waiting than it makes in all
            assert r["depth"][name]["max"] <= CONCURRENCY * r["requests_per_query"]
        assert r["depth"]["admission"]["max"] == 0  # the load generator stays under max_active
    # twice the queries, the same queries in flight: the peak stays flat (linear growth would double it)
    assert big["peak_bytes"] < 1.5 * small["peak_bytes"]
