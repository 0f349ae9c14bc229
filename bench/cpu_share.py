"""Engines taking turns on the CPU (``Runtime(cpu_share=...)``) against running side by side.

On a machine whose cores the default CPU engines oversubscribe (llama.cpp's threads plus torch's for
MiniLM), every workflow shape of ``bench/heldout_like.py`` runs eagerly and optimized, each with the
share on and off, on one default runtime whose setting is switched between runs
(``Runtime.set_policy(..., cpu_share=...)``), the four variants interleaved and rotated per round.
Figures per variant: p50 latency, makespan and the LLM's busy time per query (medians over rounds).
A machine with cores enough for every engine's threads gets no share either way: the script says so.

    .venv/bin/python bench/cpu_share.py --concurrency 1 8 --rounds 2 [--write]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


import ayo_trace as ayo
from ayo_trace.backend.policy import DEFAULT_POLICY
from bench import heldout_workflows as H
from bench import workflows as W
from bench.heldout_like import Bench, Run, prepare, summarize
from bench.report import measure_and_report

HEADING = "## CPU engines taking turns (bench/cpu_share.py)"
VARIANTS = (("eager", False), ("eager", True), ("optimized", False), ("optimized", True))


def label(variant: str, share: bool) -> str:
    return f"{variant}{'+share' if share else ''}"


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    queries = list(W.QUERIES)
    results: dict[str, Any] = {}
    async with ayo.Runtime() as rt:
        bench = Bench(rt)
        await prepare(bench, args.workflows, queries)
        rt.set_policy(DEFAULT_POLICY, "auto", cpu_share=True)
        if rt.cpu_share is None:
            print("the engines' threads fit this machine's cores: there is nothing to share", file=sys.stderr)
            return results
        for workflow in args.workflows:
            for c in args.concurrency:
                runs: dict[str, list[Run]] = {label(*v): [] for v in VARIANTS}
                for r in range(args.rounds):
                    burst = [queries[(r * c + i) % len(queries)] for i in range(c)]
                    k = r % len(VARIANTS)
                    for variant, share in (*VARIANTS[k:], *VARIANTS[:k]):
                        rt.set_policy(DEFAULT_POLICY, "auto", cpu_share=share)
                        runs[label(variant, share)].append(await bench.burst(variant, workflow, burst))
                row = {name: summarize(rs, c) for name, rs in runs.items()}
                results.setdefault(workflow, {})[str(c)] = row
                print(
                    f"{workflow} c={c}: "
                    + ", ".join(
                        f"{n} p50 {s['p50']:.2f}s llm/q {s['llm_busy_q']:.2f}s" for n, s in row.items()
                    ),
                    file=sys.stderr,
                    flush=True,
                )
        rt.set_policy(DEFAULT_POLICY, "auto", cpu_share=False)
    return results


def table(results: dict[str, Any], concurrency: Sequence[int]) -> str:
    names = [label(*v) for v in VARIANTS]
    lines = [
        "| workflow | c | "
        + " | ".join(f"{n} p50" for n in names)
        + " | eager: share gain | optimized: share gain "
        "| optimized+share vs eager | LLM busy/query " + " / ".join(names) + " |",
        "|" + "---|" * (2 + len(names) + 4),
    ]
    gains: dict[str, list[float]] = {"eager": [], "optimized": [], "vs_eager": []}
    for workflow, by_c in results.items():
        for c in concurrency:
            row = by_c.get(str(c))
            if row is None:
                continue
            p = {n: row[n]["p50"] for n in names}
            ge, go, ve = (
                p["eager"] / p["eager+share"],
                p["optimized"] / p["optimized+share"],
                p["eager"] / p["optimized+share"],
            )
            gains["eager"].append(ge)
            gains["optimized"].append(go)
            gains["vs_eager"].append(ve)
            lines.append(
                f"| {workflow} | {c} | "
                + " | ".join(f"{p[n]:.2f} s" for n in names)
                + f" | {ge:.2f}x | {go:.2f}x | {ve:.2f}x | "
                + " / ".join(f"{row[n]['llm_busy_q']:.2f}" for n in names)
                + " s |"
            )
    lines.append("")
    for key, text in (
        ("eager", "eager, share on vs off"),
        ("optimized", "optimized, share on vs off"),
        ("vs_eager", "optimized+share vs eager (no share)"),
    ):
        if gains[key]:
            lines.append(f"- median {text}: {statistics.median(gains[key]):.2f}x")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workflows", nargs="+", default=list(H.FUNCTIONS), choices=list(H.FUNCTIONS))
    p.add_argument("--concurrency", nargs="+", type=int, default=[1, 8])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--write", action="store_true", help="rewrite this benchmark's section of RESULTS.md")
    args = p.parse_args(argv)
    measure_and_report("cpu_share.py", HEADING, measure, table, args, argv)


if __name__ == "__main__":
    main()
