"""The graph scheduler: runs one query's graph, traced or lowered (see docs/ir-conventions.md).

A node starts as soon as the nodes it reads (``args``) and the nodes it must follow (``after``) are
done; each running node is a task in the query's task group, and execution dispatches on the op name
to the method the op's table entry names (``dispatch.handler_for``: a primitive's spec names its
handler, ``call_primitive`` for a generic one), like torch.fx's ``Interpreter``. The first node that
fails cancels the rest of the query and its error, naming the node and its ``file:line``, is the
query's error.

Stream edges (``stream_args`` that the consumer's handler takes item by item, ``ops.streams_in``: a
``map``'s iterable, a ``db_insert``'s vectors) are bounded memory object streams, so a fast producer
waits for a slow consumer. The consumer starts as soon as its other inputs are ready and takes items
as the producer emits them; every other reader of the producer gets the whole value when it is done. An edge whose consumer also depends on the
producer's whole value (directly or through another node) would deadlock, so it carries the whole
value instead. A field read marked by decode pipelining (``ir/field_streams.py``) streams the
items of that field from its decode: its edges are the decode's, carrying that field's values only.

LLM sessions are named ``{scope}/{session}``: the scope is the query id, extended with
``/{map node}[{i}]`` inside a map body's i-th run (``/{loop node}[{i}]`` inside a loop's i-th iteration),
``/{cond node}`` inside a branch and ``/{try node}/try`` (``/except{k}``, ``/else``, ``/finally``) inside
a try's parts, so that every run of a body gets sessions of its own. The query's ``QueryContext``
owns its sessions (``engine_client.Session``): each is released when its decode ends, and any
still open when the query ends, fails or is cancelled; a session frees its engine state once per
opening.

Deadlines: the query's ``deadline_s`` and a node's ``timeout`` (``node.meta`` or ``node.attrs``)
raise ``QueryTimeout`` naming the node that was running. Retries: a node whose op is in
``ops.idempotent`` (its spec says so), or one that ``ops.reopens_session`` (``llm_prefill``,
``llm_decode``), is retried up to ``retries`` times after an ``EngineError`` (never after
``Overloaded`` or ``InvalidRequest``, and never once it has streamed items out), waiting
``retry_backoff_s * 2**(attempt - 1)`` before each new attempt. An LLM session is engine state that
a failure may leave half-advanced (a decode that produced text the consumer never got, a session
lost with its Ray actor), so a retried ``llm_prefill`` or ``llm_decode`` first reopens its session
(``EngineClient.reopen``): releases it and prefills again, in order, the parts of it that had
succeeded; the retried node then runs on a session exactly as it was before its first attempt. A
decode that already handed items to a consumer is never retried (they cannot be taken back).
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._concurrency import FailFast, fail_fast
from ..errors import EngineError, InvalidRequest, NodeError, Overloaded, QueryTimeout
from ..ir.blocks import BLOCK_OPS
from ..ir.field_streams import stream_source
from ..ir.graph import Graph, Node
from ..ir.ops import idempotent, reopens_session, rerank_top_k, search_params, streams_in
from .clock import now as _now
from .control import RunBody, run_loop, run_try
from .dispatch import annotate, generic_primitive, handler_for, run_user_code, where
from .engine_client import Emit, EngineClient, Session
from .events import NodeRun

log = logging.getLogger("ayo_trace.graph_scheduler")

STREAM_BUFFER = 64


class NodeEvents(Protocol):
    """What the graph scheduler reports of every node it runs, in every scope (the runtime counts
    them and records the timeline; a tracer or an event stream hooks here)."""

    def node_started(self, query: str, scope: str, node: Node) -> None: ...

    def node_finished(
        self, query: str, scope: str, node: Node, start: float, end: float, ok: bool
    ) -> None: ...


@dataclass(frozen=True)
class Retries:
    """Retries of a node after an ``EngineError`` (see the module docstring): up to ``retries`` more
    attempts, the k-th after ``backoff_s * 2**(k - 1)`` seconds."""

    retries: int = 1
    backoff_s: float = 0.05


class QueryContext:
    """What the runs of one query share: its id, the engine client, its LLM sessions (it owns them
    and releases them all when the query ends), its running nodes."""

    def __init__(
        self,
        client: EngineClient,
        query_id: str,
        retries: Retries = Retries(),
        events: NodeEvents | None = None,
    ) -> None:
        self.client = client
        self.query_id = query_id
        self.retries = retries
        self.events = events
        self.sessions: dict[str, Session] = {}  # by session id
        self.running: dict[tuple[str, Node], float] = {}
        self.interrupted: dict[tuple[str, Node], float] = {}  # nodes a cancellation stopped

    def interrupted_leaf(self) -> tuple[str, Node] | None:
        """Of the nodes a cancellation stopped, the one that had run longest, preferring nodes that
        are not map/cond/loop/try containers (those run as long as anything inside them)."""
        if not self.interrupted:
            return None
        leaves = [k for k in self.interrupted if k[1].op not in BLOCK_OPS] or list(self.interrupted)
        return min(leaves, key=lambda k: self.interrupted[k])

    def session(self, session_id: str, engine: str | None) -> Session:
        """The query's session ``session_id`` (made on first use)."""
        session = self.sessions.get(session_id)
        if session is None:
            session = self.sessions[session_id] = self.client.session(session_id, engine)
        return session

    async def release_all(self) -> None:
        for session in self.sessions.values():
            await self.client.release(session)
        self.sessions.clear()


