"""Latency under load (issue 21): bursts and streams of queries, the old and the new scheduling policy.

Loads: bursts of 8 and 16 queries at once, and streams of 32 queries arriving one every 0.5 s and one
every 1 s. Workflows: the two of ``bench/workflows.py`` (naive RAG with rerank, query expansion),
each run eagerly (``wf.eager``) and optimized (``wf(...)``). Policies: ``old`` is the order before
query-level scheduling (``policy="critical_path"``, no admission bound), ``new`` the default
(``policy="query"``, ``max_active="auto"``: 8 with the LLM on the CPU) with the CPU engines side by side, and
``new+share`` the same with them taking turns in the policy's order (``cpu_share=True``: the
default runtime). Every combination runs once per round, in
one interleaved order, on one runtime whose policy is switched between runs (``Runtime.set_policy``),
so both policies see the same loaded models. A query's latency runs from its arrival to its answer;
the figures are p50, p95 and max latency and the makespan (first arrival to last answer), medians
over rounds.

``--engines real`` (the default) runs the default runtime a user gets (the CPU engines: llama.cpp,
MiniLM, the embedded PostgreSQL, the likelihood reranker). ``--engines scripted`` runs scripted
engines whose latencies follow the CPU engines' measured figures (``ayo_trace.passes.cost``'s
``DEFAULT_PROFILES``: prompt 900 tokens/s, decode 78 tokens/s for one sequence and about 4x the
step time for 8 together) in virtual time (trio's ``MockClock``), so it is exact and takes seconds
whatever the machine's load; ``--sweep`` then compares admission bounds, which is how
the bound of 16 was chosen; ``--bounds 8`` runs the default policy under other bounds beside it on the
real engines, which is how the CPU's bound of 8 was chosen (``admission.py``).

    .venv/bin/python bench/load_latency.py [--engines real|scripted] [--rounds 2] [--scale 1.0] [--write]
    .venv/bin/python bench/load_latency.py --engines scripted --sweep
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ayo_trace as ayo
from ayo_trace.backend import Runtime
from ayo_trace.backend.engines.likelihood_rerank import LikelihoodReranker
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedStore
from bench.report import load_average, machine, write_section
from bench.workflows import KB_COLLECTION, QUERIES, inputs_for, knowledge_base, make_workflows

HEADING = "## Latency under load (bench/load_latency.py)"
LOADS = ("burst:8", "burst:16", "stream:32:0.5", "stream:32:1")
WORKFLOWS = ("naive_rag", "expanded_rag")
VARIANTS = ("eager", "optimized")
POLICIES: dict[str, tuple[str, int | str | None, bool]] = {
    "old": ("critical_path", None, False),
    "new": ("query", "auto", False),
    # the CPU engines take turns in the policy's order (``cpu_share.py``; a no-op on scripted engines)
    "new+share": ("query", "auto", True),
}
SWEEP = (2, 4, 8, 16, 32, None)


def arrivals(load: str, scale: float) -> list[float]:
    """Arrival times (seconds from the start) of ``load``'s queries, ``scale`` times as many."""
    kind, n, *rest = load.split(":")
    count = max(1, round(int(n) * scale))
    gap = float(rest[0]) if kind == "stream" else 0.0
    return [i * gap for i in range(count)]


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))]


async def run_load(run_one: Callable[[int], Awaitable[Any]], times: list[float]) -> dict[str, float]:
    """Start query i at ``times[i]``; its latency is from then to its answer."""
    start = anyio.current_time()
    latencies: list[float] = [0.0] * len(times)
    last = [start]

    async def one(i: int) -> None:
        await anyio.sleep_until(start + times[i])
        t = anyio.current_time()
        await run_one(i)
        end = anyio.current_time()
        latencies[i] = end - t
        last[0] = max(last[0], end)

    async with anyio.create_task_group() as tg:
        for i in range(len(times)):
            tg.start_soon(one, i)
    return {
        "p50": statistics.median(latencies),
        "p95": percentile(latencies, 95),
        "max": max(latencies),
        "makespan": last[0] - start,
    }


def scripted_respond(prompt: str) -> str:
    if prompt.rstrip().endswith("Queries:"):
        return "search words one\nsearch words two\nsearch words three\n\n"
    return " " + " ".join(["word"] * 12) + "\n"


def scripted_engines() -> list[Any]:
    """Scripted engines with the CPU engines' latencies (see the module docstring)."""
    llm = ScriptedLLM(
        "llm",
        scripted_respond,
        call_s=0.005,
        prefill_s_per_token=1 / 900,
        decode_s_per_step=1 / 102,
        batch_penalty=(8 / 205 * 102 - 1) / 7,  # 8 sequences: 205 tokens/s in all
        history=False,
    )
    return [
        llm,
        ScriptedEmbedder("embed", call_s=0.006, per_text_s=0.004),
        ScriptedStore("store", call_s=0.004),
        LikelihoodReranker(llm, name="rerank"),
    ]


