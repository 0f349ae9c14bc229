"""The batching policy as a pure function: which waiting requests form the next batch, or how long
to wait for more.

An engine scheduler calls ``next_batch`` with a snapshot of its queue; nothing here touches an event
loop, a clock or the engine, so the policy is unit-tested (and property-tested) on plain data.

Rules, for each *group* of requests that may share one engine call (same ``key``: prefill, decode,
embed, a search of one collection, ...):

* Order: larger ``priority`` first (critical path first: the runtime passes the node's
  ``meta["remaining"]``), then earlier ``arrival``, then queue position.
* A batch is the longest prefix of that order that fits ``max_batch`` (counted in ``size``: one per
  LLM request, one per text to embed) and ``token_budget`` (counted in ``tokens``); the first
  request always fits, so an oversized request runs alone.
* A group is *ready* when its batch is full (the next request would not fit, or it reached
  ``max_batch``), when it holds as many requests as are ``expected`` (decode rounds: every active
  session has asked for its next step), when one of its requests is ``urgent``, or when its oldest
  request has waited ``max_wait_s``. A group that waits for expected members waits at most
  ``max(max_wait_s, EXPECTED_WAIT_S)``: a decode round does not start without a session that is only
  a moment late, but a session held back by a slow consumer does not stall the others.
* Of the ready groups, the one whose best request comes first in the order above runs. When none is
  ready, the answer is how long until the first one will be.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from .config import BatchPolicy

EXPECTED_WAIT_S = 0.005


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


@dataclass(frozen=True, slots=True)
class Waiting:
    """What the policy knows about one queued request."""

    key: Hashable
    priority: float = 0.0
    arrival: float = 0.0
    size: int = 1
    tokens: int = 0
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class Dispatch:
    """Run these queue positions (best first) as one engine call."""

    indices: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Wait:
    """Nothing is ready: wait ``seconds`` (or until a request arrives) and ask again.

    ``seconds`` is None when the queue is empty.
    """

    seconds: float | None


def _order(queue: Sequence[Queued], i: int) -> tuple[float, float, int]:
    w = queue[i]
    return (-w.priority, w.arrival, i)


def _take(queue: Sequence[Queued], members: list[int], policy: BatchPolicy) -> tuple[list[int], bool]:
    """The batch prefix of ``members`` (already ordered) and whether the batch is full."""
    taken: list[int] = []
    size = tokens = 0
    budget = policy.token_budget
    for i in members:
        w = queue[i]
        fits = size + w.size <= policy.max_batch and (budget is None or tokens + w.tokens <= budget)
        if taken and not fits:
            return taken, True
        taken.append(i)
        size += w.size
        tokens += w.tokens
        if size >= policy.max_batch or (budget is not None and tokens >= budget):
            return taken, True
    return taken, False


def next_batch(
    queue: Sequence[Queued],
    policy: BatchPolicy,
    now: float,
    expected: Mapping[Hashable, int] | None = None,
) -> Dispatch | Wait:
    """The next batch to run from ``queue``, or how long to wait. See the module docstring."""
    if not queue:
        return Wait(None)
    groups: dict[Hashable, list[int]] = {}
    if len(queue) == 1:
        groups[queue[0].key] = [0]
    else:
        for i, w in enumerate(queue):
            groups.setdefault(w.key, []).append(i)
    best: tuple[tuple[float, float, int], list[int]] | None = None
    wait: float | None = None
    for key, members in groups.items():
        if len(members) > 1:
            members.sort(key=lambda i: _order(queue, i))
        taken, full = _take(queue, members, policy)
        age = max(now - min(queue[i].arrival for i in members), 0.0)
        want = expected.get(key) if expected else None
        horizon = policy.max_wait_s if want is None else max(policy.max_wait_s, EXPECTED_WAIT_S)
        ready = (
            full
            or (want is not None and len(members) >= want)
            or any(queue[i].urgent for i in members)
            or age >= horizon
        )
        if ready:
            head = _order(queue, taken[0])
            if best is None or head < best[0]:
                best = (head, taken)
        else:
            left = horizon - age
            wait = left if wait is None else min(wait, left)
    if best is not None:
        return Dispatch(tuple(best[1]))
    assert wait is not None
    return Wait(max(wait, 0.0))


__all__ = ["EXPECTED_WAIT_S", "Dispatch", "Queued", "Wait", "Waiting", "next_batch"]
