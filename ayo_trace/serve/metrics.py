"""``GET /metrics``: the runtime's ``stats()`` in the Prometheus text format.

Families (all prefixed ``ayo_``): ``queries_total``, ``query_failures_total``,
``queries_cancelled_total``, ``nodes_total``; ``admission_serving``, ``admission_waiting``,
``admission_refused_total``; per engine (labels ``engine``, ``kind``): ``engine_requests_total``
(and label ``request``: prefill, decode, embed, ...), ``engine_batches_total``,
``engine_mean_batch_size``, ``engine_max_batch_size``, ``engine_queue_wait_mean_seconds``,
``engine_queue_wait_max_seconds``, ``engine_busy_seconds_total``, ``engine_utilization``,
``engine_rejected_total``, ``engine_failed_batches_total``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

_ENGINE_GAUGES = (
    ("mean_batch_size", "mean_batch", "Mean batch size"),
    ("max_batch_size", "max_batch", "Largest batch"),
    ("queue_wait_mean_seconds", "queue_wait_mean_s", "Mean time a request waited in the queue"),
    ("queue_wait_max_seconds", "queue_wait_max_s", "Longest time a request waited in the queue"),
    ("utilization", "utilization", "Fraction of time the engine was busy"),
)
_ENGINE_COUNTERS = (
    ("busy_seconds", "busy_s", "Seconds the engine ran batches"),
    ("rejected", "rejected", "Requests refused because the engine queue was full"),
    ("failed_batches", "failed_batches", "Batches that failed"),
)


class _StatsCollector(Collector):
    def __init__(self, stats: dict[str, Any]) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        s = self.stats
        for name, key, text in (
            ("queries", "queries", "Queries run"),
            ("query_failures", "failures", "Queries that failed"),
            ("queries_cancelled", "cancelled", "Queries cancelled"),
            ("nodes", "nodes", "Graph nodes run"),
        ):
            yield CounterMetricFamily(f"ayo_{name}", text, value=s[key])
        adm = s["admission"]
        yield GaugeMetricFamily("ayo_admission_serving", "Queries in service", value=adm["serving"])
        yield GaugeMetricFamily("ayo_admission_waiting", "Queries waiting to start", value=adm["waiting"])
        yield CounterMetricFamily(
            "ayo_admission_refused", "Queries refused (Overloaded)", value=adm["refused"]
        )
        labels = ["engine", "kind"]
        requests = CounterMetricFamily("ayo_engine_requests", "Engine requests", labels=[*labels, "request"])
        batches = CounterMetricFamily("ayo_engine_batches", "Engine batches", labels=[*labels, "request"])
        gauges = {k: GaugeMetricFamily(f"ayo_engine_{n}", t, labels=labels) for n, k, t in _ENGINE_GAUGES}
        counters = {
            k: CounterMetricFamily(f"ayo_engine_{n}", t, labels=labels) for n, k, t in _ENGINE_COUNTERS
        }
        for engine, e in s["engines"].items():
            for request, n in e["requests"].items():
                requests.add_metric([engine, e["kind"], request], n)
            for request, n in e["batches"].items():
                batches.add_metric([engine, e["kind"], request], n)
            for key, gauge in gauges.items():
                gauge.add_metric([engine, e["kind"]], e[key])
            for key, counter in counters.items():
                counter.add_metric([engine, e["kind"]], e[key])
        yield requests
        yield batches
        yield from gauges.values()
        yield from counters.values()


def metrics_text(stats: dict[str, Any]) -> bytes:
    """``stats`` (``Runtime.stats()``) as Prometheus exposition text."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_StatsCollector(stats))
    return generate_latest(registry)


__all__ = ["metrics_text"]
