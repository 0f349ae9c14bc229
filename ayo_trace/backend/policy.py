"""Scheduling policies: in what order an engine scheduler serves the requests of many queries.

Every request an engine scheduler queues carries its node's critical-path estimate (``priority``:
the node's ``meta["remaining"]``, seconds from its start to its graph's output on an idle engine),
whether it is work run ahead of time (``ahead``: a constant prompt prefix, an early prompt part),
and the *query* it serves (``QueryTag``: an identity, an arrival time, an estimate of the query's
work, an optional deadline). A policy is the sort key ``order(policy, request)`` that
``batching.next_batch`` orders each group of requests by; nothing here touches an event loop.

``"critical_path"`` (the order before query-level scheduling, kept for comparison):
    larger ``priority`` first, across all queries, then earlier arrival. Within a query this is
    right; across queries a new query's first steps (the most remaining work) go ahead of an old
    query's last step (the least): the longest-remaining-first order, which maximizes mean latency,
    and under a burst almost no query finishes before the burst is over.

``"query"`` (the default): queries in order of their *rank*, and within a query critical path first.
    A query's rank is its deadline when it has one, else ``arrival + work``: the deadline an idle
    engine would meet; queries of equal rank go in the order they started (``seq``). Then requests
    not run ahead go first, then larger ``priority``, then the earlier request.

Why this rank, of the candidates (shortest estimated remaining work of the query, least attained
service, arrival order with aging):

* *Shortest remaining work first* (SRPT) minimizes mean latency when estimates are right, but it
  starves a long query under a stream of short ones, and eager calls (plain Python, no graph) have
  no estimate at all.
* *Least attained service* needs no estimate, but it favors the newest queries (they have received
  nothing yet): with many queries of one workflow, the common case of a served application, it is
  round-robin, the processor sharing that keeps every query of a burst unfinished until its end.
* *Arrival order* (first come, first served by query) is what SRPT does when queries are alike: the
  oldest query has the least left. It needs no estimate and cannot starve anyone.

``arrival + work`` is arrival order aged by the estimate: among queries that arrive together the
shortest goes first (SRPT's choice), a longer query is passed only by queries that arrived before it
would have finished alone, and eager calls (``work`` 0) are served in arrival order. It cannot
starve: a query's rank is fixed when it starts, and every query that arrives after that rank has a
larger one, so the requests that may go ahead of a waiting one are finitely many (those of queries
that arrived before its rank, and those with an earlier deadline, which are failed once it passes).
Measured on scripted engines with the CPU engines' latencies in virtual time (``bench/load_latency.py
--engines scripted``, against ``"critical_path"``): a burst of 16 naive-RAG queries, optimized, has
p50 3.3 s instead of 5.1 s with the makespan 4.8 s instead of 5.1 s; eager, 4.4 s instead of 5.8 s;
query expansion, optimized, p50 5.1 s instead of 7.9 s for a makespan 3% longer (decode rounds are
smaller when queries are at different stages); a stream of 32 query expansions at 0.5 s, optimized,
p50 2.45 s and p95 4.0 s instead of 2.67 s and 4.4 s, the same makespan. The exact schedules are
tested in ``tests/runtime/test_query_scheduling.py``.

Deadlines are ranks on the same axis, so queries that have one are served earliest deadline first; a
request whose query's deadline cannot be met (less time left than its node's ``priority``, the
estimated time to the query's end on an idle engine) is failed before it runs (``next_batch``'s
``expired``), and ``Runtime`` fails a query whose estimated work exceeds its deadline before it
starts.

Work run ahead of time runs in its own batches (the engine scheduler's ``("prefill", "ahead")``
group) after the critical work of its own query, and, being part of an older query, before the work
of newer ones: it yields to the critical work that is waiting, in the order that query would want it.
Under this policy a part run ahead that finds its engine saturated is not even queued: it is kept
aside and prefilled with its session's next part in one request (``engine_scheduler.EnginePool``),
so work run ahead adds no request and no seam when the engine has no idle time to give it.

An LLM's session slots (``max_sessions``) are handed out in the same order (``slots.py``): a query's
next session gets the slot its last one gave back before a newer query's first does.

Decode rounds are one group per engine: the policy only orders which sessions fill a round when more
than ``max_batch`` decode; every active session is waited for (decoding together is nearly free).

Batches keep the order (``batching.next_batch``): a batch ready to run waits while a better-ranked
group is still gathering batch mates (its ``max_wait_s``), and a full batch leaves out the tail of a
query whose requests do not all fit. Both were found profiling a burst of query expansions on the
CPU engines: the first query's answer prefill waited a whole call behind the second query's scores,
and a batch of 16 scores served one query half in one call and half in the next.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal, Protocol

import anyio

PolicyName = Literal["query", "critical_path"]
POLICIES: tuple[PolicyName, ...] = ("query", "critical_path")
DEFAULT_POLICY: PolicyName = "query"


@dataclass(frozen=True, slots=True)
class QueryTag:
    """The query a request serves. ``arrival`` and ``deadline`` are on the scheduler's clock
    (``anyio.current_time()``); ``work`` is the query's estimated critical path in seconds (0: no
    estimate, an eager call); ``deadline`` is absolute (None: none); ``seq`` counts the queries a
    runtime started (it orders queries of equal rank, e.g. a burst in one instant); ``fail_early``:
    a request of this query is failed before it runs when its estimated time to the query's end
    exceeds the time left (``Runtime(fail_early=True)``: the estimates describe the engines)."""

    id: str
    arrival: float
    work: float = 0.0
    deadline: float | None = None
    seq: int = 0
    fail_early: bool = False

    @property
    def rank(self) -> float:
        """The query's place in the ``"query"`` order: its deadline, else ``arrival + work``."""
        return self.deadline if self.deadline is not None else self.arrival + self.work


