"""The batching policy as a pure function: which waiting requests form the next batch, or how long
to wait for more.

An engine scheduler calls ``next_batch`` with its queue (a ``Backlog``); nothing here touches an
event loop, a clock or the engine, so the policy is unit-tested (and property-tested) on plain data
(a list of ``Waiting`` works as a queue too).

Rules, for each *group* of requests that may share one engine call (same ``key``: prefill, decode,
embed, a search of one collection, ...):

* Order: the scheduling policy's sort key (``policy.py``: ``query_order`` by default, or today's
  ``critical_path_order``, larger ``priority`` first then earlier ``arrival``), then queue position.
* A batch is the longest prefix of that order that fits ``max_batch`` (counted in ``size``: one per
  LLM request, one per text to embed) and ``token_budget`` (counted in ``tokens``); the first
  request always fits, so an oversized request runs alone. When the batch is full and the request
  left out belongs to the query of the batch's last requests, those are left out too (unless that
  query leads the batch): a query is not served half in this batch and half in the next, paying for
  both (``_whole_queries``).
* A request whose ``deadline`` leaves less time than its ``priority`` (its estimated time to its
  query's end on an idle engine) is *expired*: it is left out of the batch and reported, so its
  query fails before it takes engine time.
* A group is *ready* when its batch is full (the next request would not fit, or it reached
  ``max_batch``), when it holds as many requests as are ``expected`` (decode rounds: every active
  session has asked for its next step), when one of its requests is ``urgent``, or when its oldest
  request has waited ``max_wait_s``. A group that waits for expected members waits at most
  ``max(max_wait_s, EXPECTED_WAIT_S)``: a decode round does not start without a session that is only
  a moment late, but a session held back by a slow consumer does not stall the others.
* Of the ready groups, the one whose best request comes first in the order above runs, unless a
  group that is not ready yet has a better one and the ready batch is not urgent (a release): then
  the answer is to wait for that group (at most its wait bound), since the ready batch would hold
  the engine for a whole call. When none is ready, the answer is how long until the first one will
  be.

Cost: a ``Backlog`` keeps each group as a heap in the policy's order and a heap by arrival, updated
as requests come and go, so a decision looks at the first ``max_batch`` or so entries of each group
(``examined`` counts them), never sorts the whole queue; a queue of n requests drains in
O(n log n) in all, not O(n^2 log n).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from .config import BatchPolicy
from .policy import OrderKey, critical_path_order

EXPECTED_WAIT_S = 0.005
_EPS = 1e-9


class Queued(Protocol):
    """What the policy reads of a queued request (``Waiting``, or the scheduler's own request)."""

    @property
    def key(self) -> Hashable: ...
    @property
    def priority(self) -> float: ...
    @property
    def arrival(self) -> float: ...
    @property
    def size(self) -> int: ...
    @property
    def tokens(self) -> int: ...
    @property
    def urgent(self) -> bool: ...
    @property
    def rank(self) -> float: ...
    @property
    def query_seq(self) -> int: ...
    @property
    def ahead(self) -> bool: ...
    @property
    def deadline(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class Waiting:
    """What the policy knows about one queued request. ``rank`` is its query's rank
    (``policy.QueryTag.rank``), ``query_seq`` its ``seq``, ``deadline`` its query's absolute deadline
    (None: none)."""

    key: Hashable
    priority: float = 0.0
    arrival: float = 0.0
    size: int = 1
    tokens: int = 0
    urgent: bool = False
    rank: float = 0.0
    ahead: bool = False
    query_seq: int = 0
    deadline: float | None = None


@dataclass(frozen=True, slots=True)
class Dispatch:
    """Run these queue positions (best first) as one engine call (none: only ``expired`` to fail),
    and fail the ``expired`` ones (their deadline cannot be met)."""

    indices: tuple[int, ...]
    expired: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Wait:
    """Nothing is ready: wait ``seconds`` (or until a request arrives) and ask again.

    ``seconds`` is None when the queue is empty.
    """

    seconds: float | None


T = TypeVar("T", bound=Queued)
_Entry = tuple[OrderKey, int, Any]  # (order key, sequence number, request)


class _Group:
    __slots__ = ("arrivals", "heap", "live", "urgent")

    def __init__(self) -> None:
        self.heap: list[_Entry] = []
        self.arrivals: list[tuple[float, int]] = []
        self.live = 0
        self.urgent = 0


class Backlog(Generic[T]):
    """A queue of requests grouped by ``key``, each group in ``order`` (see the module docstring).

    Every request gets a sequence number when added (its queue position: ``next_batch`` answers in
    these). Removal is lazy: removed entries stay in the heaps until they reach the top, or until
    they outnumber the live ones and the group is rebuilt.
    """

    def __init__(self, order: Callable[[Any], OrderKey] = critical_path_order) -> None:
        self.order = order
        self._groups: dict[Hashable, _Group] = {}
        self._items: dict[int, T] = {}  # sequence number -> request, the live ones in arrival order
        self._seqs: dict[int, int] = {}  # id(request) -> sequence number
        self._next = 0
        self.examined = 0  # heap entries the decisions looked at (the cost, for tests)
        self.size = 0  # the ``size`` of every queued request together (texts to embed, ...)

    @classmethod
    def of(cls, queue: Sequence[T], order: Callable[[Any], OrderKey] = critical_path_order) -> Backlog[T]:
        """A backlog holding ``queue`` in that order: sequence number i is ``queue[i]``."""
        b: Backlog[T] = cls(order)
        for w in queue:
            b.add(w)
        return b

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __contains__(self, item: object) -> bool:
        return id(item) in self._seqs

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items.values()))

    def count(self, key: Hashable) -> int:
        """How many requests of group ``key`` are queued."""
        g = self._groups.get(key)
        return g.live if g is not None else 0

    def get(self, seq: int) -> T:
        """The queued request with sequence number ``seq``."""
        return self._items[seq]

    def first(self) -> T | None:
        """The request queued earliest of those still queued."""
        return next(iter(self._items.values()), None)

    def add(self, item: T) -> int:
        seq = self._next
        self._next += 1
        self._items[seq] = item
        self._seqs[id(item)] = seq
        self.size += item.size
        g = self._groups.get(item.key)
        if g is None:
            g = self._groups[item.key] = _Group()
        heapq.heappush(g.heap, (self.order(item), seq, item))
        heapq.heappush(g.arrivals, (item.arrival, seq))
        g.live += 1
        g.urgent += bool(item.urgent)
        return seq

    def discard(self, item: T) -> None:
        """Remove ``item`` if it is queued."""
        seq = self._seqs.get(id(item))
        if seq is not None and self._items.get(seq) is item:
            self._remove(seq)

    def pop(self, seqs: Sequence[int]) -> list[T]:
        """Remove and return the requests with these sequence numbers (a decision's answer)."""
        return [self._remove(s) for s in seqs]

    def _remove(self, seq: int) -> T:
        item = self._items.pop(seq)
        self.size -= item.size
        if self._seqs.get(id(item)) == seq:
            del self._seqs[id(item)]
        g = self._groups[item.key]
        g.live -= 1
        g.urgent -= bool(item.urgent)
        if g.live == 0:
            del self._groups[item.key]
            return item
        live = self._items
        while g.heap and g.heap[0][1] not in live:
            heapq.heappop(g.heap)
        while g.arrivals and g.arrivals[0][1] not in live:
            heapq.heappop(g.arrivals)
        if len(g.heap) > 2 * g.live + 16:
            g.heap = [e for e in g.heap if e[1] in live]
            heapq.heapify(g.heap)
            g.arrivals = [a for a in g.arrivals if a[1] in live]
            heapq.heapify(g.arrivals)
        return item

    def groups(self) -> list[tuple[Hashable, _Group]]:
        return list(self._groups.items())

    def in_order(self, g: _Group) -> Iterator[_Entry]:
        """The live entries of ``g`` best first, visiting only as many heap entries as asked for
        (a best-first walk of the heap tree)."""
        heap, live = g.heap, self._items
        if not heap:
            return
        frontier: list[tuple[_Entry, int]] = [(heap[0], 0)]
        while frontier:
            entry, i = heapq.heappop(frontier)
            self.examined += 1
            if entry[1] in live:
                yield entry
            for c in (2 * i + 1, 2 * i + 2):
                if c < len(heap):
                    heapq.heappush(frontier, (heap[c], c))


