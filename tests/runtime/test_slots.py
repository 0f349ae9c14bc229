"""Session slots go to the waiting sessions in the scheduling policy's order (``slots.OrderedSlots``):
under a burst a query's last step gets the next slot before newer queries' first steps, and the
sessions a burst asks for in one pass of the event loop get the free slots in that order too. Unit
cases of the slot line (order, ties, cancellation, the ``short`` hook), then the runtime on a
scripted LLM with one or two slots, on trio in virtual time and on asyncio."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import anyio
import anyio.lowlevel
import pytest

from ayo_trace.backend import Runtime
from ayo_trace.backend.engines.base import PrefillRequest, PrefillResult
from ayo_trace.backend.slots import OrderedSlots
from ayo_trace.ir.params import SamplingParams
from ayo_trace.testing import ScriptedLLM
from tests.util import run_in_new_loop

from .virtual import in_virtual_time

BACKENDS = ["asyncio", "trio"]


async def line_up(slots: OrderedSlots, keys: Sequence[float], free_after: int) -> list[float]:
    """Tasks asking for a slot with ``keys`` (in that order); then slots given back one at a time
    until ``free_after`` are free again. The keys in the order they got a slot."""
    served: list[float] = []

    async def one(k: float) -> None:
        await slots.take((k,))
        served.append(k)

    async with anyio.create_task_group() as tg:
        for k in keys:
            tg.start_soon(one, k)
            await anyio.lowlevel.checkpoint()
            await anyio.lowlevel.checkpoint()  # each in its own pass: no gather among them
        for _ in range(len(keys) + 1):
            await anyio.lowlevel.checkpoint()
        while len(served) < len(keys):
            slots.give()
            for _ in range(slots.grace + 3):  # the woken waiter lets the grace go by first
                await anyio.lowlevel.checkpoint()
    while slots.free < free_after:
        slots.give()
    return served


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_slot_given_back_goes_to_the_best_waiter_then_the_first(backend: str) -> None:
    slots = OrderedSlots(2)
    assert slots.take_nowait() and slots.take_nowait() and not slots.take_nowait()
    slots.give()  # one free, nobody waiting
    assert slots.take_nowait()
    served = run_in_new_loop(line_up, slots, [3.0, 1.0, 2.0, 1.0], 1, backend=backend)
    assert served == [1.0, 1.0, 2.0, 3.0]
    assert slots.free == 1 and slots.lacking == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_free_slots_go_to_the_best_of_those_asking_in_the_same_pass(backend: str) -> None:
    async def main() -> list[float]:
        slots = OrderedSlots(2)
        served: list[float] = []

        async def one(k: float) -> None:
            await slots.take((k,))
            served.append(k)

        async with anyio.create_task_group() as tg:
            for k in (4.0, 3.0, 2.0, 1.0):
                tg.start_soon(one, k)
            for _ in range(slots.grace + 3):
                await anyio.lowlevel.checkpoint()
            assert len(served) == 2
            assert slots.lacking == 2 and not slots.take_nowait()  # nothing left for a part run ahead
            slots.give()
            slots.give()
        return served

    served = run_in_new_loop(main, backend=backend)
    assert sorted(served[:2]) == [1.0, 2.0] and served[2:] == [3.0, 4.0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_cancelled_waiter_leaves_the_line_and_passes_a_slot_it_was_handed(backend: str) -> None:
    async def main() -> tuple[list[str], int]:
        slots = OrderedSlots(0)
        served: list[str] = []

        async def one(name: str, key: float, scope: anyio.CancelScope) -> None:
            with scope:
                await slots.take((key,))
                served.append(name)
            if served[-1:] == [name]:
                slots.give()  # done with it

        scopes = {n: anyio.CancelScope() for n in ("a", "b", "c")}
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                for name, key in (("a", 1.0), ("b", 2.0), ("c", 3.0)):
                    tg.start_soon(one, name, key, scopes[name])
                for _ in range(5):
                    await anyio.lowlevel.checkpoint()
                scopes["b"].cancel()  # waiting: it leaves the line
                for _ in range(3):
                    await anyio.lowlevel.checkpoint()
                assert slots.lacking == 2
                slots.give()  # to a ...
                scopes["a"].cancel()  # ... cancelled before it ran: the slot goes on to c
        return served, slots.free

    served, free = run_in_new_loop(main, backend=backend)
    # a only if its wait returned before the cancellation reached it (then it gave the slot back)
    assert served in (["c"], ["a", "c"]) and free == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_short_is_called_when_no_slot_is_left_and_may_free_one(backend: str) -> None:
    async def main() -> list[str]:
        slots = OrderedSlots(0)
        calls: list[str] = []

        async def short() -> None:
            calls.append("short")
            slots.give()  # as EnginePool does, taking a parked session's slot back

        with anyio.fail_after(5):
            await slots.take((1.0,), short)
        calls.append("took")
        return calls

    assert run_in_new_loop(main, backend=backend) == ["short", "took"]


class TwoSlotLLM(ScriptedLLM):
    """A scripted LLM holding ``slots`` sessions, whose calls take ``call_s``; it logs each prefill's
    first word (the query and step)."""

    interruptible: ClassVar[bool] = True

    def __init__(self, slots: int, call_s: float) -> None:
        super().__init__("llm", respond=lambda prompt: " x", call_s=call_s)
        self.slots = slots
        self.log: list[str] = []

    @property
    def max_sessions(self) -> int:
        return self.slots

    async def prefill(self, batch: Sequence[PrefillRequest]) -> list[PrefillResult]:
        assert len(set(self.sessions) | {r.session for r in batch}) <= self.slots
        self.log += [r.text.split()[0] for r in batch]
        return await super().prefill(batch)


async def burst(slots: int, call_s: float) -> tuple[list[str], list[str]]:
    """Three queries at once, each two summaries side by side, then a comparison."""
    llm = TwoSlotLLM(slots, call_s)
    done: list[str] = []
    engines: list[Any] = [llm]
    async with Runtime(engines=engines) as rt:
        one = SamplingParams(max_tokens=1)

        async def query(name: str) -> None:
            async with rt.serve(name, 3.0):
                async with anyio.create_task_group() as tg:
                    for part in ("s1", "s2"):
                        tg.start_soon(rt.llm, f"{name}.{part} summarize this", one)
                await rt.llm(f"{name}.cmp compare the summaries", one)
            done.append(name)

        async with anyio.create_task_group() as tg:
            for name in ("q1", "q2", "q3"):
                tg.start_soon(query, name)
                await anyio.lowlevel.checkpoint()  # arrival order q1, q2, q3
    return llm.log, done


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("slots", [1, 2])
def test_a_burst_finishes_its_queries_in_order_when_slots_are_few(slots: int, backend: str) -> None:
    if backend == "trio":
        log, done = in_virtual_time(burst, slots, 1.0)
    else:
        log, done = run_in_new_loop(burst, slots, 0.02)
    queries = [step.split(".")[0] for step in log]
    if slots == 1:  # one query at a time, each finished before the next starts
        assert queries == ["q1"] * 3 + ["q2"] * 3 + ["q3"] * 3, log
    # a query's comparison gets a slot before the next query's last summary and before any summary
    # of the query after (first come, first served, it waited behind all six summaries)
    assert log.index("q1.cmp") < max(log.index("q2.s1"), log.index("q2.s2")), log
    assert log.index("q1.cmp") < min(log.index("q3.s1"), log.index("q3.s2")), log
    assert done == ["q1", "q2", "q3"]
