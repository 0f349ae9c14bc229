"""Workflows traced by the frontend run on the runtime: eager ≡ traced ≡ optimized, streaming of
decoded items into the next stage, and batching of concurrent ``await wf(x)`` calls."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import ayo_trace as ayo
from ayo_trace.backend import BatchPolicy, Runtime
from ayo_trace.backend.interpreter import run_in_order
from ayo_trace.passes import DEFAULT_PASSES, run_passes
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore

from .conftest import respond

pytestmark = pytest.mark.anyio

DOCS = [
    "light scattering makes the sky blue",
    "blue light scatters more than red light",
    "the air is thick near the ground",
    "cats sleep most of the day",
]


@ayo.workflow
async def expand_and_answer(question: str, docs: list[str]) -> str:
    await ayo.ingest(docs, collection="kb")
    queries = await ayo.llm(f"Expand: {question}", parse=ayo.lines, max_tokens=48)
    hits = [await ayo.search(q, collection="kb", top_k=2) for q in queries]
    best = await ayo.rerank(question, [h for per_query in hits for h in per_query], top_k=2)
    context = "\n".join(h.text for h in best)
    return await ayo.llm(f"Context:\n{context}\nQuestion: {question}\nAnswer:", max_tokens=16)


@ayo.workflow
async def grow(text: str) -> str:
    while len(text) < 60:
        text = text + await ayo.llm(f"Continue: {text}", max_tokens=4)
    return text


def engines(decode_s: float = 0.0) -> list[Any]:
    return [
        ScriptedLLM("llm", respond, decode_s_per_step=decode_s),
        ScriptedEmbedder("embed"),
        ScriptedStore("store"),
        ScriptedReranker("rerank"),
    ]


async def in_fresh_runtime(fn: Any, **kwargs: Any) -> Any:
    async with Runtime(engines=engines(), batching=False, **kwargs) as rt:
        return await fn(rt)


@pytest.mark.parametrize("wf, args", [(expand_and_answer, ("why is the sky blue?", DOCS)), (grow, ("go",))])
async def test_eager_traced_and_optimized_agree(wf: Any, args: tuple[Any, ...]) -> None:
    traced = wf.graph(*args)
    names = [n.attrs["name"] for n in traced.inputs]
    inputs = dict(zip(names, args, strict=True))
    eager = await in_fresh_runtime(lambda rt: wf.eager(*args))
    assert await in_fresh_runtime(lambda rt: run_in_order(rt, traced, inputs)) == eager
    assert await in_fresh_runtime(lambda rt: rt.run(traced, inputs)) == eager
    optimized = run_passes(traced, DEFAULT_PASSES)
    assert await in_fresh_runtime(lambda rt: rt.run(optimized, inputs)) == eager
    assert await in_fresh_runtime(lambda rt: wf(*args)) == eager


async def test_the_optimized_graph_streams_decoded_queries_into_their_searches() -> None:
    graph = expand_and_answer.graph("why is the sky blue?", DOCS, optimized=True)
    decode = next(n for n in graph.walk() if n.op == "llm_decode" and n.attrs.get("stream"))
    consumer = next(u for u in decode.users if u.op == "map")
    assert consumer.attrs["stream_args"] == (0,)
    async with Runtime(engines=engines(decode_s=0.01), batching=False, decode_steps=2) as rt:
        await expand_and_answer("why is the sky blue?", DOCS)
        events = rt.timeline().events
    producer = next(e for e in events if e.get("name") == decode.name and e["ph"] == "X")
    first_search = min(
        e["ts"]
        for e in events
        if e["ph"] == "X" and e["args"].get("scope", "").endswith(f"{consumer.name}[0]")
    )
    assert first_search < producer["ts"] + producer["dur"]


async def test_concurrent_workflow_calls_batch_on_the_default_runtime(default_runtime_slot: None) -> None:
    rt = Runtime(engines=engines(decode_s=0.001), batch=BatchPolicy(max_batch=32, max_wait_s=0.005))
    Runtime.set_default(rt)
    questions = [f"question {i}" for i in range(32)]
    out: list[Any] = [None] * len(questions)

    async def one(i: int) -> None:
        out[i] = await expand_and_answer(questions[i], DOCS)

    async with anyio.create_task_group() as tg:
        for i in range(len(questions)):
            tg.start_soon(one, i)
    reference = [
        await in_fresh_runtime(lambda r, q=q: expand_and_answer.eager(q, DOCS)) for q in questions[:4]
    ]
    assert out[:4] == reference
    stats = rt.stats()
    assert stats["queries"] == 32 and stats["failures"] == 0
    assert stats["engines"]["llm"]["max_batch"] >= 8
    assert stats["engines"]["store"]["max_batch"] >= 8
    [llm] = rt.engines["llm"]
    assert isinstance(llm, ScriptedLLM) and llm.sessions == {}
    await rt.aclose()
