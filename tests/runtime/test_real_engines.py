"""The runtime on the real engines: continuous batching on llama.cpp, and the default runtime (no
``async with``) serving a traced RAG workflow across two event loops with llama.cpp, the MiniLM
embedder and an embedded pgvector store (restarted in the second loop: its pool is loop-bound)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

import ayo_trace as ayo
from ayo_trace.backend import BatchPolicy, EngineConfig, Runtime, current_runtime
from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine
from ayo_trace.backend.engines.models import default_gguf_path
from ayo_trace.backend.engines.transformers_llm import TransformersEngine
from tests.util import run_in_new_loop

from . import graphs as G

pytestmark = [pytest.mark.real, pytest.mark.slow]

DOCS = ["Paris is the capital of France.", "Berlin is the capital of Germany.", "Cats sleep a lot."]


@ayo.workflow
async def rag(question: str, docs: list[str]) -> str:
    await ayo.ingest(docs, collection="runtime_smoke")
    hits = await ayo.search(question, collection="runtime_smoke", top_k=2)
    best = await ayo.rerank(question, hits, top_k=1)
    return await ayo.llm(f"Context: {best[0].text}\nQuestion: {question}\nAnswer:", max_tokens=8, stop="\n")


@pytest.mark.anyio
async def test_concurrent_queries_decode_together_on_llama_cpp() -> None:
    llama_engine = LlamaCppEngine("llm", n_ctx=1024, n_seq_max=8, threads=2)
    policy = BatchPolicy(max_batch=8, max_wait_s=0.01)
    async with Runtime(engines=[llama_engine], batch=policy, own_engines=True, progress=False) as rt:
        out: list[Any] = [None] * 6

        async def one(i: int) -> None:
            out[i] = await rt.run(G.unsplit_prompt(), {"question": f"What is {i} plus {i}?"})

        async with anyio.create_task_group() as tg:
            for i in range(6):
                tg.start_soon(one, i)
        llm = rt.stats()["engines"]["llm"]
        sessions_left = llama_engine.stats().get("sessions", 0)
    assert all(isinstance(o, str) and o for o in out)
    assert llm["max_batch"] >= 3  # prefills and decode rounds served several queries at once
    assert sessions_left == 0


@ayo.workflow
async def two_sessions(question: str) -> str:
    """Two LLM calls with constant prompt heads: the optimized graph opens both sessions ahead."""
    topic = await ayo.llm(
        f"Name the topic of this question in one word.\nQuestion: {question}\nTopic:", max_tokens=2
    )
    return await ayo.llm(f"Answer briefly.\nTopic: {topic}\nQuestion: {question}\nAnswer:", max_tokens=2)


@pytest.mark.anyio
async def test_a_burst_past_the_transformers_session_limit_waits_instead_of_failing() -> None:
    """Six queries of two sessions each on an engine that holds four: the runtime admits sessions
    below the engine's ``max_sessions`` and the rest wait for a slot (no ``Overloaded``)."""
    llm = TransformersEngine("llm", gguf_file=default_gguf_path(), threads=2, max_sessions=4, max_context=512)
    assert llm.max_sessions == 4
    async with Runtime(engines=[llm], own_engines=True, progress=False):
        out: list[Any] = [None] * 6

        async def one(i: int) -> None:
            out[i] = await two_sessions(f"What is {i} plus {i}?")

        async with anyio.create_task_group() as tg:
            for i in range(6):
                tg.start_soon(one, i)
        assert llm.stats()["sessions"] == 0
    assert all(isinstance(o, str) for o in out)


def test_the_default_runtime_serves_a_workflow_in_two_event_loops(
    fresh_pg_data_dir: Path, default_runtime_slot: None
) -> None:
    Runtime.set_default(
        Runtime(
            engines=[
                EngineConfig("llm", "llm", "llama_cpp", threads=2, options={"n_ctx": 1024, "n_seq_max": 4}),
                EngineConfig("embed", "embedding", "sentence_transformers", threads=2),
                EngineConfig("store", "vector_store", "pgvector", data_dir=str(fresh_pg_data_dir)),
                EngineConfig("rerank", "rerank", "likelihood", options={"llm": "llm"}),
            ],
            progress=False,
        )
    )

    async def ask() -> str:
        return str(await rag("What is the capital of France?", DOCS))

    first = run_in_new_loop(ask)
    second = run_in_new_loop(ask)
    assert first == second and "Paris" in first

    async def close() -> dict[str, Any]:
        rt = current_runtime()
        assert rt is not None
        stats = rt.stats()
        await rt.aclose()
        return stats

    stats = run_in_new_loop(close)
    assert stats["queries"] == 2 and stats["failures"] == 0
    # the ingest runs whole: it asks which passages the collection holds, then inserts the others
    assert stats["engines"]["store"]["requests"] == {"held": 2, "insert": 2, "search": 2}
