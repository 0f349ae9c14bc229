"""``simulate``: run a workflow's queries on the real runtime over profile engines, in virtual time.

Everything above the engines is the real thing: the workflow is traced and optimized by its own
passes (or run eagerly, for ``wf.eager``), the graph scheduler runs each query, the engine
schedulers batch across queries, admission bounds the queries in service. Only the engines are
replaced, by profile engines whose calls take the profile's times on shared devices
(``engines.py``, ``devices.py``), and the clock is trio's ``MockClock`` with autojump: whenever every
task waits, time jumps to the next deadline, so an hour of service takes the seconds of Python the
runtime itself needs, whatever the machine's load. Tasks ready at the same virtual instant run in
an order trio draws at random; ``simulate`` seeds that draw (``seed``), so the same call gives the
same prediction, and other seeds show how much the prediction depends on such ties.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import anyio

from ..backend.config import Backend, EngineConfig, register_backend
from ..backend.engines.base import Engine
from ..backend.runtime import Runtime
from ..backend.timeline import Timeline
from ..errors import ConfigError
from .devices import Devices
from .order import seeded_trio
from .profile import SimProfile

Respond = Callable[[str], str]


def _build_profile(config: EngineConfig, name: str, built: Mapping[str, Engine]) -> Engine:
    """The ``"profile"`` backend's factory. It imports the profile engines when one is built: they
    are the scripted test engines with a profile's timing, and importing ``ayo_trace`` must not
    register the test doubles' backend."""
    from .engines import build_profile

    return build_profile(config, name, built)


# The configs ``simulate`` makes name this backend.
register_backend("profile", Backend("any", _build_profile))


@dataclass(frozen=True)
class SimResult:
    """What a simulation measured (virtual seconds).

    ``latencies``: per completed query, from its arrival to its answer; ``makespan_s``: from the
    first arrival to the last answer; ``throughput_qps``: completed queries per second of makespan;
    ``engines``: per engine (all instances), utilization (the mean load of the devices its instances
    run on: service given over capacity times makespan, so engines sharing a device show that
    device's load), busy seconds (summed over calls, which may overlap: store transactions run
    concurrently), calls and mean batch size; ``devices``: per device, its load; ``bottleneck``:
    the engine with the highest utilization; ``wall_s``: real seconds the simulation took;
    ``timeline``: the load's node runs and engine batches in virtual time (``Runtime.timeline``,
    without the setup's), when ``runtime_options`` keep a timeline (``timeline_size`` above 0),
    else None.
    """

    queries: int
    completed: int
    errors: tuple[str, ...]
    latencies: tuple[float, ...] = field(repr=False)
    makespan_s: float
    throughput_qps: float
    engines: Mapping[str, Mapping[str, float]]
    devices: Mapping[str, float]
    bottleneck: str
    wall_s: float
    timeline: Timeline | None = field(default=None, repr=False, compare=False)

    def percentile(self, p: float) -> float:
        """The ``p``-th percentile latency (nearest rank); nan with no completed query."""
        if not self.latencies:
            return math.nan
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, max(0, math.ceil(p / 100 * len(xs)) - 1))]

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p95(self) -> float:
        return self.percentile(95)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.latencies) if self.latencies else math.nan

    def summary(self) -> str:
        """A few lines: latency, throughput, and each engine's utilization, the bottleneck first."""
        lines = [
            f"{self.completed}/{self.queries} queries in {self.makespan_s:.2f} s (virtual; {self.wall_s:.1f} s wall): "
            f"{self.throughput_qps:.2f} q/s, p50 {self.p50:.3f} s, p95 {self.p95:.3f} s, mean {self.mean:.3f} s"
        ]
        for name, e in sorted(self.engines.items(), key=lambda kv: -kv[1]["utilization"]):
            lines.append(
                f"  {name}: {e['utilization']:.0%} busy over {int(e['instances'])} instance(s), "
                f"{int(e['calls'])} calls, mean batch {e['mean_batch']:.1f}"
            )
        if self.errors:
            lines.append(f"  {len(self.errors)} failed, first: {self.errors[0]}")
        return "\n".join(lines)


