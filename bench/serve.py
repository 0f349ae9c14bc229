"""Load test of ``ayo serve``: concurrent HTTP clients against one server, next to the same queries
sent to the workflow in-process.

For each concurrency level, ``--queries`` queries of the naive RAG example (``examples/naive_rag.py``:
the query's documents, the shutil module's docstrings, are ingested, searched, reranked, answered)
are sent by that many clients at once, each client sending its next query when the last one ends.
Every query is streamed (``POST /workflows/naive_rag/stream``, server-sent events; in-process,
``wf.stream``), so each records its time to first token (the first ``token`` event) and its latency
(the ``result`` event). Reported per level and side: throughput (queries/s over the level's wall
time), p50/p95 latency, p50/p95 time to first token, failures, and what the runtime did in that
level, read from ``GET /metrics`` before and after it (in-process: the same Prometheus text from
``rt.stats()``): per engine the mean and largest batch size, and the prompt-prefix hits and misses
of the LLM engines (sessions that reused a kept constant prefix). The HTTP side runs first on a
server process started by the script (``ayo serve``, on a free localhost port, stopped at the end);
the in-process side then runs on a runtime of its own on the same engine config. Every answer is a
non-empty string whose streamed text equals it.

Flags:
  --concurrency 1 4 16 64   the concurrency levels (HTTP clients, or in-process tasks, at once)
  --queries N               queries per level (default 64)
  --engines real|scripted   the real CPU engines (llama.cpp on the shipped Gemma GGUF, MiniLM,
                            embedded pgvector in a temporary data directory, likelihood rerank;
                            default), or the test suite's scripted engines (a smoke run of this
                            script: tests/fixtures/serve_engines.toml)
  --max-active N            the server's and in-process runtime's max_active (default 16)
  --no-inprocess            only the HTTP side
  --out PATH                also write the results as JSON
  --docs N                  only the first N of the query's documents (default: all of them)

    .venv/bin/python bench/serve.py                                   # the full run (long: idle machine)
    .venv/bin/python bench/serve.py --engines scripted --queries 2 --concurrency 1 2   # smoke
    .venv/bin/python bench/serve.py --queries 4 --concurrency 1 4 --docs 8 --no-inprocess   # real, short
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
from httpx_sse import aconnect_sse
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ayo_trace.serve.apps import load_workflow  # noqa: E402

WORKFLOW = f"{ROOT / 'examples' / 'naive_rag.py'}:naive_rag"
SCRIPTED = ROOT / "tests" / "fixtures" / "serve_engines.toml"
# served next to WORKFLOW on the scripted engines: importing it registers the "scripted" backend
SCRIPTED_APP = f"{ROOT / 'tests' / 'fixtures' / 'serve_app.py'}:answer"
QUESTIONS = [
    "How do I copy a whole directory tree?",
    "How do I copy a file's permission bits?",
    "How do I move a file?",
    "How do I remove a directory and everything in it?",
    "How do I find an executable on the PATH?",
    "How do I make a zip archive of a folder?",
    "How much disk space is free?",
    "How do I change the owner of a file?",
]

REAL_CONFIG = """
[[engine]]
name = "llm"
kind = "llm"
backend = "llama_cpp"
threads = 2
options = {{ n_ctx = 2048, n_seq_max = 16 }}

[[engine]]
name = "embed"
kind = "embedding"
backend = "sentence_transformers"
threads = 2

[[engine]]
name = "store"
kind = "vector_store"
backend = "pgvector"
options = {{ data_dir = "{pgdata}" }}

