"""The events of a query, for whoever listens: the caller of ``wf.stream`` and the node's ``Usage``.

``stream_events(run, answers)`` runs ``run()`` (a traced query, or an eager call) in a task of its
own with an ``EventChannel`` current, and yields what happens, in this order:

* ``NodeStarted`` when a node of the graph starts (traced runs only; map, loop, cond and try bodies
  included, each with its ``scope``);
* ``Token``: a delta of the text of an *answer* LLM call as the engine decodes it: the ``llm`` whose
  value the workflow returns, and every ``ayo.llm(..., stream=True)``; ``answers`` are their places in
  the user's code (``file:line``), which name the same call traced, optimized (the lowered
  ``llm_decode`` keeps its ``llm``'s place) and eager;
* ``Item``: an item of an answer call's parsed output, as soon as the parser closes it during
  decode (``parse=ayo.lines``, ``ayo.json_list``, ``list[X]``, or a model's list field), after the
  ``Token`` that ended it;
* ``NodeFinished`` when that node ends (``ok`` False when it failed), after all its ``Token`` and
  ``Item`` events;
* ``Result``: the workflow's value, last, once. A run that fails raises its error from the iterator
  instead, after the events that came before it.

Events of nodes that run at the same time interleave; the order above holds per node. The engines
never wait for a slow reader: token deltas that do not fit the channel's bounded buffer are joined
into one ``Token`` (the text is the same), and only node and item events wait for room, which holds
back that query alone.

The runtime's hooks: the graph scheduler wraps each node run in a ``NodeRun`` (node events, its
OpenTelemetry span, the node's ``Usage`` current in its task while it runs); the LLM primitives
report their prompt and prefill result (``record_prompt``) and output (``record_output``) and take
``answer_sink()`` for their deltas; the engine schedulers report each request's batch size and queue
wait (``report_batch``, ``report_direct``) and decoded tokens (``report_decoded``) to the ``Usage``
of the node that made it (``current_usage``, read in the requesting task).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ClassVar

import anyio
from anyio.streams.memory import MemoryObjectSendStream

from ..ir.code import SourceLoc
from ..ir.graph import Node
from . import otel
from .clock import now

EVENT_BUFFER = 256
ANSWER_OPS = frozenset({"llm", "llm_decode"})


@dataclass(frozen=True)
class NodeStarted:
    """A node of the query's graph started. ``loc`` is its ``file:line`` (None for a node with no
    place in the user's code), ``scope`` the graph run it belongs to (the query id, extended inside
    map/loop/cond/try bodies, as LLM sessions are named)."""

    kind: ClassVar[str] = "node_started"
    query: str
    scope: str
    node: str
    op: str
    loc: str | None


@dataclass(frozen=True)
class NodeFinished:
    """A node ended: ``ok`` False when it failed or was cancelled; ``elapsed_s`` its run time;
    ``tokens_in``/``tokens_out`` its LLM prompt and output tokens (0 for other ops)."""

    kind: ClassVar[str] = "node_finished"
    query: str
    scope: str
    node: str
    op: str
    loc: str | None
    ok: bool
    elapsed_s: float
    tokens_in: int = 0
    tokens_out: int = 0


@dataclass(frozen=True)
class Token:
    """A delta of an answer LLM call's text, as decoded. ``node`` is None in eager runs."""

    kind: ClassVar[str] = "token"
    text: str
    node: str | None
    loc: str | None


@dataclass(frozen=True)
class Item:
    """Item ``index`` of an answer LLM call's parsed output, as soon as it was decoded: of the list
    field ``field`` of a structured output (``parse=`` a model; a nested field's key path,
    ``section.items``), or of the list itself (``field``
    None: ``ayo.lines``, ``ayo.json_list``, ``list[X]``). ``value`` is the item as the call's value
    holds it (validated). ``node`` is None in eager runs."""

    kind: ClassVar[str] = "item"
    field: str | None
    index: int
    value: Any
    node: str | None
    loc: str | None


@dataclass(frozen=True)
class Result:
    """The workflow's value: the last event of a run that succeeded."""

    kind: ClassVar[str] = "result"
    value: Any


Event = NodeStarted | NodeFinished | Token | Item | Result


@dataclass
class Usage:
    """What one node run used: filled in by the runtime while the node runs (``current_usage``)."""

    engine: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    batch_sizes: list[int] = field(default_factory=list)
    queue_wait_s: float = 0.0
    prompt: str = ""
    output: str = ""

    def batch(self, engine: str, size: int, wait_s: float) -> None:
        """One engine request of the node ran in a batch of ``size`` after ``wait_s`` in the queue."""
        self.engine = self.engine or engine
        self.batch_sizes.append(size)
        self.queue_wait_s += wait_s


@dataclass
class _Failed:
    error: BaseException