def _expired(w: Queued, now: float) -> bool:
    if w.urgent or w.deadline is None:
        return False
    return w.deadline - now < max(w.priority, 0.0)


def _take(
    backlog: Backlog[Any], g: _Group, policy: BatchPolicy, now: float
) -> tuple[list[_Entry], bool, list[int]]:
    """The batch prefix of ``g`` (in order), whether the batch is full, and the expired requests
    passed over on the way."""
    taken: list[_Entry] = []
    expired: list[int] = []
    size = tokens = 0
    budget = policy.token_budget
    full = False
    for entry in backlog.in_order(g):
        w = entry[2]
        if _expired(w, now):
            expired.append(entry[1])
            continue
        fits = size + w.size <= policy.max_batch and (budget is None or tokens + w.tokens <= budget)
        if taken and (full or not fits):
            return _whole_queries(taken, w), True, expired
        taken.append(entry)
        size += w.size
        tokens += w.tokens
        full = size >= policy.max_batch or (budget is not None and tokens >= budget)
    return taken, full, expired


def _whole_queries(taken: list[_Entry], left_out: Queued) -> list[_Entry]:
    """``taken`` less its tail of requests of ``left_out``'s query, unless that query leads the
    batch: a query whose requests do not all fit waits for the next batch whole instead of paying
    for this one and then waiting for the next as well. (Requests of no query, ``query_seq`` 0,
    are never held back.)"""
    q = left_out.query_seq
    if not q or taken[0][2].query_seq == q:
        return taken
    end = len(taken)
    while end > 1 and taken[end - 1][2].query_seq == q:
        end -= 1
    return taken[:end]


