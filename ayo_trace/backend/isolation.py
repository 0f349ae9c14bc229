"""The failure path of an engine scheduler: one bad request never fails the requests batched with it.

An engine call takes a whole batch and, when it raises, says nothing about which request was at
fault. ``run_isolated`` runs a batch; when the call raises, it bisects: each half runs as a batch of
its own, recursively, until every request has either a result or failed *alone*, with the error it
caused. So the innocent members of a failed batch get their results, and only the culprits fail,
each with its own error (the runtime then names its node). A batch of ``n`` with ``k`` culprits costs
at most about ``2 k log2 n`` extra calls.

Re-running a request is safe because of the engine contract (``engines/base.py``): a call that
raises leaves the engine as it was for every request in it (a prefill's session text is committed
only when the call succeeds), and embed, rerank, score and search have no effect at all. A decode
is re-run only on an engine that declares ``atomic_decode`` (a decode that raised advanced no
session); on any other engine a decode step may have produced text that no one received, so every
member of a failed decode batch fails, and each is quarantined: its query's retry (which reopens the
session) decodes it alone, so the innocent ones answer on retry and the culprit fails alone. Three
kinds of failure are not a request's fault and are not bisected: ``Overloaded`` (the engine is
full, not wrong), ``EngineDied`` (the engine is gone) and ``UnknownCollection`` (every search in a
batch names the same collection, so all fail alike); a release is never re-run either.

A request that failed alone is *quarantined*: the scheduler remembers its fingerprint (the payload,
which a retry of the same node repeats exactly) and runs it alone from then on, so a retry never
puts a poisoned request into a batch with others again. The quarantine is bounded (least recently
added forgotten first).

``check_request`` validates what can be validated before a request is queued (text encodable as
UTF-8, finite vectors), so the commonest poisons never reach a batch at all.

``InFlight`` runs a batch shielded from its leader's cancellation (its other members still get their
results; for engines whose calls can take long, in a task of its own, so that asyncio cancelling the
leader's task itself cannot cut it short either) but cancels the engine call once every member has been abandoned (their tasks cancelled: a
deadline, say): a deadline then interrupts engine work that no one waits for any more. The task costs
some 30 microseconds a batch; the engine scheduler spends it only for engines whose calls can take
long (``Engine.interruptible``: every real engine; a scripted one of no latency is not) and never
for a release (which runs in a task of its own, ``EngineScheduler.release``).
"""

from __future__ import annotations

import copy
import math
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any

import anyio

from ..errors import AyoError, EngineDied, EngineError, InvalidParams, Overloaded, UnknownCollection
from ..ir.params import check_text
from .engines.base import DecodeRequest, PrefillRequest, RerankRequest, ScoreRequest

QUARANTINE_SIZE = 4096
# Kinds whose failed batches are never re-run (a release that failed is not retried).
_NOT_ISOLATED = frozenset({"release"})
# Errors that are the engine's state, not a request's fault (a search batch shares its collection).
_NOT_A_CULPRIT = (Overloaded, EngineDied, UnknownCollection)


class Failed:
    """A request's place in a batch's results when it failed alone with ``error``."""

    __slots__ = ("error",)

    def __init__(self, error: AyoError) -> None:
        self.error = error


def fingerprint(payload: Any) -> Hashable | None:
    """A hashable stand-in for a request's payload (None when it has none)."""
    if isinstance(payload, PrefillRequest | DecodeRequest | ScoreRequest | RerankRequest | str):
        return payload
    if isinstance(payload, list | tuple):
        fp = tuple(payload)
        try:
            hash(fp)
        except TypeError:
            return None
        return fp
    return None


class Quarantine:
    """Fingerprints of requests that failed alone; those run alone from then on."""

    def __init__(self, size: int = QUARANTINE_SIZE) -> None:
        self.size = size
        self._held: OrderedDict[tuple[str, Hashable], None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._held)

    def add(self, kind: str, payload: Any) -> None:
        fp = fingerprint(payload)
        if fp is None:
            return
        self._held[(kind, fp)] = None
        self._held.move_to_end((kind, fp))
        while len(self._held) > self.size:
            self._held.popitem(last=False)

    def __contains__(self, item: tuple[str, Any]) -> bool:
        kind, payload = item
        fp = fingerprint(payload)
        return fp is not None and (kind, fp) in self._held


