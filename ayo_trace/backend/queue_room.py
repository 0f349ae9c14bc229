"""Room in an engine scheduler's bounded queue: who may queue a request now, who waits, who is
refused.

A full queue refuses a request whose query has none queued there: a new query under overload gets
``Overloaded`` at once (admission control, as before). A query already queued there waits for
room instead, and so does a query holding its share of the queue (``max_queue // QUERY_SHARE``
requests): the many requests of one query's parallel map (a thousand summaries the optimized graph
makes at once, where the loop run eagerly makes one at a time) wait their turn instead of failing
that query, or filling the queue so that its neighbours' requests are refused. Requests made
outside any query (an engine used directly) are refused when the queue is full, as before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import anyio

# A query holding this fraction of an engine's queue waits for room before queuing more.
QUERY_SHARE = 8


class Room:
    """The per-query count of an engine scheduler's queued requests, and the wait for room."""

    def __init__(self, max_queue: int) -> None:
        self.max_queue = max_queue
        self.queued: Counter[str | None] = Counter()
        self._freed: anyio.Event | None = None

    async def wait(self, query: str | None, length: Callable[[], int]) -> bool:
        """Wait until a request of ``query`` may join a queue now ``length()`` long: True; False
        when it must be refused (the queue is full and ``query`` has nothing queued)."""
        share = max(1, self.max_queue // QUERY_SHARE)
        while True:
            full = length() >= self.max_queue
            mine = self.queued[query] if query is not None else 0
            if not full and mine < share:
                return True
            if full and mine == 0:
                return False
            if self._freed is None:
                self._freed = anyio.Event()
            await self._freed.wait()

    def added(self, query: str | None) -> None:
        self.queued[query] += 1

    def left(self, reqs: Iterable[Any]) -> None:
        """Requests (with a ``query``) left the queue: count them out and wake the waiters."""
        any_left = False
        for r in reqs:
            any_left = True
            self.queued[r.query] -= 1
            if not self.queued[r.query]:
                del self.queued[r.query]
        if any_left and self._freed is not None:
            self._freed.set()
            self._freed = None


__all__ = ["QUERY_SHARE", "Room"]