def next_batch(
    queue: Sequence[Queued] | Backlog[Any],
    policy: BatchPolicy,
    now: float,
    expected: Mapping[Hashable, int] | None = None,
    *,
    order: Callable[[Any], OrderKey] = critical_path_order,
) -> Dispatch | Wait:
    """The next batch to run from ``queue``, or how long to wait. See the module docstring.

    ``order`` is the policy's sort key when ``queue`` is a plain sequence (a ``Backlog`` has its own).
    """
    backlog = queue if isinstance(queue, Backlog) else Backlog.of(queue, order)
    if not backlog:
        return Wait(None)
    best: tuple[tuple[OrderKey, int], list[_Entry]] | None = None
    wait: float | None = None
    filling: list[tuple[tuple[OrderKey, int], float]] = []  # groups not ready: (head, time left)
    expired: list[int] = []
    for key, g in backlog.groups():
        taken, full, dead = _take(backlog, g, policy, now)
        expired.extend(dead)
        if not taken:
            continue
        age = max(now - g.arrivals[0][0], 0.0)
        want = expected.get(key) if expected else None
        horizon = policy.max_wait_s if want is None else max(policy.max_wait_s, EXPECTED_WAIT_S)
        # (within a nanosecond: ``now + left`` may round to ``now``, and the wait would never end)
        ready = full or (want is not None and g.live >= want) or g.urgent > 0 or age >= horizon - _EPS
        if ready:
            head = (taken[0][0], taken[0][1])
            if best is None or head < best[0]:
                best = (head, taken)
        else:
            left = horizon - age
            wait = left if wait is None else min(wait, left)
            filling.append(((taken[0][0], taken[0][1]), left))
    if best is not None:
        # A group still filling whose head ranks first is waited for (at most its ``max_wait_s``):
        # a batch mate's wait must not let a worse-ranked batch take the engine for a whole call.
        better = [left for head, left in filling if head < best[0]]
        if better and not backlog.get(best[1][0][1]).urgent:
            return Wait(max(min(better), 0.0)) if not expired else Dispatch((), tuple(expired))
        return Dispatch(tuple(e[1] for e in best[1]), tuple(expired))
    if expired:
        return Dispatch((), tuple(expired))
    assert wait is not None
    return Wait(max(wait, 0.0))


__all__ = [
    "EXPECTED_WAIT_S",
    "Backlog",
    "Dispatch",
    "Queued",
    "Wait",
    "Waiting",
    "next_batch",
]