def engine_configs(profile: SimProfile, devices: Devices, respond: Respond | None) -> list[EngineConfig]:
    """The runtime's engine configs for ``profile``: profile engines on ``devices``; a likelihood
    reranker after its LLM."""
    configs = []
    order = sorted(profile.engines.items(), key=lambda kv: kv[1].backend == "likelihood")
    for name, spec in order:
        if spec.backend == "likelihood":
            options: dict[str, Any] = {"llm": spec.llm}
        else:
            options = {"spec": spec, "devices": devices, "base": name}
            if spec.kind == "llm" and respond is not None:
                options["respond"] = respond
        configs.append(
            EngineConfig(
                name=name,
                kind=spec.kind,
                backend=spec.backend,
                instances=spec.instances if spec.backend == "profile" else 1,
                batch=spec.batch,
                max_queue=spec.max_queue,
                options=options,
            )
        )
    return configs


def simulate(
    workflow: Callable[..., Awaitable[Any]],
    args_factory: Callable[[int], Mapping[str, Any]],
    *,
    profile: SimProfile,
    concurrency: int | None = None,
    rate: float | None = None,
    queries: int = 100,
    respond: Respond | None = None,
    runtime_options: Mapping[str, Any] | None = None,
    setup: Callable[[Runtime], Awaitable[None]] | None = None,
    seed: int | None = 0,
) -> SimResult:
    """Run ``queries`` queries of ``workflow`` on engines that follow ``profile``, in virtual time.

    ``workflow`` is an ``ayo.workflow`` (traced and optimized with its own passes), or any async
    callable run as one query each (``wf.eager``, a hand-written function over the eager
    primitives); query ``i`` is ``workflow(**args_factory(i))``. The load: ``concurrency`` clients
    each running queries back to back (a closed loop), or one query every ``1 / rate`` seconds (an
    open loop), or with neither, every query at once. ``respond(prompt)`` scripts the LLM's outputs
    (its words are the decode steps). ``runtime_options`` are ``Runtime`` keyword arguments
    (``max_active``, ``policy``, ``decode_steps``, ...); ``setup(rt)`` runs before the clock starts
    counting (ingest a shared knowledge base). ``seed`` orders the tasks ready at one virtual
    instant (trio draws that order at random): a seed gives the same result every time, ``None``
    a new draw each run. Needs trio (the ``sim`` extra).
    """
    if concurrency is not None and rate is not None:
        raise ConfigError("give concurrency (a closed loop) or rate (an open loop), not both")
    if queries < 1 or (concurrency is not None and concurrency < 1) or (rate is not None and not rate > 0):
        raise ConfigError("queries and concurrency must be at least 1, rate above 0")
    try:
        from trio.testing import MockClock
    except ImportError as exc:  # pragma: no cover - trio is in the dev extra
        raise ConfigError(f'simulate needs trio (pip install "ayo-trace[sim]"): {exc}') from exc
    clock = MockClock(autojump_threshold=0)
    load = _Load(workflow, args_factory, profile, concurrency, rate, queries, respond, runtime_options, setup)
    wall = time.perf_counter()
    with ThreadPoolExecutor(1) as pool:  # a new event loop, even when called from one
        result = pool.submit(_run_on_trio, load.run, clock, seed).result()
    return _finish(result, time.perf_counter() - wall)


def _run_on_trio(fn: Callable[[], Awaitable[dict[str, Any]]], clock: Any, seed: int | None) -> dict[str, Any]:
    with seeded_trio(seed):
        return anyio.run(fn, backend="trio", backend_options={"clock": clock})