async def run_query(
    client: EngineClient,
    graph: Graph,
    inputs: Mapping[str, Any],
    query_id: str,
    deadline_s: float | None,
    *,
    retries: Retries = Retries(),
    events: NodeEvents | None = None,
) -> Any:
    """Run ``graph`` as one query on ``client``'s engines; see the module docstring."""
    ctx = QueryContext(client, query_id, retries, events)
    values = []
    for node in graph.inputs:
        name = node.attrs.get("name", node.name)
        if name not in inputs:
            raise NodeError(f"missing input {name!r}", node=node.name, loc=node.loc)
        values.append(inputs[name])
    try:
        with anyio.move_on_after(math.inf if deadline_s is None else deadline_s):
            return await GraphRun(ctx, graph, query_id).run(values)
        leaf = ctx.interrupted_leaf()
        running = sorted(f"%{n.name}" for _, n in ctx.interrupted)
        if leaf is None:
            raise QueryTimeout(f"query deadline of {deadline_s}s expired", node=None)
        scope, node = leaf
        raise QueryTimeout(
            f"query deadline of {deadline_s}s expired while running {', '.join(running)}"
            + (f" (in {scope})" if scope != query_id else ""),
            node=node.name,
            loc=where(node),
        )
    finally:
        with anyio.CancelScope(shield=True):
            await ctx.release_all()


@dataclass
class _Plan:
    deps: dict[Node, int]  # upstream nodes to wait for
    waiters: dict[Node, list[Node]]  # node -> the users that wait for it to finish
    streams: dict[Node, list[tuple[Node, int]]]  # producer -> (consumer, arg index) fed item by item
    roots: list[Node]
    fingerprint: tuple[Any, ...]


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


def plan(graph: Graph) -> _Plan:
    """Dependency counts and stream edges of ``graph`` (cached on the graph while it is unchanged)."""
    fp = _fingerprint(graph)
    cached = getattr(graph, "_ayo_plan", None)
    if isinstance(cached, _Plan) and cached.fingerprint == fp:
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
    p = _Plan(deps, waiters, streams, [n for n in graph.nodes if deps[n] == 0], fp)
    graph._ayo_plan = p  # type: ignore[attr-defined]
    return p


class _UpstreamFailed(Exception):
    """A stream ended because its producer failed (the producer's own error is the query's)."""


class _Edge:
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
            raise _UpstreamFailed("the producer of this stream failed")

    def close(self) -> None:
        self.send.close()
        self.receive.close()