async def run_isolated(
    kind: str,
    payloads: Sequence[Any],
    call: Callable[[list[Any]], Awaitable[list[Any]]],
    translate: Callable[[Exception], AyoError],
    quarantine: Quarantine,
    *,
    rerun: bool = True,
) -> tuple[list[Any], int]:
    """Results for ``payloads`` (a ``Failed`` in the place of each request that failed) and the
    number of engine calls that raised. ``call`` runs one batch; ``translate`` makes our error of
    what it raised. Quarantined requests run alone; the others run as one batch first. Without
    ``rerun``, a failed batch is not run again: all its requests fail and are quarantined."""
    results: list[Any] = [None] * len(payloads)
    failures = 0

    async def run(indices: list[int]) -> None:
        nonlocal failures
        try:
            out = await call([payloads[i] for i in indices])
        except Exception as exc:
            failures += 1
            err = translate(exc)
            if len(indices) == 1 or not rerun or kind in _NOT_ISOLATED or isinstance(err, _NOT_A_CULPRIT):
                for i in indices:
                    results[i] = Failed(err)
                    if not isinstance(err, _NOT_A_CULPRIT) and (len(indices) == 1 or not rerun):
                        quarantine.add(kind, payloads[i])
                return
            half = len(indices) // 2
            await run(indices[:half])
            await run(indices[half:])
            return
        if len(out) != len(indices):
            err = EngineError(f"{kind}: {len(indices)} requests but {len(out)} results")
            failures += 1
            for i in indices:
                results[i] = Failed(translate(err))
            return
        for i, res in zip(indices, out, strict=True):
            results[i] = res

    alone = [i for i, p in enumerate(payloads) if len(payloads) > 1 and (kind, p) in quarantine]
    held = set(alone)
    together = [i for i in range(len(payloads)) if i not in held]
    if together:
        await run(together)
    for i in alone:
        await run([i])
    return results, failures


def copy_error(err: BaseException) -> BaseException:
    """A copy of ``err`` with the same cause, so each waiter raises (and may annotate) its own; an
    error that cannot be copied is wrapped in a fresh ``EngineError``, never shared."""
    try:
        new = copy.copy(err)
    except Exception:
        wrapped = EngineError(f"{type(err).__name__}: {err}")
        wrapped.__cause__ = err
        return wrapped
    new.__cause__ = err.__cause__
    new.__traceback__ = None
    return new


class InFlight:
    """The batch an engine scheduler is running, and who still waits for it (see the module
    docstring). Requests are compared by identity."""

    def __init__(self) -> None:
        self.batch: list[Any] | None = None
        self.scope: anyio.CancelScope | None = None
        self.abandoned: set[int] = set()

    async def run(self, batch: list[Any], leader: Any, run: Callable[[list[Any]], Awaitable[None]]) -> None:
        """``run(batch)``, led by the task of request ``leader``. Watched (``leader`` given: an
        engine whose calls can take long, every real one), the call runs in a shielded task of its
        own, which the leader waits for: cancelling the leader's task, by anyio or by asyncio itself
        (``task.cancel()``, ``asyncio.wait_for`` timing out, an ``asyncio.TaskGroup`` whose other
        task failed, which a shield in the leader's own task would not stop), abandons only its own
        request, and reaches the leader once the call is done. Not watched (a release, a scripted
        engine's call of no latency), it runs shielded in the leader's task."""
        scope = anyio.CancelScope(shield=True)
        self.batch, self.scope, self.abandoned = batch, scope, set()
        try:
            if leader is None or not any(r is leader for r in batch):
                with scope:
                    await run(batch)
                return
            done = anyio.Event()

            async def call() -> None:
                try:
                    with scope:
                        await run(batch)
                finally:
                    self.batch = None
                    done.set()

            async with anyio.create_task_group() as tg:
                tg.start_soon(call)
                try:
                    await done.wait()
                except BaseException:
                    self.abandon(leader)  # (the call goes on while another member waits for it)
                    raise
        finally:
            self.batch = self.scope = None

    def abandon(self, req: Any) -> None:
        """``req``'s task was cancelled: cancel the running batch if no member is waited for any more."""
        batch = self.batch
        if batch is None or not any(r is req for r in batch):
            return
        self.abandoned.add(id(req))
        if self.scope is not None and all(id(r) in self.abandoned for r in batch):
            self.scope.cancel()


def check_request(kind: str, payload: Any) -> None:
    """Refuse, before it is queued, a request that would fail any batch it joined: ``InvalidParams``."""
    if kind == "prefill":
        check_text(payload.text, "prompt")
    elif kind == "score":
        if isinstance(payload, RerankRequest):
            check_text(payload.query, "rerank query")
            for p in payload.passages:
                check_text(p, "passage")
        else:
            check_text(payload.context, "score context")
            check_text(payload.continuation, "score continuation")
    elif kind == "embed":
        for t in payload:
            check_text(t, "text to embed")
    elif kind == "search":
        try:
            finite = all(math.isfinite(float(x)) for x in payload)
        except (TypeError, ValueError):
            finite = False
        if not finite:
            raise InvalidParams("a search vector must be a sequence of finite numbers", param="vector")


__all__ = ["Failed", "InFlight", "Quarantine", "check_request", "copy_error", "fingerprint", "run_isolated"]
