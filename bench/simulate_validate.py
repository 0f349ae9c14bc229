"""``bench/simulate.py --validate``: does the simulator predict this machine? (issue 20: within 15%.)

End to end, on an idle machine:

1. profile: ``bench/measure_profile.py`` measures every real engine here (or ``--profile FILE`` reuses
   one; ``--quick-profile`` measures few sizes once, for a smoke run). This machine's speed drifts by
   up to a third over hours, so ``--interleave`` measures the run's own engines before each
   (workflow, concurrency) block of the real run and after the last, and simulates each block on the
   mean of the two profiles around it (about a minute per profile);
2. real run: ``bench/e2e.py``'s schedule (its workflows, concurrency 1, 4 and 16, the variants asked:
   eager, unoptimized, optimized) on the real engines, keeping every answer; the LLM's
   query-writing completions are recorded too (one call per question and workflow). The measured
   figures, what the LLM said and the profiles measured between blocks are saved at once
   (``--save-real``), so a later run can simulate them again without the real engines (``--real
   FILE``: on the saved profiles if it has them, else on ``--profile``, by default
   ``bench/profiles/this_machine.json``);
3. simulation: the same schedule on the profile: the same queries, clients and list lengths, the
   simulated LLM saying as many tokens as the real one said for each question of each workflow
   (``Script``), the knowledge base and the queries' collections ingested first and each variant
   run once before it is measured, as ``bench/e2e.py``'s ``prepare`` does;
4. the comparison (``compare``, ``table``, ``verdict``); with ``--calibrate block|variant``, also
   the comparison after each block's (or each variant's) profile is scaled per engine operation to
   the busy time the real engines spent there (``bench/simulate_calibrate.py``).

    .venv/bin/python bench/simulate.py --validate [--profile bench/profiles/this_machine.json]
        [--workflows naive_rag expanded_rag] [--concurrency 1 4 16] [--queries 16]
        [--real /tmp/ayo-validate-real.json] [--interleave] [--calibrate block|variant]
    .venv/bin/python bench/simulate.py --validate --scripted 20 --queries 4 --concurrency 1 4

``--scripted SCALE`` replaces the real engines by ``bench/e2e_engines.py``'s scripted ones (latencies
times SCALE) and the profile by theirs (``scripted_profile``): the costs are then known exactly, so
the comparison measures what the simulator leaves out (the runtime's own time, which grows with the
machine's load) on any machine, in a minute.

Reading the output: one row per workflow, variant and concurrency ``c`` (closed-loop clients).
``measured p50`` is the median latency of the real run, ``predicted p50`` the simulator's, and
``predicted / measured`` their ratio (above 1: the simulator is pessimistic); ``within 15%`` says
whether the ratio is in [0.85, 1.15], the issue's bar. The same for throughput (queries per second
over the batch's makespan). ``failed`` counts queries that raised, real / simulated: a row with
failures compares different work, and its verdict is ``failed``, never ``yes``. ``bottleneck``
is the simulated engine with the highest utilization. Below the table, ``verdict`` counts the rows
within 15% for each figure and names the worst row; the machine's load average before and after
the real run is printed too: figures measured under load describe the load, not the engines.

Where the real run and the simulation necessarily differ: the simulated LLM's answers have the real
answers' token counts (characters over the profile's ``chars_per_token``), not their words, and the
simulated retrieval (hashed bag-of-words vectors, word-overlap reranking) picks other passages, so
prompt lengths differ a little. The seed workloads index each query's own documents on first use:
in the real run the first variant to run a query pays that, while the simulation of each variant
starts with the documents indexed (the default workflows, ``naive_rag`` and ``expanded_rag``, use
collections both fill before measuring). The hand-parallelized and LangChain variants are left
out: they call ``asyncio.gather`` and LangChain's asyncio executor, and the simulator runs on trio.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ayo_trace as ayo
from ayo_trace.backend.engines.base import LLMEngine
from ayo_trace.frontend.primitives import sampling_params
from bench import e2e
from bench import workflows as W
from bench.e2e_engines import EngineChoice, real_engines, scripted_engines
from bench.report import load_average, machine

HERE = Path(__file__).resolve().parent
VARIANTS = ("eager", "unoptimized", "optimized")
TOLERANCE = 0.15  # the bar: predicted within 15% of measured
REWRITE_TOKENS = {"expanded_rag": W.QUERY_TOKENS, "seed_advanced_rag": W.SEED_REWRITE_TOKENS}


def _question(prompt: str) -> str:
    return prompt.rsplit("Question: ", 1)[-1].split("\n", 1)[0]


@dataclass
class Script:
    """What the real LLM said, per workflow and question: its answer and its query-writing
    completion. ``of(workflow)`` is the simulated LLM's ``respond`` for that workflow: as many
    tokens as the real one said, in words (a word is one simulated decode step). ``tokens`` holds
    the real LLM's token count of each text it said (a rewrite: of each line); a text without one
    counts its characters over ``chars_per_token``."""

    chars_per_token: float
    answers: dict[str, dict[str, str]] = field(default_factory=dict)
    rewrites: dict[str, dict[str, str]] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)

    def count(self, text: str) -> int:
        if not text.strip():
            return 0
        return self.tokens.get(text) or max(1, math.ceil(len(text) / self.chars_per_token))

    def _words(self, text: str) -> str:
        n = self.count(text)
        words = text.split()
        return " ".join((words + ["w"] * n)[:n])

    def texts(self) -> list[str]:
        """Every text the script says: the answers and each rewrite's lines."""
        out = [a for by_q in self.answers.values() for a in by_q.values()]
        for by_q in self.rewrites.values():
            out += [ln for r in by_q.values() for ln in r.split("\n") if ln.strip()]
        return out

    def of(self, workflow: str) -> Callable[[str], str]:
        answers = self.answers.get(workflow, {})
        rewrites = self.rewrites.get(workflow, {})

        def respond(prompt: str) -> str:
            question = _question(prompt)
            if prompt.endswith("Queries:\n"):
                lines = [ln for ln in rewrites.get(question, "").split("\n") if ln.strip()]
                return "\n".join(self._words(ln) for ln in lines) + "\n\n"
            return " " + self._words(answers.get(question, "")) + "\n"

        return respond

    def to_dict(self) -> dict[str, Any]:
        return {"answers": self.answers, "rewrites": self.rewrites, "tokens": self.tokens}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], chars_per_token: float) -> Script:
        return cls(
            chars_per_token,
            dict(data.get("answers", {})),
            dict(data.get("rewrites", {})),
            dict(data.get("tokens", {})),
        )


