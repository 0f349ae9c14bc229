"""bench/e2e.py's core on scripted engines: every variant (eager, unoptimized, optimized, LangChain,
hand-parallel asyncio) of every workflow (the research system's two workloads among them) answers
every query the same way (with cross-request batching off), and the critical-path bound is a
positive lower bound of (b)'s latency."""

from __future__ import annotations

import math

import pytest

import ayo_trace as ayo
from bench import e2e
from bench.e2e_engines import scripted_engines


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_variants_agree_and_every_figure_is_produced() -> None:
    opts = e2e.Options(queries=3, concurrency=(1, 3), bound_queries=2, passages=12, progress=lambda _: None)
    async with ayo.Runtime(engines=scripted_engines(), batching=False) as rt:
        bench = e2e.Bench(rt)
        results = await e2e.measure(bench, opts)

    assert not [e for b in bench.batches for e in b.errors]
    for workflow in e2e.WORKFLOWS:
        answers: dict[str, set[str]] = {}
        for b in bench.batches:
            if b.workflow == workflow:
                assert set(b.answers) == set(b.query_ids)
                for qid, answer in b.answers.items():
                    answers.setdefault(qid, set()).add(answer)
        assert len(answers) == 3
        assert all(len(a) == 1 for a in answers.values()), answers
        r = results["workflows"][workflow]
        for variant in e2e.VARIANTS:
            for c in ("1", "3"):
                assert r["variants"][variant][c]["p50"] > 0
                assert r["variants"][variant][c]["qps"] > 0
        # Timings are measured, not asserted (tests never compare wall times: the machine may be
        # loaded); only that every figure was produced.
        assert r["bound"]["p50"] > 0
        assert results["bound_vs_optimized"][workflow] > 0
    table = e2e.table(results, opts.concurrency)
    assert "(d) critical-path bound" in table and "(a)/(b)" in table
    header = e2e.table(results, (3,)).splitlines()[0]  # columns only for the concurrencies asked
    assert "c=3 q/s" in header and "c=1" not in header
    assert e2e.failures(results) == {}

    # a variant whose queries failed is flagged, and no ratio is taken over it
    results["workflows"]["naive_rag"]["variants"]["optimized"]["3"]["errors"] = ["q1: Overloaded: ..."]
    assert e2e.failures(results) == {"naive_rag/optimized/c=3": 1}
    rows = {
        line.split(" | ")[1]: line
        for line in e2e.table(results, (1, 3)).splitlines()
        if line.startswith("| naive_rag |")
    }
    assert "(1 failed)" in rows["(b) optimized"] and "failed" not in rows["(a) unoptimized"]
    for ratio in ("eager/(b)", "(a)/(b)", "(c)/(b)", "(e)/(b)"):
        assert rows[f"{ratio}: latency x, throughput of (b) over it"].count("n/a") == 2


def test_critical_path_of_a_streamed_map_counts_its_items_as_hidden() -> None:
    graph = e2e.W.make_workflows(None)["expanded_rag"].graph(question="q", optimized=True)
    names = {n.name for n in graph.nodes}
    assert {"queries", "hits", "best", "result"} <= names
    d = {("q1", n.name): 0.1 for n in graph.nodes if n.op not in ("input", "output", "python", "map")}
    d |= {(f"q1/hits[{i}]", n): 0.05 for i in range(2) for n in ("search_embed", "search")}
    seconds, path = e2e.critical_path(graph, d, "q1")
    # the expansion's prefill (one part: its 48-token head is shorter than a 64-token block), its
    # decode, rerank, the answer's second part and its decode: 5 nodes of 0.1 s
    assert math.isclose(seconds, 0.5)
    assert path[-1] == "result" and "hits" not in path
