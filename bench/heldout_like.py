"""Never slower than eager (issue 15): eight workflow shapes, eager vs unoptimized vs optimized.

Every variant runs on one default ``ayo.Runtime()`` (what a user gets: llama.cpp, MiniLM, embedded
pgvector, the likelihood reranker, cross-request batching on), so the very same engine objects:

* ``eager``: ``wf.eager(...)``, the function run as plain Python, each primitive calling its engine;
* ``unoptimized``: the traced graph with ``passes=[]`` (program order);
* ``optimized``: the traced graph with the default passes (what ``wf(...)`` does).

At concurrency C, C queries (different questions) start at once; a *round* runs every variant once
on the same C queries, the variant order rotating per round, and the figures are medians over rounds:
p50 latency, makespan, and per query the LLM's busy time and prompt tokens computed (from
``rt.stats()`` deltas: the profile that shows where a regression comes from), with the LLM's mean
batch size, and the LLM's decode work per query counted rather than timed: weight passes of decode
steps (``decode_micro_batches``) and tokens generated. On a machine whose speed drifts (this one's
busy time for the same calls moves by up to 14% between variants' turns), the counts say whether a
variant did more work; the busy time says how long the work took. ``--write`` rewrites the section of ``bench/RESULTS.md``.

    .venv/bin/python bench/heldout_like.py --write                  # 8 workflows, c = 1 4 8 16, 3 rounds
    .venv/bin/python bench/heldout_like.py --workflows rag_rerank --concurrency 1 8 --rounds 2
    .venv/bin/python bench/heldout_like.py --counts --workflows branches --concurrency 1 8

``--counts`` measures no time: per workflow, concurrency and variant (eager, optimized) it runs one
burst and prints the work each engine did (``rt.stats()`` deltas: requests, batches and batch sizes
per kind, the LLM's prompt tokens computed and reused, decode rounds, parts kept aside) and the order
of the LLM's calls (kind and size, from ``rt.timeline()``). Load does not change these, so they
show on a busy machine what a regression comes from.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import anyio

import ayo_trace as ayo
from bench import heldout_workflows as H
from bench import workflows as W
from bench.report import measure_and_report

HEADING = "## Never slower than eager (bench/heldout_like.py)"
RAW = Path(__file__).resolve().parent / "data" / "heldout_like.json"
VARIANTS = ("eager", "unoptimized", "optimized")


@dataclass
class Run:
    """One variant on one burst of queries."""

    latencies: list[float] = field(default_factory=list)
    makespan: float = 0.0
    errors: list[str] = field(default_factory=list)
    llm: dict[str, float] = field(default_factory=dict)  # busy_s, prompt tokens, batches (deltas)


def _llm_counters(rt: ayo.Runtime) -> dict[str, float]:
    llm = rt.stats()["engines"]["llm"]
    engine = [i["engine_stats"] for i in llm["per_instance"]]
    return {
        "busy_s": float(llm["busy_s"]),
        "prompt_tokens": float(sum(e.get("prompt_tokens_computed", 0) for e in engine)),
        "scored_tokens": float(sum(e.get("scored_tokens", 0) for e in engine)),
        "decode_passes": float(sum(e.get("decode_micro_batches", 0) for e in engine)),
        "generated_tokens": float(sum(e.get("generated_tokens", 0) for e in engine)),
        "batches": float(sum(llm["batch_sizes"].values())),
        "items": float(sum(k * v for k, v in llm["batch_sizes"].items())),
    }


class Bench:
    def __init__(self, rt: ayo.Runtime) -> None:
        self.rt = rt
        self.unoptimized = H.make([])
        self.optimized = H.make(None)

    async def call(self, variant: str, workflow: str, query: W.Query) -> Any:
        inputs = H.inputs_for(workflow, query)
        if variant == "eager":
            return await self.optimized[workflow].eager(**inputs)
        table = self.unoptimized if variant == "unoptimized" else self.optimized
        return await table[workflow](**inputs)

    async def burst(self, variant: str, workflow: str, queries: Sequence[W.Query]) -> Run:
        run = Run()
        before = _llm_counters(self.rt)
        start = time.perf_counter()

        async def one(q: W.Query) -> None:
            t = time.perf_counter()
            try:
                await self.call(variant, workflow, q)
            except Exception as exc:  # a failed query is reported, not fatal to the run
                run.errors.append(f"{q.id}: {type(exc).__name__}: {exc}")
                return
            run.latencies.append(time.perf_counter() - t)

        async with anyio.create_task_group() as tg:
            for q in queries:
                tg.start_soon(one, q)
        run.makespan = time.perf_counter() - start
        after = _llm_counters(self.rt)
        run.llm = {k: after[k] - before[k] for k in after}
        return run


async def prepare(bench: Bench, workflows: Sequence[str], queries: Sequence[W.Query]) -> None:
    await bench.rt.ingest(W.knowledge_base(), W.KB_COLLECTION)
    for q in queries:
        await bench.rt.ingest(list(W.docs_for(q.module)), W.collection_for(q))
    for workflow in workflows:  # warm up: traces, engines, kept prefixes
        for variant in VARIANTS:
            await bench.call(variant, workflow, queries[-1])


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    queries = list(W.QUERIES)
    results: dict[str, Any] = {}
    async with ayo.Runtime() as rt:
        bench = Bench(rt)
        await prepare(bench, args.workflows, queries)
        for workflow in args.workflows:
            for c in args.concurrency:
                runs: dict[str, list[Run]] = {v: [] for v in VARIANTS}
                for r in range(args.rounds):
                    burst = [queries[(r * c + i) % len(queries)] for i in range(c)]
                    k = r % len(VARIANTS)
                    for variant in (*VARIANTS[k:], *VARIANTS[:k]):
                        runs[variant].append(await bench.burst(variant, workflow, burst))
                row = {v: summarize(rs, c) for v, rs in runs.items()}
                results.setdefault(workflow, {})[str(c)] = row
                RAW.write_text(json.dumps(results, indent=1))  # a run stopped early keeps what it measured
                print(
                    f"{workflow} c={c}: "
                    + ", ".join(
                        f"{v} p50 {row[v]['p50']:.2f}s llm/q {row[v]['llm_busy_q']:.2f}s" for v in VARIANTS
                    ),
                    file=sys.stderr,
                    flush=True,
                )
    return results


def summarize(runs: list[Run], c: int) -> dict[str, Any]:
    def med(xs: list[float]) -> float:
        return statistics.median(xs) if xs else float("nan")

    per_round = [r for r in runs if r.latencies]
    return {
        "p50": med([statistics.median(r.latencies) for r in per_round]),
        "makespan": med([r.makespan for r in runs]),
        "llm_busy_q": med([r.llm["busy_s"] / c for r in runs]),
        "prompt_tokens_q": med([r.llm["prompt_tokens"] / c for r in runs]),
        "scored_tokens_q": med([r.llm["scored_tokens"] / c for r in runs]),
        "decode_passes_q": med([r.llm["decode_passes"] / c for r in runs]),
        "generated_q": med([r.llm["generated_tokens"] / c for r in runs]),
        "mean_batch": med([r.llm["items"] / r.llm["batches"] for r in runs if r.llm["batches"]]),
        "errors": [e for r in runs for e in r.errors],
    }


def _counted(row: dict[str, Any], key: str) -> str:
    """``e / u / o`` of a per-query count (``-`` where a run saved before it was counted lacks it)."""
    return " / ".join(f"{row[v][key]:.1f}" if key in row[v] else "-" for v in VARIANTS)


def table(results: dict[str, Any], concurrency: Sequence[int]) -> str:
    head = (
        "| workflow | c | eager p50 | unopt. p50 | opt. p50 | opt. vs eager | opt. vs unopt. "
        "| LLM busy/query e / u / o | prompt tok/query e / u / o | LLM mean batch e / u / o "
        "| decode passes/query e / u / o | generated tok/query e / u / o |"
    )
    lines = [head, "|" + "---|" * 12]
    ratios: dict[int, list[float]] = {c: [] for c in concurrency}
    for workflow, by_c in results.items():
        for c in concurrency:
            row = by_c.get(str(c))
            if row is None:
                continue
            e, u, o = (row[v] for v in VARIANTS)
            failed = sum(len(row[v]["errors"]) for v in VARIANTS)
            ok = not failed
            if ok:
                ratios[c].append(e["p50"] / o["p50"])
            lines.append(
                f"| {workflow} | {c} | {e['p50']:.2f} s | {u['p50']:.2f} s | {o['p50']:.2f} s | "
                + (
                    f"{e['p50'] / o['p50']:.2f}x | {u['p50'] / o['p50']:.2f}x"
                    if ok
                    else f"({failed} failed) | -"
                )
                + f" | {e['llm_busy_q']:.2f} / {u['llm_busy_q']:.2f} / {o['llm_busy_q']:.2f} s"
                + f" | {e['prompt_tokens_q']:.0f} / {u['prompt_tokens_q']:.0f} / {o['prompt_tokens_q']:.0f}"
                + f" | {e['mean_batch']:.1f} / {u['mean_batch']:.1f} / {o['mean_batch']:.1f}"
                + f" | {_counted(row, 'decode_passes_q')} | {_counted(row, 'generated_q')} |"
            )
    lines.append("")
    for c, rs in ratios.items():
        if rs:
            lines.append(f"- c={c}: median optimized vs eager across workflows {statistics.median(rs):.2f}x")
    return "\n".join(lines)


def _numbers(stats: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """The numeric leaves of ``stats``, flattened to ``a.b.c`` keys, without the seconds, busy
    times, waits, utilizations and means: they depend on load."""
    out: dict[str, float] = {}
    for k, v in stats.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_numbers(v, key + "."))
        elif (
            isinstance(v, int | float)
            and not isinstance(v, bool)
            and not str(k).endswith("_s")
            and not any(w in str(k) for w in ("busy", "wait", "utilization", "mean"))
        ):
            out[key] = float(v)
    return out


def _engine_counts(rt: ayo.Runtime) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, e in rt.stats()["engines"].items():
        e = dict(e)
        per = e.pop("per_instance", [])
        out.update(_numbers(e, f"{name}."))
        for i in per:
            out.update(
                {
                    f"{name}.engine.{k}": out.get(f"{name}.engine.{k}", 0.0) + v
                    for k, v in _numbers(i.get("engine_stats", {})).items()
                }
            )
    return out


def _llm_order(rt: ayo.Runtime, since: int) -> tuple[str, int]:
    """The LLM's calls after the first ``since`` batch events (``kind xN:ms``: size and duration,
    the one figure here that load changes), and how many there are in all."""
    calls = [e for e in rt.timeline().events if e.get("pid") == 2 and e["args"].get("engine") == "llm"]
    return " ".join(f"{e['name'].replace(' ', '')}:{e['dur'] / 1e3:.0f}ms" for e in calls[since:]), len(calls)


async def counts(args: argparse.Namespace) -> None:
    """``--counts``: see the module docstring."""
    queries = list(W.QUERIES)
    async with ayo.Runtime() as rt:
        bench = Bench(rt)
        await prepare(bench, args.workflows, queries)
        for workflow in args.workflows:
            for c in args.concurrency:
                burst = [queries[i % len(queries)] for i in range(c)]
                seen: dict[str, dict[str, float]] = {}
                for variant in ("eager", "optimized"):
                    before = _engine_counts(rt)
                    _, since = _llm_order(rt, 0)
                    run = await bench.burst(variant, workflow, burst)
                    after = _engine_counts(rt)
                    order, _ = _llm_order(rt, since)
                    seen[variant] = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
                    print(f"== {workflow} c={c} {variant}: errors {run.errors}\n   llm calls: {order}")
                keys = sorted(
                    k
                    for k in seen["eager"].keys() | seen["optimized"].keys()
                    if seen["eager"].get(k, 0.0) or seen["optimized"].get(k, 0.0)
                )
                for k in keys:
                    e, o = seen["eager"].get(k, 0.0), seen["optimized"].get(k, 0.0)
                    print(f"   {k:60s} eager {e:8.0f}  optimized {o:8.0f}{'  *' if e != o else ''}")
                sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workflows", nargs="+", default=list(H.FUNCTIONS), choices=list(H.FUNCTIONS))
    p.add_argument("--concurrency", nargs="+", type=int, default=[1, 4, 8, 16])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--write", action="store_true", help="rewrite this benchmark's section of RESULTS.md")
    p.add_argument("--counts", action="store_true", help="print the work per variant, measure no time")
    args = p.parse_args(argv)
    if args.counts:
        anyio.run(counts, args)
        return
    RAW.parent.mkdir(exist_ok=True)
    measure_and_report("heldout_like.py", HEADING, measure, table, args, argv)


if __name__ == "__main__":
    main()