# --- the real run --------------------------------------------------------------------------------


MeasureEngines = Callable[[Sequence[Any]], Awaitable[ayo.SimProfile]]


async def real_run(
    opts: e2e.Options,
    make_engines: Callable[[], Awaitable[Sequence[Any]]],
    measure_between: MeasureEngines | None = None,
) -> tuple[dict[str, Any], Script, list[ayo.SimProfile]]:
    """``bench/e2e.py``'s schedule on the engines ``make_engines()`` gives; the results (with the
    load average before and after), what the LLM said, and, with ``measure_between``, the engines'
    profile measured before each (workflow, concurrency) block and after the last (``results
    ["blocks"]`` names the blocks in order: block i lies between profiles i and i + 1)."""
    engines = list(await make_engines())
    loads = {"before": load_average()}
    profiles: list[ayo.SimProfile] = []
    blocks: list[str] = []
    if measure_between is not None:

        async def before_block(workflow: str, c: int) -> None:
            profiles.append(await measure_between(engines))
            blocks.append(block_key(workflow, c))
            opts.progress(f"profile before {blocks[-1]}: {profile_line(profiles[-1])}")

        opts = dataclasses.replace(opts, before_block=before_block)
    async with ayo.Runtime(engines=engines, own_engines=True, timeline_size=200_000) as rt:
        bench = e2e.Bench(rt)
        results_bound = rt.max_active  # the simulation admits as many queries at once
        results = await e2e.measure(bench, opts)
        if measure_between is not None:
            profiles.append(await measure_between(engines))
            opts.progress(f"profile after the last block: {profile_line(profiles[-1])}")
            results["blocks"] = blocks
        loads["after"] = load_average()
        script = Script(chars_per_token=1.0)
        by_id = {q.id: q for q in W.QUERIES}
        for b in bench.batches:
            for qid, answer in b.answers.items():
                script.answers.setdefault(b.workflow, {}).setdefault(by_id[qid].question, answer)
        for workflow in opts.workflows:
            if workflow not in REWRITE_TOKENS:
                continue
            params = sampling_params(max_tokens=REWRITE_TOKENS[workflow], stop="\n\n")
            for q in W.QUERIES[: opts.queries]:
                prompt = f"{W.EXPAND_HEAD}Question: {q.question}\nQueries:\n"
                script.rewrites.setdefault(workflow, {})[q.question] = str(await rt.llm(prompt, params))
        llm = next((e for e in engines if isinstance(e, LLMEngine)), None)
        if llm is not None:  # the real tokenizer's counts (a scripted LLM's too), while it is loaded
            script.tokens = {t: llm.count_tokens(t) for t in script.texts()}
    results["load_average"] = loads
    results["machine"] = machine()
    results["max_active"] = results_bound
    return results, script, profiles


