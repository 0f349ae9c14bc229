"""vLLM on a GPU: prefill and decode tokens/s against batch size, and RAG time-to-first-token.

The same measurements as ``bench/llm.py`` makes on the CPU engines, through ``VLLMEngine``:

* prefill: B sessions with distinct prompts (~130-300 tokens, a unique first block each, so nothing
  comes from the prefix cache) prefilled in one ``prefill`` call; tokens computed / wall time.
* decode: the same B sessions advanced in one ``decode`` call of N steps (greedy, no stop strings);
  tokens generated / wall time. vLLM batches the B requests in its own scheduler.
* TTFT: a RAG prompt up to its first generated token, cold (one prefill of everything, then one
  token) and split (the context prefilled ahead, untimed, then only the question prefilled and one
  token decoded), which is what the prefill-splitting pass buys on vLLM's prefix cache.

Prints a markdown table (medians) for the ``## vLLM on GPU`` section of ``bench/RESULTS.md``. Built
for the tiny random-weight Llama of ``bench/make_tiny_llama.py``: with such a model the figures
measure the engine path (scheduling, kernels launches, detokenization, our adapter), not a real
model's arithmetic.

    AYO_VLLM_MODEL=DIR python bench/vllm_gpu.py [--repeats 5] [--decode-steps 128]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import anyio

# the repository root replaces bench/ on the path: bench/ray.py would shadow the ray vLLM probes for
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from ayo_trace.backend.engines.base import DecodeRequest, PrefillRequest  # noqa: E402
from ayo_trace.backend.engines.vllm_llm import VLLMEngine  # noqa: E402
from ayo_trace.ir.params import SamplingParams  # noqa: E402
from bench.llm import CONTEXT, QUESTION, prompt_for  # noqa: E402  (the prompts of the CPU table)

BATCHES = (1, 2, 4, 8, 16)


def fresh(text: str) -> str:
    """A prompt no earlier request shares a first block with (no prefix-cache hits)."""
    return f"[{uuid.uuid4().hex}] {text}"


async def bench(engine: VLLMEngine, repeats: int, steps: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for b in BATCHES:
        prefill, decode = [], []
        for _ in range(repeats + 1):  # the first round warms up and is dropped
            names = [uuid.uuid4().hex for _ in range(b)]
            prompts = [fresh(prompt_for(i)) for i in range(b)]
            t0 = time.perf_counter()
            results = await engine.prefill(
                [PrefillRequest(n, p) for n, p in zip(names, prompts, strict=True)]
            )
            t1 = time.perf_counter()
            params = SamplingParams(max_tokens=steps)
            chunks = await engine.decode([DecodeRequest(n, params) for n in names], steps)
            t2 = time.perf_counter()
            await engine.release(names)
            assert all(c.n_tokens == steps for c in chunks), chunks
            prefill.append(sum(r.n_tokens for r in results) / (t1 - t0))
            decode.append(b * steps / (t2 - t1))
        out[f"prefill_{b}"] = statistics.median(prefill[1:])
        out[f"decode_{b}"] = statistics.median(decode[1:])
    cold, split = [], []
    one = SamplingParams(max_tokens=1)
    for _ in range(repeats + 1):
        name, context = uuid.uuid4().hex, fresh(CONTEXT)
        t0 = time.perf_counter()
        await engine.prefill([PrefillRequest(name, context + QUESTION)])
        await engine.decode([DecodeRequest(name, one)], 1)
        cold.append(time.perf_counter() - t0)
        await engine.release([name])
        name, context = uuid.uuid4().hex, fresh(CONTEXT)
        await engine.prefill([PrefillRequest(name, context)])
        t0 = time.perf_counter()
        await engine.prefill([PrefillRequest(name, QUESTION)])
        await engine.decode([DecodeRequest(name, one)], 1)
        split.append(time.perf_counter() - t0)
        await engine.release([name])
    out["rag_prompt_tokens"] = engine.count_tokens(fresh(CONTEXT) + QUESTION) + 1
    out["ttft_cold_ms"] = 1000 * statistics.median(cold[1:])
    out["ttft_split_ms"] = 1000 * statistics.median(split[1:])
    return out


def table(r: dict[str, float], steps: int) -> str:
    head = "| metric | " + " | ".join(f"batch {b}" for b in BATCHES) + " |"
    lines = [head, "| --- |" + " --- |" * len(BATCHES)]
    lines.append("| prefill tokens/s | " + " | ".join(f"{r[f'prefill_{b}']:.0f}" for b in BATCHES) + " |")
    lines.append(
        f"| decode tokens/s ({steps} steps) | "
        + " | ".join(f"{r[f'decode_{b}']:.0f}" for b in BATCHES)
        + " |"
    )
    lines += [
        "",
        "| RAG prompt tokens | TTFT cold (ms) | TTFT with context prefilled ahead (ms) |",
        "| --- | --- | --- |",
        f"| {r['rag_prompt_tokens']:.0f} | {r['ttft_cold_ms']:.1f} | {r['ttft_split_ms']:.1f} |",
    ]
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--decode-steps", type=int, default=128)
    parser.add_argument("--enforce-eager", action="store_true", help="no torch.compile, no CUDA graphs")
    args = parser.parse_args()
    model = os.environ["AYO_VLLM_MODEL"]
    kwargs: dict[str, object] = {"enforce_eager": True} if args.enforce_eager else {}
    t0 = time.perf_counter()
    async with VLLMEngine(
        model=model, max_model_len=4096, gpu_memory_utilization=0.3, engine_kwargs=kwargs
    ) as e:
        print(f"engine start: {time.perf_counter() - t0:.1f} s", flush=True)
        r = await bench(e, args.repeats, args.decode_steps)
    print(table(r, args.decode_steps), flush=True)


if __name__ == "__main__":
    anyio.run(main)
