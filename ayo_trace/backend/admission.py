"""Admission: at most ``limit`` queries in service at once; the others wait, in arrival order.

Under a burst, letting every query start at once makes them share the engines, so all of them
finish near the end of the burst; a bounded number in service keeps the engines' batches full (the
limit is larger than one batch) while later queries wait before starting, not half-way through.
``max_waiting`` bounds the waiting queries: one more is refused with ``Overloaded``, as an engine
queue past its bound refuses a request. A slot freed is handed to the first waiter directly, so a
query arriving meanwhile cannot overtake it.

The state belongs to one event loop: the first use in another loop starts afresh (the runtime
forgets queued work the same way when it moves to a new loop).
"""

from __future__ import annotations

import contextlib
import math
from collections import deque
from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel

from ..errors import Overloaded, QueryTimeout
from .policy import QueryTag

# Queries in service at once by default (``Runtime(max_active="auto")``): 16, the LLM's default max
# batch, or 8 when an LLM engine computes on the CPU. Scripted engines in virtual time
# (``bench/load_latency.py --engines scripted --sweep``) put a bound under the LLM's batch at a
# longer makespan (2: up to +19%, 4: +9%, 8: +3%) for a p50 not consistently better, and 16 within 1%
# of no bound. On the real CPU engines (``bench/load_latency.py --bounds 8``, bench/RESULTS.md) 8 did
# better: a llama.cpp decode step's time grows nearly in proportion to its sessions past a few (8
# together ~43 ms a step, one alone ~13 ms), so serving more queries at once only slows each one's
# decode; under the stream of 32 query expansions at 0.5 s, p50 was 0.49-0.60x of the old order's
# in two runs (0.6-0.7x at 16), makespans no longer. On a GPU decoding together is nearly free,
# so the bound stays at the batch there.
DEFAULT_MAX_ACTIVE = 16
CPU_LLM_MAX_ACTIVE = 8


def auto_limit(llm_on_cpu: bool) -> int:
    """The admission bound ``max_active="auto"`` resolves to, given whether an LLM engine computes
    on the CPU (see above)."""
    return CPU_LLM_MAX_ACTIVE if llm_on_cpu else DEFAULT_MAX_ACTIVE


class Admission:
    """A first-come, first-served gate of ``limit`` slots (None: no limit)."""

    def __init__(self, limit: int | None, max_waiting: int) -> None:
        self.limit = limit
        self.max_waiting = max_waiting
        self.refused = 0
        self._reset(None)

    def _reset(self, loop: object) -> None:
        self._loop = loop
        self.serving = 0
        self._waiting: deque[anyio.Event] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def refusal(self) -> Overloaded | None:
        """The ``Overloaded`` a query arriving now would be refused with (None: it would be served
        or wait). A server asks before it starts a streamed response, so the refusal is its status."""
        if self.limit is None or len(self._waiting) < self.max_waiting:
            return None
        loop = anyio.lowlevel.current_token().native_token
        if loop is not self._loop or self.serving < self.limit:
            return None
        return Overloaded(
            f"{self.serving} queries in service and {len(self._waiting)} waiting to start "
            f"(max_active={self.limit}, max_queue={self.max_waiting})"
        )

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for the body, waiting for it in arrival order."""
        if self.limit is None:
            yield
            return
        loop = anyio.lowlevel.current_token().native_token
        if loop is not self._loop:
            self._reset(loop)
        if self.serving < self.limit and not self._waiting:
            self.serving += 1
        else:
            if (refusal := self.refusal()) is not None:
                self.refused += 1
                raise refusal
            ev = anyio.Event()
            self._waiting.append(ev)
            try:
                await ev.wait()
            except BaseException:
                if ev.is_set():
                    self._release()  # the slot was handed to this waiter: pass it on
                else:
                    self._waiting.remove(ev)
                raise
        try:
            yield
        finally:
            self._release()

    @contextlib.asynccontextmanager
    async def admit(self, tag: QueryTag, work: float, deadline_s: float | None) -> AsyncIterator[None]:
        """Hold a slot for query ``tag`` for the body. With a deadline, a query that cannot start in
        time (with ``tag.fail_early``: in time to do its estimated ``work``, in seconds) raises
        ``QueryTimeout`` before it takes engine time."""
        if tag.fail_early and tag.deadline is not None and deadline_s is not None and work > deadline_s:
            raise QueryTimeout(
                f"query deadline of {deadline_s}s cannot be met: its estimated work is {work:.3f}s "
                "(failed before it started)",
                node=None,
            )
        start_by = math.inf if tag.deadline is None else tag.deadline - anyio.current_time()
        if tag.fail_early:
            start_by -= work
        async with contextlib.AsyncExitStack() as stack:
            with anyio.move_on_after(start_by) as waited:
                await stack.enter_async_context(self.slot())
            if waited.cancelled_caught:
                raise QueryTimeout(
                    f"query deadline of {deadline_s}s cannot be met: it waited "
                    f"{anyio.current_time() - tag.arrival:.3f}s to start"
                    + (f" and its estimated work is {work:.3f}s" if tag.fail_early else "")
                    + " (failed before it started)",
                    node=None,
                )
            yield

    def _release(self) -> None:
        if self._waiting:
            self._waiting.popleft().set()  # the slot passes on: ``serving`` is unchanged
        else:
            self.serving -= 1


__all__ = ["Admission"]
