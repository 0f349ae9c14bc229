"""A validation's block profiles calibrated to the engines' own busy time during the real run.

``bench/simulate.py --validate --calibrate block|variant`` (after its real run, or with ``--real
FILE``). This machine's speed drifts by up to a third within minutes (``bench/RESULTS.md``, the
validation sections), so even a profile measured just before and after a block can miss the speed
the engines had during it. The real run records every engine call's duration (``engine_use``: busy
seconds per engine and operation, per workflow, variant and concurrency). Calibrating scales each
operation's costs in a block's profile (every term alike: the profile's shape, fixed against
per-token cost, batch against step time, stays as measured) so that the simulation spends, per query and
summed over the block's variants, the busy seconds per operation that the real engines spent. One
factor per operation and block, shared by its variants (``--calibrate variant``: one per variant's
part of the block). An operation the timeline has no batches of (the vector store's inserts, which
run as transactions beside its batches) keeps its profiled cost.

What the calibrated validation still tests is the schedule: how the calls of each variant overlap,
batch and queue, and so each variant's latency and throughput relative to the others and to the
work. What it no longer tests is the profile's absolute speed, which the uncalibrated validation
tests (and which this machine's drift defeats). Under saturation (c=16, the LLM busy all the time)
throughput follows from the total work, so a calibrated throughput row there is close to true by
construction; latency still depends on the order the engine schedulers serve the queries in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import ayo_trace as ayo
from bench.simulate_validate import block_key


def operations(profile: ayo.SimProfile) -> list[str]:
    """The operations a profile costs, named as a real run's ``engine_use`` and a simulation's
    timeline name them: ``<engine>.<request kind>`` (a likelihood reranker's scores run on its
    LLM, so they are ``llm.score`` on both sides)."""
    return [f"{name}.{kind}" for name, engine in profile.engines.items() for kind in engine.ops]


def busy_by_operation(events: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Busy seconds per ``<engine>.<kind>`` over a timeline's engine batches (as ``bench/e2e.py``
    accounts a real run's); an engine instance's name (``llm#1``) counts as its engine's."""
    busy: dict[str, float] = {}
    for e in events:
        if e.get("ph") == "X" and e.get("pid") == 2:
            key = f"{str(e['args']['engine']).split('#')[0]}.{e['cat']}"
            busy[key] = busy.get(key, 0.0) + e["dur"] / 1e6
    return busy


def _per_query(busy: Mapping[str, float], queries: int) -> dict[str, float]:
    return {k: v / queries for k, v in busy.items()} if queries else {}


def real_busy(real: Mapping[str, Any], workflow: str, c: int, variants: Sequence[str]) -> dict[str, float]:
    """Busy seconds per operation and query, summed over ``variants``, in the real run's block."""
    out: dict[str, float] = {}
    for v in variants:
        use = real.get("engine_use", {}).get(f"{workflow}/{v}/c{c}", {})
        queries = int(real["workflows"][workflow]["variants"][v][str(c)]["queries"])
        for k, b in _per_query({k: u["busy_s"] for k, u in use.items()}, queries).items():
            out[k] = out.get(k, 0.0) + b
    return out


def sim_busy(
    sim: Mapping[tuple[str, str, int], ayo.SimResult], workflow: str, c: int, variants: Sequence[str]
) -> dict[str, float]:
    """The same for the simulation (whose results must carry timelines)."""
    out: dict[str, float] = {}
    for v in variants:
        s = sim[(workflow, v, c)]
        if s.timeline is None:
            raise ValueError("calibrating needs the simulation's timelines (timeline_size above 0)")
        for k, b in _per_query(busy_by_operation(s.timeline.events), s.queries).items():
            out[k] = out.get(k, 0.0) + b
    return out


def factors(
    measured: Mapping[str, float], simulated: Mapping[str, float], ops: Iterable[str]
) -> dict[str, float]:
    """Measured over simulated busy time for each of ``ops`` (1 where either side is zero)."""
    out = {}
    for op in ops:
        m, s = measured.get(op, 0.0), simulated.get(op, 0.0)
        out[op] = m / s if m > 0 and s > 0 else 1.0
    return out


def scaled(profile: ayo.SimProfile, by: Mapping[str, float], note: str) -> ayo.SimProfile:
    """``profile`` with each operation's costs (every term) multiplied by its factor in ``by``."""
    data = profile.to_dict()
    for op, f in by.items():
        engine, _, kind = op.partition(".")
        cost = data["engines"].get(engine, {}).get("ops", {}).get(kind)
        if cost is None or not (f > 0 and math.isfinite(f)):
            continue
        for key in ("fixed_s", "per_item_s", "per_token_s", "per_output_token_s"):
            if key in cost:
                cost[key] *= f
        if cost.get("per_step_s"):
            cost["per_step_s"] = [[b, s * f] for b, s in cost["per_step_s"]]
        cost["source"] = f"{cost.get('source', '')}; x{f:.3f} ({note})"
    data["source"] = f"{data.get('source', '')}; {note}"
    return ayo.SimProfile.from_dict(data)


def calibrated(
    real: Mapping[str, Any],
    sim: Mapping[tuple[str, str, int], ayo.SimResult],
    profiles: Mapping[str, ayo.SimProfile],
    opts: Any,
    per_variant: bool,
) -> dict[str, ayo.SimProfile]:
    """Each block's profile (``profiles``, by ``block_key``) scaled per operation to the real
    engines' busy time in that block, or in each variant's part of it (``<block>/<variant>``);
    ``sim`` is the simulation on ``profiles`` (with timelines); ``opts`` an ``e2e.Options``."""
    out = dict(profiles)
    for name in opts.workflows:
        for c in opts.concurrency:
            key = block_key(name, c)
            for vs in [[v] for v in opts.variants] if per_variant else [list(opts.variants)]:
                ops = operations(profiles[key])
                by = factors(real_busy(real, name, c, vs), sim_busy(sim, name, c, vs), ops)
                part = f"{key}/{vs[0]}" if per_variant else key
                print(f"calibration of {part}: {factor_line(by)}")
                out[part] = scaled(profiles[key], by, f"calibrated to the real busy time of {part}")
    return out


def factor_line(by: Mapping[str, float]) -> str:
    return ", ".join(f"{op} x{f:.2f}" for op, f in by.items() if f != 1.0) or "none"


__all__ = [
    "busy_by_operation",
    "calibrated",
    "factor_line",
    "factors",
    "operations",
    "real_busy",
    "scaled",
    "sim_busy",
]
