"""``bench/simulate.py --load``: latency under load in the simulator, the old and the new policy
(issue 21's question, asked of a profile of this machine instead of its engines).

The loads, workflows, variants and policies of ``bench/load_latency.py`` (bursts of 8 and 16
queries at once, streams of 32 queries one every 0.5 s and 1 s; naive RAG, eager and optimized;
``old`` = ``policy="critical_path"`` with no admission bound, ``new`` = ``policy="query"`` with
``DEFAULT_MAX_ACTIVE``), each point simulated on a fresh runtime that first ingests the knowledge
base and runs each variant once, as ``load_latency``'s ``prepare`` does. The simulated LLM says what
``load_latency``'s scripted LLM says (a 12-word answer, three rewritten queries).

The difference from ``load_latency.py --engines scripted``: there the scripted engines sleep, so the
LLM, the embedder and the store never slow each other; here every engine runs on one device of the
machine's cores (processor sharing), so an embedding batch running beside a prefill slows both,
as it does on this 2-core machine.

    .venv/bin/python bench/simulate.py --load [--profile FILE] [--loads burst:8 stream:32:0.5]

Without ``--profile``, ``machine_profile()``: this machine idle as DESIGN.md measured it (the same
figures as ``ayo_trace.passes.cost.DEFAULT_PROFILES`` and ``load_latency``'s scripted engines).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ayo_trace as ayo
from ayo_trace.backend.runtime import DEFAULT_MAX_ACTIVE
from bench import workflows as W
from bench.load_latency import scripted_respond

LOADS = ("burst:8", "burst:16", "stream:32:0.5", "stream:32:1")
VARIANTS = ("eager", "optimized")
POLICIES: dict[str, tuple[str, int | None]] = {
    "old": ("critical_path", None),
    "new": ("query", DEFAULT_MAX_ACTIVE),
}
PROMPT_TOKENS_S = 1 / 900  # DESIGN.md: llama.cpp on 2 cores, about 900 prompt tokens/s
# DESIGN.md, llama.cpp's low-level API, greedy, 2 threads: tokens/s in all for 1, 2, 4, 8 sequences
DECODE_TPS = ((1, 102.0), (2, 94.0), (4, 135.0), (8, 205.0))


def machine_profile(cores: float = 2.0) -> ayo.SimProfile:
    """This machine idle, from DESIGN.md's measurements: every engine on the ``cores``, as the
    default runtime runs them: llama.cpp's and torch's calls use every core (llama.cpp's default
    ``threads=2``, torch's one thread per core), a store call one core. So an LLM call and an
    embedding call at once each run at half speed."""
    llm = {
        "prefill": ayo.Cost(
            fixed_s=0.005, per_token_s=PROMPT_TOKENS_S, source="DESIGN.md: ~900 prompt tokens/s"
        ),
        "decode": ayo.Cost(
            per_step_s=tuple((b, b / tps) for b, tps in DECODE_TPS),
            source="DESIGN.md: 102, 94, 135, 205 tokens/s in all for 1, 2, 4, 8 sequences",
        ),
    }
    return ayo.SimProfile(
        name=f"this machine idle ({cores:g} cores; DESIGN.md's figures)",
        source="DESIGN.md and ayo_trace.passes.cost.DEFAULT_PROFILES (the load_latency scripted engines' figures)",
        devices={"cpu": cores},
        engines={
            "llm": ayo.EngineModel("llm", ops=llm, device="cpu", demand=cores, max_sessions=64),
            "embed": ayo.EngineModel(
                "embedding",
                ops={"embed": ayo.Cost(fixed_s=0.006, per_item_s=0.004)},
                device="cpu",
                demand=cores,
            ),
            "store": ayo.EngineModel(
                "vector_store",
                ops={"search": ayo.Cost(fixed_s=0.004), "insert": ayo.Cost(fixed_s=0.004)},
                device="cpu",
            ),
            "rerank": ayo.EngineModel("rerank", backend="likelihood", llm="llm"),
        },
    )


def load_of(spec: str) -> dict[str, Any]:
    """``simulate``'s load for ``burst:N`` (N at once) or ``stream:N:GAP`` (one every GAP seconds)."""
    kind, n, *rest = spec.split(":")
    if kind == "burst" and not rest:
        return {"queries": int(n)}
    if kind == "stream" and len(rest) == 1:
        return {"queries": int(n), "rate": 1 / float(rest[0])}
    raise ValueError(f"a load is burst:N or stream:N:GAP, got {spec!r}")


def run(
    profile: ayo.SimProfile,
    loads: Sequence[str] = LOADS,
    workflow: str = "naive_rag",
    variants: Sequence[str] = VARIANTS,
    progress: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """One row per load, variant and policy: p50, p95, max latency, makespan, the bottleneck."""
    wf = W.make_workflows(None)[workflow]
    runners = {"eager": wf.eager, "optimized": wf}

    async def prepare(rt: ayo.Runtime) -> None:
        await rt.ingest(W.knowledge_base(), W.KB_COLLECTION)
        await wf.eager(**W.inputs_for(workflow, W.QUERIES[0]))
        await wf(**W.inputs_for(workflow, W.QUERIES[0]))

    rows = []
    for load in loads:
        for variant in variants:
            for label, (policy, max_active) in POLICIES.items():
                r = ayo.simulate(
                    runners[variant],
                    lambda i: W.inputs_for(workflow, W.QUERIES[i % len(W.QUERIES)]),
                    profile=profile,
                    respond=scripted_respond,
                    runtime_options={"policy": policy, "max_active": max_active},
                    setup=prepare,
                    **load_of(load),
                )
                row = {
                    "load": load,
                    "workflow": workflow,
                    "variant": variant,
                    "policy": label,
                    "p50": r.p50,
                    "p95": r.p95,
                    "max": max(r.latencies, default=float("nan")),
                    "makespan": r.makespan_s,
                    "failed": len(r.errors),
                    "bottleneck": f"{r.bottleneck} {r.engines[r.bottleneck]['utilization']:.0%}",
                }
                rows.append(row)
                progress(
                    f"{load} {variant} {label}: p50 {r.p50:.2f}s p95 {r.p95:.2f}s makespan {r.makespan_s:.2f}s"
                )
    return rows


def table(rows: Sequence[dict[str, Any]]) -> str:
    out = [
        "| load | workflow | variant | policy | p50 | p95 | max | makespan | failed | bottleneck |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['load']} | {r['workflow']} | {r['variant']} | {r['policy']} | {r['p50']:.2f} s | "
            f"{r['p95']:.2f} s | {r['max']:.2f} s | {r['makespan']:.2f} s | {r['failed']} | {r['bottleneck']} |"
        )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--profile", type=Path, default=None, help="a profile file (default: machine_profile())")
    p.add_argument("--loads", nargs="+", default=list(LOADS))
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    args = p.parse_args(argv)
    profile = ayo.SimProfile.load(args.profile) if args.profile else machine_profile()
    print(f"profile: {profile.name}")
    rows = run(profile, args.loads, variants=args.variants)
    print(table(rows))
    return rows


if __name__ == "__main__":
    main()