class GraphRun:
    """One run of one graph (a query's graph, a map body for one item, a cond branch)."""

    def __init__(self, ctx: QueryContext, graph: Graph, scope: str) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.graph = graph
        self.scope = scope
        self.values: dict[Node, Any] = {}
        self._tg: FailFast | None = None
        self._edges_out: dict[Node, list[_Edge]] = {}
        self._edges_in: dict[Node, dict[int, _Edge]] = {}
        self._emitted: dict[Node, int] = {}

    async def run(self, inputs: Sequence[Any]) -> Any:
        p = plan(self.graph)
        self._pending = dict(p.deps)
        self._plan = p
        for node, value in zip(self.graph.inputs, inputs, strict=True):
            self.values[node] = value
        for producer, consumers in p.streams.items():
            source, field = stream_source(producer)
            chunk = int(producer.attrs.get("chunk") or 0)
            for consumer, i in consumers:
                edge = _Edge(max(STREAM_BUFFER, 2 * chunk), field)
                self._edges_out.setdefault(source, []).append(edge)
                self._edges_in.setdefault(consumer, {})[i] = edge
        try:
            async with fail_fast() as tasks:  # raises the first node's error, annotated
                self._tg = tasks
                for n in p.roots:
                    tasks.start_soon(self._run_node, n)
        finally:
            for edges in self._edges_out.values():
                for e in edges:
                    e.close()
        return self.values[self.graph.output]

    # --- running one node ------------------------------------------------------------------------

    async def _run_node(self, node: Node) -> None:
        """Run ``node``, then, in the same task, one of the users it made ready (the others get
        tasks of their own): a chain of nodes costs one task, not one per node."""
        next_node: Node | None = node
        while next_node is not None:
            node, next_node = next_node, None
            if not await self._run_one(node):
                return
            pending = self._pending
            assert self._tg is not None
            for user in self._plan.waiters[node]:
                pending[user] -= 1
                if pending[user] == 0:
                    if next_node is None:
                        next_node = user
                    else:
                        self._tg.start_soon(self._run_node, user)

    async def _run_one(self, node: Node) -> bool:
        key = (self.scope, node)
        start = _now()
        events = self.ctx.events
        if events is not None:
            events.node_started(self.ctx.query_id, self.scope, node)
        self.ctx.running[key] = start
        ok = cancelled = False
        watch = NodeRun(self.ctx.query_id, self.scope, node, where(node))  # events, usage, span
        try:
            await watch.start()
            self.values[node] = await self._execute(node)
            ok = True
        except anyio.get_cancelled_exc_class():
            self.ctx.interrupted[key] = start
            cancelled = True
            raise
        except Exception as exc:
            assert self._tg is not None
            if self._tg.error is None and not isinstance(exc, _UpstreamFailed):
                self._tg.fail(annotate(exc, node))
        finally:
            del self.ctx.running[key]
            if events is not None:
                events.node_finished(self.ctx.query_id, self.scope, node, start, _now(), ok)
            for edge in self._edges_out.get(node, ()):
                edge.ok = ok
                edge.send.close()
            # last: it may wait for the stream's reader (not when the query is being cancelled)
            stopping = cancelled or (self._tg is not None and self._tg.error is not None)
            await watch.finish(ok, cancelled=stopping)
        return ok

    async def _execute(self, node: Node) -> Any:
        handler = handler_for(self, node)
        edges_in = self._edges_in.get(node)
        args = [
            edges_in[i] if edges_in and i in edges_in else self.values[a] for i, a in enumerate(node.args)
        ]
        timeout = node.meta.get("timeout", node.attrs.get("timeout"))
        session_op = reopens_session(node.op)
        retryable = session_op or idempotent(node.op)
        attempts = self.ctx.retries.retries + 1 if retryable else 1
        for attempt in range(1, attempts + 1):
            try:
                if attempt > 1 and session_op:
                    await self.client.reopen(self._llm_session(node, args), self._priority(node))
                if timeout is None:
                    return await handler(node, args)
                with anyio.move_on_after(timeout):
                    return await handler(node, args)
                raise QueryTimeout(f"node timeout of {timeout}s expired", node=node.name, loc=where(node))
            except EngineError as exc:
                if (
                    attempt >= attempts
                    or isinstance(exc, Overloaded | InvalidRequest)
                    or self._emitted.get(node, 0) > 0
                ):
                    raise
                delay = self.ctx.retries.backoff_s * 2 ** (attempt - 1)
                log.warning(
                    "node %s: attempt %d of %d failed (%s); retrying in %.3gs",
                    node.name,
                    attempt,
                    attempts,
                    exc,
                    delay,
                )
                await backoff(delay)
        raise AssertionError("unreachable")

    def _llm_session(self, node: Node, args: list[Any]) -> Session:
        """The session an ``llm_prefill`` extends (by its name) or an ``llm_decode`` decodes (its
        input, the value of the session's last ``llm_prefill``)."""
        if node.op == "llm_decode":
            session: Session = args[0]
            return session
        return self.ctx.session(f"{self.scope}/{node.attrs['session']}", node.attrs.get("engine"))

    def _emit(self, node: Node) -> Emit | None:
        edges = self._edges_out.get(node)
        if not edges:
            return None

        async def emit(item: Any) -> None:
            self._emitted[node] = self._emitted.get(node, 0) + 1
            for edge in edges:
                value = item
                if edge.field is not None:  # a FieldItem (ir.json_items) of that field, unwrapped
                    if getattr(item, "field", None) != edge.field:
                        continue
                    value = item.value
                # a consumer that is gone failed, and the query is being cancelled
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                    await edge.send.send(value)

        return emit

    async def _emit_all(self, node: Node, value: Any) -> Any:
        """For producers whose op cannot stream: emit the whole value's items when it is done."""
        emit = self._emit(node)
        if emit is not None and not self._emitted.get(node):
            for item in value:
                await emit(item)
        return value

    def _priority(self, node: Node) -> float:
        return float(node.meta.get("remaining", 0.0) or 0.0)

    # --- ops: the handlers ``ops.handler_name`` names -------------------------------------------

    async def op_input(self, node: Node, args: list[Any]) -> Any:
        return self.values[node]

    async def op_const(self, node: Node, args: list[Any]) -> Any:
        return node.attrs["value"]

    async def op_getitem(self, node: Node, args: list[Any]) -> Any:
        return await self._emit_all(node, args[0][node.attrs["index"]])

    async def op_output(self, node: Node, args: list[Any]) -> Any:
        return args[0] if len(args) == 1 else tuple(args)

    async def op_python(self, node: Node, args: list[Any]) -> Any:
        return await self._emit_all(node, await run_user_code(node, args))

    async def op_break(self, node: Node, args: list[Any]) -> Any:
        return await self._emit_all(node, await run_user_code(node, args))

    async def op_llm(self, node: Node, args: list[Any]) -> Any:
        a = node.attrs
        session = self.ctx.session(f"{self.scope}/{node.name}", a.get("engine"))
        prompt = a["template"].render(args)
        return await self.client.generate(
            session, prompt, a["sampling"], a.get("parse"), self._priority(node), emit=self._emit(node)
        )

    async def op_llm_prefill(self, node: Node, args: list[Any]) -> Any:
        a = node.attrs
        session = self._llm_session(node, args)
        text = a["template"].render(args)
        # split_prefill marks the constant prefix shared and the parts that run ahead
        shared, ahead = bool(a.get("shared")), bool(a.get("ahead"))
        await self.client.prefill(session, text, self._priority(node), shared=shared, ahead=ahead)
        return session

    async def op_llm_decode(self, node: Node, args: list[Any]) -> Any:
        a = node.attrs
        session = self._llm_session(node, args)
        return await self.client.decode(
            session, a["sampling"], a.get("parse"), self._priority(node), emit=self._emit(node)
        )

    async def op_embed(self, node: Node, args: list[Any]) -> Any:
        return await self.client.embed(
            args[0], node.attrs.get("engine"), self._priority(node), node.attrs.get("chunk"), self._emit(node)
        )

    async def op_ingest(self, node: Node, args: list[Any]) -> Any:
        a = node.attrs
        return await self.client.ingest(
            args[0], a["collection"], a.get("engine"), a.get("embed_engine"), self._priority(node)
        )

    async def op_search(self, node: Node, args: list[Any]) -> Any:
        a = node.attrs
        return await self._emit_all(
            node,
            await self.client.search(
                args[0],
                search_params(node, args),
                a.get("engine"),
                a.get("embed_engine"),
                self._priority(node),
            ),
        )

    async def op_rerank(self, node: Node, args: list[Any]) -> Any:
        a = node.attrs
        return await self._emit_all(
            node,
            await self.client.rerank(
                args[0], args[1], rerank_top_k(node, args), a.get("engine"), self._priority(node)
            ),
        )

    async def op_db_insert(self, node: Node, args: list[Any]) -> Any:
        a = node.attrs
        texts, vectors = args[0], args[1]
        if isinstance(vectors, _Edge):
            chunk = int(a.get("chunk") or STREAM_BUFFER)
            return await self.client.insert_stream(
                a["collection"], texts, vectors.items(), chunk, a.get("engine")
            )
        return await self.client.insert(a["collection"], texts, vectors, a.get("engine"))

    async def op_db_search(self, node: Node, args: list[Any]) -> Any:
        a = node.attrs
        return await self._emit_all(
            node,
            await self.client.db_search(
                args[0], search_params(node, args), a.get("engine"), self._priority(node)
            ),
        )

    async def call_primitive(self, node: Node, args: list[Any]) -> Any:
        """The generic handler (a registered primitive's, unless its spec names another): one
        request to its engine method through the engine client, as its eager call makes."""
        spec = generic_primitive(node)
        value = await self.client.call(spec, spec.call_values(node, args), self._priority(node))
        return await self._emit_all(node, value)

    async def op_cond(self, node: Node, args: list[Any]) -> Any:
        branch: Graph = node.attrs["then"] if args[0] else node.attrs["orelse"]
        value = await type(self)(self.ctx, branch, f"{self.scope}/{node.name}").run(args[1:])
        return await self._emit_all(node, value)

    async def op_loop(self, node: Node, args: list[Any]) -> Any:
        return await self._emit_all(node, await run_loop(node, args, self._body_runner(node)))

    async def op_try(self, node: Node, args: list[Any]) -> Any:
        return await self._emit_all(node, await run_try(node, args, self._body_runner(node)))

    def _body_runner(self, node: Node) -> RunBody:
        async def run_body(graph: Graph, inputs: list[Any], scope: str) -> Any:
            return await type(self)(self.ctx, graph, f"{self.scope}/{node.name}{scope}").run(inputs)

        return run_body

    async def op_map(self, node: Node, args: list[Any]) -> Any:
        body: Graph = node.attrs["body"]
        concurrency = node.attrs.get("concurrency", 1)
        source, captured = args[0], args[1:]
        results: dict[int, Any] = {}
        emit = self._emit(node)

        async def one(i: int, item: Any) -> None:
            results[i] = await type(self)(self.ctx, body, f"{self.scope}/{node.name}[{i}]").run(
                [item, *captured]
            )

        count = 0
        if concurrency == 1 and not isinstance(source, _Edge):
            for item in source:
                await one(count, item)
                count += 1
        else:
            limiter = anyio.CapacityLimiter(concurrency) if concurrency else None

            async def guarded(i: int, item: Any, token: object) -> None:
                try:
                    await one(i, item)
                finally:
                    if limiter is not None:
                        limiter.release_on_behalf_of(token)

            items = source.items() if isinstance(source, _Edge) else _aiter(source)
            async with contextlib.aclosing(items), fail_fast() as tasks:
                async for item in items:
                    token = object()
                    if limiter is not None:
                        await limiter.acquire_on_behalf_of(token)
                    tasks.start_soon(guarded, count, item, token)
                    count += 1
        value = [results[i] for i in range(count)]
        if emit is not None:
            for v in value:
                await emit(v)
        return value


async def backoff(seconds: float) -> None:
    """Wait before a retry (a function of its own, so tests can count the waits)."""
    await anyio.sleep(seconds)


async def _aiter(items: Any) -> AsyncGenerator[Any, None]:
    for item in items:
        yield item


__all__ = ["GraphRun", "NodeEvents", "QueryContext", "Retries", "annotate", "plan", "run_query"]
