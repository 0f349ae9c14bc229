"""End-to-end benchmark (issue 7): two RAG workflows, four ways, on the same engines and inputs.

Workflows (``bench/workflows.py``): 1. ``naive_rag``, naive RAG with per-query ingestion; 2.
``expanded_rag``, advanced RAG with LLM query expansion; 3. ``seed_naive_rag`` and 4.
``seed_advanced_rag``, the research system's two workloads at its proportions (several hundred
passages indexed per query, top 20, rerank to 2, about 10 tokens; ``--passages`` sets the count).
Variants, interleaved in one run on one ``Runtime`` (so the very same engine objects):

* ``eager``: ``wf.eager``, the function run as plain Python on the eager primitives (the first
  baseline of every comparison);
* (a) ``unoptimized``: the traced workflow with ``passes=[]``, run in program order;
* (b) ``optimized``: the same workflow with ``ayo.DEFAULT_PASSES``;
* (c) ``langchain``: the same pipeline in langchain-core LCEL over the same engines
  (``bench/langchain_baseline.py`` says why it calls the runtime's eager primitives);
* (e) ``asyncio``: the workflow hand-parallelized with ``asyncio.gather`` and early starts on the
  same eager primitives (``bench/handwritten.py``), run as one query (``rt.serve()``) like ``eager``;
* (d) ``bound``: the critical-path lower bound. Every query's optimized graph is run once with all its
  nodes forced one after another (each node alone on idle engines; map items one at a time), each
  node's duration is read from ``rt.timeline()``, and the longest path through the *optimized*
  graph's dependencies is summed from those durations. A map's items count as running at once, and a
  map fed by a streamed decode may finish as early as its producer does (a strict bound: the streamed
  items' own work is taken as fully hidden). It ignores that concurrent nodes share engines and cores.

At concurrency 1 every query runs under (a), (b) and (c) back to back (the order rotates per query),
giving p50/p95 latency. At concurrency C, C closed-loop clients share a list of ``max(2C, queries)``
queries; each variant runs the list in turn (order rotating per round), giving throughput (queries
per second of makespan) and p50 latency. Engine counters (``rt.stats()``) and the engines' batch
events (``rt.timeline()``) are kept per (workflow, variant, concurrency) to show batch sizes and
where the time went; ``--trace`` saves the whole Chrome trace for Perfetto.

    .venv/bin/python bench/e2e.py --write                 # full run (~12-15 min on 2 cores)
    .venv/bin/python bench/e2e.py --quick                 # ~2-3 min: 4 queries, concurrency 1 and 4
    .venv/bin/python bench/e2e.py --workflows naive_rag --concurrency 1 4 16 --queries 8
    .venv/bin/python bench/e2e.py --llm vllm --device cuda --write   # on a GPU, its own section

``--llm`` picks the LLM backend (``bench/e2e_engines.py``): llama.cpp by default, transformers, or vLLM
on a GPU with the shipped model's float32 conversion.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import anyio

import ayo_trace as ayo
from bench import workflows as W
from bench.e2e_bound import _events, critical_path, serialized
from bench.e2e_engines import LLMS, EngineChoice, describe, real_engines
from bench.handwritten import HANDWRITTEN
from bench.langchain_baseline import build_chains
from bench.report import load_average, machine, write_section

HERE = Path(__file__).resolve().parent
HEADING = "## End to end (bench/e2e.py)"  # the CPU defaults; another LLM backend gets its own section
VARIANTS = ("eager", "unoptimized", "optimized", "langchain", "asyncio")
WORKFLOWS = ("naive_rag", "expanded_rag", *W.SEED_WORKFLOWS)
LABEL = {
    "eager": "eager (wf.eager)",
    "unoptimized": "(a) unoptimized",
    "optimized": "(b) optimized",
    "langchain": "(c) LangChain",
    "asyncio": "(e) hand-parallel asyncio",
}
RATIOS = (
    ("eager", "eager/(b)"),
    ("unoptimized", "(a)/(b)"),
    ("langchain", "(c)/(b)"),
    ("asyncio", "(e)/(b)"),
)


# --- one run of one variant ----------------------------------------------------------------------


@dataclass
class Batch:
    """What one variant did on one list of queries at one concurrency."""

    workflow: str
    variant: str
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    query_ids: list[str] = field(default_factory=list)  # parallel to latencies
    answers: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    makespan: float = 0.0


class Bench:
    """The runtime, the three runnable variants, and the measurements taken so far."""

    def __init__(self, rt: ayo.Runtime) -> None:
        self.rt = rt
        self.unoptimized = W.make_workflows([])
        self.optimized = W.make_workflows(None)
        self.chains = build_chains(rt)
        self.passages = W.SEED_PASSAGES
        self.batches: list[Batch] = []
        self.engine_use: dict[tuple[str, str, int], dict[str, Any]] = {}
        self.node_time: dict[tuple[str, str], Counter[str]] = {}

    async def call(self, variant: str, workflow: str, query: W.Query) -> str:
        inputs = W.inputs_for(workflow, query, self.passages)
        if variant == "eager":
            return str(await self.unoptimized[workflow].eager(**inputs))
        if variant == "unoptimized":
            return str(await self.unoptimized[workflow](**inputs))
        if variant == "optimized":
            return str(await self.optimized[workflow](**inputs))
        if variant == "asyncio":
            async with self.rt.serve():  # one query, as wf.eager is: one arrival, one admission
                return str(await HANDWRITTEN[workflow](**inputs))
        return str(await self.chains[workflow].ainvoke(inputs))

    async def run(self, variant: str, workflow: str, queries: Sequence[W.Query], concurrency: int) -> Batch:
        """Run ``queries`` with ``concurrency`` closed-loop clients; record latencies and engine use."""
        batch = Batch(workflow, variant, concurrency)
        todo = iter(queries)
        mark = len(_events(self.rt))

        async def client() -> None:
            for q in todo:
                t = time.perf_counter()
                try:
                    batch.answers[q.id] = await self.call(variant, workflow, q)
                except Exception as exc:  # a failed query is reported, not fatal to the run
                    batch.errors.append(f"{q.id}: {type(exc).__name__}: {exc}")
                    continue
                batch.latencies.append(time.perf_counter() - t)
                batch.query_ids.append(q.id)

        t0 = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for _ in range(concurrency):
                tg.start_soon(client)
        batch.makespan = time.perf_counter() - t0
        self._account(batch, _events(self.rt)[mark:])
        self.batches.append(batch)
        return batch

    def _account(self, batch: Batch, events: list[dict[str, Any]]) -> None:
        """Add the batch's engine calls and node times to the per-variant totals."""
        use = self.engine_use.setdefault((batch.workflow, batch.variant, batch.concurrency), {})
        for e in events:
            if e["pid"] == 2:
                key = f"{e['args']['engine']}.{e['cat']}"
                u = use.setdefault(key, {"calls": 0, "items": 0, "busy_s": 0.0, "wait_s": 0.0})
                u["calls"] += 1
                u["items"] += e["args"]["size"]
                u["busy_s"] += e["dur"] / 1e6
                u["wait_s"] += e["args"]["queue_wait_mean_ms"] * e["args"]["size"] / 1e3
            elif batch.concurrency == 1 and "/" not in e["args"]["scope"]:
                ops = self.node_time.setdefault((batch.workflow, batch.variant), Counter())
                ops[e["name"]] += e["dur"] / 1e6
                ops["#queries"] += e["cat"] == "output"

    # --- (d): the critical-path lower bound --------------------------------------------------------

    async def lower_bound(self, workflow: str, query: W.Query) -> tuple[float, list[str]]:
        """Seconds of the optimized graph's longest path, from its nodes' durations when each ran alone."""
        inputs = W.inputs_for(workflow, query, self.passages)
        graph = self.optimized[workflow].graph(**inputs, optimized=True)
        before = {e["args"]["query"] for e in _events(self.rt) if e["pid"] == 1}
        await self.rt.run(serialized(graph), inputs)
        events = [e for e in _events(self.rt) if e["pid"] == 1 and e["args"]["query"] not in before]
        durations = {(e["args"]["scope"], e["name"]): e["dur"] / 1e6 for e in events}
        query_id = events[-1]["args"]["query"]
        return critical_path(graph, durations, query_id)


