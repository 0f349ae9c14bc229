"""Devices share their capacity among the calls running on them (processor sharing), in virtual
time; engines placed on one device slow each other, engines on devices of their own do not."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import ayo_trace as ayo
from ayo_trace.simulator import Device
from tests.runtime.virtual import in_virtual_time

pytest.importorskip("trio", reason="trio is in the 'dev' extra")


async def two_jobs(capacity: float, second_at: float, demand: float = 1.0) -> list[float]:
    device = Device("d", capacity)
    ends = [0.0, 0.0]

    async def job(i: int, at: float) -> None:
        await anyio.sleep(at)
        await device.run(1.0, demand)
        ends[i] = anyio.current_time()

    async with anyio.create_task_group() as tg:
        tg.start_soon(job, 0, 0.0)
        tg.start_soon(job, 1, second_at)
    return [*ends, device.busy_s]


def test_a_shared_device_halves_the_speed_of_two_calls() -> None:
    # 0.5 s alone, then both at half speed: the first's last 0.5 s take 1 s (ends at 1.5), by which
    # time the second has 0.5 s left, alone again: it ends at 2.0
    assert in_virtual_time(two_jobs, 1.0, 0.5) == pytest.approx([1.5, 2.0, 2.0])


def test_a_device_with_room_for_both_slows_neither() -> None:
    assert in_virtual_time(two_jobs, 2.0, 0.5) == pytest.approx([1.0, 1.5, 1.5])


def test_demand_counts_against_capacity() -> None:
    # two calls that each use 2 of 2 cores: both at half speed while they overlap
    assert in_virtual_time(two_jobs, 2.0, 0.0, 2.0) == pytest.approx([2.0, 2.0, 2.0])


@ayo.workflow
async def embed_and_answer(question: str) -> Any:
    v = await ayo.embed(question)  # independent of the answer: the two run at once
    a = await ayo.llm(question, max_tokens=8)
    return [len(v), a]


def profile(shared: bool) -> ayo.SimProfile:
    place = "cpu" if shared else None
    return ayo.SimProfile(
        engines={
            "llm": ayo.EngineModel(
                "llm", ops={"prefill": ayo.Cost(fixed_s=1.0), "decode": ayo.Cost()}, device=place
            ),
            "embed": ayo.EngineModel("embedding", ops={"embed": ayo.Cost(fixed_s=1.0)}, device=place),
        }
    )


@pytest.mark.parametrize("shared, latency", [(False, 1.0), (True, 2.0)])
def test_engines_on_shared_cores_slow_each_other(shared: bool, latency: float) -> None:
    r = ayo.simulate(
        embed_and_answer,
        lambda i: {"question": "q"},
        profile=profile(shared),
        queries=1,
        respond=lambda p: "",
    )
    assert r.latencies == pytest.approx((latency,))
    assert set(r.devices) == ({"cpu"} if shared else {"llm#0", "embed#0"})