def block_key(workflow: str, c: int) -> str:
    return f"{workflow}/c={c}"


def profile_line(p: ayo.SimProfile) -> str:
    """The figures a drift shows in first: ms per prefill and per score token, ms per decode step
    of one session, ms per embedded token."""
    llm, embed = p.engines["llm"].ops, p.engines["embed"].ops["embed"]
    return (
        f"prefill {llm['prefill'].per_token_s * 1e3:.2f} ms/token, score {llm['score'].per_token_s * 1e3:.2f}"
        f" + {llm['score'].per_output_token_s * 1e3:.2f} ms/token, decode {llm['decode'].step_s(1) * 1e3:.1f}"
        f" ms/step, embed {embed.per_token_s * 1e3:.3f} ms/token"
    )


def block_profiles(real: Mapping[str, Any], profiles: Sequence[ayo.SimProfile]) -> dict[str, ayo.SimProfile]:
    """Each block's profile: the mean of the two measured around it."""
    from bench.measure_profile import mean_profile

    blocks = list(real.get("blocks", ()))
    if len(profiles) != len(blocks) + 1:
        raise ValueError(f"{len(profiles)} profiles for {len(blocks)} blocks: expected one more")
    return {
        b: mean_profile(profiles[i : i + 2], f"measured before and after block {b}")
        for i, b in enumerate(blocks)
    }


# --- the simulation ------------------------------------------------------------------------------


def _runners(name: str) -> dict[str, Callable[..., Awaitable[Any]]]:
    unopt, opt = W.make_workflows([]), W.make_workflows(None)
    return {"eager": unopt[name].eager, "unoptimized": unopt[name], "optimized": opt[name]}


def simulate_run(
    profile: ayo.SimProfile | Mapping[str, ayo.SimProfile],
    script: Script,
    opts: e2e.Options,
    max_active: int | None = 16,
    timeline_size: int = 0,
) -> dict[tuple[str, str, int], ayo.SimResult]:
    """Each (workflow, variant, concurrency) of ``opts`` simulated on ``profile``, or on the
    profile of its block (``block_key``) when ``profile`` maps blocks to profiles, with the real
    run's admission bound (``max_active``: 16 in runs saved before it was recorded); results keep
    a timeline of up to ``timeline_size`` events."""
    queries = list(W.QUERIES[: opts.queries])
    out = {}
    for name in opts.workflows:
        runners = _runners(name)
        for variant in opts.variants:
            run = runners[variant]

            async def setup(
                rt: ayo.Runtime, run: Callable[..., Awaitable[Any]] = run, name: str = name
            ) -> None:
                # as e2e.prepare: the shared collections, then the variant once (its warm-up)
                if "expanded_rag" in opts.workflows:
                    await rt.ingest(W.knowledge_base(), W.KB_COLLECTION)
                for q in W.QUERIES:
                    await rt.ingest(list(W.docs_for(q.module)), W.collection_for(q))
                if name in W.SEED_WORKFLOWS:
                    for q in queries:
                        await rt.ingest(
                            list(W.seed_docs_for(q.module, opts.passages)),
                            W.seed_collection_for(q, opts.passages),
                        )
                await run(**W.inputs_for(name, W.QUERIES[-1], opts.passages))

            def args(i: int, name: str = name) -> dict[str, object]:
                return W.inputs_for(name, queries[i % len(queries)], opts.passages)

            for c in opts.concurrency:
                n = len(queries) if c == 1 else max(2 * c, len(queries))
                out[(name, variant, c)] = ayo.simulate(
                    run,
                    args,
                    profile=_profile_of(profile, name, variant, c),
                    concurrency=c,
                    queries=n,
                    respond=script.of(name),
                    setup=setup,
                    runtime_options={"max_active": max_active, "timeline_size": timeline_size},
                )
    return out