# --- the schedule --------------------------------------------------------------------------------


@dataclass
class Options:
    workflows: Sequence[str] = WORKFLOWS
    concurrency: Sequence[int] = (1, 4, 16)
    queries: int = 16  # distinct queries at concurrency 1 (and the floor of the list at C > 1)
    rounds: int = 1  # repetitions of each variant's list at C > 1
    bound_queries: int = 8
    passages: int = W.SEED_PASSAGES  # documents per query of the seed workloads
    variants: Sequence[str] = VARIANTS
    progress: Callable[[str], None] = print
    # awaited before each (workflow, concurrency) block, e.g. to measure the engines between blocks
    before_block: Callable[[str, int], Awaitable[None]] | None = None


async def prepare(bench: Bench, opts: Options) -> None:
    """Fill the knowledge base and every query's collection, and warm every variant up once."""
    rt = bench.rt
    t = time.perf_counter()
    if "expanded_rag" in opts.workflows:
        await rt.ingest(W.knowledge_base(), W.KB_COLLECTION)
    for q in W.QUERIES:
        await rt.ingest(list(W.docs_for(q.module)), W.collection_for(q))
    for workflow in opts.workflows:
        for variant in opts.variants:
            await bench.call(variant, workflow, W.QUERIES[-1])
    opts.progress(f"prepared collections and warmed up in {time.perf_counter() - t:.1f}s")


