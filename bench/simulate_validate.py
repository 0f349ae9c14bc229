"""``bench/simulate.py --validate``: does the simulator predict this machine? (issue 20: within 15%.)

End to end, on an idle machine:

1. profile: ``bench/measure_profile.py`` measures every real engine here (or ``--profile FILE`` reuses one);
2. real run: ``bench/e2e.py``'s schedule (its workflows, concurrency 1, 4 and 16, the variants
   asked: eager, unoptimized, optimized) on the real engines, keeping every answer; the LLM's
   query-writing completions are recorded too (one eager call per question);
3. simulation: the same schedule (the same queries, clients and list lengths) on the profile, the
   simulated LLM saying as many tokens as the real one said for each question (``Script``), the
   knowledge base and every query's collection ingested first, as ``bench/e2e.py`` does;
4. the side-by-side table of p50 latency and throughput, real and simulated, with the error.

    .venv/bin/python bench/simulate.py --validate [--profile bench/profiles/this_machine.json]
        [--workflows naive_rag expanded_rag] [--concurrency 1 4 16] [--queries 16]

The hand-parallelized and LangChain variants are left out: they call ``asyncio.gather`` and
LangChain's asyncio executor, and the simulator runs on trio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ayo_trace as ayo
from ayo_trace.frontend.primitives import sampling_params
from bench import e2e
from bench import workflows as W
from bench.e2e_engines import EngineChoice, real_engines

VARIANTS = ("eager", "unoptimized", "optimized")


@dataclass
class Script:
    """What the real LLM said, by question: its answer and its query-writing completion. The
    simulated LLM says as many tokens, in words (a word is one simulated decode step)."""

    chars_per_token: float
    answers: dict[str, str] = field(default_factory=dict)
    rewrites: dict[str, str] = field(default_factory=dict)

    def _words(self, text: str) -> str:
        n = max(1, math.ceil(len(text) / self.chars_per_token)) if text.strip() else 0
        words = text.split()
        return " ".join((words + ["w"] * n)[:n])

    def __call__(self, prompt: str) -> str:
        question = prompt.rsplit("Question: ", 1)[-1].split("\n", 1)[0]
        if prompt.endswith("Queries:\n"):
            lines = [ln for ln in self.rewrites.get(question, "").split("\n") if ln.strip()]
            return "\n".join(self._words(ln) for ln in lines) + "\n\n"
        return " " + self._words(self.answers.get(question, "")) + "\n"


async def real_run(args: argparse.Namespace, opts: e2e.Options) -> tuple[dict[str, Any], Script]:
    choice = EngineChoice(threads=args.threads)
    engines = await real_engines(args.pg_dir, choice)
    async with ayo.Runtime(engines=engines, own_engines=True, timeline_size=200_000) as rt:
        bench = e2e.Bench(rt)
        results = await e2e.measure(bench, opts)
        script = Script(chars_per_token=1.0)
        for b in bench.batches:
            for qid, answer in b.answers.items():
                q = next(q for q in W.QUERIES if q.id == qid)
                script.answers.setdefault(q.question, answer)
        params = sampling_params(max_tokens=W.QUERY_TOKENS, stop="\n\n")
        for q in W.QUERIES[: opts.queries]:
            prompt = f"{W.EXPAND_HEAD}Question: {q.question}\nQueries:\n"
            script.rewrites[q.question] = str(await rt.llm(prompt, params))
    return results, script


def simulate_run(
    profile: ayo.SimProfile, script: Script, opts: e2e.Options
) -> dict[tuple[str, str, int], ayo.SimResult]:
    unopt, opt = W.make_workflows([]), W.make_workflows(None)
    queries = list(W.QUERIES[: opts.queries])

    async def setup(rt: ayo.Runtime) -> None:
        await rt.ingest(W.knowledge_base(), W.KB_COLLECTION)
        for q in W.QUERIES:
            await rt.ingest(list(W.docs_for(q.module)), W.collection_for(q))

    out = {}
    for name in opts.workflows:
        runners = {"eager": unopt[name].eager, "unoptimized": unopt[name], "optimized": opt[name]}
        for variant in opts.variants:
            for c in opts.concurrency:
                n = len(queries) if c == 1 else max(2 * c, len(queries))
                out[(name, variant, c)] = ayo.simulate(
                    runners[variant],
                    lambda i, name=name: W.inputs_for(name, queries[i % len(queries)]),
                    profile=profile,
                    concurrency=c,
                    queries=n,
                    respond=script,
                    setup=setup,
                )
    return out


def table(real: dict[str, Any], sim: dict[tuple[str, str, int], ayo.SimResult]) -> str:
    rows = [
        "| workflow | variant | c | real p50 (s) | simulated p50 (s) | error | real q/s | simulated q/s | error | simulated bottleneck |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for (name, variant, c), s in sim.items():
        r = real["workflows"][name]["variants"][variant][str(c)]
        e50 = s.p50 / r["p50"] - 1 if r["p50"] else math.nan
        eq = s.throughput_qps / r["qps"] - 1 if r["qps"] else math.nan
        rows.append(
            f"| {name} | {variant} | {c} | {r['p50']:.2f} | {s.p50:.2f} | {e50:+.0%} | {r['qps']:.2f} | "
            f"{s.throughput_qps:.2f} | {eq:+.0%} | {s.bottleneck} |"
        )
    return "\n".join(rows)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--profile", type=Path, default=None, help="a profile file (default: measure one now)")
    p.add_argument("--workflows", nargs="+", default=["naive_rag", "expanded_rag"], choices=e2e.WORKFLOWS)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    p.add_argument("--concurrency", nargs="+", type=int, default=[1, 4, 16])
    p.add_argument("--queries", type=int, default=16)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--pg-dir", type=Path, default=Path("~/.cache/ayo-trace/e2e-pgdata").expanduser())
    p.add_argument("--json", type=Path, default=Path("/tmp/ayo-validate.json"))
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.profile is None:
        from bench import measure_profile as measure

        out = Path(__file__).resolve().parent / "profiles" / "this_machine.json"
        profile = measure.main(
            ["--out", str(out), "--threads", str(args.threads), "--pg-dir", str(args.pg_dir)]
        )
    else:
        profile = ayo.SimProfile.load(args.profile)
    opts = e2e.Options(
        workflows=args.workflows,
        concurrency=args.concurrency,
        queries=min(args.queries, len(W.QUERIES)),
        bound_queries=1,
        variants=args.variants,
    )
    real, script = asyncio.run(real_run(args, opts))
    script.chars_per_token = profile.engines["llm"].chars_per_token
    sim = simulate_run(profile, script, opts)
    text = table(real, sim)
    print(text)
    args.json.write_text(
        json.dumps(
            {
                "table": text,
                "real": real,
                "simulated": {"/".join(map(str, k)): v.p50 for k, v in sim.items()},
            },
            indent=1,
            default=str,
        )
    )


if __name__ == "__main__":
    main()