def _profile_of(
    profile: ayo.SimProfile | Mapping[str, ayo.SimProfile], workflow: str, variant: str, c: int
) -> ayo.SimProfile:
    """The profile, its block's, or its variant's in that block (``<block>/<variant>``)."""
    if isinstance(profile, ayo.SimProfile):
        return profile
    key = block_key(workflow, c)
    return profile.get(f"{key}/{variant}", profile[key])


def scripted_profile(scale: float) -> ayo.SimProfile:
    """The profile of ``bench/e2e_engines.py``'s ``scripted_engines(scale)``: the same costs, each
    engine on a device of its own (a scripted call sleeps: it slows no other engine). With it,
    ``--scripted`` checks the simulator against engines whose costs are known exactly, so what it
    misses is the runtime's own time and the model's simplifications, on any machine."""
    from ayo_trace.testing import tokenize

    sample = W.ANSWER_HEAD + " ".join(W.knowledge_base()[:20])
    cpt = len(sample) / len(tokenize(sample))  # the scripted LLM's tokens are words with their space
    d = 2e-3 * scale  # a decode step of one session; k sessions: (1 + 0.1 (k - 1)) times it
    return ayo.SimProfile(
        name=f"bench/e2e_engines.py scripted_engines(scale={scale:g})",
        source="the scripted engines' own latencies",
        engines={
            "llm": ayo.EngineModel(
                "llm",
                ops={
                    "prefill": ayo.Cost(fixed_s=5e-4 * scale, per_token_s=2e-5 * scale),
                    "decode": ayo.Cost(fixed_s=5e-4 * scale, per_step_s=((1, d), (2, 1.1 * d))),
                },
                chars_per_token=cpt,
            ),
            "embed": ayo.EngineModel(
                "embedding", ops={"embed": ayo.Cost(fixed_s=1e-3 * scale, per_item_s=2e-4 * scale)}
            ),
            "store": ayo.EngineModel(
                "vector_store",
                ops={"search": ayo.Cost(fixed_s=5e-4 * scale), "insert": ayo.Cost(fixed_s=5e-4 * scale)},
            ),
            "rerank": ayo.EngineModel(
                "rerank", ops={"score": ayo.Cost(fixed_s=1e-3 * scale, per_item_s=5e-4 * scale)}
            ),
        },
    )


# --- the comparison ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One workflow, variant and concurrency: measured and predicted."""

    workflow: str
    variant: str
    concurrency: int
    measured_p50: float
    predicted_p50: float
    measured_qps: float
    predicted_qps: float
    measured_failed: int
    predicted_failed: int
    bottleneck: str

    @property
    def p50_ratio(self) -> float:
        return _ratio(self.predicted_p50, self.measured_p50)

    @property
    def qps_ratio(self) -> float:
        return _ratio(self.predicted_qps, self.measured_qps)

    @property
    def failed(self) -> bool:
        return self.measured_failed > 0 or self.predicted_failed > 0

    def within(self, ratio: float) -> bool:
        """Whether ``ratio`` is within the tolerance, with no failed query on either side."""
        return not self.failed and abs(ratio - 1) <= TOLERANCE + 1e-12

    def as_dict(self) -> dict[str, Any]:
        return {
            **{k: getattr(self, k) for k in self.__dataclass_fields__},
            "p50_ratio": self.p50_ratio,
            "qps_ratio": self.qps_ratio,
            "p50_within": self.within(self.p50_ratio),
            "qps_within": self.within(self.qps_ratio),
        }


def _ratio(predicted: float, measured: float) -> float:
    if not (measured > 0) or not math.isfinite(predicted):
        return math.nan
    return predicted / measured


