"""Cross-query prefix sharing: a RAG workflow whose prompt opens with a 400-token instruction block.

Every query searches a small knowledge base for its question and asks the LLM (llama.cpp, the shipped
Gemma 3 270M, 2 threads) to answer from the two best passages. The prompt starts with the same ~400
tokens of instructions and worked examples; the prefill-splitting pass sends them as a shared part,
which the engine computes once and forks for every later query (``share_prefixes=True``) or computes
again for every query (``share_prefixes=False``). Each arm runs on a fresh engine.

Retrieval runs on the scripted engines (bag-of-words embedder, in-memory store) so the figures measure
the LLM, which is what sharing changes; the real retrieval stack is measured in ``bench/retrieval.py``.

Per arm: median and p90 latency (query start to answer), median time to first token (query start to
the end of the prompt's last prefill part, from the runtime's timeline: the engines sample the first
token from the logits that prefill leaves), prompt tokens llama.cpp actually computed per query
(its ``prompt_tokens_computed`` counter over the queries), the prefix cache's hits and misses, and
whether the answers equal those of the arm without sharing.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/prefix.py [--queries 32] [--concurrency 1,8] [--no-write]

Prints a table and rewrites the section ``## Prefix sharing (bench/prefix.py)`` of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ayo_trace as ayo
from ayo_trace.backend import Runtime
from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine
from ayo_trace.corpus import stdlib_passages
from ayo_trace.testing import ScriptedEmbedder, ScriptedStore
from bench.report import machine, write_section
from bench.workflows import QUERIES

HEADING = "## Prefix sharing (bench/prefix.py)"
COLLECTION = "prefix_kb"
PASSAGE_WORDS = 40
ANSWER_TOKENS = 16

INSTRUCTIONS = """You are the documentation assistant of a Python team. You answer questions about the
Python standard library for engineers who are writing code and want a short, correct answer.
Follow these rules for every answer.

1. Read the documentation passages under "Context" first. They were retrieved for this question and
   usually contain the answer. Prefer them to what you remember.
2. Answer in one line. Name the module and the function, class or method to use, with the arguments
   that matter, written the way they appear in code, for example shutil.copytree(src, dst).
3. Do not explain how the function works, do not add warnings or alternatives, and do not repeat
   the question.
4. If the passages do not answer the question, answer from your own knowledge of the standard
   library, still in one line. Never invent a module, a function or an argument.

Here are three examples of questions and good answers.

Context:
string.capwords: Split the argument into words using str.split, capitalize each word using
str.capitalize, and join the capitalized words using str.join.
Question: How do I capitalize every word in a string?
Answer: Use string.capwords(s).

Context:
os.makedirs: Recursive directory creation function. Like mkdir, but makes all intermediate-level
directories needed to contain the leaf directory.
Question: How do I create a directory and all its parents?
Answer: Use os.makedirs(path, exist_ok=True).

Context:
itertools.chain: Make an iterator that returns elements from the first iterable until it is
exhausted, then proceeds to the next iterable.
Question: How do I loop over several lists one after another?
Answer: Use itertools.chain(a, b, c).

Now answer the next question in the same way.

"""


@ayo.workflow
async def answer(question: str) -> str:
    hits = await ayo.search(question, collection=COLLECTION, top_k=2)
    context = "\n".join(h.text for h in hits)
    prompt = f"{INSTRUCTIONS}Context:\n{context}\nQuestion: {question}\nAnswer:"
    return await ayo.llm(prompt, max_tokens=ANSWER_TOKENS, stop="\n")


def knowledge_base() -> list[str]:
    modules = sorted({q.module for q in QUERIES})
    out = []
    for p in stdlib_passages(modules=modules):
        words = p.text.split()
        out.append(f"{p.title}: " + " ".join(words[:PASSAGE_WORDS]))
    return out


def questions(n: int) -> list[str]:
    return [QUERIES[i % len(QUERIES)].question for i in range(n)]


def ttft_by_query(rt: Runtime) -> list[float]:
    """Query start to the end of its last prefill part, per query, from the runtime's timeline."""
    spans: dict[str, list[float]] = {}
    prefill_end: dict[str, float] = {}
    for e in rt.timeline().events:
        if e.get("pid") != 1 or e.get("ph") != "X":
            continue
        q = e["args"]["query"]
        start, end = e["ts"], e["ts"] + e["dur"]
        spans.setdefault(q, []).append(start)
        if e["cat"] == "llm_prefill":
            prefill_end[q] = max(prefill_end.get(q, 0.0), end)
    return [(prefill_end[q] - min(spans[q])) / 1e6 for q in prefill_end]