_QUERY: ContextVar[QueryTag | None] = ContextVar("ayo_query", default=None)


def rank_of(tag: QueryTag | None, arrival: float) -> float:
    """The rank of a request made at ``arrival`` for query ``tag``: its query's, or, made outside
    any query (an engine used directly), its arrival."""
    return tag.rank if tag is not None else arrival


def current_query() -> QueryTag | None:
    """The query the running task serves (set by ``Runtime.run`` and eager workflows)."""
    return _QUERY.get()


@contextlib.contextmanager
def serving(tag: QueryTag) -> Iterator[QueryTag]:
    """Tag every engine request made within this context (and the tasks it starts) with ``tag``."""
    token = _QUERY.set(tag)
    try:
        yield tag
    finally:
        _QUERY.reset(token)


def new_tag(
    query_id: str,
    work: float = 0.0,
    deadline_s: float | None = None,
    seq: int = 0,
    *,
    fail_early: bool = False,
) -> QueryTag:
    """A tag for a query arriving now."""
    now = anyio.current_time()
    deadline = None if deadline_s is None else now + deadline_s
    return QueryTag(query_id, now, max(work, 0.0), deadline, seq, fail_early)


class Ordered(Protocol):
    """What a policy reads of a queued request."""

    @property
    def priority(self) -> float: ...
    @property
    def arrival(self) -> float: ...
    @property
    def rank(self) -> float: ...
    @property
    def query_seq(self) -> int: ...
    @property
    def ahead(self) -> bool: ...


OrderKey = tuple[float, ...]


def critical_path_order(w: Ordered) -> OrderKey:
    """The ``"critical_path"`` key: larger priority first, then earlier arrival."""
    return (-w.priority, w.arrival)


def query_order(w: Ordered) -> OrderKey:
    """The ``"query"`` key: smaller query rank first (then the query started first), then critical
    work before work run ahead, then larger priority, then earlier arrival."""
    return (w.rank, float(w.query_seq), float(w.ahead), -w.priority, w.arrival)


def order_for(policy: str) -> Callable[[Ordered], OrderKey]:
    """The sort-key function of ``policy`` (see the module docstring)."""
    if policy == "query":
        return query_order
    if policy == "critical_path":
        return critical_path_order
    raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")


__all__ = [
    "DEFAULT_POLICY",
    "POLICIES",
    "OrderKey",
    "Ordered",
    "PolicyName",
    "QueryTag",
    "critical_path_order",
    "current_query",
    "new_tag",
    "order_for",
    "query_order",
    "rank_of",
    "serving",
]