async def measure(bench: Bench, opts: Options) -> dict[str, Any]:
    """Run the whole schedule; returns the results as plain data (see ``summarize``)."""
    bench.passages = opts.passages
    await prepare(bench, opts)
    queries = list(W.QUERIES[: opts.queries])
    bounds: dict[str, list[float]] = {}
    bound_paths: dict[str, list[str]] = {}
    for workflow in opts.workflows:
        bounds[workflow] = []
        for q in queries[: opts.bound_queries]:
            seconds, nodes = await bench.lower_bound(workflow, q)
            bounds[workflow].append(seconds)
            bound_paths.setdefault(workflow, nodes)
        opts.progress(f"{workflow}: bound p50 {statistics.median(bounds[workflow]):.2f}s")
        for c in opts.concurrency:
            if opts.before_block is not None:
                await opts.before_block(workflow, c)
            if c == 1:
                for i, q in enumerate(queries):
                    for variant in _rotate(opts.variants, i):
                        await bench.run(variant, workflow, [q], 1)
            else:
                n = max(2 * c, len(queries))
                work = [queries[i % len(queries)] for i in range(n)]
                for r in range(opts.rounds):
                    for variant in _rotate(opts.variants, r + c):
                        b = await bench.run(variant, workflow, work, c)
                        opts.progress(
                            f"{workflow} c={c} {variant}: {n / b.makespan:.2f} q/s, "
                            f"p50 {_pct(b.latencies, 50):.2f}s, errors {len(b.errors)}"
                        )
            if c == 1:
                line = ", ".join(
                    f"{v} p50 {_pct(_lat(bench, workflow, v, 1), 50):.2f}s" for v in opts.variants
                )
                opts.progress(f"{workflow} c=1: {line}")
    return summarize(bench, opts, bounds, bound_paths)


def _rotate(items: Sequence[str], k: int) -> list[str]:
    k %= len(items)
    return [*items[k:], *items[:k]]


def _lat(bench: Bench, workflow: str, variant: str, c: int) -> list[float]:
    return [
        t
        for b in bench.batches
        if (b.workflow, b.variant, b.concurrency) == (workflow, variant, c)
        for t in b.latencies
    ]