async def run_arm(share: bool, concurrency: int, qs: list[str], kb: list[str]) -> dict[str, Any]:
    llm = LlamaCppEngine("llm", n_ctx=1024, n_seq_max=16, threads=2)
    engines = [llm, ScriptedEmbedder("embed"), ScriptedStore("store")]
    async with Runtime(engines=engines, own_engines=True, progress=False, share_prefixes=share) as rt:
        await rt.ingest(kb, collection=COLLECTION)
        await rt.llm("Warm-up: the capital of France is", ayo.SamplingParams(max_tokens=2))
        before = llm.stats()
        answers: list[str] = [""] * len(qs)
        latencies: list[float] = [0.0] * len(qs)
        limiter = anyio.CapacityLimiter(concurrency)

        async def one(i: int) -> None:
            async with limiter:
                t0 = time.perf_counter()
                answers[i] = await answer(qs[i])
                latencies[i] = time.perf_counter() - t0

        t_start = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for i in range(len(qs)):
                tg.start_soon(one, i)
        wall = time.perf_counter() - t_start
        after = llm.stats()
        ttft = ttft_by_query(rt)
        block_tokens = llm.count_tokens(INSTRUCTIONS) + 1
    n = len(qs)
    latencies.sort()
    return {
        "share": share,
        "concurrency": concurrency,
        "p50_s": statistics.median(latencies),
        "p90_s": latencies[min(n - 1, int(0.9 * n))],
        "ttft_p50_s": statistics.median(ttft),
        "computed_per_query": (after["prompt_tokens_computed"] - before["prompt_tokens_computed"]) / n,
        "prompt_tokens": block_tokens,
        "hits": after["prefix_hits"] - before["prefix_hits"],
        "misses": after["prefix_misses"] - before["prefix_misses"],
        "wall_s": wall,
        "answers": answers,
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| concurrency | sharing | p50 latency (s) | p90 latency (s) | p50 TTFT (s) | "
        "prompt tokens computed / query | prefix hits / misses | throughput (q/s) | same answers |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base = {r["concurrency"]: r for r in rows if not r["share"]}
    for r in rows:
        ref = base.get(r["concurrency"])
        same = "" if ref is None else sum(a == b for a, b in zip(r["answers"], ref["answers"], strict=True))
        n = len(r["answers"])
        lines.append(
            f"| {r['concurrency']} | {'on' if r['share'] else 'off'} | {r['p50_s']:.2f} | {r['p90_s']:.2f} | "
            f"{r['ttft_p50_s']:.2f} | {r['computed_per_query']:.0f} | {r['hits']} / {r['misses']} | "
            f"{n / r['wall_s']:.2f} | {same}/{n} |"
        )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=32)
    parser.add_argument("--concurrency", default="1,8")
    parser.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    args = parser.parse_args()
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    kb, qs = knowledge_base(), questions(args.queries)
    rows = []
    t0 = time.perf_counter()
    for c in (int(x) for x in args.concurrency.split(",")):
        for share in (False, True):
            row = await run_arm(share, c, qs, kb)
            rows.append(row)
            print({k: v for k, v in row.items() if k != "answers"}, flush=True)
    load_after = " ".join(f"{x:.1f}" for x in os.getloadavg())
    report = table(rows)
    print(report)
    print("sample answers:", rows[-1]["answers"][:4])
    if not args.no_write:
        command = "HF_HUB_OFFLINE=1 .venv/bin/python bench/prefix.py " + " ".join(sys.argv[1:])
        write_section(
            HEADING,
            f"Command: `{command.strip()}`  \nDate: {datetime.date.today().isoformat()}  \n"
            f"Machine: {machine()}; llama.cpp with 2 threads, 16 sequence slots; {args.queries} queries "
            f"per arm, each arm on a fresh engine; instruction block of {rows[0]['prompt_tokens']} tokens "
            f"(with BOS); {time.perf_counter() - t0:.0f} s in all; load average (1, 5, 15 min) "
            f"{load_before} before and {load_after} after.\n\n{report}\n",
        )


if __name__ == "__main__":
    anyio.run(main)
