"""The graph scheduler: runs one query's graph, traced or lowered (see docs/ir-conventions.md).

A node starts as soon as the nodes it reads (``args``) and the nodes it must follow (``after``) are
done; each running node is a task in the query's task group, and execution dispatches on the op name
to the method the op's table entry names (``dispatch.handler_for``: a primitive's spec names its
handler, ``call_primitive`` for a generic one), like torch.fx's ``Interpreter``.

Failures: the query's error, naming the node and its ``file:line``, is that of the first failed
node in the graph's order (``graph_plan``: the program's), as eager code raises the error of the
first statement that fails and never runs the ones after it. So a node that fails first in time
(an instant check beside a slow engine call before it) waits for the nodes before it: if one of
them fails, its error is the query's (a ``try`` picks its handler by it); once none can, the
rest of the query is cancelled and the error raised. Nodes after a failed one are not started. A
``map``'s error is likewise its first failed item's, and a ``QueryTimeout`` ends the query at once.

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

from .._concurrency import FailFast, fail_fast
from ..errors import EngineError, InvalidRequest, NodeError, Overloaded, QueryTimeout, UserCodeError
from ..ir.blocks import BLOCK_OPS
from ..ir.code import UNBOUND
from ..ir.field_streams import stream_source
from ..ir.graph import Graph, Node
from ..ir.ops import idempotent, reopens_session, rerank_top_k, search_params
from ..ir.params import check_passages, check_text, check_texts
from .clock import now as _now
from .control import RunBody, run_loop, run_try
from .dispatch import annotate, generic_primitive, handler_for, run_user_code, where
from .engine_client import Emit, EngineClient, Session
from .events import NodeRun, running_node
from .graph_plan import STREAM_BUFFER, Edge, UpstreamFailed, plan
from .user_context import UserContext

log = logging.getLogger("ayo_trace.graph_scheduler")
# ops that may be given ``UNBOUND`` (a name a path left unbound): code reading it itself, bodies
_PASSES_UNBOUND = BLOCK_OPS | {"python", "break", "getitem", "output"}


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
        self.user = UserContext()  # the context variables its code sees and sets

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
    nested = running_node() is not None  # (run by the user's code of another query's node)
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
    except UserCodeError as exc:
        if nested and isinstance(exc.__cause__, Exception):
            # a workflow called from code run as written (a graph break) raises what its code
            # raised, as called eagerly, for that code to catch (`except* AppError` of its group)
            raise exc.__cause__ from exc.__cause__.__cause__
        raise
    finally:
        ctx.user.settle()
        with anyio.CancelScope(shield=True):
            await ctx.release_all()


class GraphRun:
    """One run of one graph (a query's graph, a map body for one item, a cond branch)."""

    def __init__(self, ctx: QueryContext, graph: Graph, scope: str) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.graph = graph
        self.scope = scope
        self.values: dict[Node, Any] = {}
        self._tg: FailFast | None = None
        self._edges_out: dict[Node, list[Edge]] = {}
        self._edges_in: dict[Node, dict[int, Edge]] = {}
        self._emitted: dict[Node, int] = {}
        # the first failed node in program order, and its error: the query's, once every node
        # before it is done (eager code raises the error of the first statement that fails)
        self._failure: tuple[int, Exception] | None = None
        self._dead: set[Node] = set()  # failed, or waiting for one that failed

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
                edge = Edge(max(STREAM_BUFFER, 2 * chunk), field)
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
                if pending[user] == 0 and not self._after_failure(user):
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
            if isinstance(exc, QueryTimeout):
                self._tg.fail(annotate(exc, node))  # (the deadline is the query's: now)
            self._failed(node, None if isinstance(exc, UpstreamFailed) else annotate(exc, node))
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
        if ok and self._failure is not None:
            self._settle()
        return ok

    # --- failures, in program order ------------------------------------------------------------

    def _after_failure(self, node: Node) -> bool:
        """Whether ``node`` comes after the first failed node: eager code would not run it."""
        return self._failure is not None and self._plan.order[node] > self._failure[0]

    def _failed(self, node: Node, error: Exception | None) -> None:
        """``node`` failed with ``error`` (None: its stream's producer failed, with its own)."""
        if error is not None and (self._failure is None or self._plan.order[node] < self._failure[0]):
            self._failure = (self._plan.order[node], error)
        first = self._failure[0] if self._failure is not None else -1
        for consumer, edges in self._edges_in.items():
            if consumer is node or (first >= 0 and self._plan.order[consumer] > first):
                for edge in edges.values():
                    edge.receive.close()  # (their producers go on: they may come before it)
        stack = [node]
        while stack:  # what waits for it will not run
            n = stack.pop()
            if n not in self._dead:
                self._dead.add(n)
                stack.extend(self._plan.waiters[n])
        self._settle()

    def _settle(self) -> None:
        """Fail the run with the first failed node's error once no node before it can still run
        (and fail first, as it would have eagerly)."""
        assert self._tg is not None
        if self._failure is None or self._tg.error is not None:
            return
        first, error = self._failure
        for n in self.graph.nodes[:first]:
            if n not in self.values and n not in self._dead:
                return
        self._tg.fail(error)

    async def _execute(self, node: Node) -> Any:
        handler = handler_for(self, node)
        edges_in = self._edges_in.get(node)
        args = [
            edges_in[i] if edges_in and i in edges_in else self.values[a] for i, a in enumerate(node.args)
        ]
        if node.op not in _PASSES_UNBOUND and any(a is UNBOUND for a in args):  # (a tracer bug)
            raise NodeError("given a value a path left unbound, unchecked", node=node.name, loc=where(node))
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
        return await self._emit_all(node, await run_user_code(node, args, self.ctx.user))

    async def op_break(self, node: Node, args: list[Any]) -> Any:
        return await self._emit_all(node, await run_user_code(node, args, self.ctx.user))

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
        given = node.attrs.get("given")  # (checked as the primitive checks it: `ayo.search`'s query)
        if given == "query":
            check_text(args[0], "query")
        elif given == "passages":
            check_passages(args[0])
        elif not isinstance(args[0], Edge):  # (a stream's items are strings)
            check_texts(args[0])
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
        check_text(args[0], "query")  # (as `ayo.search` checks it)
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
        check_text(args[0], "query")  # (as `ayo.rerank` checks it)
        return await self._emit_all(
            node,
            await self.client.rerank(
                args[0], args[1], rerank_top_k(node, args), a.get("engine"), self._priority(node)
            ),
        )

    async def op_db_insert(self, node: Node, args: list[Any]) -> Any:
        a = node.attrs
        texts, vectors = args[0], args[1]
        if isinstance(vectors, Edge):
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
        if concurrency == 1 and not isinstance(source, Edge):
            for item in source:
                await one(count, item)
                count += 1
        else:
            limiter = anyio.CapacityLimiter(concurrency) if concurrency else None
            failed: dict[int, Exception] = {}  # the error of the first item in order is the map's

            def settle() -> None:
                first = min(failed)
                if all(j in results or j in failed for j in range(first)):
                    tasks.fail(failed[first])

            async def guarded(i: int, item: Any, token: object) -> None:
                try:
                    await one(i, item)
                except Exception as exc:
                    failed[i] = exc
                finally:
                    if limiter is not None:
                        limiter.release_on_behalf_of(token)
                if failed:
                    settle()

            items = source.items() if isinstance(source, Edge) else _aiter(source)
            async with contextlib.aclosing(items), fail_fast() as tasks:
                try:
                    async for item in items:
                        if failed:
                            break  # (the items after a failed one do not run eagerly)
                        token = object()
                        if limiter is not None:
                            await limiter.acquire_on_behalf_of(token)
                        tasks.start_soon(guarded, count, item, token)
                        count += 1
                except Exception as exc:  # a lazy source failing at an item (`map(int, docs)`):
                    if isinstance(source, Edge):  # (a stream's producer failed: its error, at once)
                        raise
                    failed[count] = exc  # the error after the items before it, as a loop meets it
                    settle()
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
