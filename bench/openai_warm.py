"""What split prefill buys through an OpenAI-compatible server: time to first token, cold and warmed.

A query's prompt is a long constant prefix (instructions and few-shot examples, ``--shots`` of them)
followed by a late part (a question that arrives later, as a retrieval result would). ``cold`` sends
nothing until the late part arrives, then streams the whole prompt (prefix and question); ``warm``
prefills the constant prefix ahead (``PrefillRequest(ahead=True)``: ``OpenAILLM`` sends it with
``max_tokens=1``, which puts it in the server's prefix cache) and then does the same. Time to first
token is measured from the late part's arrival to the first non-empty decode chunk.

What keeps ``cold`` cold: every measurement's prefix opens with a tag of its own (``Quiz <hex>.``),
so no server cache, of one prompt per slot (llama.cpp) or of many (vLLM's, SGLang's), can hold any
of it beyond the first token unless this measurement warmed it; and before every measurement an
unrelated request runs, as other traffic would. (Until 2026-12-02 the cold variant sent the question
alone, without the prefix: it measured a 15-token prompt and found no gain in warming.) A cold
time that grows with ``--shots`` while the warm one stays flat is the sign that it measures
prefill. Variants alternate query by query.

By default the script starts llama-cpp-python's server on the shipped Gemma 3 270M GGUF
(``llama_server.running``, ``--threads`` compute threads); ``--base-url`` (and ``--model``) measure
any other server instead (``vllm serve ...``).

    .venv/bin/python bench/openai_warm.py [--queries 8] [--shots 12] [--threads 2] [--base-url URL]
    .venv/bin/python bench/openai_warm.py --smoke    # 2 queries, 2 shots, 1 thread: that it runs

The report: time to first token without warming (``cold``) and with the prefix warmed ahead
(``warm``), median, min and max over the queries, and the ratio of the medians. ``--smoke`` checks
that the script runs end to end (seconds); its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ayo_trace.backend.engines.base import DecodeRequest, PrefillRequest
from ayo_trace.backend.engines.llama_server import running
from ayo_trace.backend.engines.openai_llm import OpenAILLM
from ayo_trace.ir.params import SamplingParams

FACTS = [
    ("France", "Paris"),
    ("Italy", "Rome"),
    ("Spain", "Madrid"),
    ("Germany", "Berlin"),
    ("Japan", "Tokyo"),
    ("Egypt", "Cairo"),
    ("Canada", "Ottawa"),
    ("Peru", "Lima"),
    ("Kenya", "Nairobi"),
    ("Norway", "Oslo"),
    ("Chile", "Santiago"),
    ("Greece", "Athens"),
]
QUESTIONS = ["Portugal", "Austria", "Poland", "Ireland", "Sweden", "Cuba", "India", "China"]


def prefix(shots: int, tag: str = "") -> str:
    """The constant prefix: instructions and ``shots`` examples, opened by ``tag`` (a measurement's
    own, so no cache holds it)."""
    lines = [f"Quiz {tag}. You answer questions about capitals with the name of the city only."]
    for country, city in (FACTS * (shots // len(FACTS) + 1))[:shots]:
        lines.append(f"Question: What is the capital of {country}?\nAnswer: {city}")
    return "\n".join(lines) + "\n"


async def ttft(engine: OpenAILLM, head: str, tail: str, warm: bool) -> float:
    """Seconds from the late part's arrival to the first text of ``head + tail``; ``warm``: the
    head was prefilled ahead (a one-token request), else nothing was sent before the late part."""
    session = f"q-{uuid.uuid4().hex[:8]}"
    params = SamplingParams(max_tokens=4, stop=("\n",))
    try:
        await engine.prefill([PrefillRequest("other", f"Unrelated traffic {uuid.uuid4().hex}", ahead=True)])
        await engine.release(["other"])
        if warm:
            await engine.prefill([PrefillRequest(session, head, ahead=True)])
        start = time.perf_counter()  # the late part arrives
        # cold: the whole prompt goes with the first decode; warm: the head is held already
        await engine.prefill([PrefillRequest(session, tail if warm else head + tail)])
        while True:
            (chunk,) = await engine.decode([DecodeRequest(session, params)], 1)
            if chunk.text or chunk.done:
                return time.perf_counter() - start
    finally:
        await engine.release([session])


SMOKE = {"queries": 2, "shots": 2, "threads": 1}


async def measure(url: str, model: str | None, queries: int, shots: int) -> dict[str, list[float]]:
    async with OpenAILLM(
        base_url=url, model=model, timeout_s=300, extra_body={"repeat_penalty": 1.0}
    ) as engine:
        return await measure_on(engine, queries, shots)


async def measure_on(engine: Any, queries: int, shots: int) -> dict[str, list[float]]:
    """``queries`` queries on ``engine`` (an ``OpenAILLM``), each measured cold and warm."""
    times: dict[str, list[float]] = {"cold": [], "warm": []}
    warmup = prefix(shots, uuid.uuid4().hex[:8])
    await ttft(engine, warmup, "Question: What is the capital of Chad?\nAnswer:", True)  # load pages in
    for i in range(queries):
        tail = f"Question: What is the capital of {QUESTIONS[i % len(QUESTIONS)]}?\nAnswer:"
        for variant in ("cold", "warm") if i % 2 == 0 else ("warm", "cold"):
            head = prefix(shots, uuid.uuid4().hex[:8])  # this measurement's own: cached nowhere
            times[variant].append(await ttft(engine, head, tail, variant == "warm"))
    tokens = engine.count_tokens(warmup)
    print(f"constant prefix: {len(warmup)} characters (about {tokens} tokens, estimated), {queries} queries")
    return times


VARIANTS = {"cold": "cold (no warming)", "warm": "warm (prefix prefilled ahead)"}


def report(times: dict[str, list[float]]) -> str:
    """The table of time to first token, without and with warming, and the ratio of the medians."""
    lines = ["| time to first token | median (ms) | min | max |", "|---|---|---|---|"]
    for variant, label in VARIANTS.items():
        ms = [v * 1000 for v in times[variant]]
        lines.append(f"| {label} | {statistics.median(ms):.0f} | {min(ms):.0f} | {max(ms):.0f} |")
    cold, warm = statistics.median(times["cold"]), statistics.median(times["warm"])
    lines.append(f"median TTFT cold / warm: {cold / warm:.2f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", type=int, default=8)
    ap.add_argument("--shots", type=int, default=12)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--base-url", default=None, help="an OpenAI-compatible server (default: start llama.cpp's)"
    )
    ap.add_argument("--model", default=None)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, to check that it runs")
    args = ap.parse_args(argv)
    if args.smoke:
        vars(args).update(SMOKE)
    server = nullcontext(args.base_url) if args.base_url else running("--n_ctx", "2048", threads=args.threads)
    with server as url:
        times = anyio.run(measure, url, args.model, args.queries, args.shots)
    print(report(times))


if __name__ == "__main__":
    main()
