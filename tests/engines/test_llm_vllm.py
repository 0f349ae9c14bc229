"""VLLMEngine on a GPU: split prefill through vLLM's prefix cache, delta streaming, abort on release.

Skipped unless vLLM imports, CUDA is available and ``AYO_VLLM_MODEL`` names a local Hugging Face model
directory (nothing is downloaded). CI machines have neither vLLM nor a GPU.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import anyio
import pytest

from ayo_trace.backend.engines.base import DecodeRequest, PrefillRequest, ScoreRequest
from ayo_trace.ir.params import SamplingParams

vllm = pytest.importorskip("vllm", reason="vLLM is not installed (optional extra 'vllm')")
torch = pytest.importorskip("torch")
if not torch.cuda.is_available():
    pytest.skip("vLLM tests need a CUDA GPU", allow_module_level=True)
MODEL = os.environ.get("AYO_VLLM_MODEL")
if not MODEL:
    pytest.skip("set AYO_VLLM_MODEL to a local Hugging Face model directory", allow_module_level=True)

from ayo_trace.backend.engines.vllm_llm import VLLMEngine  # noqa: E402

pytestmark = [pytest.mark.real, pytest.mark.gpu, pytest.mark.anyio]

RAG = (
    "Context: The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris. It was "
    "designed by the company of Gustave Eiffel and completed in 1889 as the entrance arch to the "
    "World's Fair, and it has become a global cultural icon of France.\n"
    "Question: Who designed the Eiffel Tower?\nAnswer:"
)


@pytest.fixture(scope="session")
async def vllm_engine() -> AsyncIterator[VLLMEngine]:
    async with VLLMEngine(model=MODEL, max_model_len=2048, gpu_memory_utilization=0.3) as engine:
        yield engine


async def generate(engine: VLLMEngine, session: str, params: SamplingParams, step: int = 64) -> str:
    text = ""
    while True:
        (chunk,) = await engine.decode([DecodeRequest(session, params)], step)
        text += chunk.text
        if chunk.done:
            return text


async def test_split_prefill_hits_the_prefix_cache_and_matches_one_prefill(vllm_engine) -> None:
    params = SamplingParams(max_tokens=12)
    await vllm_engine.prefill([PrefillRequest("full", RAG)])
    full = await generate(vllm_engine, "full", params)
    cut = RAG.index("Question")
    (first,) = await vllm_engine.prefill([PrefillRequest("split", RAG[:cut])])
    (second,) = await vllm_engine.prefill([PrefillRequest("split", RAG[cut:])])
    assert second.n_cached >= 16, "the context's full blocks must come from the prefix cache"
    assert first.n_tokens + second.n_tokens < 2 * vllm_engine.count_tokens(RAG)
    assert await generate(vllm_engine, "split", params, step=3) == full
    assert vllm_engine.stats()["prompt_tokens_cached"] >= second.n_cached
    await vllm_engine.release(["full", "split"])


async def test_streamed_deltas_equal_one_call(vllm_engine) -> None:
    params = SamplingParams(max_tokens=20, stop=("\n\n",))
    await vllm_engine.prefill([PrefillRequest("a", RAG), PrefillRequest("b", RAG)])
    whole = await generate(vllm_engine, "a", params)
    assert await generate(vllm_engine, "b", params, step=1) == whole
    assert "\n\n" not in whole
    await vllm_engine.release(["a", "b"])


async def test_release_aborts_an_in_flight_decode(vllm_engine) -> None:
    await vllm_engine.prefill([PrefillRequest("long", "Once upon a time")])
    chunks = []

    async def run() -> None:
        chunks.extend(
            await vllm_engine.decode([DecodeRequest("long", SamplingParams(max_tokens=1500))], 1500)
        )

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        await anyio.sleep(0.3)
        await vllm_engine.release(["long"])
    (chunk,) = chunks
    assert chunk.done and chunk.n_tokens < 1500
    assert vllm_engine.stats()["sessions"] == 0


async def test_score_sums_continuation_logprobs(vllm_engine) -> None:
    good, bad = await vllm_engine.score(
        [ScoreRequest(RAG, " Gustave Eiffel"), ScoreRequest(RAG, " Napoleon")]
    )
    assert good > bad
