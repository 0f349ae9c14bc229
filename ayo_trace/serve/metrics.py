"""``GET /metrics``: the runtime's ``stats()`` in the Prometheus text format.

Families (all prefixed ``ayo_``): ``queries_total``, ``query_failures_total``,
``queries_cancelled_total``, ``nodes_total``; ``admission_serving``, ``admission_waiting``,
``admission_refused_total``; per engine (labels ``engine``, ``kind``): ``engine_requests_total``
(and label ``request``: prefill, decode, embed, ...), ``engine_batches_total``,
``engine_mean_batch_size``, ``engine_max_batch_size``, ``engine_queue_wait_mean_seconds``,
``engine_queue_wait_max_seconds``, ``engine_busy_seconds_total``, ``engine_utilization``,
``engine_rejected_total``, ``engine_failed_batches_total``, and ``engine_batch_size_batches_total``
(label ``size``: how many batches ran with that many requests). From the engines' own counters
(``engine_reports``; engines that report them): ``engine_prefix_hits_total`` (sessions that reused a
kept prompt prefix), ``engine_prefix_misses_total`` and ``engine_sessions`` (LLM sessions held now).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
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


# the engines' own counters (``Engine.stats()``) exported, summed over an engine's instances
_REPORTED = (
    ("prefix_hits", CounterMetricFamily, "Sessions that reused a kept prompt prefix"),
    ("prefix_misses", CounterMetricFamily, "Sessions that found no kept prompt prefix to reuse"),
    ("sessions", GaugeMetricFamily, "LLM sessions the engine holds"),
)


def engine_reports(engines: Mapping[str, Sequence[Any]]) -> dict[str, dict[str, int]]:
    """Per engine name, the counters of ``_REPORTED`` its instances' ``stats()`` hold, summed (an
    engine without a ``stats()`` or without a counter reports nothing for it)."""
    reports: dict[str, dict[str, int]] = {}
    for name, instances in engines.items():
        own = [e.stats() for e in instances if callable(getattr(e, "stats", None))]
        for key, _, _ in _REPORTED:
            values = [s[key] for s in own if isinstance(s.get(key), int)]
            if values:
                reports.setdefault(name, {})[key] = sum(values)
    return reports


class _StatsCollector(Collector):
    def __init__(self, stats: dict[str, Any], reports: Mapping[str, Mapping[str, int]]) -> None:
        self.stats = stats
        self.reports = reports

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
        by_size = CounterMetricFamily(
            "ayo_engine_batch_size_batches", "Engine batches of each size", labels=[*labels, "size"]
        )
        reported = {k: cls(f"ayo_engine_{k}", t, labels=labels) for k, cls, t in _REPORTED}
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
            for size, n in e.get("batch_sizes", {}).items():
                by_size.add_metric([engine, e["kind"], str(size)], n)
            for key, value in self.reports.get(engine, {}).items():
                reported[key].add_metric([engine, e["kind"]], value)
        yield requests
        yield batches
        yield by_size
        yield from reported.values()
        yield from gauges.values()
        yield from counters.values()


def metrics_text(stats: dict[str, Any], reports: Mapping[str, Mapping[str, int]] | None = None) -> bytes:
    """``stats`` (``Runtime.stats()``) and the engines' ``reports`` (``engine_reports``) as
    Prometheus exposition text."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_StatsCollector(stats, reports or {}))
    return generate_latest(registry)


__all__ = ["engine_reports", "metrics_text"]
