"""The examples' naive RAG and query-expansion RAG give the same results with their engines as Ray
actors as in-process, with the workflow code unchanged; sessions are balanced over both LLM actors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import pytest

import ayo_trace as ayo

pytest.importorskip("ray")  # before anything that imports it

from ayo_trace.backend.cluster.ray_engines import RemoteEmbedder, RemoteLLM, RemoteReranker, RemoteStore

from ..examples.conftest import load_example
from .common import default_runtime, reference, run_all
from .scripted import configs

pytestmark = [pytest.mark.ray, pytest.mark.anyio]

NAIVE_QUESTIONS = [
    "How do I copy a file's permission bits?",
    "How do I copy a whole directory tree?",
    "How do I move a file?",
    "How do I find an executable on the PATH?",
]
EXPANSION_QUESTIONS = [
    "How do I make a random token for a password reset link?",
    "How do I match file names against a shell pattern?",
    "How do I compare two secrets in constant time?",
]


@pytest.fixture(scope="module")
async def ray_runtime(ray_cluster: Any) -> AsyncIterator[ayo.Runtime]:
    async with ayo.Runtime(engines=configs(), cluster="ray") as rt:
        yield rt


async def test_engines_are_actors(ray_runtime: ayo.Runtime) -> None:
    engines = ray_runtime.engines
    assert [type(e) for e in engines["llm"]] == [RemoteLLM, RemoteLLM]
    assert [e.name for e in engines["llm"]] == ["llm#0", "llm#1"]
    assert (type(engines["embed"][0]), type(engines["store"][0]), type(engines["rerank"][0])) == (
        RemoteEmbedder,
        RemoteStore,
        RemoteReranker,
    )
    assert len({e.stats()["ray_actor"] for es in engines.values() for e in es}) == 5


async def test_naive_rag_as_actors_equals_in_process(ray_runtime: ayo.Runtime) -> None:
    example: ModuleType = load_example("naive_rag")
    inputs = [{"question": q, "docs": example.SMALL_INPUTS["docs"]} for q in NAIVE_QUESTIONS]
    expected = await reference(example.naive_rag, inputs)

    with default_runtime(ray_runtime):
        got = await run_all(example.naive_rag, inputs)

    assert got == expected
    assert all(isinstance(a, str) and a.strip() for a in expected)
    # the LLM pool balanced the concurrent queries' sessions over both actors
    prefills = [(await e.remote_stats())["calls"].get("prefill", 0) for e in ray_runtime.engines["llm"]]
    assert all(n > 0 for n in prefills), prefills


async def test_query_expansion_as_actors_equals_in_process(ray_runtime: ayo.Runtime) -> None:
    example: ModuleType = load_example("query_expansion")
    inputs = [{"question": q} for q in EXPANSION_QUESTIONS]
    expected = await reference(example.expand_and_answer, inputs, lambda: example.prepare(small=True))

    with default_runtime(ray_runtime):
        await example.prepare(small=True)
        got = await run_all(example.expand_and_answer, inputs)

    assert got == expected
    # decode pipelining: the expansion's searches started from its streamed lines
    graph = example.expand_and_answer.graph(**inputs[0], optimized=True)
    assert any(n.op == "llm_decode" and n.attrs.get("stream") for n in graph.nodes)


async def test_an_engine_asking_more_than_the_cluster_has_is_refused(ray_cluster: Any) -> None:
    greedy = ayo.EngineConfig("llm", kind="llm", backend="scripted", num_cpus=64)

    with pytest.raises(ayo.ConfigError, match=r"engine 'llm': an instance asks for 64 CPUs"):
        async with ayo.Runtime(engines=[greedy], cluster="ray"):
            pass