def _pct(xs: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank); nan for no data."""
    if not xs:
        return math.nan
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))]


def summarize(
    bench: Bench, opts: Options, bounds: dict[str, list[float]], bound_paths: dict[str, list[str]]
) -> dict[str, Any]:
    out: dict[str, Any] = {"workflows": {}, "engine_use": {}, "node_time": {}}
    for workflow in opts.workflows:
        rows: dict[str, Any] = {}
        for variant in opts.variants:
            row: dict[str, Any] = {}
            for c in opts.concurrency:
                bs = [
                    b
                    for b in bench.batches
                    if (b.workflow, b.variant, b.concurrency) == (workflow, variant, c)
                ]
                lat = [t for b in bs for t in b.latencies]
                done = sum(len(b.latencies) for b in bs)
                row[str(c)] = {
                    "p50": _pct(lat, 50),
                    "p95": _pct(lat, 95),
                    "qps": statistics.median(len(b.latencies) / b.makespan for b in bs) if bs else math.nan,
                    "queries": done,
                    "errors": [e for b in bs for e in b.errors],
                }
            rows[variant] = row
        answers = defaultdict(dict)
        for b in bench.batches:
            if b.workflow == workflow:
                for qid, a in b.answers.items():
                    answers[qid].setdefault(b.variant, a)
        agree = sum(len(set(v.values())) == 1 for v in answers.values() if len(v) == len(opts.variants))
        out["workflows"][workflow] = {
            "variants": rows,
            "bound": {"p50": statistics.median(bounds[workflow]), "per_query": bounds[workflow]},
            "bound_path": bound_paths.get(workflow, []),
            "answers_agree": f"{agree}/{len(answers)}",
            "sample_answers": {qid: v for qid, v in list(answers.items())[:3]},
        }
    for (workflow, variant, c), use in bench.engine_use.items():
        out["engine_use"][f"{workflow}/{variant}/c{c}"] = use
    for (workflow, variant), ops in bench.node_time.items():
        n = max(1, ops.pop("#queries", 1))
        out["node_time"][f"{workflow}/{variant}"] = {k: round(v / n, 4) for k, v in ops.most_common()}
    out["bound_vs_optimized"] = {
        workflow: _bound_ratio(bench, workflow, bounds[workflow], opts) for workflow in opts.workflows
    }
    return out


def _bound_ratio(bench: Bench, workflow: str, bounds: list[float], opts: Options) -> float:
    """Median over queries of (b)'s concurrency-1 latency over that query's bound."""
    by_query = {}
    for b in bench.batches:
        if (b.workflow, b.variant, b.concurrency) == (workflow, "optimized", 1):
            for qid, t in zip(b.query_ids, b.latencies, strict=True):
                by_query.setdefault(qid, t)
    ids = [q.id for q in W.QUERIES[: len(bounds)]]
    ratios = [by_query[i] / s for i, s in zip(ids, bounds, strict=True) if i in by_query and s > 0]
    return statistics.median(ratios) if ratios else math.nan


# --- report --------------------------------------------------------------------------------------


def table(results: dict[str, Any], concurrency: Sequence[int]) -> str:
    """The markdown table of latencies, throughputs, ratios and the bound."""
    cols = ["workflow", "variant"]
    for c in concurrency:
        cols += ["c=1 p50 (s)", "c=1 p95 (s)"] if c == 1 else [f"c={c} q/s", f"c={c} p50 (s)"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * 2 + "---:|" * (len(cols) - 2)]
    for workflow, r in results["workflows"].items():
        v = r["variants"]
        for variant in (x for x in VARIANTS if x in v):
            cells = [workflow, LABEL[variant]]
            for c in concurrency:
                m = v[variant][str(c)]
                first, second = (m["p50"], m["p95"]) if c == 1 else (m["qps"], m["p50"])
                failed = f" ({len(m['errors'])} failed)" if m["errors"] else ""
                cells += [f"{first:.2f}{failed}", f"{second:.2f}"]
            lines.append("| " + " | ".join(cells) + " |")
        for other, name in RATIOS:
            if other not in v or "optimized" not in v:
                continue
            cells = [workflow, f"{name}: latency x, throughput of (b) over it"]
            for c in concurrency:
                a, b = v[other][str(c)], v["optimized"][str(c)]
                if a["errors"] or b["errors"]:  # a ratio over a partial run would mislead
                    cells += ["n/a (failed queries)", "n/a"]
                elif c == 1:
                    cells += [f"{a['p50'] / b['p50']:.2f}x", f"{a['p95'] / b['p95']:.2f}x"]
                else:
                    cells += [f"{b['qps'] / a['qps']:.2f}x", f"{a['p50'] / b['p50']:.2f}x"]
            lines.append("| " + " | ".join(cells) + " |")
        bound = r["bound"]["p50"]
        ratio = results["bound_vs_optimized"][workflow]
        cells = [workflow, "(d) critical-path bound", f"{bound:.2f} s", f"(b)/(d) = {ratio:.2f}x (b at c=1)"]
        cells += [""] * (len(cols) - len(cells))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def failures(results: dict[str, Any]) -> dict[str, int]:
    """Failed queries per ``workflow/variant/c=C``, where there were any."""
    return {
        f"{w}/{variant}/c={c}": len(m["errors"])
        for w, r in results["workflows"].items()
        for variant, per_c in r["variants"].items()
        for c, m in per_c.items()
        if m["errors"]
    }


def plot(results: dict[str, Any], concurrency: Sequence[int], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    workflows = list(results["workflows"])
    fig, axes = plt.subplots(len(workflows), 2, figsize=(11, 4 * len(workflows)), squeeze=False)
    for row, workflow in enumerate(workflows):
        r = results["workflows"][workflow]
        lat_ax, qps_ax = axes[row]
        variants = [x for x in VARIANTS if x in r["variants"]]
        width = 0.8 / len(variants)
        for i, variant in enumerate(variants):
            m = r["variants"][variant]
            xs = [j + (i - (len(variants) - 1) / 2) * width for j in range(len(concurrency))]
            p50 = [m[str(c)]["p50"] for c in concurrency]
            p95 = [m[str(c)]["p95"] for c in concurrency]
            lat_ax.bar(xs, p50, width, label=LABEL[variant])
            lat_ax.errorbar(
                xs,
                p50,
                yerr=[[0] * len(p50), [b - a for a, b in zip(p50, p95, strict=True)]],
                fmt="none",
                ecolor="black",
                capsize=3,
            )
            qps_ax.plot(
                list(concurrency), [m[str(c)]["qps"] for c in concurrency], marker="o", label=LABEL[variant]
            )
        lat_ax.axhline(r["bound"]["p50"], color="grey", linestyle="--", label="(d) critical-path bound, c=1")
        lat_ax.set_xticks(range(len(concurrency)), [f"c={c}" for c in concurrency])
        lat_ax.set_ylabel("latency (s): p50, whisker to p95")
        lat_ax.set_title(f"{workflow}: latency")
        lat_ax.legend(fontsize=8)
        qps_ax.set_xscale("log", base=2)
        qps_ax.set_xticks(list(concurrency), [str(c) for c in concurrency])
        qps_ax.set_xlabel("concurrent clients")
        qps_ax.set_ylabel("queries / s")
        qps_ax.set_title(f"{workflow}: throughput")
        qps_ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def section(results: dict[str, Any], concurrency: Sequence[int], png: str = "e2e.png") -> str:
    """This benchmark's RESULTS.md section without its reading: command, machine, load, the table."""
    m = results["meta"]
    lines = [
        HEADING,
        "",
        f"Command: `.venv/bin/{m['command']}` ({m['date']}, {m['wall_s'] / 60:.1f} min). Machine: {m['machine']}; "
        f"engines: {m.get('engines', describe(EngineChoice()))}; "
        f"load average (1, 5, 15 min) {m['load_before']} before the run and {m['load_after']} after it.",
        "",
        table(results, concurrency),
        "",
        "Answers equal across the variants (batching on, so batch-variant kernels may differ): "
        + ", ".join(f"{w} {r['answers_agree']}" for w, r in results["workflows"].items())
        + ". Critical path of (d): "
        + "; ".join(f"{w}: {' -> '.join(r['bound_path'])}" for w, r in results["workflows"].items())
        + f". Plot: `bench/{png}`. Failed queries: "
        + (", ".join(f"{k} {n}" for k, n in failures(results).items()) or "none")
        + ".",
    ]
    return "\n".join(lines) + "\n"


