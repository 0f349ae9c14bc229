"""``ayo_trace._concurrency``: task groups that fail fast with the first error, never an ExceptionGroup."""

from __future__ import annotations

import anyio
import pytest

from ayo_trace._concurrency import fail_fast, gather
from ayo_trace.errors import InvalidRequest

pytestmark = pytest.mark.anyio


async def test_gather_returns_results_in_call_order() -> None:
    async def after(ticks: int, value: str) -> str:
        for _ in range(ticks):
            await anyio.lowlevel.checkpoint()
        return value

    calls = [lambda: after(3, "a"), lambda: after(0, "b"), lambda: after(1, "c")]
    assert await gather(calls) == ["a", "b", "c"]
    assert await gather([]) == []


async def test_the_first_error_is_raised_as_itself_and_cancels_the_rest() -> None:
    cancelled: list[str] = []
    later = anyio.Event()

    async def fails() -> None:
        await anyio.lowlevel.checkpoint()
        raise InvalidRequest("too long", engine="e")

    async def waits() -> None:
        try:
            await later.wait()
        except anyio.get_cancelled_exc_class():
            cancelled.append("waits")
            raise

    async def fails_when_cancelled() -> None:
        try:
            await later.wait()
        finally:
            raise RuntimeError("a consequence of the cancellation, not the cause")

    with pytest.raises(InvalidRequest, match="too long") as info:
        await gather([waits, fails, fails_when_cancelled])
    assert type(info.value) is InvalidRequest  # not an ExceptionGroup around it
    assert cancelled == ["waits"]


async def test_an_error_in_the_block_itself_cancels_the_tasks_and_is_raised() -> None:
    cancelled = []

    async def forever() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.append(True)

    with pytest.raises(KeyError):
        async with fail_fast() as tasks:
            tasks.start_soon(forever)
            await anyio.lowlevel.checkpoint()
            raise KeyError("body")
    assert cancelled == [True]


async def test_fail_records_the_first_error_only() -> None:
    with pytest.raises(ValueError, match="first"):
        async with fail_fast() as tasks:
            tasks.fail(ValueError("first"))
            tasks.fail(ValueError("second"))
            assert str(tasks.error) == "first"
            await anyio.sleep_forever()  # cancelled by the failure


async def test_cancellation_from_outside_propagates() -> None:
    with anyio.move_on_after(0) as scope:
        async with fail_fast() as tasks:
            tasks.start_soon(anyio.sleep_forever)
    assert scope.cancelled_caught
