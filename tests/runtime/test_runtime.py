"""The runtime: cross-query batching, cancellation, failures, overload, the default runtime across
event loops, stats, the timeline, configuration."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import pytest

from ayo_trace.backend import BatchPolicy, EngineConfig, Runtime, current_runtime, load_config
from ayo_trace.backend.config import build_engine
from ayo_trace.backend.engines.base import RerankRequest
from ayo_trace.errors import ConfigError, EngineError, Overloaded
from ayo_trace.testing import ScriptedLLM
from tests.util import run_in_new_loop

from . import graphs as G
from .conftest import Engines, respond

pytestmark = pytest.mark.anyio

N = 32


def question(i: int) -> str:
    return f"question number {i}"


async def run_all(rt: Runtime, graph_fn: Any, n: int = N) -> list[Any]:
    out: list[Any] = [None] * n

    async def one(i: int) -> None:
        out[i] = await rt.run(graph_fn(), {"question": question(i)})

    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(one, i)
    return out


async def expected_expansions(engines: Engines, n: int = N) -> list[Any]:
    """Reference outputs, computed unbatched on a fresh runtime of the same scripted engines."""
    async with Runtime(
        engines=[ScriptedLLM("llm", respond), engines.embed, engines.store, engines.rerank], batching=False
    ) as ref:
        return [await ref.run(G.expansion(), {"question": question(i)}) for i in range(n)]


async def test_concurrent_queries_are_batched_across_queries(engines: Engines) -> None:
    engines.llm.prefill_s_per_token = 0.0005
    engines.llm.decode_s_per_step = 0.002
    async with Runtime(engines=engines.all(), batch=BatchPolicy(max_batch=32, max_wait_s=0.005)) as rt:
        out = await run_all(rt, lambda: G.expansion_lowered(concurrency=None))
        stats = rt.stats()
    assert out == await expected_expansions(engines)
    llm = stats["engines"]["llm"]
    assert llm["requests"]["prefill"] == N * 4
    assert llm["max_batch"] >= 16
    assert llm["batches"]["prefill"] <= N * 4 / 4  # at least 4 prompts per prefill batch on average
    assert max(engines.llm.batch_sizes["decode"]) >= 16
    assert llm["mean_batch"] > 4
    assert stats["queries"] == N and stats["failures"] == 0
    assert engines.llm.sessions == {}


async def test_a_lone_query_does_not_wait_for_batch_mates(engines: Engines) -> None:
    async with Runtime(engines=engines.all(), batch=BatchPolicy(max_batch=8, max_wait_s=0.5)) as rt:
        with anyio.fail_after(0.4):  # four engine requests: waiting max_wait_s for each would take 2 s
            await rt.run(G.chain(), {"question": "q"})


async def test_batching_off_runs_one_request_per_engine_call(engines: Engines) -> None:
    async with Runtime(engines=engines.all(), batching=False) as rt:
        await run_all(rt, G.expansion, n=8)
        assert rt.stats()["engines"]["llm"]["max_batch"] == 1


class Watching(ScriptedLLM):
    """Sets ``decoding`` once a session whose prompt starts with ``watch`` has produced text."""

    def __init__(self, watch: str) -> None:
        super().__init__("llm", lambda p: " word" * 400 if p.startswith(watch) else respond(p))
        self.watch = watch
        self.decoding = anyio.Event()
        self.victim: str | None = None

    async def decode(self, batch: Any, max_steps: int) -> Any:
        out = await super().decode(batch, max_steps)
        for r, chunk in zip(batch, out, strict=True):
            if chunk.text and self.sessions.get(r.session, "").startswith(self.watch):
                self.victim = r.session
                self.decoding.set()
        return out


async def test_cancelling_one_query_mid_decode_releases_it_and_spares_the_others(engines: Engines) -> None:
    llm = Watching("Expand: " + question(7))
    llm.decode_s_per_step = 0.001
    out: list[Any] = [None] * N
    async with Runtime(engines=[llm, engines.embed, engines.store, engines.rerank], decode_steps=4) as rt:
        scopes = [anyio.CancelScope() for _ in range(N)]

        async def one(i: int) -> None:
            with scopes[i]:
                out[i] = await rt.run(G.expansion_lowered(concurrency=None), {"question": question(i)})

        async with anyio.create_task_group() as tg:
            for i in range(N):
                tg.start_soon(one, i)
            await llm.decoding.wait()
            scopes[7].cancel()
        assert rt.stats()["cancelled"] == 1
    assert llm.victim is not None and llm.victim in llm.released
    assert llm.sessions == {}
    assert llm.calls["decode"] < 100  # the 400-word decode stopped early
    expected = await expected_expansions(engines)
    assert out[7] is None
    assert [o for i, o in enumerate(out) if i != 7] == [e for i, e in enumerate(expected) if i != 7]


async def test_an_engine_that_raises_fails_only_its_queries(engines: Engines) -> None:
    poisoned = {3, 11, 20}
    engines.llm.fail = lambda prompt: any(prompt == f"Q: {question(i)}\nA:" for i in poisoned)
    results: dict[int, Any] = {}
    async with Runtime(engines=engines.all(), batching=False, retries=1) as rt:

        async def one(i: int) -> None:
            try:
                results[i] = await rt.run(G.chain(), {"question": question(i)})
            except EngineError as exc:
                results[i] = exc

        async with anyio.create_task_group() as tg:
            for i in range(N):
                tg.start_soon(one, i)
        assert rt.stats()["failures"] == len(poisoned)
    failed = {i for i, r in results.items() if isinstance(r, EngineError)}
    assert failed == poisoned
    assert all(r.node == "answer" for i, r in results.items() if i in poisoned)
    assert engines.llm.sessions == {}


async def test_an_overloaded_engine_refuses_at_once(engines: Engines) -> None:
    engines.llm.call_s = 0.05
    outcomes: list[str] = []
    async with Runtime(engines=engines.all(), batching=False, max_queue=4) as rt:

        async def one(i: int) -> None:
            try:
                await rt.run(G.unsplit_prompt(), {"question": question(i)})
                outcomes.append("ok")
            except Overloaded as exc:
                assert exc.node == "answer"  # type: ignore[attr-defined]
                outcomes.append("overloaded")

        async with anyio.create_task_group() as tg:
            for i in range(12):
                tg.start_soon(one, i)
        assert rt.stats()["engines"]["llm"]["rejected"] == outcomes.count("overloaded")
    assert "overloaded" in outcomes and "ok" in outcomes
    assert engines.llm.sessions == {}


SCRIPTED_CONFIG = [
    EngineConfig("llm", "llm", "scripted", options={"respond": respond}, batch=BatchPolicy(max_wait_s=0.005)),
    EngineConfig("embed", "embedding", "scripted"),
    EngineConfig("store", "vector_store", "scripted"),
    EngineConfig("rerank", "rerank", "scripted"),
]


def test_the_default_runtime_works_across_event_loops(default_runtime_slot: None) -> None:
    Runtime.set_default(Runtime(engines=SCRIPTED_CONFIG))

    async def use() -> tuple[list[Any], Runtime]:
        rt = current_runtime()
        assert rt is Runtime.default() and current_runtime(default=False) is None
        out: list[Any] = [None] * 8

        async def one(i: int) -> None:
            out[i] = await rt.run(G.expansion(concurrency=None), {"question": question(i)})

        async with anyio.create_task_group() as tg:
            for i in range(8):
                tg.start_soon(one, i)
        return out, rt

    first, rt1 = run_in_new_loop(use)
    second, rt2 = run_in_new_loop(use)
    assert first == second and rt1 is rt2
    assert len(first[0]) == 3
    stats = rt1.stats()
    assert stats["queries"] == 16 and stats["failures"] == 0
    assert stats["engines"]["llm"]["max_batch"] > 1  # batching across queries without `async with`
    [llm] = rt1.engines["llm"]
    assert isinstance(llm, ScriptedLLM) and llm.sessions == {}


def test_the_default_runtime_serves_eager_primitives_with_asyncio_gather(default_runtime_slot: None) -> None:
    import asyncio

    Runtime.set_default(Runtime(engines=SCRIPTED_CONFIG))

    async def main() -> list[Any]:
        rt = current_runtime()
        assert rt is not None
        return list(await asyncio.gather(*(rt.llm(f"Q{i}", G.SAMPLING) for i in range(6))))

    def in_asyncio_run() -> list[Any]:  # plain asyncio.run, in a thread of its own (see run_in_new_loop)
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, main()).result()

    assert in_asyncio_run() == in_asyncio_run()


async def test_the_timeline_is_valid_chrome_trace_json(rt: Runtime, tmp_path: Path) -> None:
    await rt.run(G.rag("kb"), {"docs": ["a b", "c d"], "question": "a?"})
    path = rt.timeline().save(tmp_path / "trace.json")
    data = json.loads(path.read_text())
    events = data["traceEvents"]
    assert events
    for e in events:
        assert {"name", "ph", "pid", "tid"} <= set(e)
        assert e["ph"] in {"X", "M"}
        if e["ph"] == "X":
            assert isinstance(e["ts"], float | int) and e["dur"] >= 0
    nodes = {e["name"] for e in events if e["ph"] == "X" and e["pid"] == 1}
    assert {"n", "hits", "top", "context", "answer"} <= nodes
    batches = [e for e in events if e["ph"] == "X" and e["pid"] == 2]
    assert batches and all("batch_id" in e["args"] and "queue_wait_mean_ms" in e["args"] for e in batches)


async def test_stats_report_engine_and_query_counters(rt: Runtime) -> None:
    await rt.run(G.chain(), {"question": "q"})
    stats = rt.stats()
    llm = stats["engines"]["llm"]
    assert llm["requests"] == {"prefill": 2, "decode": 2, "release": 2}
    assert llm["batch_sizes"] == {1: 6} and llm["mean_batch"] == 1.0
    assert 0.0 <= llm["utilization"] <= 1.0 and llm["busy_s"] >= 0.0
    assert {"queue_wait_mean_s", "queue_wait_max_s", "per_instance"} <= set(llm)
    assert stats["queries"] == 1 and stats["failures"] == 0


def test_configs_load_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "engines.toml"
    path.write_text(
        '[[engine]]\nname = "llm"\nkind = "llm"\nbackend = "llama_cpp"\nthreads = 2\ninstances = 2\n'
        "batch = { max_batch = 8, max_wait_s = 0.001, token_budget = 512 }\n\n"
        '[[engine]]\nname = "rerank"\nkind = "rerank"\nbackend = "likelihood"\noptions = { llm = "llm" }\n'
    )
    llm, rerank = load_config(path)
    assert llm.batch == BatchPolicy(max_batch=8, max_wait_s=0.001, token_budget=512)
    assert (llm.instances, llm.threads) == (2, 2)
    assert rerank.options == {"llm": "llm"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "x", "kind": "llm", "backend": "nope"}, "unknown backend"),
        ({"name": "x", "kind": "llm", "backend": "pgvector"}, "serves kind"),
        ({"name": "x", "kind": "gpu", "backend": "scripted"}, "kind must be"),
    ],
)
def test_bad_configs_are_refused(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        EngineConfig(**kwargs)


def test_build_engine_builds_scripted_instances() -> None:
    cfg = EngineConfig("llm", "llm", "scripted", instances=2, options={"context_length": 99})
    engine = build_engine(cfg, instance=1)
    assert isinstance(engine, ScriptedLLM) and engine.name == "llm#1" and engine.context_length == 99


async def test_several_instances_of_one_engine_share_the_load() -> None:
    cfg = [
        EngineConfig(
            "llm", "llm", "scripted", instances=2, options={"respond": respond, "decode_s_per_step": 0.002}
        ),
        EngineConfig("embed", "embedding", "scripted"),
    ]
    async with Runtime(engines=cfg) as rt:
        out = await run_all(rt, G.chain, n=8)
        per = rt.stats()["engines"]["llm"]["per_instance"]
        assert all(p["requests"].get("prefill", 0) > 0 for p in per)
        assert all(not e.sessions for e in rt.engines["llm"])  # type: ignore[attr-defined]
    assert len(set(out)) == 8


def test_importing_the_runtime_imports_no_engine_library() -> None:
    code = (
        "import sys, ayo_trace.backend, ayo_trace.testing\n"
        "heavy = {'torch', 'llama_cpp', 'vllm', 'psycopg', 'sentence_transformers', 'transformers', 'ray'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_likelihood_reranking_is_scheduled_on_its_llm() -> None:
    """A likelihood reranker's scoring goes through the scheduler of the LLM it scores with: the
    reranks of concurrent queries share LLM ``score`` batches, and the scores are the reranker's own."""
    from ayo_trace.backend.engines.likelihood_rerank import LikelihoodReranker

    llm = ScriptedLLM("llm", prefill_s_per_token=0.0002)
    reranker = LikelihoodReranker(llm, "rerank")
    passages = ("cats sleep all day", "the capital of france is paris", "dogs bark at night")
    async with Runtime(engines=[llm, reranker], batch=BatchPolicy(max_batch=32, max_wait_s=0.01)) as rt:
        tops: list[Any] = [None] * 4

        async def one(i: int) -> None:
            tops[i] = await rt.client.rerank(f"what is the capital of france {i}", passages, 2, None, 0.0)

        async with anyio.create_task_group() as tg:
            for i in range(4):
                tg.start_soon(one, i)
        stats = rt.stats()["engines"]
    assert llm.calls["score"] < 4 * len(passages)  # pairs of several queries share a call
    assert max(llm.batch_sizes["score"]) > len(passages)
    assert stats["llm"]["requests"]["score"] == 4 * len(passages)
    assert stats["rerank"]["requests"]["score"] == 4
    direct = await reranker.score([RerankRequest(f"what is the capital of france {0}", passages)])
    assert [h.score for h in tops[0]] == sorted(direct[0], reverse=True)[:2]
    assert tops[0][0].text == "the capital of france is paris"


async def test_a_failed_likelihood_score_fails_the_rerank_with_the_engine_error() -> None:
    from ayo_trace.backend.engines.likelihood_rerank import LikelihoodReranker

    llm = ScriptedLLM("llm", fail=lambda context: "poison" in context)
    async with Runtime(engines=[llm, LikelihoodReranker(llm, "rerank")]) as rt:
        with pytest.raises(EngineError, match="scripted score failure") as info:
            await rt.client.rerank("question", ["fine passage", "poison passage", "other"], 2, None, 0.0)
        assert info.value.engine == "llm"
        assert [h.text for h in await rt.client.rerank("question", ["fine passage"], 1, None, 0.0)] == [
            "fine passage"
        ]
