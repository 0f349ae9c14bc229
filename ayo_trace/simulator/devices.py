"""Devices shared by engine calls, in the event loop's time: processor sharing.

A ``Device`` of capacity c runs every call submitted to it at once; while calls of total demand d
run, each progresses at ``min(1, c / d)`` of its full speed (a call of ``seconds`` at full speed
finishes when it has received that much service). A call alone on a device, or on one with room
for it, takes exactly its seconds. Every arrival and departure changes the others' speed, so each
running call sleeps until its predicted end or the next change, whichever comes first.
"""

from __future__ import annotations

import anyio
import anyio.lowlevel

_EPS = 1e-9


class _Job:
    __slots__ = ("demand", "left")

    def __init__(self, seconds: float, demand: float) -> None:
        self.left = seconds
        self.demand = demand


class Device:
    """One device (a GPU, a set of cores) shared by the engine calls placed on it."""

    def __init__(self, name: str, capacity: float = 1.0) -> None:
        self.name = name
        self.capacity = capacity
        self._jobs: list[_Job] = []
        self._last = 0.0
        self._changed: anyio.Event | None = None
        self.busy_s = 0.0  # time with at least one call running
        self.work_s = 0.0  # service given, in full-speed seconds times demand
        self.calls = 0

    def _rate(self) -> float:
        demand = sum(j.demand for j in self._jobs)
        return min(1.0, self.capacity / demand) if demand > 0 else 1.0

    def _advance(self) -> None:
        now = anyio.current_time()
        dt = now - self._last
        if dt > 0 and self._jobs:
            rate = self._rate()
            for j in self._jobs:
                j.left -= dt * rate
                self.work_s += dt * rate * j.demand
            self.busy_s += dt
        self._last = now

    def _signal(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def run(self, seconds: float, demand: float = 1.0) -> None:
        """Serve a call of ``seconds`` at full speed using ``demand`` of the device."""
        self.calls += 1
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        self._advance()
        job = _Job(seconds, demand)
        self._jobs.append(job)
        self._signal()
        try:
            while job.left > _EPS * max(1.0, seconds):
                if self._changed is None:
                    self._changed = anyio.Event()
                changed = self._changed
                with anyio.move_on_after(job.left / self._rate()):
                    await changed.wait()
                self._advance()
        finally:
            self._advance()
            self._jobs.remove(job)
            self._signal()


class Devices:
    """The devices of one simulation, made on first use with their profile's capacity."""

    def __init__(self, capacities: dict[str, float] | None = None) -> None:
        self.capacities = dict(capacities or {})
        self.by_name: dict[str, Device] = {}

    def get(self, name: str) -> Device:
        device = self.by_name.get(name)
        if device is None:
            device = self.by_name[name] = Device(name, self.capacities.get(name, 1.0))
        return device


__all__ = ["Device", "Devices"]
