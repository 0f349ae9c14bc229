"""OpenTelemetry spans: one per query (``ayo.query``) and one per node run (``ayo.node <op>``), the
node spans children of their query's.

Spans go to the tracer provider the application configured (``opentelemetry.trace``); with none,
or without the optional extra ``otel`` installed, this costs nothing but a check. Node span
attributes (``ayo.*``): ``op``, ``node``, ``scope``, ``location`` (``file:line``), ``engine``,
``batch_size`` (the largest batch the node's engine requests ran in), ``batches``,
``queue_wait_s`` (summed over its requests), ``tokens_in``, ``tokens_out``, ``ok``; and, only with
``AYO_TRACE_RECORD_CONTENT=1`` (prompts may hold personal data), ``prompt`` and ``output``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

try:
    from opentelemetry import trace as _trace
    from opentelemetry.trace import Status, StatusCode
except ImportError:  # the optional extra is not installed
    _trace = None  # type: ignore[assignment]

TRACER_NAME = "ayo_trace"


def _provider() -> Any:
    """The tracer provider spans go to: the global one (tests replace this function)."""
    return _trace.get_tracer_provider()


def _tracer() -> Any:
    return _provider().get_tracer(TRACER_NAME)


def enabled() -> bool:
    """Whether a tracer provider that records spans is configured."""
    if _trace is None:
        return False
    return not isinstance(_provider(), _trace.ProxyTracerProvider | _trace.NoOpTracerProvider)


@contextlib.contextmanager
def query_span(query: str, graph_name: str) -> Iterator[Any]:
    """The span of one query, current for the nodes the query runs."""
    if not enabled():
        yield None
        return
    with _tracer().start_as_current_span(
        "ayo.query", attributes={"ayo.query": query, "ayo.workflow": graph_name}, record_exception=True
    ) as span:
        yield span


def start_node_span(query: str, scope: str, node: str, op: str, loc: str | None) -> Any:
    if not enabled():
        return None
    attrs = {"ayo.query": query, "ayo.scope": scope, "ayo.node": node, "ayo.op": op}
    if loc is not None:
        attrs["ayo.location"] = loc
    return _tracer().start_span(f"ayo.node {op}", attributes=attrs)


def end_node_span(span: Any, usage: Any, ok: bool, error: BaseException | None = None) -> None:
    if span is None:
        return
    attrs: dict[str, Any] = {
        "ayo.ok": ok,
        "ayo.tokens_in": usage.tokens_in,
        "ayo.tokens_out": usage.tokens_out,
        "ayo.queue_wait_s": usage.queue_wait_s,
        "ayo.batches": len(usage.batch_sizes),
        "ayo.batch_size": max(usage.batch_sizes, default=0),
    }
    if usage.engine is not None:
        attrs["ayo.engine"] = usage.engine
    if record_content():
        attrs["ayo.prompt"] = usage.prompt
        attrs["ayo.output"] = usage.output
    span.set_attributes(attrs)
    if error is not None:
        span.record_exception(error)
    if not ok:
        span.set_status(Status(StatusCode.ERROR))
    span.end()


def record_content() -> bool:
    """Whether prompts and outputs go into traces (``AYO_TRACE_RECORD_CONTENT=1``): they may hold
    personal data, so they stay out unless asked for."""
    return os.environ.get("AYO_TRACE_RECORD_CONTENT", "") not in ("", "0", "false", "no")


__all__ = ["enabled", "end_node_span", "query_span", "record_content", "start_node_span"]
