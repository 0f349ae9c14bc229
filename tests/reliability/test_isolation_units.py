"""The failure path's parts on plain data: the quarantine, request checks, the in-flight batch."""

from __future__ import annotations

import math

import anyio
import anyio.lowlevel
import pytest

import ayo_trace as ayo
from ayo_trace.backend.engines.base import PrefillRequest, RerankRequest, ScoreRequest
from ayo_trace.backend.isolation import Failed, InFlight, Quarantine, check_request, run_isolated

pytestmark = pytest.mark.anyio


def test_the_quarantine_is_bounded_and_forgets_the_oldest_first() -> None:
    q = Quarantine(size=2)
    for text in ("a", "b", "c"):
        q.add("embed", [text])
    assert len(q) == 2 and ("embed", ["a"]) not in q and ("embed", ["c"]) in q
    assert ("prefill", ["c"]) not in q  # kinds are kept apart


def test_a_payload_that_cannot_be_fingerprinted_is_never_quarantined() -> None:
    q = Quarantine()
    q.add("embed", [{"unhashable": 1}])
    q.add("search", object())
    assert len(q) == 0 and ("embed", [{"unhashable": 1}]) not in q


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("prefill", PrefillRequest("s", "bad \udc80 text")),
        ("score", ScoreRequest("ctx", "\ud800")),
        ("score", RerankRequest("q", ("fine", "\ud800"))),
        ("score", RerankRequest("\ud800", ())),
        ("embed", ["fine", "\ud800"]),
        ("embed", ["fine", 3]),
        ("search", [0.1, math.nan]),
        ("search", [0.1, math.inf]),
        ("search", ["x"]),
    ],
)
def test_requests_no_engine_can_serve_are_refused_before_queueing(kind: str, payload: object) -> None:
    with pytest.raises(ayo.InvalidParams):
        check_request(kind, payload)


async def test_overloaded_and_died_batches_are_not_bisected() -> None:
    calls: list[list[int]] = []

    for error in (ayo.Overloaded("full"), ayo.EngineDied("gone")):
        calls.clear()

        async def call(batch: list[int], error: Exception = error) -> list[int]:
            calls.append(batch)
            raise error

        q = Quarantine()
        results, failures = await run_isolated("embed", [1, 2, 3, 4], call, lambda e: e, q)  # type: ignore[arg-type,return-value]
        assert calls == [[1, 2, 3, 4]] and failures == 1 and len(q) == 0
        assert all(isinstance(r, Failed) and r.error is error for r in results)


async def test_a_batch_with_a_member_still_waited_for_is_not_cancelled() -> None:
    flight = InFlight()
    a, b = object(), object()
    done: list[str] = []

    async def run(batch: list[object]) -> None:
        flight.abandon(a)  # one member's task was cancelled, the other still waits
        await anyio.lowlevel.checkpoint()
        done.append("ran")

    await flight.run([a, b], None, run)
    assert done == ["ran"]

    async def run_all_abandoned(batch: list[object]) -> None:
        flight.abandon(a)
        flight.abandon(b)
        await anyio.lowlevel.checkpoint()
        done.append("not reached")

    await flight.run([a, b], None, run_all_abandoned)
    assert done == ["ran"]
