"""One engine call at a time on an oversubscribed CPU, the best-ranked first.

Engines that compute on this machine's CPU (llama.cpp, transformers, sentence-transformers) each
start their own threads. When their threads together outnumber the cores, two calls running at once
share the cores: each runs at about half speed, so the call of the query that should finish first
(the scheduling policy's order, ``policy.py``) is slowed by a later query's call on another engine,
and the threads' contention costs throughput on top. Each engine scheduler orders its own queue, but
nothing orders the engines against each other.

A ``CpuShare`` does: every scheduler of such an engine takes a *turn* before running a batch, and
of the batches waiting for a turn the one whose best request comes first in the policy's order runs
next (ties: the one that asked first). A call is never interrupted; the share only chooses who runs
next. The batch handed the CPU first lets a few scheduler passes go by (time for the query the last
batch served to ask for its next step, which may rank before it) and yields to a better one that
asked meanwhile, so the CPU is never idle for longer than that while a batch waits.
``Runtime`` (``cpu_share=True``, the default) gives one share to the engines whose
``Engine.cpu_threads`` add up to more than the machine's cores, and none otherwise (engines on
enough cores run side by side).

Measured on the default CPU engines (2 cores, ``bench/load_latency.py``, ``bench/RESULTS.md``): with
the query policy, 32 naive-RAG queries arriving one every 0.5 s had p50 12.8 s with the share against
15.6 s without, and a makespan of 34.1 s against 38.9 s (the engines' threads no longer contend).
So it is on by default where it applies. It costs where other processes are busy on the same cores:
running one engine at a time leaves them a core, and later queries' requests reach the LLM in smaller
batches (one such run: a burst of 8 took 15.7 s with the share, 11.2 s without). ``Runtime(cpu_share=
False)`` is the setting for a machine shared with other work.

The share belongs to one event loop: the first use in another loop starts afresh (the runtime forgets
queued work the same way when it moves to a new loop).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
from collections.abc import AsyncIterator, Sequence

import anyio
import anyio.lowlevel

from .policy import OrderKey

# Scheduler passes a batch handed the CPU lets go by before it takes it (see ``CpuShare._wait``).
HANDOVER_CHECKPOINTS = 6


class _Waiter:
    __slots__ = ("event", "gone", "granted")

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.granted = False
        self.gone = False


class CpuShare:
    """A priority turn-taker: one holder at a time, waiters served by ``OrderKey``."""

    def __init__(self) -> None:
        self._counter = itertools.count()
        self.turns = 0  # turns given
        self.waited = 0  # turns that had to wait for another holder
        self._reset(None)

    def _reset(self, loop: object) -> None:
        self._loop = loop
        self._busy = False
        self._heap: list[tuple[OrderKey, int, _Waiter]] = []

    @contextlib.asynccontextmanager
    async def turn(self, key: OrderKey) -> AsyncIterator[None]:
        """Hold the CPU for the body, waiting for it behind better-ranked holders' batches."""
        loop = anyio.lowlevel.current_token().native_token
        if loop is not self._loop:
            self._reset(loop)
        self.turns += 1
        if not self._busy and not self._heap:
            self._busy = True
        else:
            self.waited += 1
            await self._wait(key)
        try:
            yield
        finally:
            self._next()

    async def _wait(self, key: OrderKey) -> None:
        entry = (key, next(self._counter), _Waiter())
        heapq.heappush(self._heap, entry)
        while True:
            waiter = entry[2]
            try:
                await waiter.event.wait()
                # Handed the CPU: first let the tasks the last batch woke run, since a query's next
                # step often follows at once (from the very task that ran the last batch) and may
                # rank before this one.
                for _ in range(HANDOVER_CHECKPOINTS):
                    await anyio.lowlevel.checkpoint()
            except BaseException:
                if waiter.granted:
                    self._next()  # handed the CPU as it was cancelled: pass it on
                else:
                    waiter.gone = True
                raise
            self._prune()
            if not self._heap or self._heap[0][:2] > entry[:2]:
                return
            # A better-ranked batch asked meanwhile: it goes first, this one waits again.
            entry = (entry[0], entry[1], _Waiter())
            heapq.heappush(self._heap, entry)
            self._next()

    def _prune(self) -> None:
        while self._heap and self._heap[0][2].gone:
            heapq.heappop(self._heap)

    def _next(self) -> None:
        """Hand the CPU to the best waiter, or free it."""
        self._prune()
        if self._heap:
            _, _, waiter = heapq.heappop(self._heap)
            waiter.granted = True
            waiter.event.set()
            return
        self._busy = False

    @property
    def waiting(self) -> int:
        return sum(1 for _, _, w in self._heap if not w.gone)


def oversubscribed(threads: Sequence[int], cores: int | None = None) -> bool:
    """Whether engines using ``threads`` CPU threads each would outnumber the cores (``cores``:
    this process's usable CPUs by default) when they run at once: only then does one call at a time
    cost them nothing."""
    busy = [t for t in threads if t > 0]
    if len(busy) < 2:
        return False
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return sum(busy) > cores


__all__ = ["CpuShare", "oversubscribed"]
