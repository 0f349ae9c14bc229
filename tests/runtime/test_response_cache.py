"""The response cache (``backend/response_cache.py``) and ingest embedding only new passages, on the
scripted engines: what a hit saves is read from the engines' own call counters and ``rt.stats()``."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

import ayo_trace as ayo
from ayo_trace.backend import CacheConfig, Runtime
from ayo_trace.ir.params import SamplingParams
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore

from .conftest import Engines, respond

pytestmark = pytest.mark.anyio

PASSAGES = [f"Passage {i} is about topic {i}." for i in range(20)]
# Long enough (about 75 tokens by the cost model's estimate) for split prefill to send it ahead under
# the default profile's 64-token blocks.
INSTRUCTIONS = (
    "You answer in one short line, using the context. Quote the passage that answers, give its topic "
    "number, and never add a word the context does not support; say 'unknown' when no passage answers "
    "the question. Keep the passage's own words where you can, and end the line with its number.\n"
)


@ayo.workflow
async def answer(question: str) -> str:
    hits = await ayo.search(question, collection="kb", top_k=3)
    context = "\n".join(h.text for h in hits)
    return await ayo.llm(f"{INSTRUCTIONS}Context: {context}\nQuestion: {question}\nAnswer:", max_tokens=8)


def llm_work(llm: ScriptedLLM) -> tuple[int, int]:
    return llm.calls["prefill"], llm.calls["decode"]


async def test_a_repeated_greedy_query_costs_no_llm_work(engines: Engines) -> None:
    async with Runtime(engines=engines.all(), batching=False, cache=CacheConfig()) as rt:
        await rt.ingest(PASSAGES, "kb")
        first = await answer("What is topic 3?")
        prefills, decodes = llm_work(engines.llm)
        forks = engines.llm.stats()["prefix_hits"]
        embeds = engines.embed.calls["embed"]
        assert first == await answer("What is topic 3?")
        # Split prefill sent the constant prefix ahead, before the prompt was whole: a fork of the
        # engine's kept prefix (no prefill work); the rest of the prompt and the decode never ran.
        assert llm_work(engines.llm) == (prefills + 1, decodes)
        assert engines.llm.stats()["prefix_hits"] == forks + 1
        assert engines.embed.calls["embed"] == embeds, "the question was embedded again"
        eager = await answer.eager("What is topic 3?")  # the same prompt, run eagerly: no work at all
        assert eager == first and llm_work(engines.llm) == (prefills + 1, decodes)
        saved = rt.stats()["cache"]["saved"]
        assert (saved["llm_decodes"], saved["llm_prefills"], saved["embedded_texts"]) == (2, 2, 2)


async def test_an_eager_hit_sends_neither_prefill_nor_decode(engines: Engines) -> None:
    async with Runtime(engines=engines.all(), batching=False, cache=CacheConfig()) as rt:
        params = SamplingParams(max_tokens=8)
        first = await rt.llm("Say hi:", params)
        work = llm_work(engines.llm)
        assert await rt.llm("Say hi:", params) == first
        assert llm_work(engines.llm) == work
        assert rt.stats()["cache"]["saved"] == {
            "llm_decodes": 1,
            "llm_prefills": 1,
            "embedded_texts": 0,
            "rerank_calls": 0,
        }
        assert engines.llm.stats()["sessions"] == 0


@pytest.mark.parametrize(
    "other",
    [
        SamplingParams(max_tokens=9),
        SamplingParams(max_tokens=8, stop=("\n",)),
        SamplingParams(max_tokens=8, top_p=0.5),
    ],
    ids=["max_tokens", "stop", "top_p"],
)
async def test_any_parameter_change_is_a_miss(engines: Engines, other: SamplingParams) -> None:
    async with Runtime(engines=engines.all(), batching=False, cache=CacheConfig()) as rt:
        await rt.llm("Say hi:", SamplingParams(max_tokens=8))
        decodes = engines.llm.calls["decode"]
        await rt.llm("Say hi:", other)
        assert engines.llm.calls["decode"] > decodes
        assert rt.stats()["cache"]["hits"] == 0


async def test_a_changed_engine_config_is_a_miss(tmp_path: Path) -> None:
    from ayo_trace.backend.config import EngineConfig

    def configs(model: str) -> list[EngineConfig]:
        return [EngineConfig("llm", "llm", backend="scripted", model=model)]

    cache = CacheConfig(disk_dir=tmp_path / "cache")
    async with Runtime(engines=configs("a"), batching=False, cache=cache) as rt:
        await rt.llm("Say hi:", SamplingParams(max_tokens=4))
    async with Runtime(engines=configs("b"), batching=False, cache=cache) as rt:
        await rt.llm("Say hi:", SamplingParams(max_tokens=4))
        assert rt.stats()["cache"]["hits"] == 0
    async with Runtime(engines=configs("a"), batching=False, cache=cache) as rt:
        await rt.llm("Say hi:", SamplingParams(max_tokens=4))
        assert rt.stats()["cache"]["hits"] == 1


async def test_sampling_is_never_cached(engines: Engines) -> None:
    async with Runtime(engines=engines.all(), batching=False, cache=CacheConfig()) as rt:
        params = SamplingParams(max_tokens=8, temperature=0.7, seed=1)
        await rt.llm("Say hi:", params)
        await rt.llm("Say hi:", params)
        assert engines.llm.calls["decode"] == 2
        assert rt.stats()["cache"]["entries"] == 0


async def test_memory_holds_at_most_max_entries_and_max_bytes(engines: Engines) -> None:
    async with Runtime(engines=engines.all(), batching=False, cache=CacheConfig(max_entries=5)) as rt:
        await rt.embed([f"text {i}" for i in range(12)])
        stats = rt.stats()["cache"]
        assert (stats["entries"], stats["evictions"]) == (5, 7)
        await rt.embed("text 11")  # the most recent ones stay
        assert rt.stats()["cache"]["hits"] == 1
    async with Runtime(engines=engines.all(), batching=False, cache=CacheConfig(max_bytes=2000)) as rt:
        await rt.embed([f"text {i}" for i in range(12)])
        stats = rt.stats()["cache"]
        one_vector = stats["bytes"] / stats["entries"]  # every vector pickles to the same size
        assert stats["bytes"] <= 2000 < stats["bytes"] + one_vector
        assert stats["evictions"] == 12 - stats["entries"] > 0


async def test_the_disk_cache_outlives_the_runtime(tmp_path: Path) -> None:
    cache = CacheConfig(max_entries=1, disk_dir=tmp_path / "cache")
    first = Engines(
        ScriptedLLM("llm", respond),
        ScriptedEmbedder("embed"),
        ScriptedStore("store"),
        ScriptedReranker("rerank"),
    )
    async with Runtime(engines=first.all(), batching=False, cache=cache) as rt:
        answer_1 = await rt.llm("Say hi:", SamplingParams(max_tokens=8))
        vectors = await rt.embed(["a", "b", "c"])  # more than max_entries: on disk all the same
    again = Engines(
        ScriptedLLM("llm", respond),
        ScriptedEmbedder("embed"),
        ScriptedStore("store"),
        ScriptedReranker("rerank"),
    )
    async with Runtime(engines=again.all(), batching=False, cache=cache) as rt:
        assert await rt.llm("Say hi:", SamplingParams(max_tokens=8)) == answer_1
        assert await rt.embed(["a", "b", "c"]) == vectors
        assert (again.llm.calls["decode"], again.embed.calls["embed"]) == (0, 0)
        assert rt.stats()["cache"]["disk_hits"] >= 4


async def test_identical_requests_in_flight_compute_once() -> None:
    slow = Engines(
        ScriptedLLM("llm", respond, decode_s_per_step=0.01),
        ScriptedEmbedder("embed", call_s=0.05),
        ScriptedStore("store"),
        ScriptedReranker("rerank", call_s=0.05),
    )
    async with Runtime(engines=slow.all(), batching=False, cache=CacheConfig()) as rt:
        results: list[tuple[object, ...]] = []

        async def ask() -> None:
            llm = await rt.llm("Say hi:", SamplingParams(max_tokens=8))
            vectors = await rt.embed(["x", "y"])
            hits = await rt.rerank("topic 3", PASSAGES[:4], 2)
            results.append((llm, vectors, hits))

        async with anyio.create_task_group() as tg:
            tg.start_soon(ask)
            tg.start_soon(ask)
        assert results[0] == results[1]
        assert rt.stats()["cache"]["saved"]["llm_decodes"] == 1
        assert slow.embed.calls["embed"] == 1 and sum(slow.embed.batch_sizes["embed"]) == 2
        assert slow.rerank.calls["score"] == 1
        assert rt.stats()["cache"]["joined"] >= 2


async def test_a_failed_computation_is_not_cached_and_the_waiter_computes_itself() -> None:
    calls = {"n": 0}

    def flaky(text: str) -> bool:
        calls["n"] += 1
        return calls["n"] == 1  # the first embed call fails

    engines = Engines(
        ScriptedLLM("llm", respond),
        ScriptedEmbedder("embed", call_s=0.05, fail=flaky),
        ScriptedStore("store"),
        ScriptedReranker("rerank"),
    )
    async with Runtime(engines=engines.all(), batching=False, retries=0, cache=CacheConfig()) as rt:
        outcomes: list[object] = []

        async def ask() -> None:
            try:
                outcomes.append(await rt.embed("x"))
            except ayo.EngineError as exc:
                outcomes.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(ask)
            tg.start_soon(ask)
        assert sum(isinstance(o, ayo.EngineError) for o in outcomes) == 1
        assert sum(isinstance(o, list) for o in outcomes) == 1
        assert rt.stats()["cache"]["entries"] == 1


async def test_rerank_hits_skip_the_scoring(engines: Engines) -> None:
    async with Runtime(engines=engines.all(), batching=False, cache=CacheConfig()) as rt:
        first = await rt.rerank("topic 3", PASSAGES[:5], 2)
        assert await rt.rerank("topic 3", PASSAGES[:5], 2) == first
        assert await rt.rerank("topic 3", PASSAGES[:5], 3) != first  # top_k cuts the cached scores
        assert engines.rerank.calls["score"] == 1
        await rt.rerank("topic 3", PASSAGES[:4], 2)  # other passages: a miss
        assert engines.rerank.calls["score"] == 2


@pytest.mark.parametrize("cached", [False, True], ids=["no-cache", "cache"])
async def test_ingest_twice_embeds_once(engines: Engines, cached: bool) -> None:
    cache = CacheConfig() if cached else None
    async with Runtime(engines=engines.all(), batching=False, cache=cache) as rt:
        assert await rt.ingest(PASSAGES, "kb") == 20
        assert await rt.ingest(PASSAGES + PASSAGES[:3] + ["A new passage."], "kb") == 1
        assert sum(engines.embed.batch_sizes["embed"]) == 21
        assert engines.store.stats()["collections"] == {"kb": 21}
        assert await rt.ingest([], "empty") == 0  # still creates the collection
        assert await rt.search("anything", ayo.SearchParams(collection="empty")) == []
