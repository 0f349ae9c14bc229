"""Engine schedulers: one per engine instance, batching requests from every concurrent query.

Design: leader-based batching, with no background task.
    A request is queued (``queue_room.py`` says when a full queue refuses it with ``Overloaded``
    and when it waits for room) and its task then waits in the queue. When the scheduler has no
    *leader*, the first waiting task becomes it: it waits as the batching policy says
    (``batching.next_batch``: up to ``max_wait_s`` for a batch to fill, woken early by arrivals),
    takes the batch, runs the one engine call for it in a shielded task of its own, delivers every
    member's result, and gives up leadership, waking the first request still queued, which leads
    next. The leader's cancellation (by anyio or asyncio) takes effect once the call is done; once
    no member is waited for any more (every member's task cancelled, by a deadline say), the call
    itself is cancelled (``isolation.InFlight``). A cancelled waiter leaves the queue; a cancelled
    leader hands leadership on in its ``finally``. All work runs in tasks of a request that waits
    for it, so nothing outlives the requests that started it, under any runtime and event loop.

Failures (``isolation.py``): text and vectors are checked before a request is queued; a batch the
    engine fails as a whole is run again in halves, so only the requests at fault fail, each with
    its own error, and those are quarantined (run alone from then on).

LLM decoding is continuous batching on the same mechanism: each decoding session asks for its next
step; a round takes all of them (waiting a few milliseconds at most for every active session) into
one ``engine.decode(batch, max_steps)`` call. ``max_steps`` is small, so new sessions join quickly
and deltas stream in fine steps, each session's to its own consumer.

Order: the queue is a ``batching.Backlog`` in the runtime's policy order (``policy.py``): each
request carries its query's ``QueryTag`` (read from the context), so eager calls and graph nodes
take part alike; a request whose query's deadline cannot be met fails before it runs.

One engine instance runs one call at a time. Vector-store writes and admin calls go straight to
the store (transactions of their own); searches are batched per collection.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, Protocol

import anyio
import anyio.lowlevel

from ..errors import AyoError, EngineError, Overloaded, QueryTimeout
from ..ir.params import Hit, SamplingParams
from .batching import Backlog, Dispatch, Wait, next_batch
from .clock import now as _now
from .clock import on_trio
from .config import BatchPolicy
from .cpu_share import HANDOVER_CHECKPOINTS, CpuShare, oversubscribed
from .engines.base import (
    DecodeChunk,
    DecodeRequest,
    EmbeddingEngine,
    Engine,
    LLMEngine,
    PrefillRequest,
    RerankEngine,
    RerankRequest,
    ScoreRequest,
    Vector,
    VectorStore,
)
from .events import current_usage, report_batch, report_decoded, report_direct
from .isolation import Failed, InFlight, Quarantine, check_request, copy_error, run_isolated
from .policy import Ordered, OrderKey, current_query, query_order, rank_of
from .queue_room import Room

log = logging.getLogger("ayo_trace.engine_scheduler")

DEFAULT_DECODE_STEPS = 8
RELEASE_TIMEOUT_S = 30.0
_AHEAD = ("prefill", "ahead")


class BatchRecorder(Protocol):
    def batch(
        self, engine: str, key: str, batch_id: int, start: float, end: float, waits: list[float], error: bool
    ) -> None: ...


class _Request:
    __slots__ = (
        "ahead", "arrival", "deadline", "error", "key", "payload", "priority", "query",
        "query_seq", "rank", "result", "size", "tokens", "urgent", "usage", "wake",
    )  # fmt: skip

    def __init__(
        self,
        key: Hashable,
        payload: Any,
        priority: float,
        size: int = 1,
        tokens: int = 0,
        urgent: bool = False,
        ahead: bool = False,
    ) -> None:
        self.key = key
        self.payload = payload
        self.priority = priority
        self.size = size
        self.tokens = tokens
        self.urgent = urgent
        self.ahead = ahead
        self.arrival = _now()  # the policy's clock (virtual under a test clock)
        tag = current_query()
        self.query = tag.id if tag is not None else None
        self.query_seq = tag.seq if tag is not None else 0
        self.rank = -math.inf if urgent else rank_of(tag, self.arrival)
        # expired before it runs only when the query's estimates are trusted to describe the engines
        self.deadline = tag.deadline if tag is not None and tag.fail_early else None
        self.result: Any = _PENDING
        self.error: BaseException | None = None
        self.wake: anyio.Event | None = None
        self.usage = current_usage()  # the node that made it, told its batch size and queue wait

    @property
    def done(self) -> bool:
        return self.result is not _PENDING or self.error is not None

    def notify(self) -> None:
        if self.wake is not None:
            self.wake.set()


_PENDING = object()


@dataclasses.dataclass(frozen=True)
class _Call:
    """The key of a registered primitive's requests: batched into calls of the engine's ``method``
    (``ir.spec.PrimitiveSpec.engine_method``), counted under its name."""

    method: str

    def __str__(self) -> str:
        return self.method


def _kind_of(key: Hashable) -> str:
    return key[0] if isinstance(key, tuple) else str(key)


class EngineScheduler:
    """Queues and batches the requests for one engine instance. See the module docstring."""

    def __init__(
        self,
        engine: Engine,
        policy: BatchPolicy,
        *,
        max_queue: int = 1024,
        decode_steps: int = DEFAULT_DECODE_STEPS,
        recorder: BatchRecorder | None = None,
        peers: Callable[[], int] | None = None,
        order: Callable[[Ordered], OrderKey] = query_order,
    ) -> None:
        self.engine = engine
        self.order = order
        self.name = engine.name
        self.policy = policy
        self.max_queue = max_queue
        self.decode_steps = decode_steps
        self.recorder = recorder
        # How many queries (and eager calls) are running: with one, nobody else can join a batch,
        # so waiting for batch mates would only add latency.
        self.peers = peers
        self._alone_policy = dataclasses.replace(self.policy, max_wait_s=0.0)
        self.reset()
        self._started_at = _now()
        self.requests: Counter[str] = Counter()
        self.batch_sizes: Counter[int] = Counter()
        self.batches: Counter[str] = Counter()
        self.rejected = 0
        self.expired = 0
        self.failed_batches = 0
        self.wait_total = 0.0
        self.wait_max = 0.0
        self.waits_n = 0
        self.busy_s = 0.0
        self._batch_ids = 0
        self._quarantine = Quarantine()
        # Set by the runtime when this engine's CPU threads and others' outnumber the cores
        # (``cpu_share.py``): batches then take turns with the other engines' in the policy's order.
        self.cpu_share: CpuShare | None = None

    def reset(self) -> None:
        """Forget queued work: called when the runtime moves to a new event loop."""
        self._queue: Backlog[_Request] = Backlog(self.order)
        self._room = Room(self.max_queue)  # (who may queue, who waits for room)
        self._leader: _Request | None = None
        self._arrival: anyio.Event | None = None
        self.active_decodes = 0
        self.in_flight = 0
        self._in_flight = InFlight()  # the batch the engine is running

    def use_order(self, order: Callable[[Ordered], OrderKey]) -> None:
        """Order the queue by ``order`` from now on (the queue must be empty)."""
        if self._queue:
            raise RuntimeError(f"engine {self.name}: cannot change the order with requests queued")
        self.order = order
        self._queue = Backlog(order)

    @property
    def saturated(self) -> bool:
        """Whether requests other than work run ahead (and releases) are waiting for the engine."""
        q = self._queue
        return len(q) - q.count(_AHEAD) - q.count("release") > 0

    @property
    def load(self) -> int:
        """Outstanding items (an embed request counts its texts), for balancing across instances."""
        return self._queue.size + self.in_flight + self.active_decodes

    # --- the leader protocol ---------------------------------------------------------------------

    async def submit(self, req: _Request) -> Any:
        """Queue ``req``, wait for it (leading batches when no one else does) and return its result."""
        if not req.urgent and not await self._room.wait(req.query, lambda: len(self._queue)):
            self.rejected += 1  # (a query already queued here waits for room instead: queue_room.py)
            raise Overloaded(
                f"queue full ({len(self._queue)} waiting, max_queue={self.max_queue})", engine=self.name
            )
        self.requests[_kind_of(req.key)] += 1
        self._queue.add(req)
        self._room.added(req.query)
        if self._arrival is not None:
            self._arrival.set()
        try:
            while not req.done:
                if self._leader is None:
                    self._leader = req
                    try:
                        await self._lead()
                    finally:
                        self._leader = None
                        self._hand_off()
                else:
                    req.wake = anyio.Event()
                    await req.wake.wait()
        except BaseException:
            if req in self._queue:
                self._queue.discard(req)
                self._left([req])
                if self._leader is None:
                    self._hand_off()  # it may have been woken to lead: pass that on
            else:
                self._in_flight.abandon(req)
            raise
        if req.error is not None:
            raise req.error
        return req.result

    def _left(self, reqs: list[_Request]) -> list[_Request]:
        self._room.left(reqs)
        return reqs

    def _hand_off(self) -> None:
        first = self._queue.first()
        if first is not None:
            first.notify()

    async def _lead(self) -> None:
        """Wait for a batch to be ready, run it, deliver. One batch per call."""
        # Let the tasks that the last delivery woke run first: they often queue their next request
        # (a decode step after a prefill, the next round, the query's next step) at once, and then
        # join this batch or go ahead of later queries. On trio twice: a woken task may be scheduled
        # after this one (trio orders each batch of runnable tasks at random; asyncio runs them in
        # the order they were woken, so one pass is enough there).
        await anyio.lowlevel.checkpoint()
        if on_trio():
            await anyio.lowlevel.checkpoint()
        if self.engine.interruptible and self._queue:
            # Others wait: let the queries just served queue their next step first (a score's
            # result passes the reranker, graph scheduler and a Python node before the answer's
            # prefill). Microseconds; zero-latency engines (not ``interruptible``) skip it.
            for _ in range(HANDOVER_CHECKPOINTS):
                await anyio.lowlevel.checkpoint()
        while True:
            decision = await self._decide()
            if decision is None:
                return
            if self.cpu_share is None:
                break
            # The CPU is shared with other engines' schedulers: wait for this batch's turn (its best
            # request's place in the policy's order), then decide again, since the queue may have
            # changed meanwhile. Nothing is taken off the queue before the turn is held, so a
            # leader cancelled while it waits leaves every request queued.
            best = self._queue.get(decision.indices[0])
            async with self.cpu_share.turn(self.order(best)):
                decision = self._decide_now()
                if decision is not None:
                    await self._run_batch(decision)
                    return
        await self._run_batch(decision)

    async def _run_batch(self, decision: Dispatch) -> None:
        batch = self._left(self._queue.pop(decision.indices))
        # a release is cleanup, run to completion; other calls of a slow engine are watched
        watched = self.engine.interruptible and _kind_of(batch[0].key) != "release"
        leader = self._leader if watched else None
        await self._in_flight.run(batch, leader, self._run)
        await anyio.lowlevel.checkpoint_if_cancelled()  # a leader cancelled meanwhile stops now

    def _decide_now(self) -> Dispatch | None:
        """The batch to run now (expired requests failed on the way), or None: none is ready."""
        while self._queue:
            decision = self._next_batch()
            if not isinstance(decision, Dispatch):
                return None
            self._expire(self._left(self._queue.pop(decision.expired)), _now())
            if decision.indices:
                return decision
        return None

    def _next_batch(self) -> Dispatch | Wait:
        expected: dict[Hashable, int] | None = (
            {"decode": self.active_decodes} if self.active_decodes else None
        )
        policy = self.policy if self.peers is None or self.peers() > 1 else self._alone_policy
        return next_batch(self._queue, policy, _now(), expected)

    async def _decide(self) -> Dispatch | None:
        """Wait until a batch is ready and return it (None: the queue ran empty)."""
        while True:
            if not self._queue:
                return None
            decision = self._next_batch()
            if isinstance(decision, Dispatch):
                self._expire(self._left(self._queue.pop(decision.expired)), _now())
                if decision.indices:
                    return decision
                continue
            self._arrival = anyio.Event()
            try:
                with anyio.move_on_after(decision.seconds if decision.seconds is not None else math.inf):
                    await self._arrival.wait()
            finally:
                self._arrival = None

    async def _run(self, batch: list[_Request]) -> None:
        key = batch[0].key
        kind = _kind_of(key)
        start = _now()
        waits = [start - r.arrival for r in batch]
        report_batch(self.name, batch, waits)
        self._batch_ids += 1
        batch_id = self._batch_ids
        self.in_flight += (size := sum(r.size for r in batch))  # items: an embed request's texts
        error = False
        try:
            results, failures = await self._call(key, [r.payload for r in batch])
            if failures:
                error = True
                self.failed_batches += failures
                log.warning(
                    "engine %s: %s batch of %d: %d call(s) failed", self.name, kind, len(batch), failures
                )
            for r, res in zip(batch, results, strict=True):
                if isinstance(res, Failed):
                    r.error = copy_error(res.error)
                elif isinstance(res, EngineError):  # the engine failed this request alone
                    r.error = self._translate(res)
                else:
                    r.result = res
        except Exception as exc:  # not the engine's (run_isolated catches those): fail the batch
            error = True
            self.failed_batches += 1
            err = self._translate(exc)
            for r in batch:
                r.error = copy_error(err)
        finally:
            self.in_flight -= size
            end = _now()
            self.busy_s += end - start
            self.batches[kind] += 1
            self.batch_sizes[len(batch)] += 1
            for w in waits:
                self.wait_total += w
                self.wait_max = max(self.wait_max, w)
            self.waits_n += len(waits)
            if self.recorder is not None:
                self.recorder.batch(self.name, kind, batch_id, start, end, waits, error)
            for r in batch:
                if not r.done:  # a BaseException went through: nobody may wait forever
                    r.error = EngineError("batch aborted", engine=self.name)
                r.notify()

    def _expire(self, requests: list[_Request], now: float) -> None:
        """Fail requests whose query's deadline cannot be met, before they take engine time."""
        for r in requests:
            assert r.deadline is not None
            self.expired += 1
            left = r.deadline - now
            r.error = _unmeetable(
                f"query deadline cannot be met: {max(left, 0.0):.3f}s left, "
                f"about {r.priority:.3f}s of work to do (failed before running on engine {self.name!r})"
            )
            r.notify()

    def _translate(self, exc: Exception) -> AyoError:
        """Our error for what the engine raised: never the caught instance changed in place."""
        if isinstance(exc, EngineError):
            if exc.engine is not None:
                return exc
            err = copy.copy(exc)
            err.engine = self.name
            err.__cause__ = exc.__cause__
            return err
        if isinstance(exc, AyoError):
            return exc
        err = EngineError(f"{type(exc).__name__}: {exc}", engine=self.name)
        err.__cause__ = exc
        return err

    async def _call(self, key: Hashable, payloads: list[Any]) -> tuple[list[Any], int]:
        """Each payload's result (``Failed`` for a request that failed alone) and the failed calls."""
        kind = _kind_of(key)
        rerun = kind != "decode" or bool(getattr(self.engine, "atomic_decode", False))
        return await run_isolated(
            kind, payloads, lambda ps: self._dispatch(key, ps), self._translate, self._quarantine, rerun=rerun
        )

    async def _dispatch(self, key: Hashable, payloads: list[Any]) -> list[Any]:
        kind = _kind_of(key)
        engine = self.engine
        if kind == "prefill":
            assert isinstance(engine, LLMEngine)
            return list(await engine.prefill(payloads))
        if kind == "decode":
            assert isinstance(engine, LLMEngine)
            return list(await engine.decode(payloads, self.decode_steps))
        if kind == "release":
            assert isinstance(engine, LLMEngine)
            await engine.release(payloads)
            return [None] * len(payloads)
        if kind == "score":
            assert isinstance(engine, LLMEngine | RerankEngine)
            return list(await engine.score(payloads))
        if kind == "embed":
            assert isinstance(engine, EmbeddingEngine)
            flat = [t for texts in payloads for t in texts]
            vectors = list(await engine.embed(flat))
            if len(vectors) != len(flat):
                raise EngineError(f"embed: {len(flat)} texts but {len(vectors)} vectors", engine=self.name)
            out, i = [], 0
            for texts in payloads:
                out.append(vectors[i : i + len(texts)])
                i += len(texts)
            return out
        if kind == "search":
            assert isinstance(engine, VectorStore) and isinstance(key, tuple)
            _, collection, top_k = key
            return list(await engine.search(collection, payloads, top_k))
        if isinstance(key, _Call):
            results = list(await getattr(engine, key.method)(payloads))
            if len(results) != len(payloads):
                raise EngineError(
                    f"{key.method}: {len(payloads)} requests but {len(results)} results", engine=self.name
                )
            return results
        raise EngineError(f"unknown request kind {kind!r}", engine=self.name)

    # --- requests --------------------------------------------------------------------------------

    async def prefill(self, req: PrefillRequest, priority: float = 0.0) -> Any:
        tokens = 0
        if self.policy.token_budget is not None:
            assert isinstance(self.engine, LLMEngine)
            tokens = self.engine.count_tokens(req.text)
        # A part prefilled ahead of time is never batched with prefills a query waits for: on a
        # compute-bound engine a batch costs its whole token count, so it would only delay them.
        key: Hashable = _AHEAD if req.ahead else "prefill"
        check_request("prefill", req)
        return await self.submit(_Request(key, req, priority, tokens=tokens, ahead=req.ahead))

    async def decode(
        self,
        session: str,
        params: SamplingParams,
        on_delta: Callable[[str], Awaitable[None]],
        priority: float = 0.0,
    ) -> str | None:
        """Decode ``session`` to its end in continuous-batching rounds, handing each delta to
        ``on_delta``; returns the finish reason."""
        self.active_decodes += 1
        try:
            while True:
                chunk: DecodeChunk = await self.submit(
                    _Request("decode", DecodeRequest(session, params), priority)
                )
                report_decoded(chunk.n_tokens)
                if chunk.text:
                    await on_delta(chunk.text)
                if chunk.done:
                    return chunk.finish_reason
        finally:
            self.active_decodes -= 1

    async def release(self, session: str) -> None:
        """Free ``session`` on the engine, even in a cancelled task (shielded, time-bounded); for an
        engine whose calls can take long in a task of its own: asyncio cancelling the caller's task
        (at every pass, as a gather in a cancelled anyio scope is) cannot leave the session held."""

        async def free() -> None:
            with anyio.CancelScope(shield=True), anyio.move_on_after(RELEASE_TIMEOUT_S) as scope:
                await self.submit(_Request("release", session, math.inf, urgent=True))
            if scope.cancelled_caught:
                log.error("engine %s: releasing session %s timed out", self.name, session)

        if not self.engine.interruptible:
            return await free()  # (a scripted engine of no latency: no task's cost)
        async with anyio.create_task_group() as tg:
            tg.start_soon(free)

    async def score(self, req: ScoreRequest | RerankRequest, priority: float = 0.0) -> Any:
        check_request("score", req)
        tokens = 0
        if self.policy.token_budget is not None and isinstance(req, ScoreRequest):
            # A score is prefill work: it counts against the same budget as a prompt.
            assert isinstance(self.engine, LLMEngine)
            tokens = self.engine.count_tokens(req.context) + self.engine.count_tokens(req.continuation)
        return await self.submit(_Request("score", req, priority, tokens=tokens))

    async def embed(self, texts: Sequence[str], priority: float = 0.0) -> list[list[float]]:
        check_request("embed", texts)
        return await self.submit(_Request("embed", list(texts), priority, size=max(len(texts), 1)))

    async def search(self, collection: str, vector: Vector, top_k: int, priority: float = 0.0) -> list[Hit]:
        check_request("search", vector)
        return await self.submit(_Request(("search", collection, top_k), vector, priority))

    async def call(self, method: str, payload: Any, priority: float = 0.0) -> Any:
        """One request of a registered primitive, batched with others into ``engine.<method>``
        calls (a list of payloads to a list of results)."""
        if not callable(getattr(self.engine, method, None)):
            raise EngineError(f"engine {self.name!r} has no method {method!r}", engine=self.name)
        return await self.submit(_Request(_Call(method), payload, priority))

    async def direct(self, kind: str, fn: Callable[[], Awaitable[Any]]) -> Any:
        """Run a call that is not batched (a store transaction), counting it and translating errors."""
        self.requests[kind] += 1
        report_direct(self.name)
        start = _now()
        self.in_flight += 1
        try:
            return await fn()
        except Exception as exc:
            raise self._translate(exc) from exc
        finally:
            self.in_flight -= 1
            self.busy_s += _now() - start

    # --- reporting -------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        n_batches = sum(self.batch_sizes.values())
        n_items = sum(k * v for k, v in self.batch_sizes.items())
        wall = max(_now() - self._started_at, 1e-9)
        return {
            "engine": self.name,
            "requests": dict(self.requests),
            "batches": dict(self.batches),
            "batch_sizes": dict(sorted(self.batch_sizes.items())),
            "mean_batch": n_items / n_batches if n_batches else 0.0,
            "max_batch": max(self.batch_sizes, default=0),
            "queue_wait_mean_s": self.wait_total / self.waits_n if self.waits_n else 0.0,
            "queue_wait_max_s": self.wait_max,
            "busy_s": self.busy_s,
            "utilization": min(self.busy_s / wall, 1.0),
            "rejected": self.rejected,
            "expired": self.expired,
            "failed_batches": self.failed_batches,
            "queued": len(self._queue),
            "engine_stats": self.engine.stats(),
        }


def share_cpu(schedulers: Sequence[EngineScheduler], cores: int | None = None) -> CpuShare | None:
    """Give ``schedulers`` one ``CpuShare`` when their engines' CPU threads together outnumber the
    cores (``cpu_share.oversubscribed``), and return it; None (and no share) otherwise."""
    computing = [s for s in schedulers if s.engine.cpu_threads() > 0]
    if not oversubscribed([s.engine.cpu_threads() for s in computing], cores):
        return None
    share = CpuShare()
    for s in computing:
        s.cpu_share = share
    return share


def _unmeetable(message: str) -> QueryTimeout:
    """A ``QueryTimeout`` that names no node yet: the graph scheduler adds the node and its line."""
    err = QueryTimeout.__new__(QueryTimeout)
    Exception.__init__(err, message)
    return err


__all__ = ["DEFAULT_DECODE_STEPS", "EngineScheduler", "copy_error", "share_cpu"]
