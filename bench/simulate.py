"""The virtual-time simulator on this project's workloads (issue 20, docs/simulator.md).

    .venv/bin/python bench/simulate.py --seed                   # the seed testbed next to Ayo's figures
    .venv/bin/python bench/simulate.py --sweep [--queries 1000] # LLM instances 1 -> 64, table and plot
    .venv/bin/python bench/simulate.py --speed [--queries 10000]# wall time of a long simulation
    .venv/bin/python bench/simulate.py --validate               # profile -> simulate -> real run (idle machine)
    .venv/bin/python bench/simulate.py --load                   # bursts and streams, old and new policy

``--seed`` runs the research system's two workloads (``bench/workflows.py``: ``seed_naive_rag``,
``seed_advanced_rag``) on ``bench/profiles/seed_testbed.json`` (a 7B LLM on vLLM, bge-large and
bge-reranker-large on GPUs of their own, pgvector on 4 cores; every figure cited there) with the
inputs of Ayo's example: 666 passages of about 370 characters per query. One query at a time,
unoptimized (``passes=[]``) and optimized, next to Ayo's 3.72 -> 1.97 s and 7.40 -> 3.17 s.

``--sweep``: 1,000 queries arriving at once (no admission bound, so all are in service), both
workloads with and without the passes, as the LLM's instances grow 1 -> 64 (one GPU each, as Ray
places one actor per GPU), and as every GPU engine grows together: throughput, p95 and each point's
bottleneck (the engine with the highest utilization). ``--write`` saves ``bench/simulate-sweep.png``.

``--validate`` (bench/simulate_validate.py) needs an idle machine and the real engines.
``--load`` (bench/simulate_load.py): bench/load_latency.py's loads on a profile of this machine.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ayo_trace as ayo
from bench import workflows as W

HERE = Path(__file__).resolve().parent
SEED_PROFILE = HERE / "profiles" / "seed_testbed.json"
PUBLISHED = {"seed_naive_rag": (3.72, 1.97), "seed_advanced_rag": (7.40, 3.17)}
AYO_PASSAGES = 666  # 11 passages x 60 + 6 in Ayo's example
AYO_PASSAGE_CHARS = 370  # "... is a branch of computer science..." * 10
INSTANCES = (1, 4, 16, 64)


def respond(prompt: str) -> str:
    """What the simulated LLM says: three rewritten queries of eight words for a rewrite prompt
    (about 30 tokens), else a ten-word answer line (Ayo's ``max_tokens=10``)."""
    if prompt.endswith("Queries:\n"):
        words = prompt.rsplit("Question: ", 1)[-1].split()[:8]
        line = " ".join(words + ["more"] * (8 - len(words)))
        return "\n".join(f"{line} {i}" for i in range(W.SEED_REWRITES)) + "\n\n"
    return " " + " ".join(["word"] * W.SEED_ANSWER_TOKENS) + "\n"


@cache
def ayo_docs(module: str, passages: int, chars: int) -> tuple[str, ...]:
    """``passages`` documents for ``module``'s question, each ``chars`` characters long (cut, or
    repeated as Ayo's example repeats its phrases)."""
    return tuple((d * (chars // max(1, len(d)) + 1))[:chars] for d in W.seed_docs_for(module, passages))


def seed_args(
    workflow: str, passages: int = AYO_PASSAGES, chars: int = AYO_PASSAGE_CHARS
) -> Callable[[int], dict[str, Any]]:
    """Query ``i``'s arguments for a seed workload, at Ayo's example's sizes."""

    def args(i: int) -> dict[str, Any]:
        q = W.QUERIES[i % len(W.QUERIES)]
        return {
            "question": q.question,
            "docs": list(ayo_docs(q.module, passages, chars)),
            "collection": f"{W.seed_collection_for(q, passages)}_{chars}",
        }

    return args


# Ayo's answer prompt is a 2,800-character instruction template (its log shows 898 prompt tokens
# with the two passages); ours has a short head. These two are the seed workloads with a head of
# Ayo's length, the one difference: what split prefill can hide depends on it.
AYO_HEAD = (W.ANSWER_HEAD * 12)[:2800]


@ayo.workflow(static=("collection",))
async def ayo_naive_rag(question: str, docs: list[str], collection: str) -> str:
    await ayo.ingest(docs, collection=collection)
    hits = await ayo.search(question, collection=collection, top_k=W.SEED_SEARCH_K)
    best = await ayo.rerank(question, hits, top_k=W.SEED_CONTEXT_K)
    context = "\n".join(h.text for h in best)
    prompt = f"{AYO_HEAD}Documentation:\n{context}\nQuestion: {question}\nAnswer:"
    return await ayo.llm(prompt, max_tokens=W.SEED_ANSWER_TOKENS, stop="\n")


@ayo.workflow(static=("collection",))
async def ayo_advanced_rag(question: str, docs: list[str], collection: str) -> str:
    await ayo.ingest(docs, collection=collection)
    queries = await ayo.llm(
        f"{W.EXPAND_HEAD}Question: {question}\nQueries:\n",
        parse=ayo.lines,
        max_tokens=W.SEED_REWRITE_TOKENS,
        stop="\n\n",
    )
    hits = [await ayo.search(q, collection=collection, top_k=W.SEED_SEARCH_K) for q in queries]
    passages = list(dict.fromkeys(h.text for per_query in hits for h in per_query))
    best = await ayo.rerank(question, passages, top_k=W.SEED_CONTEXT_K)
    context = "\n".join(h.text for h in best)
    prompt = f"{AYO_HEAD}Documentation:\n{context}\nQuestion: {question}\nAnswer:"
    return await ayo.llm(prompt, max_tokens=W.SEED_ANSWER_TOKENS, stop="\n")


LONG_HEAD = {"seed_naive_rag": ayo_naive_rag, "seed_advanced_rag": ayo_advanced_rag}


def variants(long_head: bool = False) -> dict[str, dict[str, ayo.Workflow]]:
    """The seed workloads unoptimized and optimized (``long_head``: with Ayo's prompt length)."""
    out = {"unoptimized": W.make_workflows([]), "optimized": W.make_workflows(None)}
    if long_head:
        for v, passes in (("unoptimized", []), ("optimized", None)):
            for name, wf in LONG_HEAD.items():
                out[v][name] = ayo.workflow(wf.fn, passes=passes, static=("collection",))
    return out


# --- the seed testbed ----------------------------------------------------------------------------


def predict(profile: ayo.SimProfile, queries: int = 3) -> dict[str, dict[str, ayo.SimResult]]:
    """Each seed workload, unoptimized and optimized, one query at a time on ``profile``: as
    written, and with Ayo's prompt length (``+ Ayo's prompt``)."""
    out: dict[str, dict[str, ayo.SimResult]] = {}
    for long_head in (False, True):
        wfs = variants(long_head)
        for name in W.SEED_WORKFLOWS:
            out[name + (" + Ayo's prompt" if long_head else "")] = {
                v: ayo.simulate(
                    wfs[v][name],
                    seed_args(name),
                    profile=profile,
                    concurrency=1,
                    queries=queries,
                    respond=respond,
                )
                for v in wfs
            }
    return out


def seed_table(results: Mapping[str, Mapping[str, ayo.SimResult]]) -> str:
    rows = [
        "| workload | Ayo unoptimized | Ayo optimized | Ayo speed-up | simulated unoptimized | simulated optimized | simulated speed-up | bottleneck (unoptimized) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in results.items():
        pu, po = PUBLISHED[name.split(" ")[0]]
        su, so = r["unoptimized"].p50, r["optimized"].p50
        busiest = r["unoptimized"].bottleneck
        share = r["unoptimized"].engines[busiest]["busy_s"] / max(1e-9, sum(r["unoptimized"].latencies))
        rows.append(
            f"| {name} | {pu:.2f} s | {po:.2f} s | {pu / po:.2f}x | {su:.2f} s | {so:.2f} s | {su / so:.2f}x "
            f"| {busiest} ({share:.0%} of the latency) |"
        )
    return "\n".join(rows)


# --- scale ---------------------------------------------------------------------------------------


def scaled(profile: ayo.SimProfile, n: int, everything: bool) -> ayo.SimProfile:
    """``profile`` with ``n`` LLM instances on GPUs of their own (and, with ``everything``, ``n``
    instances of every GPU engine). Every engine's queue holds the requests of 1,000 queries at
    once: with no admission bound, the default of 1,024 overflowed (the optimized naive workload
    embeds each query's question beside its passages: 2,000 requests on one embedder; the optimized
    advanced one searches its three queries together: 3,000 on the store) and about half the
    queries failed with ``Overloaded``, the runtime's backpressure."""
    out = profile.with_engine("llm", instances=n, device="llm-gpu{i}")
    for name in out.engines:
        out = out.with_engine(name, max_queue=8192)
    if everything:
        for name in ("embed", "rerank"):
            out = out.with_engine(name, instances=n, device=f"{name}-gpu{{i}}")
    return out


def sweep(
    profile: ayo.SimProfile,
    instances: Sequence[int],
    queries: int,
    workflows: Sequence[str] = W.SEED_WORKFLOWS,
    progress: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Throughput, p95 and bottleneck for ``queries`` queries at once, per (scaling, workload,
    variant, instances)."""
    rows = []
    wfs = variants()
    for everything in (False, True):
        for name in workflows:
            for variant in wfs:
                for n in instances:
                    r = ayo.simulate(
                        wfs[variant][name],
                        seed_args(name),
                        profile=scaled(profile, n, everything),
                        queries=queries,
                        respond=respond,
                        runtime_options={"max_active": None},
                    )
                    row = {
                        "scaling": "every GPU engine" if everything else "LLM only",
                        "workflow": name,
                        "variant": variant,
                        "instances": n,
                        "qps": r.throughput_qps,
                        "p50": r.p50,
                        "p95": r.p95,
                        "bottleneck": r.bottleneck,
                        "utilization": {k: round(e["utilization"], 3) for k, e in r.engines.items()},
                        "failed": len(r.errors),
                        "wall_s": r.wall_s,
                    }
                    rows.append(row)
                    progress(
                        f"{row['scaling']} {name} {variant} x{n}: {r.throughput_qps:.2f} q/s, p95 {r.p95:.1f} s, "
                        f"bottleneck {r.bottleneck} ({r.engines[r.bottleneck]['utilization']:.0%}); "
                        f"{r.wall_s:.0f} s wall"
                    )
    return rows


def sweep_table(rows: Sequence[Mapping[str, Any]]) -> str:
    out = [
        "| scaling | workload | variant | instances | q/s | p50 (s) | p95 (s) | failed | bottleneck | utilization (llm / embed / rerank / store) |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        u = r["utilization"]
        util = " / ".join(f"{u.get(k, 0):.0%}" for k in ("llm", "embed", "rerank", "store"))
        out.append(
            f"| {r['scaling']} | {r['workflow']} | {r['variant']} | {r['instances']} | {r['qps']:.2f} | "
            f"{r['p50']:.1f} | {r['p95']:.1f} | {r['failed']} | {r['bottleneck']} | {util} |"
        )
    return "\n".join(out)


def plot(rows: Sequence[Mapping[str, Any]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for scaling, ls in (("LLM only", "-"), ("every GPU engine", "--")):
        for name in dict.fromkeys(r["workflow"] for r in rows):
            for variant, marker in (("unoptimized", "o"), ("optimized", "s")):
                pts = [
                    r for r in rows if (r["scaling"], r["workflow"], r["variant"]) == (scaling, name, variant)
                ]
                if not pts:
                    continue
                xs = [r["instances"] for r in pts]
                label = f"{name} {variant} ({scaling})"
                axes[0].plot(xs, [r["qps"] for r in pts], ls, marker=marker, label=label)
                axes[1].plot(xs, [r["p95"] for r in pts], ls, marker=marker, label=label)
    for ax, title in zip(axes, ("throughput (queries/s)", "p95 latency (s)"), strict=True):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("instances (one GPU each)")
        ax.set_title(f"1,000 queries at once: {title}")
        ax.grid(alpha=0.3)
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# --- speed ---------------------------------------------------------------------------------------


def speed(profile: ayo.SimProfile, queries: int) -> ayo.SimResult:
    """A long simulation of the naive seed workload (optimized, 64 clients), for its wall time.
    The queries' documents are made first (parsing the standard library's docstrings takes about
    a second): the wall time is the simulation's."""
    wf = W.make_workflows(None)["seed_naive_rag"]
    args = seed_args("seed_naive_rag", 64, AYO_PASSAGE_CHARS)
    for i in range(len(W.QUERIES)):
        args(i)
    return ayo.simulate(
        wf,
        args,
        profile=profile,
        concurrency=64,
        queries=queries,
        respond=respond,
    )


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--validate" in argv:  # its own options (bench/simulate_validate.py)
        from bench import simulate_validate

        simulate_validate.main([a for a in argv if a != "--validate"])
        return
    if "--load" in argv:  # its own options (bench/simulate_load.py)
        from bench import simulate_load

        simulate_load.main([a for a in argv if a != "--load"])
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--profile", type=Path, default=SEED_PROFILE)
    p.add_argument("--seed", action="store_true", help="predict the seed workloads next to Ayo's figures")
    p.add_argument("--sweep", action="store_true", help="LLM instances 1 -> 64 at 1,000 queries at once")
    p.add_argument("--speed", action="store_true", help="the wall time of a long simulation")
    p.add_argument("--validate", action="store_true", help="profile, simulate, run for real (idle machine)")
    p.add_argument("--load", action="store_true", help="bursts and streams, old and new policy")
    p.add_argument("--queries", type=int, default=None)
    p.add_argument("--instances", type=int, nargs="+", default=list(INSTANCES))
    p.add_argument("--workflows", nargs="+", default=list(W.SEED_WORKFLOWS), choices=W.SEED_WORKFLOWS)
    p.add_argument("--json", type=Path, default=Path("/tmp/ayo-simulate.json"))
    p.add_argument("--write", action="store_true", help="save the sweep's plot as bench/simulate-sweep.png")
    args = p.parse_args(argv)
    profile = ayo.SimProfile.load(args.profile)
    out: dict[str, Any] = {}
    if args.seed:
        results = predict(profile, args.queries or 3)
        print(seed_table(results))
        for name, r in results.items():
            for v, res in r.items():
                print(f"\n{name} {v}:\n{res.summary()}")
        out["seed"] = {n: {v: res.p50 for v, res in r.items()} for n, r in results.items()}
    if args.sweep:
        rows = sweep(profile, args.instances, args.queries or 1000, args.workflows)
        print(sweep_table(rows))
        out["sweep"] = rows
        if args.write:
            print(f"wrote {plot(rows, HERE / 'simulate-sweep.png')}")
    if args.speed:
        r = speed(profile, args.queries or 10_000)
        print(r.summary())
        out["speed"] = {"queries": r.queries, "wall_s": r.wall_s, "virtual_s": r.makespan_s}
    args.json.write_text(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