# --- entry point ---------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workflows", nargs="+", choices=WORKFLOWS, default=list(WORKFLOWS))
    p.add_argument("--concurrency", nargs="+", type=int, default=[1, 4, 16])
    p.add_argument("--queries", type=int, default=16, help=f"distinct queries (at most {len(W.QUERIES)})")
    p.add_argument("--rounds", type=int, default=1, help="repetitions per variant at concurrency > 1")
    p.add_argument("--bound-queries", type=int, default=8, help="queries the lower bound is measured on")
    p.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    p.add_argument(
        "--passages", type=int, default=W.SEED_PASSAGES, help="documents per query of the seed workloads"
    )
    p.add_argument("--quick", action="store_true", help="4 queries, concurrency 1 and 4 (about 2-3 minutes)")
    p.add_argument("--llm", choices=LLMS, default="llama-cpp", help="the LLM backend (bench/e2e_engines.py)")
    p.add_argument(
        "--llm-model",
        type=Path,
        default=None,
        help="GGUF file or HF directory (default: shipped Gemma 3 270M)",
    )
    p.add_argument("--device", default="cpu", help="the embedder's torch device (cuda on a GPU)")
    p.add_argument("--gpu-memory-utilization", type=float, default=0.5, help="vLLM's share of the GPU")
    p.add_argument("--n-seq-max", type=int, default=64, help="llama.cpp sessions held at once")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="compute threads of llama.cpp and of torch each (1: on a shared 2-core machine llama.cpp "
        "with 2 threads was measured 3-7x slower under outside load, its threads spin-wait on each other)",
    )
    p.add_argument("--pg-dir", type=Path, default=Path("~/.cache/ayo-trace/e2e-pgdata").expanduser())
    p.add_argument("--json", type=Path, default=Path("/tmp/ayo-e2e.json"), help="raw results")
    p.add_argument("--trace", type=Path, default=None, help="save the Chrome trace of the whole run here")
    p.add_argument(
        "--write", action="store_true", help="write the table to bench/RESULTS.md and bench/e2e.png"
    )
    args = p.parse_args(argv)
    if args.quick:
        args.queries, args.concurrency, args.bound_queries = 4, [1, 4], 4
    args.queries = min(args.queries, len(W.QUERIES))
    return args


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    opts = Options(
        workflows=args.workflows,
        concurrency=args.concurrency,
        queries=args.queries,
        rounds=args.rounds,
        bound_queries=min(args.bound_queries, args.queries),
        passages=args.passages,
        variants=args.variants,
    )
    engines = await real_engines(args.pg_dir, engine_choice(args))
    async with ayo.Runtime(engines=engines, own_engines=True, timeline_size=2_000_000) as rt:
        bench = Bench(rt)
        results = await measure(bench, opts)
        results["stats"] = _jsonable(rt.stats())
        if args.trace:
            rt.timeline().save(args.trace)
    return results