async def prepare(rt: Runtime, workflows: dict[str, ayo.Workflow]) -> None:
    """Ingest the shared knowledge base and warm every workflow once, eager and optimized."""
    await rt.ingest(knowledge_base(), KB_COLLECTION)
    for name, wf in workflows.items():
        await wf.eager(**inputs_for(name, QUERIES[0]))
        await wf(**inputs_for(name, QUERIES[0]))


def runner(wf: ayo.Workflow, name: str, variant: str) -> Callable[[int], Awaitable[Any]]:
    def run_one(i: int) -> Awaitable[Any]:
        kwargs = inputs_for(name, QUERIES[i % len(QUERIES)])
        return wf.eager(**kwargs) if variant == "eager" else wf(**kwargs)

    return run_one


Key = tuple[str, str, str, str]  # load, workflow, variant, policy


async def measure(args: argparse.Namespace) -> dict[Key, list[dict[str, float]]]:
    engines = scripted_engines() if args.engines == "scripted" else None
    results: dict[Key, list[dict[str, float]]] = {}
    async with Runtime(engines=engines, own_engines=engines is not None, progress=False) as rt:
        workflows = make_workflows(None)
        await prepare(rt, workflows)
        policies = (
            {f"max_active={m}": ("query", m, False) for m in SWEEP} | {"old": POLICIES["old"]}
            if args.sweep
            else {k: v for k, v in POLICIES.items() if k in (args.policies or POLICIES)}
        )
        # the default policy under other admission bounds, beside the default's own
        policies |= {f"new+share@{m}": ("query", m, True) for m in getattr(args, "bounds", None) or ()}
        for r in range(args.rounds):
            for load in args.loads:
                for name in args.workflows:
                    for variant in VARIANTS:
                        for label, (policy, max_active, share) in policies.items():
                            rt.set_policy(policy, max_active, cpu_share=share)
                            times = arrivals(load, args.scale)
                            res = await run_load(runner(workflows[name], name, variant), times)
                            results.setdefault((load, name, variant, label), []).append(res)
                            print(f"round {r + 1} {load} {name} {variant} {label}: " + fmt(res), flush=True)
        policy, max_active, share = POLICIES["new+share"]
        rt.set_policy(policy, max_active, cpu_share=share)
    return results


def fmt(res: dict[str, float]) -> str:
    return " ".join(f"{k} {v:.2f}s" for k, v in res.items())


def table(results: dict[Key, list[dict[str, float]]]) -> str:
    rows = [
        "| load | workflow | variant | policy | p50 | p95 | max | makespan |",
        "|---|---|---|---|---:|---:|---:|---:|",
    ]
    for (load, name, variant, label), runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        rows.append(
            f"| {load} | {name} | {variant} | {label} | {med['p50']:.2f} s | {med['p95']:.2f} s | "
            f"{med['max']:.2f} s | {med['makespan']:.2f} s |"
        )
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engines", choices=("real", "scripted"), default="real")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--scale", type=float, default=1.0, help="this many times the queries of each load")
    ap.add_argument("--loads", nargs="+", default=list(LOADS))
    ap.add_argument("--workflows", nargs="+", default=list(WORKFLOWS), choices=WORKFLOWS)
    ap.add_argument("--policies", nargs="+", choices=list(POLICIES), help="of the policies, only these")
    ap.add_argument(
        "--bounds",
        nargs="+",
        type=int,
        help="also run the default policy with these admission bounds (max_active)",
    )
    ap.add_argument("--sweep", action="store_true", help="compare admission bounds (max_active)")
    ap.add_argument("--write", action="store_true", help="write the table into bench/RESULTS.md")
    args = ap.parse_args()
    if args.engines == "scripted":
        from trio.testing import MockClock

        opts = {"clock": MockClock(autojump_threshold=0)}
        results = anyio.run(measure, args, backend="trio", backend_options=opts)
    else:
        results = anyio.run(measure, args)
    body = table(results)
    print(body)
    if args.write:
        engines = "the default CPU engines" if args.engines == "real" else "scripted engines, virtual time"
        head = (
            f"Machine: {machine()}; load average {load_average()}. Engines: {engines}. "
            f"{args.rounds} rounds, interleaved, medians; scale {args.scale}."
        )
        heading = HEADING if not args.sweep else HEADING.replace(")", ", --sweep)")
        write_section(heading, f"{head}\n\n{body}")


if __name__ == "__main__":
    main()
