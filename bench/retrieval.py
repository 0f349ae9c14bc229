"""Retrieval engines, measured on this machine:

1. top-1 accuracy (and MRR) of the LLM-likelihood reranker (UPR on llama.cpp, Gemma 3 270M) on the
   hand-written set in ``bench/data/rerank_set.json``, beside the embedding-similarity order it starts
   from (all-MiniLM-L6-v2 cosine);
2. embedding throughput (passages/s) against the size of each ``embed`` call;
3. ingest throughput (rows/s) into pgvector, with and without an HNSW index maintained on insert;
4. search latency at 10k and 100k rows, exact (no index) and with HNSW, with HNSW recall@10.

Rows for (3) and (4) are synthetic 384-dimensional vectors (a mixture of 200 Gaussian clusters,
normalized), so the 100k case needs no embedding time. Prints a table and writes it into
``bench/RESULTS.md`` under ``## Retrieval engines (bench/retrieval.py)``.

    python bench/retrieval.py            # the full run (about 6-8 minutes on 2 cores)
    python bench/retrieval.py --quick    # 2k/5k rows and 10 rerank questions, to check the script
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import anyio
import numpy as np

from ayo_trace.backend.engines.base import RerankRequest
from ayo_trace.backend.engines.likelihood_rerank import LikelihoodReranker
from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine
from ayo_trace.backend.engines.pgvector_store import PgVectorStore
from ayo_trace.backend.engines.sentence_transformers import SentenceTransformerEmbedder
from bench.report import machine, write_section

HERE = Path(__file__).resolve().parent
HEADING = "## Retrieval engines (bench/retrieval.py)"
DIM = 384


# --- 1. reranking accuracy ---------------------------------------------------------------------------


def load_set(limit: int | None) -> list[tuple[str, list[str], int]]:
    """(question, passages, index of the relevant passage), passages shuffled with a fixed seed."""
    items = json.loads((HERE / "data" / "rerank_set.json").read_text())["items"][:limit]
    rng = random.Random(0)
    out = []
    for item in items:
        passages = [item["relevant"], *item["distractors"]]
        order = list(range(len(passages)))
        rng.shuffle(order)
        out.append((item["question"], [passages[i] for i in order], order.index(0)))
    return out


def rank_metrics(scores: Sequence[Sequence[float]], relevant: Sequence[int]) -> tuple[float, float]:
    top1, rr = 0, 0.0
    for s, r in zip(scores, relevant, strict=True):
        rank = 1 + sum(x > s[r] for x in s)
        top1 += rank == 1
        rr += 1 / rank
    return top1 / len(relevant), rr / len(relevant)


async def bench_rerank(embedder: SentenceTransformerEmbedder, limit: int | None) -> dict[str, Any]:
    items = load_set(limit)
    relevant = [r for _, _, r in items]
    emb_scores = []
    for question, passages, _ in items:
        q, *p = np.asarray(await embedder.embed([question, *passages]))
        emb_scores.append((np.asarray(p) @ q).tolist())
    async with LlamaCppEngine(n_ctx=1024, threads=2) as llm:
        reranker = LikelihoodReranker(llm)
        requests = [RerankRequest(question, tuple(passages)) for question, passages, _ in items]
        t = time.perf_counter()
        upr_scores = await reranker.score(requests)
        seconds = time.perf_counter() - t
    emb_top1, emb_mrr = rank_metrics(emb_scores, relevant)
    upr_top1, upr_mrr = rank_metrics(upr_scores, relevant)
    pairs = sum(len(p) for _, p, _ in items)
    return {
        "questions": len(items),
        "passages_per_question": len(items[0][1]),
        "embedding_top1": emb_top1,
        "embedding_mrr": emb_mrr,
        "upr_top1": upr_top1,
        "upr_mrr": upr_mrr,
        "upr_pairs_per_s": pairs / seconds,
        "upr_seconds": seconds,
        "upr_misses": [items[i][0] for i, s in enumerate(upr_scores) if int(np.argmax(s)) != relevant[i]],
        "embedding_misses": [
            items[i][0] for i, s in enumerate(emb_scores) if int(np.argmax(s)) != relevant[i]
        ],
    }


# --- 2. embedding throughput -------------------------------------------------------------------------


async def bench_embedding(passages: list[str], sizes: Sequence[int]) -> list[tuple[int, float]]:
    out = []
    async with SentenceTransformerEmbedder(batch_size=max(sizes), threads=2) as embedder:
        await embedder.embed(passages[:8])  # warm-up
        for size in sizes:
            t = time.perf_counter()
            for start in range(0, len(passages), size):
                await embedder.embed(passages[start : start + size])
            out.append((size, len(passages) / (time.perf_counter() - t)))
    return out


# --- 3 and 4. the vector store -----------------------------------------------------------------------


def synthetic(n: int, seed: int, centers: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = centers[rng.integers(len(centers), size=n)] + 0.6 * rng.normal(size=(n, DIM)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


async def timed_searches(
    store: PgVectorStore, collection: str, queries: np.ndarray
) -> tuple[float, list[list[int]]]:
    latencies, ids = [], []
    await store.search(collection, queries[:1], top_k=10)  # warm the cache
    for q in queries:
        t = time.perf_counter()
        [hits] = await store.search(collection, [q], top_k=10)
        latencies.append(time.perf_counter() - t)
        ids.append([h.id or 0 for h in hits])
    return statistics.median(latencies) * 1000, ids


async def bench_store(data_dir: Path, sizes: Sequence[int], n_queries: int) -> dict[str, Any]:
    centers = np.random.default_rng(1).normal(size=(200, DIM)).astype(np.float32)
    queries = synthetic(n_queries, 2, centers)
    out: dict[str, Any] = {"ingest": [], "search": []}
    # Ingest: the same 10k rows in 1k-row inserts, with the index maintained on insert and without.
    rows = synthetic(10_000, 3, centers)
    texts = [f"ingest row {i}" for i in range(len(rows))]
    for hnsw in (False, True):
        async with PgVectorStore(data_dir=data_dir, hnsw=hnsw) as store:
            name = f"ingest_{'hnsw' if hnsw else 'plain'}"
            await store.drop(name)
            t = time.perf_counter()
            for start in range(0, len(rows), 1000):
                await store.insert(name, texts[start : start + 1000], rows[start : start + 1000])
            out["ingest"].append(
                ("HNSW maintained" if hnsw else "no index", len(rows) / (time.perf_counter() - t))
            )
            await store.drop(name)
    async with PgVectorStore(data_dir=data_dir, hnsw=False) as store:
        for n in sizes:
            name = f"search_{n}"
            await store.drop(name)
            vectors = synthetic(n, 4, centers)
            t = time.perf_counter()
            for start in range(0, n, 10_000):
                await store.insert(
                    name,
                    [f"row {i}" for i in range(start, min(n, start + 10_000))],
                    vectors[start : start + 10_000],
                )
            bulk = n / (time.perf_counter() - t)
            exact_ms, exact_ids = await timed_searches(store, name, queries)
            t = time.perf_counter()
            await store.build_index(name)
            build_s = time.perf_counter() - t
            hnsw_ms, hnsw_ids = await timed_searches(store, name, queries)
            recall = statistics.mean(
                len(set(a) & set(b)) / 10 for a, b in zip(exact_ids, hnsw_ids, strict=True)
            )
            out["search"].append(
                {
                    "rows": n,
                    "bulk_rows_per_s": bulk,
                    "exact_ms": exact_ms,
                    "hnsw_ms": hnsw_ms,
                    "build_s": build_s,
                    "recall": recall,
                }
            )
            await store.drop(name)
    return out


# --- report ------------------------------------------------------------------------------------------


def report(
    args: argparse.Namespace,
    rerank: dict[str, Any],
    embedding: list[tuple[int, float]],
    store: dict[str, Any],
    load: tuple[float, float],
) -> str:
    r = rerank
    lines = [
        HEADING,
        "",
        f"`python bench/retrieval.py{' --quick' if args.quick else ''}` on {datetime.date.today().isoformat()}, "
        f"{machine()}, CPU only, shared with other work: load average {load[0]:.1f} at the start, "
        f"{load[1]:.1f} at the end (above 2, the throughput and latency figures are depressed by contention; "
        "the accuracy figures are deterministic).",
        "",
        f"**Reranking** ({r['questions']} hand-written questions x {r['passages_per_question']} passages, one relevant; "
        "`bench/data/rerank_set.json`):",
        "",
        "| order | top-1 accuracy | MRR |",
        "|---|---|---|",
        f"| embedding cosine (all-MiniLM-L6-v2) | {r['embedding_top1']:.1%} | {r['embedding_mrr']:.3f} |",
        f"| LLM likelihood, UPR (Gemma 3 270M Q4_K_M, llama.cpp) | {r['upr_top1']:.1%} | {r['upr_mrr']:.3f} |",
        "",
        f"UPR scored {r['upr_pairs_per_s']:.1f} (question, passage) pairs/s ({r['upr_seconds']:.1f} s for all).",
        f"UPR misses: {'; '.join(r['upr_misses']) or 'none'}.",
        f"Embedding misses: {'; '.join(r['embedding_misses']) or 'none'}.",
        "",
        "**Embedding** (all-MiniLM-L6-v2, 2 torch threads, the set's passages):",
        "",
        "| passages per embed() call | passages/s |",
        "|---|---|",
        *(f"| {size} | {rate:.0f} |" for size, rate in embedding),
        "",
        "**Ingest** (10k synthetic 384-d rows in 1k-row transactional inserts):",
        "",
        "| table | rows/s |",
        "|---|---|",
        *(f"| {label} | {rate:.0f} |" for label, rate in store["ingest"]),
        "",
        "**Search** (top-10, one query vector per call, median of the queries; recall@10 of HNSW against exact; "
        "HNSW m=16, ef_construction=64, ef_search=40):",
        "",
        "| rows | bulk ingest rows/s | exact (no index) ms | HNSW build s | HNSW ms | HNSW recall@10 |",
        "|---|---|---|---|---|---|",
        *(
            f"| {s['rows']:,} | {s['bulk_rows_per_s']:.0f} | {s['exact_ms']:.1f} | {s['build_s']:.1f} | "
            f"{s['hnsw_ms']:.2f} | {s['recall']:.3f} |"
            for s in store["search"]
        ),
        "",
    ]
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(2)
    limit = 10 if args.quick else None
    sizes = [2_000, 5_000] if args.quick else [10_000, 100_000]
    t0 = time.perf_counter()
    load_start = os.getloadavg()[0]
    async with SentenceTransformerEmbedder(threads=2) as embedder:
        rerank = await bench_rerank(embedder, limit)
    print(f"rerank done at {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    passages = [p for _, ps, _ in load_set(None) for p in ps][:128]
    embedding = await bench_embedding(passages, [1, 4, 16, 64, 128])
    print(f"embedding done at {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="ayo-bench-"))
    try:
        store = await bench_store(tmp / "pgdata", sizes, n_queries=20 if args.quick else 50)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"store done at {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    section = report(args, rerank, embedding, store, (load_start, os.getloadavg()[0]))
    print(section)
    if not args.no_write:
        write_section(HEADING, section.split("\n", 1)[1])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    anyio.run(main, parser.parse_args())