[[engine]]
name = "rerank"
kind = "rerank"
backend = "likelihood"
options = {{ llm = "llm" }}
"""


def inputs(i: int, docs: list[str]) -> dict[str, Any]:
    return {"question": QUESTIONS[i % len(QUESTIONS)], "docs": docs}


@contextlib.contextmanager
def engine_config(kind: str) -> Iterator[Path]:
    if kind == "scripted":
        yield SCRIPTED
        return
    root = Path(tempfile.mkdtemp(prefix="ayo-bench-serve-"))
    try:
        (root / "engines.toml").write_text(REAL_CONFIG.format(pgdata=root / "pgdata"))
        yield root / "engines.toml"
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def server(config: Path, max_active: int) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    apps = [WORKFLOW] + ([SCRIPTED_APP] if config == SCRIPTED else [])
    cmd = [sys.executable, "-m", "ayo_trace.serve.cli", "serve", *apps, "--port", str(port)]
    cmd += ["--config", str(config), "--max-active", str(max_active), "--log-level", "warning"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(3000):
            if proc.poll() is not None:
                raise SystemExit(f"the server exited with {proc.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            raise SystemExit("the server did not start")
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# One query: returns (time to first token or None, latency, answer, streamed text).
Query = Callable[[int], Awaitable[tuple[float | None, float, str, str]]]
# The runtime's metrics now, as Prometheus text (GET /metrics, or the same text in-process).
Metrics = Callable[[], Awaitable[str]]


def engine_counts(text: str) -> dict[str, dict[str, Any]]:
    """Per engine, from Prometheus text: ``sizes`` (batches run per batch size), ``prefix_hits``
    and ``prefix_misses`` (engines that report them)."""
    out: dict[str, dict[str, Any]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            engine = sample.labels.get("engine")
            if engine is None:
                continue
            e = out.setdefault(engine, {"sizes": Counter()})
            if sample.name == "ayo_engine_batch_size_batches_total":
                e["sizes"][int(sample.labels["size"])] += int(sample.value)
            elif sample.name in ("ayo_engine_prefix_hits_total", "ayo_engine_prefix_misses_total"):
                e[sample.name.removeprefix("ayo_engine_").removesuffix("_total")] = int(sample.value)
    return out


def engine_delta(before: str, after: str) -> dict[str, dict[str, Any]]:
    """What each engine did between two metrics texts: its batches' mean and largest size, and its
    prefix hits and misses (engines that ran no batch in between are left out)."""
    old, new = engine_counts(before), engine_counts(after)
    out: dict[str, dict[str, Any]] = {}
    for engine, e in new.items():
        was = old.get(engine, {"sizes": Counter()})
        sizes = e["sizes"] - was["sizes"]
        batches = sum(sizes.values())
        if not batches:
            continue
        row: dict[str, Any] = {
            "batches": batches,
            "mean_batch": sum(k * v for k, v in sizes.items()) / batches,
            "max_batch": max(sizes),
        }
        for key in ("prefix_hits", "prefix_misses"):
            if key in e:
                row[key] = e[key] - was.get(key, 0)
        out[engine] = row
    return out


async def run_level(query: Query, n: int, concurrency: int, metrics: Metrics) -> dict[str, Any]:
    latencies: list[float] = []
    ttfts: list[float] = []
    failures: list[str] = []
    next_i = iter(range(n))

    async def client() -> None:
        for i in next_i:
            try:
                ttft, latency, answer, text = await query(i)
            except Exception as exc:  # a failed query is counted, not fatal to the run
                failures.append(f"{type(exc).__name__}: {exc}")
                continue
            if not isinstance(answer, str) or not answer.strip() or text != answer:
                failures.append(f"query {i}: answer {answer!r}, streamed {text!r}")
                continue
            latencies.append(latency)
            if ttft is not None:
                ttfts.append(ttft)

    before = await metrics()
    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(concurrency):
            tg.start_soon(client)
    wall = time.perf_counter() - start
    engines = engine_delta(before, await metrics())
    return {
        "concurrency": concurrency,
        "queries": n,
        "wall_s": wall,
        "throughput_qps": len(latencies) / wall if wall else 0.0,
        "latency_p50_s": _pct(latencies, 50),
        "latency_p95_s": _pct(latencies, 95),
        "ttft_p50_s": _pct(ttfts, 50),
        "ttft_p95_s": _pct(ttfts, 95),
        "failures": len(failures),
        "first_failures": failures[:3],
        "engines": engines,
    }


def _pct(values: list[float], p: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def http_query(client: httpx.AsyncClient, docs: list[str]) -> Query:
    async def query(i: int) -> tuple[float | None, float, str, str]:
        start = time.perf_counter()
        ttft = None
        parts: list[str] = []
        answer: Any = None
        async with aconnect_sse(
            client, "POST", "/workflows/naive_rag/stream", json={"args": inputs(i, docs)}
        ) as s:
            async for event in s.aiter_sse():
                data = json.loads(event.data)
                if event.event == "token":
                    ttft = ttft if ttft is not None else time.perf_counter() - start
                    parts.append(data["text"])
                elif event.event == "result":
                    answer = data["value"]
                elif event.event == "error":
                    raise RuntimeError(data["detail"])
        return ttft, time.perf_counter() - start, answer, "".join(parts)

    return query


def inprocess_query(wf: Any, docs: list[str]) -> Query:
    async def query(i: int) -> tuple[float | None, float, str, str]:
        start = time.perf_counter()
        ttft = None
        parts: list[str] = []
        answer: Any = None
        async for event in wf.stream(**inputs(i, docs)):
            if event.kind == "token":
                ttft = ttft if ttft is not None else time.perf_counter() - start
                parts.append(event.text)
            elif event.kind == "result":
                answer = event.value
        return ttft, time.perf_counter() - start, answer, "".join(parts)

    return query


def http_metrics(client: httpx.AsyncClient) -> Metrics:
    async def metrics() -> str:
        r = await client.get("/metrics")
        r.raise_for_status()
        return r.text

    return metrics


@contextlib.asynccontextmanager
async def inprocess_runtime(config: Path, max_active: int) -> AsyncIterator[Metrics]:
    from ayo_trace.backend import Runtime, load_config
    from ayo_trace.serve.metrics import engine_reports, metrics_text

    if config == SCRIPTED:
        import ayo_trace.testing  # noqa: F401  (registers the "scripted" backend)

    async with Runtime(engines=load_config(config), max_active=max_active, progress=False) as rt:

        async def metrics() -> str:
            return metrics_text(rt.stats(), engine_reports(rt.engines)).decode()

        yield metrics


async def bench(args: argparse.Namespace) -> list[dict[str, Any]]:
    from examples.naive_rag import INPUTS

    docs = list(INPUTS["docs"])[: args.docs]
    rows: list[dict[str, Any]] = []
    with engine_config(args.engines) as config:
        with server(config, args.max_active) as url:
            async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(600.0)) as client:
                await http_query(client, docs)(0)  # warm up: the first ingest, model caches
                for c in args.concurrency:
                    row = await run_level(http_query(client, docs), args.queries, c, http_metrics(client))
                    rows.append({"side": "http", **row})
                    print(_line(rows[-1]), flush=True)
        if not args.no_inprocess:
            _, wf = load_workflow(WORKFLOW)
            async with inprocess_runtime(config, args.max_active) as metrics:
                await inprocess_query(wf, docs)(0)
                for c in args.concurrency:
                    row = await run_level(inprocess_query(wf, docs), args.queries, c, metrics)
                    rows.append({"side": "in-process", **row})
                    print(_line(rows[-1]), flush=True)
    return rows


def _line(r: dict[str, Any]) -> str:
    def s(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"

    engines = " ".join(
        f"{name} batch {e['mean_batch']:.1f}/{e['max_batch']}"
        + (
            f" prefix {e['prefix_hits']}/{e['prefix_hits'] + e['prefix_misses']}"
            if "prefix_hits" in e
            else ""
        )
        for name, e in sorted(r["engines"].items())
    )
    return (
        f"{r['side']:>10} c={r['concurrency']:<3} n={r['queries']:<4} {r['throughput_qps']:.2f} q/s  "
        f"latency p50 {s(r['latency_p50_s'])} p95 {s(r['latency_p95_s'])}  "
        f"ttft p50 {s(r['ttft_p50_s'])} p95 {s(r['ttft_p95_s'])}  failures {r['failures']}  [{engines}]"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--queries", type=int, default=64)
    parser.add_argument("--engines", choices=["real", "scripted"], default="real")
    parser.add_argument("--max-active", type=int, default=16)
    parser.add_argument("--no-inprocess", action="store_true")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--docs", type=int)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = parse_args(argv)
    rows = anyio.run(bench, args)
    if args.out:
        args.out.write_text(json.dumps({"engines": args.engines, "rows": rows}, indent=2))
    if any(r["failures"] for r in rows):
        raise SystemExit("some queries failed: " + "; ".join(f for r in rows for f in r["first_failures"]))
    return rows


if __name__ == "__main__":
    main()
