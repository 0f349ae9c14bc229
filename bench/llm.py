"""LLM engine throughput: prefill, score and decode tokens/s against batch size, and RAG time-to-first-token.

Runs every CPU engine (llama.cpp, transformers) on the shipped Gemma 3 270M GGUF with 2 threads,
prints a table of medians and rewrites the section ``## LLM engines (bench/llm.py)`` of
``bench/RESULTS.md`` (other sections are left as they are).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/llm.py [--repeats 3] [--engines llama,transformers]
        [--batches 1,2,4,8] [--no-write]

* prefill: B sessions with distinct ~130-token prompts prefilled in one ``prefill`` call, with the
  engine's ``batching`` on (the default: the sessions share model calls) and off (each alone, exact).
* score: B likelihood scores (a ~130-token passage, then a question) in one ``score`` call, with
  batching on and off, as the likelihood reranker sends them.
* decode: the same B sessions advanced in one ``decode`` call of N steps (greedy, no stop strings).
* TTFT: a RAG prompt (~300 tokens of context, then the question) up to its first generated token,
  cold (one prefill of everything) and split (the context prefilled ahead, untimed, then only the
  question timed), which is what the prefill-splitting pass buys.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ayo_trace.backend.engines.base import DecodeRequest, LLMEngine, PrefillRequest, ScoreRequest
from ayo_trace.ir.params import SamplingParams
from bench.report import machine, write_section

VLLM_NOTE = """vLLM (GPU) is measured by bench/vllm_gpu.py on the lent H100: see the section "vLLM on GPU"."""
BATCHES = (1, 2, 4, 8)
HEADING = "## LLM engines (bench/llm.py)"
TOPICS = ["rivers", "volcanoes", "bees", "glaciers", "deserts", "comets", "forests", "tides"]
CONTEXT = " ".join(
    f"Passage {i}: The {t} of the region were surveyed in {1900 + 7 * i}; the survey recorded their size, "
    f"their age and how they changed over the following decades, and it is still cited today."
    for i, t in enumerate(TOPICS)
)
QUESTION = "\nQuestion: In which year were the glaciers surveyed?\nAnswer:"


def prompt_for(i: int) -> str:
    return f"Notes on {TOPICS[i % len(TOPICS)]} ({i}). " + CONTEXT[: 600 + 13 * i]


async def timed(coro_fn) -> float:
    t0 = time.perf_counter()
    await coro_fn()
    return time.perf_counter() - t0


MODES = {"batching": True, "exact": False}  # the engine's batching option
SCORE_QUESTION = " In which year were the glaciers surveyed?"


async def bench_engine(
    engine: LLMEngine, repeats: int, decode_steps: int, batches: tuple[int, ...]
) -> dict[str, float]:
    out: dict[str, float] = {}
    for b in batches:
        pre: dict[str, list[float]] = {mode: [] for mode in MODES}
        score: dict[str, list[float]] = {mode: [] for mode in MODES}
        dec = []
        for _ in range(repeats):
            for mode, on in MODES.items():  # interleaved, so load drifts hit both modes alike
                engine.batching = on  # type: ignore[attr-defined]
                names = [f"b{b}-{uuid.uuid4().hex[:6]}" for _ in range(b)]
                reqs = [PrefillRequest(n, prompt_for(i)) for i, n in enumerate(names)]
                t0 = time.perf_counter()
                results = await engine.prefill(reqs)
                pre[mode].append(sum(r.n_tokens for r in results) / (time.perf_counter() - t0))
                scores = [ScoreRequest(prompt_for(i), SCORE_QUESTION) for i in range(b)]
                n_scored = sum(engine.count_tokens(r.context + r.continuation) + 1 for r in scores)
                t0 = time.perf_counter()
                await engine.score(scores)
                score[mode].append(n_scored / (time.perf_counter() - t0))
                if on:
                    params = SamplingParams(max_tokens=decode_steps)
                    t0 = time.perf_counter()
                    chunks = await engine.decode([DecodeRequest(n, params) for n in names], decode_steps)
                    dec.append(sum(c.n_tokens for c in chunks) / (time.perf_counter() - t0))
                await engine.release(names)
        engine.batching = True  # type: ignore[attr-defined]
        for mode in MODES:
            out[f"prefill_{mode}_b{b}"] = statistics.median(pre[mode])
            out[f"score_{mode}_b{b}"] = statistics.median(score[mode])
        out[f"decode_b{b}"] = statistics.median(dec)
    cold, split = [], []
    first = SamplingParams(max_tokens=1)
    for _ in range(repeats):
        name = f"cold-{uuid.uuid4().hex[:6]}"

        async def cold_run(name: str = name) -> None:
            await engine.prefill([PrefillRequest(name, CONTEXT + QUESTION)])
            await engine.decode([DecodeRequest(name, first)], 1)

        cold.append(await timed(cold_run))
        await engine.release([name])
        name = f"split-{uuid.uuid4().hex[:6]}"
        await engine.prefill([PrefillRequest(name, CONTEXT)])

        async def split_run(name: str = name) -> None:
            await engine.prefill([PrefillRequest(name, QUESTION)])
            await engine.decode([DecodeRequest(name, first)], 1)

        split.append(await timed(split_run))
        await engine.release([name])
    out["ttft_cold_ms"] = 1000 * statistics.median(cold)
    out["ttft_split_ms"] = 1000 * statistics.median(split)
    out["rag_prompt_tokens"] = engine.count_tokens(CONTEXT + QUESTION) + 1
    return out


def make_engine(kind: str) -> tuple[LLMEngine, int]:
    from ayo_trace.backend.engines.models import default_gguf_path

    if kind == "llama":
        from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine

        return LlamaCppEngine(n_ctx=1024, n_seq_max=8, threads=2), 32
    if kind == "transformers":
        from ayo_trace.backend.engines.transformers_llm import TransformersEngine

        return TransformersEngine(gguf_file=default_gguf_path(), threads=2, max_sessions=8), 8
    raise SystemExit(f"unknown engine {kind!r}")


def table(
    results: dict[str, dict[str, float]], decode_steps: dict[str, int], batches: tuple[int, ...]
) -> str:
    head = "| engine | metric | " + " | ".join(f"batch {b}" for b in batches) + " |"
    lines = [head, "|" + " --- |" * (len(batches) + 2)]
    metrics = [f"{kind}_{mode}" for kind in ("prefill", "score") for mode in MODES] + ["decode"]
    for kind, r in results.items():
        for metric in metrics:
            cells = " | ".join(f"{r[f'{metric}_b{b}']:.0f}" for b in batches)
            name, _, mode = metric.partition("_")
            label = f"{name} tokens/s" + (f" ({mode})" if mode else f" ({decode_steps[kind]} steps)")
            lines.append(f"| {kind} | {label} | {cells} |")
    lines += ["", "| engine | RAG prompt tokens | TTFT cold (ms) | TTFT with context prefilled ahead (ms) |"]
    lines.append("| --- | --- | --- | --- |")
    for kind, r in results.items():
        lines.append(
            f"| {kind} | {r['rag_prompt_tokens']:.0f} | {r['ttft_cold_ms']:.0f} | {r['ttft_split_ms']:.0f} |"
        )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engines", default="llama,transformers")
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)), help="batch sizes, e.g. 1,4")
    parser.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    args = parser.parse_args()
    batches = tuple(int(b) for b in args.batches.split(","))
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    results, steps = {}, {}
    for kind in args.engines.split(","):
        engine, steps[kind] = make_engine(kind)
        async with engine:
            results[kind] = await bench_engine(engine, args.repeats, steps[kind], batches)
        print(f"{kind}: {results[kind]}", flush=True)
    report = table(results, steps, batches)
    print(report)
    if not args.no_write:
        command = "HF_HUB_OFFLINE=1 .venv/bin/python bench/llm.py " + " ".join(sys.argv[1:])
        write_section(
            HEADING,
            f"Command: `{command.strip()}`  \nDate: {datetime.date.today().isoformat()}  \n"
            f"Machine: {machine()}; 2 threads per engine; medians of {args.repeats} runs; "
            f"load average before the run: {load}.\n\n{report}\n\n{VLLM_NOTE}\n",
        )


if __name__ == "__main__":
    anyio.run(main)
