"""Engine pools: the instances of one logical engine, each behind its own engine scheduler.

A pool picks the instance for a request (least outstanding work first; an LLM session stays on the
instance that holds it), admits LLM sessions within the engines' ``max_sessions``, keeps parts
prefilled ahead of time aside when that would only take a busy engine from waiting work, and
aggregates its instances' statistics (the one place they are summed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from ..ir.params import Hit, SamplingParams
from .engine_scheduler import EngineScheduler
from .engines.base import (
    Engine,
    PrefillRequest,
    PrefillResult,
    RerankRequest,
    ScoreRequest,
    Vector,
    VectorStore,
)
from .slots import OrderedSlots, wanting


class EnginePool:
    """The instances of one logical engine: least outstanding work first, LLM sessions pinned to the
    instance that holds them.

    Session admission: an LLM engine that holds a bounded number of sessions (``max_sessions``)
    gets at most that many open at once; a query that needs one more waits for a slot instead of
    failing. A part prefilled ahead of time (``PrefillRequest.ahead``) never waits: with no slot
    free it is kept aside and prefilled with the session's next part. A session that took a free
    slot for a part run ahead is *parked* there until its next part comes; a session whose prompt is
    complete and finds no slot free takes a parked session's slot (``_evict``: the parked session's
    state is freed and its parts are kept aside for its next part), and a session parking while
    others wait for its slot gives it up at once. That keeps admission free of deadlock: a slot a
    session waits for is held by a session whose prompt is complete (it will decode and release
    without waiting on another session), never by one waiting for work that waits for the slot.

    No extra work under load (``defer_ahead``): a part run ahead of time is also kept aside when its
    engine is saturated (other requests are waiting for it), and prefilled as one request with the
    session's next part: run ahead on a busy engine it would only take the engine from waiting
    work, split the session's prompt into more calls and make the engine recompute the seam. A
    shared constant prefix (``shared``) still goes ahead: engines fork it from a kept copy, and
    merged into the next part it would be computed again (measured with bench/load_latency.py
    --engines scripted: deferring shared prefixes too made the query-expansion stream slower).
    """

    def __init__(
        self,
        name: str,
        kind: str,
        schedulers: Sequence[EngineScheduler],
        *,
        defer_ahead: bool = False,
        max_batch: int | None = None,
    ) -> None:
        if not schedulers:
            raise ValueError(f"engine pool {name!r} has no instances")
        self.name = name
        self.kind = kind
        # The configured batch size (also with cross-request batching off): how many texts one
        # embedding request of a chunked node carries.
        self.max_batch = max_batch or schedulers[0].policy.max_batch
        self.schedulers = list(schedulers)
        self.defer_ahead = defer_ahead
        self.deferred_parts = 0  # parts run ahead that were kept aside and merged into the next part
        self._pins: dict[str, EngineScheduler] = {}
        self._deferred: dict[str, list[PrefillRequest]] = {}
        # Sessions holding a slot with only parts run ahead prefilled (their prompt is incomplete),
        # in the order they were parked, with the parts they hold: ``_evict`` takes the slot back.
        self._parked: dict[str, tuple[EngineScheduler, list[PrefillRequest]]] = {}
        self.evicted = 0  # parked sessions whose slot went to a session that was waiting for one
        self._slots: dict[EngineScheduler, OrderedSlots] = {}
        for s in self.schedulers:
            limit = getattr(s.engine, "max_sessions", None) if kind == "llm" else None
            if isinstance(limit, int) and limit > 0:
                self._slots[s] = OrderedSlots(limit)

    def pick(self, session: str | None = None) -> EngineScheduler:
        if session is not None:
            pinned = self._pins.get(session)
            if pinned is not None:
                return pinned
        best = self.schedulers[0]
        if len(self.schedulers) > 1:
            best = min(self.schedulers, key=lambda s: s.load)
        if session is not None:
            self._pins[session] = best
        return best

    def reset(self) -> None:
        self._pins.clear()
        self._deferred.clear()
        self._parked.clear()
        for s in list(self._slots):
            self._slots[s] = OrderedSlots(s.engine.max_sessions)  # type: ignore[attr-defined]
        for s in self.schedulers:
            s.reset()

    @property
    def engines(self) -> list[Engine]:
        return [s.engine for s in self.schedulers]

    # --- LLM -------------------------------------------------------------------------------------

    async def prefill(self, req: PrefillRequest, priority: float = 0.0) -> Any:
        sched = self._pins.get(req.session)
        if req.ahead and self.defer_ahead and not req.shared and (sched or self.pick()).saturated:
            return self._defer(req)
        if sched is None:
            sched = await self._admit(req, priority)
            if sched is None:  # ahead of time and no slot free: sent with the session's next part
                return self._defer(req)
        held = self._parked.pop(req.session, (sched, []))[1]  # not parked while its prompt grows
        earlier = self._deferred.pop(req.session, [])
        if earlier and earlier[0].shared:
            # A shared head kept aside (no slot was free, or its slot was taken back) goes first on
            # its own: the engine forks it from its kept copy instead of computing it again.
            head = earlier.pop(0)
            await sched.prefill(head, priority)
            held = [*held, head]
        if earlier:
            # One request for the parts kept aside and this one: the same text, one seam fewer.
            req = PrefillRequest(req.session, "".join(p.text for p in [*earlier, req]), False, req.ahead)
        result = await sched.prefill(req, priority)
        if req.ahead and self._pins.get(req.session) is sched and sched in self._slots:
            self._parked[req.session] = (sched, [*held, req])
            if self._slots[sched].lacking:
                await self._evict(req.session)  # a session waits for the slot this one parks in
        return result

    def _defer(self, req: PrefillRequest) -> PrefillResult:
        self._deferred.setdefault(req.session, []).append(req)
        self.deferred_parts += 1
        return PrefillResult(n_tokens=0)

    async def _admit(self, req: PrefillRequest, priority: float) -> EngineScheduler | None:
        """Pin a new session to an instance with a free slot. A part run ahead takes a slot only if
        one is free that no waiting session needs (else None: it is kept aside). Other sessions
        line up for a slot in the scheduling policy's order (``slots.OrderedSlots``); one that
        finds none left takes back the slot of the session parked last on that instance
        (``_evict``), then waits in line."""
        if not self._slots:
            return self.pick(req.session)
        by_load = sorted(self.schedulers, key=lambda s: s.load)
        unbounded = next((s for s in by_load if s not in self._slots), None)
        if unbounded is not None or req.ahead:
            sched = unbounded or next((s for s in by_load if self._slots[s].take_nowait()), None)
            if sched is not None:
                self._pins[req.session] = sched
            return sched
        target = next((s for s in by_load if self._slots[s].free), None)
        if target is None:  # none free: an instance with a parked session to take back
            parked = {s for s, _ in self._parked.values()}
            target = next((s for s in by_load if s in parked), by_load[0])

        async def short() -> None:  # no slot was left for this session: take a parked one's back
            last = next((n for n in reversed(self._parked) if self._parked[n][0] is target), None)
            if last is not None:
                await self._evict(last)

        await self._slots[target].take(target.order(wanting(priority)), short)
        self._pins[req.session] = target
        return target

    async def _evict(self, session: str) -> None:
        """Take the slot of parked ``session`` back: free its state on the engine and keep its parts
        aside, to be prefilled with its next part (it waits for a slot then, as a session whose
        prompt is complete). The slot goes to the first session waiting for one.

        Without this, sessions that took every free slot for a part run ahead (a constant head
        prefilled at query start) would wait for work that waits for their slots: a burst of 16
        map-reduce queries held all 15 slots of llama.cpp with their answers' heads while their 64
        summaries waited for a slot, forever (``tests/runtime/test_admission.py``)."""
        sched, parts = self._parked.pop(session)
        del self._pins[session]
        self._deferred[session] = [*parts, *self._deferred.get(session, [])]
        self.evicted += 1
        try:
            await sched.release(session)
        finally:
            self._slots[sched].give()

    async def decode(
        self,
        session: str,
        params: SamplingParams,
        on_delta: Callable[[str], Awaitable[None]],
        priority: float = 0.0,
    ) -> str | None:
        return await self.pick(session).decode(session, params, on_delta, priority)

    async def release(self, session: str) -> None:
        self._deferred.pop(session, None)
        self._parked.pop(session, None)
        sched = self._pins.pop(session, None)
        if sched is not None:
            try:
                await sched.release(session)
            finally:
                if (sem := self._slots.get(sched)) is not None:
                    sem.give()

    def holds(self, session: str) -> bool:
        return session in self._pins

    async def score(self, req: ScoreRequest | RerankRequest, priority: float = 0.0) -> Any:
        return await self.pick().score(req, priority)

    async def call(self, method: str, payload: Any, priority: float = 0.0) -> Any:
        """A registered primitive's request (``EngineScheduler.call``)."""
        return await self.pick().call(method, payload, priority)

    # --- embedding, store ------------------------------------------------------------------------

    async def embed(self, texts: Sequence[str], priority: float = 0.0) -> list[list[float]]:
        return await self.pick().embed(texts, priority)

    async def search(self, collection: str, vector: Vector, top_k: int, priority: float = 0.0) -> list[Hit]:
        return await self.pick().search(collection, vector, top_k, priority)

    async def insert(self, collection: str, texts: Sequence[str], vectors: Sequence[Vector]) -> int:
        sched = self.pick()
        store = sched.engine
        assert isinstance(store, VectorStore)
        return await sched.direct("insert", lambda: store.insert(collection, texts, vectors))

    async def insert_stream(
        self, collection: str, chunks: AsyncIterator[tuple[Sequence[str], Sequence[Vector]]]
    ) -> int:
        sched = self.pick()
        store = sched.engine
        assert isinstance(store, VectorStore)
        return await sched.direct("insert_stream", lambda: store.insert_stream(collection, chunks))

    def stats(self) -> dict[str, Any]:
        """All instances together (requests, batches, batch sizes, queue waits, busy time and
        utilization, rejections, failures), and each one under ``per_instance``."""
        per = [s.stats() for s in self.schedulers]
        sizes: Counter[int] = Counter()
        requests: Counter[str] = Counter()
        batches: Counter[str] = Counter()
        for s in per:
            sizes.update(s["batch_sizes"])
            requests.update(s["requests"])
            batches.update(s["batches"])
        n = sum(sizes.values())
        waits_n = sum(sched.waits_n for sched in self.schedulers)
        return {
            "kind": self.kind,
            "instances": len(per),
            "requests": dict(requests),
            "batches": dict(batches),
            "batch_sizes": dict(sorted(sizes.items())),
            "mean_batch": sum(k * v for k, v in sizes.items()) / n if n else 0.0,
            "max_batch": max(sizes, default=0),
            "queue_wait_mean_s": (
                sum(sched.wait_total for sched in self.schedulers) / waits_n if waits_n else 0.0
            ),
            "queue_wait_max_s": max(s["queue_wait_max_s"] for s in per),
            "busy_s": sum(s["busy_s"] for s in per),
            "utilization": sum(s["utilization"] for s in per) / len(per),
            "rejected": sum(s["rejected"] for s in per),
            "failed_batches": sum(s["failed_batches"] for s in per),
            "expired": sum(s["expired"] for s in per),
            "deferred_parts": self.deferred_parts,
            "evicted_sessions": self.evicted,
            "per_instance": per,
        }


__all__ = ["EnginePool"]