@dataclass
class _Load:
    workflow: Callable[..., Awaitable[Any]]
    args_factory: Callable[[int], Mapping[str, Any]]
    profile: SimProfile
    concurrency: int | None
    rate: float | None
    queries: int
    respond: Respond | None
    runtime_options: Mapping[str, Any] | None
    setup: Callable[[Runtime], Awaitable[None]] | None

    async def run(self) -> dict[str, Any]:
        devices = Devices(dict(self.profile.devices))
        options = {"progress": False, "timeline_size": 0, **(self.runtime_options or {})}
        latencies: list[float] = []
        errors: list[str] = []
        async with Runtime(engines=engine_configs(self.profile, devices, self.respond), **options) as rt:
            if self.setup is not None:
                await self.setup(rt)
            start = anyio.current_time()
            for d in devices.by_name.values():  # the setup's work is not the load's
                d.busy_s = d.work_s = 0.0
            setup_events = rt.timeline().events
            busy0 = {n: e["busy_s"] for n, e in rt.stats()["engines"].items()}
            calls0 = {n: _calls(e) for n, e in rt.stats()["engines"].items()}

            async def one(i: int) -> None:
                t = anyio.current_time()
                try:
                    await self.workflow(**self.args_factory(i))
                except Exception as exc:  # a failed query is counted, not fatal to the run
                    errors.append(f"query {i}: {type(exc).__name__}: {exc}")
                    return
                latencies.append(anyio.current_time() - t)

            async with anyio.create_task_group() as tg:
                if self.concurrency is not None:
                    todo = iter(range(self.queries))

                    async def client() -> None:
                        for i in todo:
                            await one(i)

                    for _ in range(min(self.concurrency, self.queries)):
                        tg.start_soon(client)
                else:
                    gap = 1 / self.rate if self.rate else 0.0
                    for i in range(self.queries):
                        await anyio.sleep_until(start + i * gap)
                        tg.start_soon(one, i)
            makespan = anyio.current_time() - start
            stats = rt.stats()["engines"]
            timeline = _after(setup_events, rt.timeline()) if options["timeline_size"] else None
        loads = {
            d.name: d.work_s / (d.capacity * makespan) if makespan > 0 else 0.0
            for d in devices.by_name.values()
        }
        engines = {}
        for name, e in stats.items():
            busy = e["busy_s"] - busy0.get(name, 0.0)
            calls = _calls(e) - calls0.get(name, 0)
            sizes = e["batch_sizes"]
            n = sum(sizes.values())
            on = _devices_of(self.profile, name)
            engines[name] = {
                "instances": float(e["instances"]),
                "utilization": statistics.fmean(loads.get(d, 0.0) for d in on) if on else 0.0,
                "busy_s": busy,
                "calls": float(calls),
                "mean_batch": sum(k * v for k, v in sizes.items()) / n if n else 0.0,
                "queue_wait_mean_s": e["queue_wait_mean_s"],
            }
        return {
            "queries": self.queries,
            "latencies": latencies,
            "errors": errors,
            "makespan": makespan,
            "engines": engines,
            "devices": {
                d.name: d.busy_s / makespan if makespan > 0 else 0.0 for d in devices.by_name.values()
            },
            "timeline": timeline,
        }


def _after(setup: list[dict[str, Any]], timeline: Timeline) -> Timeline:
    """``timeline`` without the events already in ``setup`` (the recorder's events before the load,
    the same objects), keeping its thread names."""
    meta = [e for e in timeline.events if e["ph"] == "M"]
    events = [e for e in timeline.events if e["ph"] != "M"]
    last = next((e for e in reversed(setup) if e["ph"] != "M"), None)
    cut = next((i + 1 for i, e in enumerate(events) if e is last), 0)  # 0: the setup's were dropped
    return Timeline(meta + events[cut:])


def _devices_of(profile: SimProfile, name: str) -> list[str]:
    """The devices engine ``name``'s instances run on (a likelihood reranker: its LLM's)."""
    spec = profile.engines[name]
    if spec.backend == "likelihood":
        name, spec = spec.llm, profile.engines[spec.llm]
    return [spec.device_of(name, i) for i in range(spec.instances)]


def _calls(e: Mapping[str, Any]) -> int:
    return sum(e["batches"].values()) + sum(v for k, v in e["requests"].items() if k.startswith("insert"))


def _finish(r: dict[str, Any], wall: float) -> SimResult:
    engines = r["engines"]
    bottleneck = max(engines, key=lambda n: engines[n]["utilization"]) if engines else ""
    done = len(r["latencies"])
    return SimResult(
        queries=r["queries"],
        completed=done,
        errors=tuple(r["errors"]),
        latencies=tuple(r["latencies"]),
        makespan_s=r["makespan"],
        throughput_qps=done / r["makespan"] if r["makespan"] > 0 else math.nan,
        engines=engines,
        devices=r["devices"],
        bottleneck=bottleneck,
        wall_s=wall,
        timeline=r["timeline"],
    )


__all__ = ["SimResult", "engine_configs", "simulate"]