def engine_choice(args: argparse.Namespace) -> EngineChoice:
    return EngineChoice(
        llm=args.llm,
        llm_model=args.llm_model,
        device=args.device,
        n_seq_max=args.n_seq_max,
        threads=args.threads,
        gpu_memory_utilization=args.gpu_memory_utilization,
    )


def _jsonable(x: Any) -> Any:
    return json.loads(json.dumps(x, default=str))


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = datetime.datetime.now()
    load_before = load_average()
    t0 = time.perf_counter()
    results = anyio.run(main_async, args)
    wall = time.perf_counter() - t0
    results["meta"] = {
        "command": "python bench/e2e.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "date": started.isoformat(timespec="minutes"),
        "machine": machine(),
        "engines": describe(engine_choice(args)),
        "load_before": load_before,
        "load_after": load_average(),
        "wall_s": wall,
    }
    args.json.write_text(json.dumps(results, indent=1, default=str))
    text = table(results, args.concurrency)
    print(text)
    failed = failures(results)
    if failed:
        print(f"WARNING: queries failed, their variants' figures cover only the rest: {failed}")
    print(
        f"load average before {load_before}, after {load_average()}; {wall:.0f}s; raw results in {args.json}"
    )
    if args.write:
        heading, png = outputs(args.llm)
        plot(results, args.concurrency, HERE / png)
        write_section(heading, section(results, args.concurrency, png).split("\n", 1)[1])
        print(f"wrote {HERE / png} and the table into {HERE / 'RESULTS.md'}")


def outputs(llm: str) -> tuple[str, str]:
    """The RESULTS.md heading and plot file of a run on ``llm``: the default keeps the plain ones."""
    if llm == "llama-cpp":
        return HEADING, "e2e.png"
    return f"## End to end on {llm} (bench/e2e.py --llm {llm})", f"e2e-{llm}.png"


if __name__ == "__main__":
    main()