class EventChannel:
    """One query's events on their way to the reader (a bounded memory object stream)."""

    def __init__(self, answers: Iterable[SourceLoc], buffer: int = EVENT_BUFFER) -> None:
        self.answers = frozenset(answers)
        self.send: MemoryObjectSendStream[Event | _Failed]
        self.send, self.receive = anyio.create_memory_object_stream[Event | _Failed](buffer)
        self._backlog: dict[tuple[str | None, str | None], list[str]] = {}

    def token(self, node: str | None, loc: str | None, delta: str) -> None:
        """Hand a delta on without waiting; join it to the ones still waiting when the buffer is full."""
        key = (node, loc)
        waiting = self._backlog.get(key)
        text = "".join(waiting) + delta if waiting else delta
        try:
            self.send.send_nowait(Token(text, node, loc))
        except anyio.WouldBlock:
            self._backlog[key] = [text]
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass  # the reader is gone: its query is being cancelled
        else:
            self._backlog.pop(key, None)

    async def put(self, event: Event | _Failed) -> None:
        """Send ``event`` after every token delta still waiting (so a node's tokens precede its end)."""
        try:
            for (node, loc), parts in list(self._backlog.items()):
                if event_node(event) in (node, None):
                    del self._backlog[(node, loc)]
                    await self.send.send(Token("".join(parts), node, loc))
            await self.send.send(event)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass  # the reader is gone: its query is being cancelled

    def put_nowait(self, event: Event) -> None:
        """Best effort, for a node that ends because its query is cancelled."""
        with contextlib.suppress(anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
            self.send.send_nowait(event)


def event_node(event: Event | _Failed) -> str | None:
    return getattr(event, "node", None)


_CHANNEL: ContextVar[EventChannel | None] = ContextVar("ayo_event_channel", default=None)
_NODE: ContextVar[Node | None] = ContextVar("ayo_running_node", default=None)
_USAGE: ContextVar[Usage | None] = ContextVar("ayo_node_usage", default=None)


def running_node() -> Node | None:
    """The node running in this task (None outside a node run: a query's own caller)."""
    return _NODE.get()


def current_usage() -> Usage | None:
    """The ``Usage`` of the node running in this task (None outside a node run)."""
    return _USAGE.get()


# --- the hooks the runtime calls -----------------------------------------------------------------


class NodeRun:
    """One node run as the listeners see it: ``start()``, then ``finish(ok)``; ``usage`` meanwhile."""

    def __init__(self, query: str, scope: str, node: Node, loc: SourceLoc | None) -> None:
        self.query, self.scope, self.node = query, scope, node
        self.loc = str(loc) if loc is not None else None
        self.usage = Usage()
        self.channel = _CHANNEL.get()
        self.started = now()
        self._tokens: list[Any] = []
        self._span: Any = None

    async def start(self) -> None:
        """Make the node current in this task (for ``answer_sink`` and ``current_usage``), then tell
        the reader."""
        self._tokens = [_NODE.set(self.node), _USAGE.set(self.usage)]
        n = self.node
        self._span = otel.start_node_span(self.query, self.scope, n.name, n.op, self.loc)
        if self.channel is not None:
            n = self.node
            await self.channel.put(NodeStarted(self.query, self.scope, n.name, n.op, self.loc))

    async def finish(self, ok: bool, cancelled: bool = False) -> None:
        """End the run: in a cancelled task (``cancelled``) without waiting for the reader."""
        if self._tokens:
            usage_token, node_token = self._tokens.pop(), self._tokens.pop()
            _USAGE.reset(usage_token)
            _NODE.reset(node_token)
        otel.end_node_span(self._span, self.usage, ok)
        if self.channel is None:
            return
        n, u = self.node, self.usage
        event = NodeFinished(
            self.query,
            self.scope,
            n.name,
            n.op,
            self.loc,
            ok,
            now() - self.started,
            u.tokens_in,
            u.tokens_out,
        )
        if cancelled:
            self.channel.put_nowait(event)
        else:
            await self.channel.put(event)


def _ignore(delta: str) -> None:
    pass


def answer_sink() -> Callable[[str], None]:
    """Where the LLM call running in this task hands its deltas: the channel, when a stream
    listens and this call is one of its answers (else nowhere). Read it in the task that makes the
    call: the engine scheduler may deliver another request's deltas from this one."""
    found = _answer()
    if found is None:
        return _ignore
    channel, name, loc = found
    return lambda delta: channel.token(name, loc, delta)


async def _no_item(item: Any) -> None:
    pass


def answer_item_sink() -> Callable[[Any], Awaitable[None]]:
    """Where the LLM call running in this task hands the items its parser closes (a ``FieldItem``
    for a model's list field, else the item itself), as ``Item`` events; the same calls as
    ``answer_sink`` stream, read in the same task."""
    found = _answer()
    if found is None:
        return _no_item
    channel, name, loc = found
    count = 0

    async def sink(item: Any) -> None:
        nonlocal count
        field, index, value = getattr(item, "field", None), count, item
        if field is not None:  # a FieldItem (ir.json_items): numbered within its field
            index, value = item.index, item.value
        count += 1
        await channel.put(Item(field, index, value, name, loc))

    return sink


def _answer() -> tuple[EventChannel, str | None, str] | None:
    """The channel, node name and place of the LLM call running in this task, when a stream
    listens and the call is one of its answers."""
    channel = _CHANNEL.get()
    if channel is None or not channel.answers:
        return None
    node = _NODE.get()
    if node is not None:
        if node.op in ANSWER_OPS and node.loc in channel.answers:
            return channel, node.name, str(node.loc)
        return None
    here = _caller_in(channel.answers)  # eager: the call's own place in the user's code
    return None if here is None else (channel, None, str(here))


def _caller_in(places: frozenset[SourceLoc]) -> SourceLoc | None:
    """The first frame up the (awaiting) stack that is at one of ``places``."""
    files = {p.file for p in places}
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_filename in files:
            loc = SourceLoc(code.co_filename, frame.f_lineno)
            if loc in places:
                return loc
        frame = frame.f_back  # type: ignore[assignment]
    return None


def record_prompt(text: str, result: Any) -> None:
    """An LLM prompt (or a part of one) the running node prefilled; ``result`` is the engine's
    ``PrefillResult`` (tokens computed and reused). A part kept aside to be sent with the session's
    next one counts no tokens now: that next part's result counts them all."""
    usage = _USAGE.get()
    if usage is None:
        return
    usage.prompt += text
    usage.tokens_in += int(getattr(result, "n_tokens", 0) or 0) + int(getattr(result, "n_cached", 0) or 0)


def record_output(text: str) -> None:
    """The text the running node decoded (its tokens are counted by ``report_decoded``)."""
    usage = _USAGE.get()
    if usage is not None:
        usage.output += text


def report_decoded(n_tokens: int) -> None:
    """A decode round gave the running node's session ``n_tokens`` tokens (the engine's count:
    no tokenizer call, which would be a blocking actor call for a Ray engine)."""
    usage = _USAGE.get()
    if usage is not None:
        usage.tokens_out += n_tokens


def report_batch(engine: str, requests: Sequence[Any], waits: Sequence[float]) -> None:
    """Tell the nodes that made ``requests`` (each with the ``usage`` current when it was made)
    the size of their batch and how long each request waited in the queue."""
    for r, wait in zip(requests, waits, strict=True):
        if r.usage is not None:
            r.usage.batch(engine, len(requests), wait)


def report_direct(engine: str) -> None:
    """The running node made a call that is not batched (a store transaction) on ``engine``."""
    usage = _USAGE.get()
    if usage is not None:
        usage.batch(engine, 1, 0.0)


# --- the stream --------------------------------------------------------------------------------


async def stream_events(
    run: Callable[[], Awaitable[Any]], answers: Iterable[SourceLoc], buffer: int = EVENT_BUFFER
) -> AsyncGenerator[Event, None]:
    """Run ``run()`` and yield its events (see the module docstring). Closing the iterator early
    cancels the run (use ``contextlib.aclosing`` when you may stop before the end; left unclosed,
    the run is cancelled when asyncio's finalizer closes it, the reader's task undisturbed)."""
    channel = EventChannel(answers, buffer)
    stop = anyio.CancelScope()  # the run's own: the reader's task group's scope is the reader's

    async def produce() -> None:
        _CHANNEL.set(channel)  # this task's own context: the reader's stays as it was
        with stop:
            async with channel.send:
                try:
                    value = await run()
                except Exception as exc:
                    await channel.put(_Failed(exc))
                else:
                    await channel.put(Result(value))

    error: BaseException | None = None
    # The group is entered and left by hand: left without `aclosing` (a `return` in the `async for`),
    # the generator is closed by asyncio's finalizer in another task, where the group the reader's
    # task entered cannot be left (anyio refuses), and cancelling its scope would cancel the
    # reader's task for good. There the run is cancelled by its own scope and ends by itself.
    tg = anyio.create_task_group()
    await tg.__aenter__()
    reader = anyio.get_current_task().id
    raised: BaseException | None = None
    try:
        tg.start_soon(produce)
        async with channel.receive:
            async for event in channel.receive:
                if isinstance(event, _Failed):
                    error = event.error
                    break
                yield event
    except GeneratorExit:
        pass  # closed early: cancel the run, then end (raised in the group, it would be wrapped)
    except BaseException as exc:
        raised = exc
        raise
    finally:
        stop.cancel()
        if anyio.get_current_task().id == reader:
            await tg.__aexit__(
                type(raised) if raised else None, raised, raised.__traceback__ if raised else None
            )
    if error is not None:
        raise error


__all__ = [
    "ANSWER_OPS",
    "EventChannel",
    "Item",
    "NodeFinished",
    "NodeRun",
    "NodeStarted",
    "Result",
    "Token",
    "Usage",
    "answer_item_sink",
    "answer_sink",
    "current_usage",
    "record_output",
    "record_prompt",
    "report_batch",
    "report_decoded",
    "report_direct",
    "stream_events",
]
