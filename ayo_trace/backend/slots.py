"""Session slots handed out in the scheduling policy's order.

An LLM engine holds a bounded number of sessions (``max_sessions``: llama.cpp's sequence ids). When
every slot is taken, the sessions that want one wait; a slot goes to the waiter first in the
policy's order (``policy.query_order``: the query with the smallest rank, then critical work
first), not to the one that asked first, and only after a few passes of the event loop
(``grace``), so that the query whose session just closed can ask for its next one and be among
the candidates. Sessions asking for a free slot line up for the same few passes too: a burst's
queries get their sessions in query order, not in the order their tasks happened to run.

Found profiling ``summarize_compare`` (two summaries, then a comparison) at 16 concurrent queries
on llama.cpp's 15 slots (then its default), optimized 0.87x of eager: with slots first come, first
served, the comparisons of the queries nearly done waited behind the summaries of queries that had
just started. With this order, same runs, p50 7.11 s to 6.04 s (eager 6.19 s to 6.00 s: eager calls
take slots in line too), and 7 of the 16 queries finish at 4.05 s instead of none before 6 s.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
import anyio.lowlevel

from .clock import now
from .cpu_share import HANDOVER_CHECKPOINTS
from .policy import OrderKey, current_query, rank_of


@dataclass(frozen=True, slots=True)
class Want:
    """What a policy reads of a request that is not queued yet: its node's ``priority``, whether it
    is work run ahead, and the query it serves (read from the running task's context, as a queued
    request's is)."""

    priority: float
    arrival: float
    rank: float
    query_seq: int
    ahead: bool


def wanting(priority: float, ahead: bool = False) -> Want:
    """A ``Want`` made now, in the running task's query (none: it ranks as it arrives)."""
    t = now()
    tag = current_query()
    return Want(priority, t, rank_of(tag, t), tag.seq if tag is not None else 0, ahead)


class _Waiter:
    __slots__ = ("event", "granted")

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.granted = False


class OrderedSlots:
    """``limit`` slots; waiters are served smallest key first (then first come).

    A slot given back is not handed out at once: the best waiter is woken and lets ``grace``
    passes of the event loop go by first, and then the free slots go to the best of those waiting.
    The session that gave the slot back usually belongs to a query whose next step asks for a
    session within those passes (a summary's session closes, the comparison's opens): that step
    ranks first, and it gets the slot rather than a newer query's first step."""

    def __init__(self, limit: int, grace: int = HANDOVER_CHECKPOINTS) -> None:
        self.free = limit
        self.grace = grace
        self._waiting: list[tuple[OrderKey, int, _Waiter]] = []
        self._arrivals = itertools.count()

    @property
    def lacking(self) -> int:
        """How many of the tasks waiting for a slot the free slots leave without one (a task lining
        up with slots free is waiting a pass or two of the event loop, not for a slot)."""
        return max(0, len(self._waiting) - self.free)

    def take_nowait(self) -> bool:
        """Take a free slot if there is one that no waiting task needs (a part run ahead, which
        never waits: measured, letting it line up last made bursts slower, see ``EnginePool``)."""
        if self.free > len(self._waiting):
            self.free -= 1
            return True
        return False

    async def take(self, key: OrderKey, short: Callable[[], Awaitable[None]] | None = None) -> None:
        """Take a slot in ``key``'s place in line. The tasks asking within ``grace`` passes of the
        event loop line up before the free slots are handed out (a burst of queries asks for its
        sessions over a few passes: they get them in the policy's order, not in the order their
        tasks happened to run). With no slot left for this task, ``short()`` is awaited once (the
        caller may free one: ``EnginePool`` takes back a parked session's), then it waits."""
        me = _Waiter()
        entry = (key, next(self._arrivals), me)
        heapq.heappush(self._waiting, entry)
        try:
            for _ in range(max(1, self.grace)):
                await anyio.lowlevel.checkpoint()
            self._hand_out()
            if not me.granted and short is not None:
                await short()
            while not me.granted:
                await me.event.wait()
                if me.granted:
                    break
                me.event = anyio.Event()  # woken by a slot given back: the grace, then the line
                for _ in range(self.grace):
                    await anyio.lowlevel.checkpoint()
                self._hand_out()
        except BaseException:
            if me.granted:  # handed a slot as it was cancelled: pass it on
                self.give()
            else:
                self._leave(entry)
            raise

    def _leave(self, entry: tuple[OrderKey, int, _Waiter]) -> None:
        self._waiting.remove(entry)
        heapq.heapify(self._waiting)
        if self.free and self._waiting:
            self._wake()  # it may have been woken for a slot: wake the next instead

    def give(self) -> None:
        """Give a slot back; the best waiter is woken to take it after the grace."""
        self.free += 1
        if self._waiting:
            self._wake()

    def _wake(self) -> None:
        self._waiting[0][2].event.set()

    def _hand_out(self) -> None:
        while self.free > 0 and self._waiting:
            self.free -= 1
            waiter = heapq.heappop(self._waiting)[2]
            waiter.granted = True
            waiter.event.set()


__all__ = ["OrderedSlots", "Want", "wanting"]