def compare(real: Mapping[str, Any], sim: Mapping[tuple[str, str, int], ayo.SimResult]) -> list[Row]:
    """A row per simulated point, next to the real run's figures for it (nan where it has none)."""
    rows = []
    for (name, variant, c), s in sim.items():
        r = real.get("workflows", {}).get(name, {}).get("variants", {}).get(variant, {}).get(str(c), {})
        rows.append(
            Row(
                workflow=name,
                variant=variant,
                concurrency=c,
                measured_p50=float(r.get("p50", math.nan)),
                predicted_p50=s.p50,
                measured_qps=float(r.get("qps", math.nan)),
                predicted_qps=s.throughput_qps,
                measured_failed=len(r.get("errors", ())) if r else 0,
                predicted_failed=len(s.errors),
                bottleneck=s.bottleneck,
            )
        )
    return rows


def _verdict_cell(row: Row, ratio: float) -> str:
    if row.failed:
        return "failed"
    if math.isnan(ratio):
        return "n/a"
    return "yes" if row.within(ratio) else "no"


def table(rows: Sequence[Row]) -> str:
    out = [
        "| workflow | variant | c | measured p50 (s) | predicted p50 (s) | predicted / measured | within 15% "
        "| measured q/s | predicted q/s | predicted / measured | within 15% | failed (real / sim) | bottleneck |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---|---:|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.workflow} | {r.variant} | {r.concurrency} | {r.measured_p50:.2f} | {r.predicted_p50:.2f} "
            f"| {r.p50_ratio:.2f} | {_verdict_cell(r, r.p50_ratio)} | {r.measured_qps:.2f} "
            f"| {r.predicted_qps:.2f} | {r.qps_ratio:.2f} | {_verdict_cell(r, r.qps_ratio)} "
            f"| {r.measured_failed} / {r.predicted_failed} | {r.bottleneck} |"
        )
    return "\n".join(out)


def verdict(rows: Sequence[Row]) -> str:
    """How many rows are within 15% for each figure, and the worst row of each."""
    lines = []
    for figure, ratio in (("p50 latency", lambda r: r.p50_ratio), ("throughput", lambda r: r.qps_ratio)):
        scored = [r for r in rows if not math.isnan(ratio(r))]
        ok = sum(r.within(ratio(r)) for r in scored)
        line = f"{figure}: {ok} of {len(rows)} within 15%"
        if scored:
            worst = max(scored, key=lambda r: abs(math.log(ratio(r))) if ratio(r) > 0 else math.inf)
            line += (
                f"; worst {worst.workflow}/{worst.variant}/c={worst.concurrency} "
                f"(predicted {ratio(worst):.2f}x the measured)"
            )
        lines.append(line)
    failed = [f"{r.workflow}/{r.variant}/c={r.concurrency}" for r in rows if r.failed]
    if failed:
        lines.append(f"failed queries (not comparable): {', '.join(failed)}")
    return "\n".join(lines)


