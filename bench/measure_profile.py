"""Measure each real engine on this machine and write a simulation profile (``ayo.SimProfile`` JSON).

    .venv/bin/python bench/measure_profile.py [--out bench/profiles/this_machine.json] [--quick]
    .venv/bin/python bench/measure_profile.py --llm vllm --device cuda      # on a GPU machine

(Not ``bench/profile.py``: every script run from bench/ has that folder first on ``sys.path``, where
a ``profile.py`` shadows the standard library's ``profile`` module, which transformers imports
through ``cProfile``; ``bench/e2e.py`` then fails to load its embedder.)

The engines are ``bench/e2e.py``'s (``bench/e2e_engines.py``: the LLM, MiniLM, the embedded pgvector
store, the LLM-likelihood reranker), called directly (no scheduler), each measurement repeated and
its median kept:

* LLM prefill: prompts of several lengths, alone: ``fixed_s + per_token_s * tokens``, fitted by
  least squares; ``chars_per_token`` is the tokenizer's own ratio on those prompts;
* LLM decode: 1, 2, 4, 8 sessions decoding together: seconds per step at each batch size
  (``per_step_s``);
* LLM scoring (the likelihood reranker's work): batches of 1, 4 and 8 (passage, question) pairs
  with a short and a long question: ``fixed_s + per_token_s * tokens + per_output_token_s *
  question tokens`` (every question token needs the output layer over the whole vocabulary);
* embedding: batches of 1 to 32 passages, ``fixed_s + per_token_s * tokens``;
* vector store: inserts of 8 to 64 rows (``fixed_s + per_item_s * rows``) and searches of 1 to 4
  query vectors.

Placement: every engine runs on this machine's cores (device ``cpu``, capacity ``os.cpu_count()``),
each call using ``--threads`` cores (the e2e default is 1), so the simulator slows engines that run
at once as they slow each other here. Run it on an idle machine: figures taken under load describe
the load.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import ayo_trace as ayo
from ayo_trace.backend.engines.base import DecodeRequest, PrefillRequest, ScoreRequest
from bench import workflows as W
from bench.e2e_engines import LLMS, EngineChoice, real_engines
from bench.report import machine

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "profiles" / "this_machine.json"


async def timed(fn: Callable[[], Awaitable[Any]], repeat: int) -> float:
    """The median seconds of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def fit(rows: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """``(intercept, slope)`` of seconds over size by least squares, both clipped at 0."""
    x = np.array([r[0] for r in rows], dtype=float)
    y = np.array([r[1] for r in rows], dtype=float)
    if len(set(x)) < 2:
        return float(y.mean()), 0.0
    slope, intercept = np.polyfit(x, y, 1)
    if intercept < 0:  # no negative fixed cost: fit through the origin instead
        slope, intercept = float((x @ y) / (x @ x)), 0.0
    return max(float(intercept), 0.0), max(float(slope), 0.0)


def fit2(rows: Sequence[tuple[float, float, float]]) -> tuple[float, float, float]:
    """``(intercept, per x, per y)`` of seconds over two sizes by least squares, all clipped at 0
    (a negative term is dropped and the rest fitted again)."""
    x = np.array([[1.0, r[0], r[1]] for r in rows])
    y = np.array([r[2] for r in rows])
    keep = [0, 1, 2]
    while True:
        coef = np.linalg.lstsq(x[:, keep], y, rcond=None)[0]
        if (coef >= 0).all() or len(keep) == 1:
            break
        keep.pop(int(np.argmin(coef)))
    out = [0.0, 0.0, 0.0]
    for i, c in zip(keep, coef, strict=True):
        out[i] = max(float(c), 0.0)
    return out[0], out[1], out[2]


def passages(n: int) -> list[str]:
    docs = W.knowledge_base()
    return [docs[i % len(docs)] for i in range(n)]


async def measure_llm(llm: Any, quick: bool, repeat: int) -> tuple[dict[str, Any], float]:
    words = " ".join(passages(40)).split()
    lengths = (32, 128) if quick else (32, 128, 384)
    rows, ratios = [], []
    for n in lengths:
        text = " ".join(words[:n])
        tokens = llm.count_tokens(text)
        ratios.append(len(text) / max(1, tokens))

        async def prefill(text: str = text) -> None:
            await llm.prefill([PrefillRequest("profile", text)])
            await llm.release(["profile"])

        rows.append((tokens, await timed(prefill, repeat)))
    fixed, per_token = fit(rows)
    steps = []
    params = ayo.SamplingParams(max_tokens=64, stop=())
    for b in (1, 2) if quick else (1, 2, 4, 8):
        sessions = [f"profile{i}" for i in range(b)]
        await llm.prefill(
            [PrefillRequest(s, f"Question {i}: name a colour.\nAnswer:") for i, s in enumerate(sessions)]
        )
        per_step = []
        for _ in range(max(2, repeat)):
            t = time.perf_counter()
            chunks = await llm.decode([DecodeRequest(s, params) for s in sessions], 8)
            n = max((c.n_tokens for c in chunks), default=0)
            if n:
                per_step.append((time.perf_counter() - t) / n)
        await llm.release(sessions)
        if per_step:
            steps.append([b, statistics.median(per_step)])
    # A score computes the next-token distribution after every continuation token (the output
    # layer, over the whole vocabulary: 262k entries for Gemma 3), so continuation tokens cost more
    # than context tokens; short and long continuations separate the two.
    score_rows: list[tuple[int, int, float]] = []
    questions = (
        " How do I parse JSON?",
        " How do I read a JSON file, change one of its keys and write it back?",
    )
    for pairs in (1, 4) if quick else (1, 4, 8):
        for question in questions:
            reqs = [ScoreRequest(f"Passage: {p}\nQuestion:", question) for p in passages(pairs)]
            tokens = sum(llm.count_tokens(r.context + r.continuation) for r in reqs)
            outputs = sum(llm.count_tokens(r.continuation) for r in reqs)
            score_rows.append((tokens, outputs, await timed(lambda reqs=reqs: llm.score(reqs), repeat)))
    s_fixed, s_token, s_output = fit2(score_rows)
    ops = {
        "prefill": {"fixed_s": fixed, "per_token_s": per_token, "source": f"measured: {rows}"},
        "decode": {"per_step_s": steps, "source": "measured: seconds per step by sessions decoding together"},
        "score": {
            "fixed_s": s_fixed,
            "per_token_s": s_token,
            "per_output_token_s": s_output,
            "source": f"measured (tokens, continuation tokens, seconds): {score_rows}",
        },
    }
    return ops, statistics.fmean(ratios)


async def measure_embed(embed: Any, quick: bool, repeat: int, chars_per_token: float) -> dict[str, Any]:
    rows = []
    for n in (1, 8) if quick else (1, 8, 32):
        texts = passages(n)
        tokens = sum(len(t) for t in texts) / chars_per_token
        rows.append((tokens, await timed(lambda texts=texts: embed.embed(texts), repeat)))
    fixed, per_token = fit(rows)
    return {"embed": {"fixed_s": fixed, "per_token_s": per_token, "source": f"measured: {rows}"}}


async def measure_store(store: Any, embed: Any, quick: bool, repeat: int) -> dict[str, Any]:
    texts = passages(64)
    vectors = await embed.embed(texts)
    rows = []
    for n in (8, 32) if quick else (8, 32, 64):
        for r in range(repeat):
            collection = f"profile_{n}_{r}_{int(time.time())}"
            t = time.perf_counter()
            await store.insert(collection, texts[:n], vectors[:n])
            rows.append((n, time.perf_counter() - t))
            await store.drop(collection)
    i_fixed, i_row = fit(rows)
    collection = f"profile_search_{int(time.time())}"
    await store.insert(collection, texts, vectors)
    search_rows = []
    for k in (1, 4):
        search_rows.append((k, await timed(lambda k=k: store.search(collection, vectors[:k], 4), repeat)))
    await store.drop(collection)
    s_fixed, s_query = fit(search_rows)
    return {
        "insert": {"fixed_s": i_fixed, "per_item_s": i_row, "source": f"measured: {rows}"},
        "search": {"fixed_s": s_fixed, "per_item_s": s_query, "source": f"measured: {search_rows}"},
    }


async def measure(choice: EngineChoice, pg_dir: Path, quick: bool, repeat: int) -> ayo.SimProfile:
    llm, embed, store, _rerank = await real_engines(pg_dir, choice)
    for e in (llm, embed, store):
        await e.start()
    try:
        return await measure_engines(llm, embed, store, choice, quick, repeat)
    finally:
        for e in (store, embed, llm):
            await e.stop()


async def measure_engines(
    llm: Any, embed: Any, store: Any, choice: EngineChoice, quick: bool, repeat: int
) -> ayo.SimProfile:
    """The profile of engines already started (``choice`` says how they were made). Called directly,
    not through a runtime: a runtime that owns them must be idle meanwhile."""
    llm_ops, chars_per_token = await measure_llm(llm, quick, repeat)
    embed_ops = await measure_embed(embed, quick, repeat, chars_per_token)
    store_ops = await measure_store(store, embed, quick, repeat)
    cores = os.cpu_count() or 1
    threads = float(choice.threads)
    on_gpu = choice.device != "cpu"
    engines: dict[str, Any] = {
        "llm": {
            "kind": "llm",
            "ops": llm_ops,
            "device": "gpu0" if choice.llm == "vllm" else "cpu",
            "demand": 1.0 if choice.llm == "vllm" else threads,
            "chars_per_token": chars_per_token,
            "max_sessions": choice.n_seq_max,
            "batch": {"max_batch": 16, "max_wait_s": 0.002},
            "source": f"{choice.llm} ({choice.llm_model or 'shipped Gemma 3 270M'})",
        },
        "embed": {
            "kind": "embedding",
            "ops": embed_ops,
            "device": "gpu0" if on_gpu else "cpu",
            "demand": 1.0 if on_gpu else threads,
            "chars_per_token": chars_per_token,
            "batch": {"max_batch": 16, "max_wait_s": 0.002},
            "source": "sentence-transformers all-MiniLM-L6-v2",
        },
        "store": {
            "kind": "vector_store",
            "ops": store_ops,
            "device": "cpu",
            "demand": 1.0,
            "batch": {"max_batch": 16, "max_wait_s": 0.002},
            "source": "embedded PostgreSQL + pgvector",
        },
        "rerank": {"kind": "rerank", "backend": "likelihood", "llm": "llm", "source": "the LLM's likelihood"},
    }
    return ayo.SimProfile(
        engines=engines,
        devices={"cpu": float(cores), "gpu0": 1.0},
        name=f"this machine ({machine()})",
        source=f"measured by bench/measure_profile.py on {datetime.date.today().isoformat()}"
        + (" (--quick: few sizes, one repetition)" if quick else ""),
    )


def mean_profile(profiles: Sequence[ayo.SimProfile], source: str) -> ayo.SimProfile:
    """The field-by-field mean of profiles measured alike (the same engines, operations and decode
    batch sizes), for a stretch of time that they bracket; ``source`` says which."""
    if not profiles:
        raise ValueError("no profiles to average")
    dicts = [p.to_dict() for p in profiles]
    out = dicts[0]
    for name, engine in out["engines"].items():
        for op, cost in engine["ops"].items():
            costs = [d["engines"][name]["ops"][op] for d in dicts]
            for key in ("fixed_s", "per_item_s", "per_token_s", "per_output_token_s"):
                values = [c.get(key, 0.0) for c in costs]  # a zero is left out of the JSON
                if any(values):
                    cost[key] = statistics.fmean(values)
            if cost.get("per_step_s"):
                by_batch = [dict((int(b), s) for b, s in c["per_step_s"]) for c in costs]
                batches = sorted(set.intersection(*(set(b) for b in by_batch)))
                cost["per_step_s"] = [[b, statistics.fmean(m[b] for m in by_batch)] for b in batches]
            cost["source"] = f"the mean of {len(costs)} measurements ({source})"
    out["source"] = source
    return ayo.SimProfile.from_dict(out)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--quick", action="store_true", help="few sizes, one repetition (a smoke run)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--llm", choices=LLMS, default="llama-cpp")
    p.add_argument("--llm-model", type=Path, default=None)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--n-seq-max", type=int, default=64)
    p.add_argument("--pg-dir", type=Path, default=Path("~/.cache/ayo-trace/e2e-pgdata").expanduser())
    return p.parse_args(argv)


def choice_of(args: argparse.Namespace) -> EngineChoice:
    return EngineChoice(
        llm=args.llm,
        llm_model=args.llm_model,
        device=args.device,
        threads=args.threads,
        n_seq_max=args.n_seq_max,
    )


def main(argv: Sequence[str] | None = None) -> ayo.SimProfile:
    args = parse_args(argv)
    profile = asyncio.run(measure(choice_of(args), args.pg_dir, args.quick, 1 if args.quick else args.repeat))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    profile.save(args.out)
    print(f"wrote {args.out}")
    return profile


if __name__ == "__main__":
    main()
