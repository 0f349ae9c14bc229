"""The runtime on trio, anyio's other backend: the same workflows give the same answers, concurrent
queries still batch, a deadline still cancels one query and leaves the runtime serving, and the CPU
engines that run in worker threads (llama.cpp here) work. The engines tied to asyncio (the pgvector
store's psycopg pool, vLLM's ``AsyncLLM``) refuse to start there with a clear error."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import ayo_trace as ayo
from ayo_trace.backend import BatchPolicy, Runtime
from ayo_trace.backend.engines.pgvector_store import PgVectorStore
from ayo_trace.backend.engines.vllm_llm import VLLMEngine
from ayo_trace.errors import ConfigError, QueryTimeout
from ayo_trace.testing import ScriptedLLM
from tests.util import run_in_new_loop

from .test_workflows import DOCS, engines, expand_and_answer

pytest.importorskip("trio", reason="trio is in the 'dev' extra")


@ayo.workflow
async def capital(country: str) -> str:
    return await ayo.llm(f"Question: What is the capital of {country}?\nAnswer:", max_tokens=4, stop=["\n"])


async def answer_many(n: int) -> tuple[list[Any], dict[str, Any]]:
    async with Runtime(
        engines=engines(decode_s=0.001), batch=BatchPolicy(max_batch=16, max_wait_s=0.005)
    ) as rt:
        out: list[Any] = [None] * n

        async def one(i: int) -> None:
            out[i] = await expand_and_answer(f"question {i}", DOCS)

        async with anyio.create_task_group() as tg:
            for i in range(n):
                tg.start_soon(one, i)
        return out, rt.stats()


def test_workflows_answer_the_same_and_batch_on_trio() -> None:
    on_trio, stats = run_in_new_loop(answer_many, 8, backend="trio")
    on_asyncio, _ = run_in_new_loop(answer_many, 8)
    assert on_trio == on_asyncio and all(on_trio)
    llm = stats["engines"]["llm"]
    assert llm["max_batch"] > 1, llm  # concurrent queries shared engine calls


async def deadline_then_serve() -> tuple[type[BaseException], str]:
    said = ["word " * 200]
    slow = ScriptedLLM("llm", lambda p: said[0], decode_s_per_step=0.1)
    async with Runtime(engines=[slow], batching=False) as rt:
        graph = capital.graph("France")
        try:
            await rt.run(graph, {"country": "France"}, deadline_s=0.15)
        except QueryTimeout as exc:
            caught: type[BaseException] = type(exc)
        said[0] = " Paris\n"
        return caught, await rt.run(graph, {"country": "France"})


def test_a_deadline_cancels_one_query_and_the_runtime_serves_the_next_on_trio() -> None:
    caught, answer = run_in_new_loop(deadline_then_serve, backend="trio")
    assert caught is QueryTimeout
    assert answer.strip() == "Paris"


@pytest.mark.real
def test_llama_cpp_answers_on_trio() -> None:
    from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine

    async def main() -> str:
        llm = LlamaCppEngine("llm", n_ctx=256, n_seq_max=2, threads=2)
        async with Runtime(engines=[llm], own_engines=True):
            return str(await capital("France"))

    assert run_in_new_loop(main, backend="trio").strip() == "Paris"


@pytest.mark.parametrize(
    "engine, needs",
    [
        (PgVectorStore("store", dsn="postgresql://nowhere/none"), "psycopg"),
        (VLLMEngine("llm", "m"), "AsyncLLM"),
    ],
)
def test_asyncio_only_engines_refuse_trio_clearly(engine: Any, needs: str) -> None:
    async def start() -> None:
        await engine.start()

    with pytest.raises(ConfigError, match=rf"needs the asyncio backend.*{needs}"):
        run_in_new_loop(start, backend="trio")
