"""The plan of one graph's run: what each node waits for, which edges stream, in what order.

``plan(graph)`` counts each node's upstream nodes (its ``args`` and ``after``), lists the users
each node's end may make ready, the stream edges (``stream_args`` that the consumer's handler takes
item by item, ``ops.streams_in``, from a producer marked ``stream``; an edge whose consumer also
needs the producer's whole value carries the whole value, as streaming it would deadlock), and
each node's place in the graph's order: topological, as the tracer made it statement by statement,
so the program's (the graph scheduler raises the first failed node's error in that order). A
stream edge at run time is an ``Edge``: a bounded memory object stream.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ..ir.field_streams import stream_source
from ..ir.graph import Graph, Node
from ..ir.ops import streams_in

STREAM_BUFFER = 64


@dataclass
class Plan:
    deps: dict[Node, int]  # upstream nodes to wait for
    waiters: dict[Node, list[Node]]  # node -> the users that wait for it to finish
    streams: dict[Node, list[tuple[Node, int]]]  # producer -> (consumer, arg index) fed item by item
    roots: list[Node]
    fingerprint: tuple[Any, ...]
    order: dict[Node, int]  # node -> its place in the graph's (topological, program) order


def _fingerprint(graph: Graph) -> tuple[Any, ...]:
    return tuple((id(n), n.args, n.after) for n in graph.nodes)


def _ancestors(nodes: Sequence[Node]) -> set[Node]:
    seen: set[Node] = set()
    stack = list(nodes)
    while stack:
        n = stack.pop()
        for up in (*n.args, *n.after):
            if up not in seen:
                seen.add(up)
                stack.append(up)
    return seen


def plan(graph: Graph) -> Plan:
    """Dependency counts and stream edges of ``graph`` (cached on the graph while it is unchanged)."""
    fp = _fingerprint(graph)
    cached = getattr(graph, "_ayo_plan", None)
    if isinstance(cached, Plan) and cached.fingerprint == fp:
        return cached
    streams: dict[Node, list[tuple[Node, int]]] = {}
    streamed: dict[Node, set[Node]] = {}
    for n in graph.nodes:
        for i in n.attrs.get("stream_args", ()):
            if not streams_in(n.op, i) or not 0 <= i < len(n.args):
                continue  # a handler that takes this arg whole gets the whole value
            producer = n.args[i]
            if not producer.attrs.get("stream"):
                continue
            source = stream_source(producer)[0]  # a field read streams its decode's items
            others = [a for j, a in enumerate(n.args) if j != i] + list(n.after)
            if producer in others or source in others or source in _ancestors(others):
                continue  # the consumer needs the whole value anyway: streaming would deadlock
            streams.setdefault(producer, []).append((n, i))
            streamed.setdefault(n, set()).add(producer)
    deps: dict[Node, int] = {}
    waiters: dict[Node, list[Node]] = {n: [] for n in graph.nodes}
    for n in graph.nodes:
        ups = {u for u in (*n.args, *n.after) if u not in streamed.get(n, ())}
        deps[n] = len(ups)
        for u in ups:
            waiters[u].append(n)
    order = {n: i for i, n in enumerate(graph.nodes)}
    p = Plan(deps, waiters, streams, [n for n in graph.nodes if deps[n] == 0], fp, order)
    graph._ayo_plan = p  # type: ignore[attr-defined]
    return p


class UpstreamFailed(Exception):
    """A stream ended because its producer failed (the producer's own error is the query's)."""


class Edge:
    """One stream edge: a bounded memory object stream, and whether the producer finished."""

    __slots__ = ("field", "ok", "receive", "send")

    def __init__(self, buffer: int, field: str | None = None) -> None:
        self.field = field  # a field read's stream: the values of that field's items only
        self.send: MemoryObjectSendStream[Any]
        self.receive: MemoryObjectReceiveStream[Any]
        self.send, self.receive = anyio.create_memory_object_stream[Any](buffer)
        self.ok = False

    async def items(self) -> AsyncGenerator[Any, None]:
        async for item in self.receive:
            yield item
        if not self.ok:
            raise UpstreamFailed("the producer of this stream failed")

    def close(self) -> None:
        self.send.close()
        self.receive.close()


__all__ = ["STREAM_BUFFER", "Edge", "Plan", "UpstreamFailed", "plan"]