# --- the command ---------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="a profile file (default: measure one now; with --real, the run's own profiles if it has"
        " them, else bench/profiles/this_machine.json)",
    )
    p.add_argument("--quick-profile", action="store_true", help="measure the profile quickly (a smoke run)")
    p.add_argument(
        "--interleave",
        action="store_true",
        help="measure the profile before each (workflow, c) block of the real run and after the last;"
        " each block is simulated on the mean of the two around it (this machine's speed drifts)",
    )
    p.add_argument("--real", type=Path, default=None, help="reuse a saved real run instead of running one")
    p.add_argument(
        "--calibrate",
        choices=("block", "variant"),
        default=None,
        help="scale each block's profile, per engine operation, to the busy time the real engines spent"
        " in that block, or in each variant's part of it (bench/simulate_calibrate.py); report both"
        " validations",
    )
    p.add_argument(
        "--scripted",
        type=float,
        default=None,
        metavar="SCALE",
        help="validate against bench/e2e_engines.py's scripted engines at this latency scale (any machine)",
    )
    p.add_argument("--save-real", type=Path, default=Path("/tmp/ayo-validate-real.json"))
    p.add_argument("--workflows", nargs="+", default=["naive_rag", "expanded_rag"], choices=e2e.WORKFLOWS)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    p.add_argument("--concurrency", nargs="+", type=int, default=[1, 4, 16])
    p.add_argument("--queries", type=int, default=16)
    p.add_argument(
        "--rounds", type=int, default=1, help="repetitions of each variant's list at c > 1 (orders rotate)"
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--pg-dir", type=Path, default=Path("~/.cache/ayo-trace/e2e-pgdata").expanduser())
    p.add_argument("--json", type=Path, default=Path("/tmp/ayo-validate.json"))
    return p.parse_args(argv)


def options(args: argparse.Namespace) -> e2e.Options:
    return e2e.Options(
        workflows=args.workflows,
        concurrency=args.concurrency,
        queries=min(args.queries, len(W.QUERIES)),
        rounds=args.rounds,
        bound_queries=1,
        variants=args.variants,
    )


def main(argv: Sequence[str] | None = None) -> list[Row]:
    args = parse_args(argv)
    if args.interleave and (args.scripted is not None or args.real is not None):
        raise SystemExit(
            "--interleave measures the real engines during a real run: not with --scripted or --real"
        )
    if args.scripted is not None:
        profile = scripted_profile(args.scripted)
    elif args.profile is None and (args.interleave or args.real is not None):
        # unused when the run's blocks have profiles of their own
        profile = ayo.SimProfile.load(HERE / "profiles" / "this_machine.json")
    elif args.profile is None:
        from bench import measure_profile as measure

        out = HERE / "profiles" / "this_machine.json"
        cmd = ["--out", str(out), "--threads", str(args.threads), "--pg-dir", str(args.pg_dir)]
        profile = measure.main(cmd + (["--quick"] if args.quick_profile else []))
    else:
        profile = ayo.SimProfile.load(args.profile)
    opts = options(args)
    measured: list[ayo.SimProfile] = []
    if args.real is not None:
        saved = json.loads(args.real.read_text())
        measured = [ayo.SimProfile.from_dict(d) for d in saved.get("profiles", ())]
        cpt = (measured[0] if measured and args.profile is None else profile).engines["llm"].chars_per_token
        real, script = saved["real"], Script.from_dict(saved["script"], cpt)
    else:
        choice = EngineChoice(threads=args.threads)

        async def engines() -> list[Any]:
            if args.scripted is not None:
                return scripted_engines(args.scripted)
            return await real_engines(args.pg_dir, choice)

        between: MeasureEngines | None = None
        if args.interleave:
            from bench import measure_profile as measure

            async def between(engines: Sequence[Any]) -> ayo.SimProfile:
                llm, embed, store = engines[:3]
                return await measure.measure_engines(llm, embed, store, choice, False, 3)

        real, script, measured = asyncio.run(real_run(opts, engines, between))
        script.chars_per_token = (measured[0] if measured else profile).engines["llm"].chars_per_token
        saved = {"real": real, "script": script.to_dict(), "profiles": [m.to_dict() for m in measured]}
        args.save_real.write_text(json.dumps(saved, default=str))
        print(f"saved the real run to {args.save_real} (--real reuses it)")
    # a run with profiles measured between its blocks is simulated on them unless --profile names one
    use_blocks = bool(measured) and (args.real is None or args.profile is None)
    bound = real.get("max_active", 16)
    if use_blocks:
        for i, m in enumerate(measured):
            print(f"profile {i} (before {(real['blocks'] + ['the end'])[i]}): {profile_line(m)}")
        profiles = block_profiles(real, measured)
        print("profile: each block on the mean of the profiles measured before and after it")
    else:
        profiles = {block_key(w, c): profile for w in opts.workflows for c in opts.concurrency}
        print(f"profile: {profile.name} ({profile.source})")
    sim = simulate_run(profiles, script, opts, bound, 1_000_000 if args.calibrate else 0)
    if args.calibrate:
        print("uncalibrated:\n" + table(compare(real, sim)) + "\n" + verdict(compare(real, sim)))
        per_variant = args.calibrate == "variant"
        from bench.simulate_calibrate import calibrated

        sim = simulate_run(calibrated(real, sim, profiles, opts, per_variant), script, opts, bound)
        print(f"calibrated to the real engines' busy time per operation and {args.calibrate}:")
    rows = compare(real, sim)
    loads = real.get("load_average", {})
    print(f"load average before / after the real run: {loads.get('before', '?')} / {loads.get('after', '?')}")
    print(table(rows))
    print(verdict(rows))
    args.json.write_text(
        json.dumps(
            {
                "table": table(rows),
                "verdict": verdict(rows),
                "rows": [r.as_dict() for r in rows],
                "real": real,
            },
            indent=1,
            default=str,
        )
    )
    return rows


if __name__ == "__main__":
    main()
