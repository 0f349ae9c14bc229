"""Why the optimized graph is slower than its critical-path bound: one query, node by node.

``bench/e2e.py``'s (d) bound runs a query's optimized graph with every node forced one after another
and sums the longest dependency path from the durations each node took alone. This script runs the
same query that way and optimized, interleaved, ``--rounds`` times each on one runtime (the query's
collection filled first, so neither run embeds it cold), and prints, for every top-level node of the
optimized graph: its median duration alone, its median duration in the optimized run, and how long
it waited in the optimized run after its last dependency finished. The difference between the
optimized latency and the bound splits into those two terms along the path: *contention* (a node on
the path ran slower beside work the bound counts as free) and *waits* (a node was ready and did not
start: a queue, a batch being gathered, an engine's turn).

    .venv/bin/python bench/bound_profile.py --workflow seed_naive_rag --query q01 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import anyio

import ayo_trace as ayo
from bench import workflows as W
from bench.e2e_bound import critical_path, serialized
from bench.e2e_engines import EngineChoice, describe, real_engines
from bench.report import load_average, machine

Events = list[dict[str, Any]]


def _query_events(rt: ayo.Runtime, before: set[str]) -> tuple[str, Events]:
    """The node events of the one query run since ``before`` (the query ids seen until then)."""
    events = [e for e in rt.timeline().events if e.get("ph") == "X" and e["pid"] == 1]
    new = [e for e in events if e["args"]["query"] not in before]
    query = new[-1]["args"]["query"]
    return query, [e for e in new if e["args"]["query"] == query]


def _engine_busy(rt: ayo.Runtime, t0: float, t1: float) -> dict[str, float]:
    """Seconds each engine kind was busy between timeline times ``t0`` and ``t1`` (microseconds)."""
    busy: dict[str, float] = defaultdict(float)
    for e in rt.timeline().events:
        if e.get("ph") == "X" and e["pid"] == 2 and t0 <= e["ts"] <= t1:
            busy[f"{e['args']['engine']}.{e['cat']}"] += e["dur"] / 1e6
    return dict(busy)


async def _run(rt: ayo.Runtime, graph: Any, inputs: dict[str, Any]) -> tuple[float, str, Events]:
    before = {e["args"]["query"] for e in rt.timeline().events if e.get("ph") == "X" and e["pid"] == 1}
    t = time.perf_counter()
    await rt.run(graph, inputs)
    return time.perf_counter() - t, *_query_events(rt, before)


def profile_rows(graph: Any, alone: list[Events], together: list[Events]) -> list[dict[str, Any]]:
    """Per top-level node of ``graph``: medians of its duration alone, in the optimized run, and of
    its wait there after its last dependency finished (seconds)."""
    rows = []
    for n in graph.nodes:
        if n.op in ("input", "const"):
            continue
        a = [
            e["dur"] / 1e6
            for ev in alone
            for e in ev
            if e["name"] == n.name and "/" not in e["args"]["scope"]
        ]
        runs = []
        for ev in together:
            top = {e["name"]: e for e in ev if "/" not in e["args"]["scope"]}
            if n.name not in top:
                continue
            e = top[n.name]
            deps = [top[d.name] for d in [*n.args, *n.after] if d.name in top]
            ready = max((d["ts"] + d["dur"] for d in deps), default=min(x["ts"] for x in top.values()))
            runs.append((e["dur"] / 1e6, max(0.0, (e["ts"] - ready) / 1e6), e["ts"] / 1e6))
        if not a or not runs:
            continue
        rows.append(
            {
                "node": n.name,
                "op": n.op,
                "alone_s": statistics.median(a),
                "optimized_s": statistics.median(r[0] for r in runs),
                "wait_s": statistics.median(r[1] for r in runs),
            }
        )
    return rows


async def main_async(args: argparse.Namespace) -> None:
    choice = EngineChoice(threads=args.threads)
    engines = await real_engines(args.pg_dir, choice)
    query = next(q for q in W.QUERIES if q.id == args.query)
    wf = W.make_workflows(None)[args.workflow]
    async with ayo.Runtime(engines=engines, own_engines=True, timeline_size=1_000_000) as rt:
        inputs = W.inputs_for(args.workflow, query, W.SEED_PASSAGES)
        graph = wf.graph(**inputs, optimized=True)
        await wf(**inputs)  # fills the collection and warms the engines
        alone: list[Events] = []
        together: list[Events] = []
        bounds: list[float] = []
        latencies: list[float] = []
        busy: dict[str, list[dict[str, float]]] = {"alone": [], "optimized": []}
        for r in range(args.rounds):
            for variant in ("alone", "optimized") if r % 2 == 0 else ("optimized", "alone"):
                g = serialized(graph) if variant == "alone" else graph
                seconds, qid, ev = await _run(rt, g, inputs)
                t0 = min(e["ts"] for e in ev)
                busy[variant].append(_engine_busy(rt, t0, max(e["ts"] + e["dur"] for e in ev)))
                if variant == "alone":
                    alone.append(ev)
                    durations = {(e["args"]["scope"], e["name"]): e["dur"] / 1e6 for e in ev}
                    bound, path = critical_path(graph, durations, qid)
                    bounds.append(bound)
                else:
                    together.append(ev)
                    latencies.append(seconds)
                print(f"round {r} {variant}: {seconds:.2f} s", flush=True)
    print(f"\n{args.workflow} {args.query}, {args.rounds} rounds; {describe(choice)}, threads {args.threads}")
    print(f"machine: {machine()}; load average after {load_average()}")
    b, o = statistics.median(bounds), statistics.median(latencies)
    print(f"bound p50 {b:.2f} s (path: {' -> '.join(path)}), optimized p50 {o:.2f} s: {o / b:.2f}x\n")
    print("| node | op | alone (s) | optimized (s) | slower by (s) | waited after deps (s) | on path |")
    print("|---|---|---:|---:|---:|---:|---|")
    for row in profile_rows(graph, alone, together):
        on = "yes" if row["node"] in path else ""
        print(
            f"| {row['node']} | {row['op']} | {row['alone_s']:.3f} | {row['optimized_s']:.3f} | "
            f"{row['optimized_s'] - row['alone_s']:+.3f} | {row['wait_s']:.3f} | {on} |"
        )
    print("\nengine busy per run (median s):")
    for variant, runs in busy.items():
        keys = sorted({k for run in runs for k in run})
        cells = ", ".join(f"{k} {statistics.median(run.get(k, 0.0) for run in runs):.2f}" for k in keys)
        print(f"  {variant}: {cells}")


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workflow", default="seed_naive_rag", choices=list(W.make_workflows(None)))
    p.add_argument("--query", default="q01")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=1, help="as bench/e2e.py's --threads")
    p.add_argument("--pg-dir", type=Path, default=Path("~/.cache/ayo-trace/e2e-pgdata").expanduser())
    anyio.run(main_async, p.parse_args(argv))


if __name__ == "__main__":
    main()
