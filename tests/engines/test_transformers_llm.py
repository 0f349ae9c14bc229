"""What only the transformers engine does: batched decode steps over left-padded caches, the output
projection taken as ``weight @ x.T``, and the converted model's directory."""

from __future__ import annotations

import functools
import uuid

import pytest
import torch

from ayo_trace.backend.engines.base import DecodeRequest, PrefillRequest
from ayo_trace.backend.engines.models import default_gguf_path
from ayo_trace.backend.engines.transformers_llm import TransformersEngine, _tall_projection
from ayo_trace.errors import EngineError
from ayo_trace.ir.params import SamplingParams

pytestmark = [pytest.mark.real, pytest.mark.anyio]

# Different lengths, so each row of a batch is padded differently; greedy continuations that were
# checked to be the same alone and batched for 16 tokens.
PROMPTS = [
    "The capital of France is",
    "Context: The Eiffel tower is in Paris, built in 1889 by Gustave Eiffel for the world fair.\n"
    "Question: When was the tower built?\nAnswer:",
    "1, 2, 3, 4,",
]


def _layers(engine: TransformersEngine, name: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
    cache = engine._sessions[name].cache
    return [(layer.keys, layer.values) for layer in cache.layers]


async def test_a_batched_decode_leaves_each_session_the_cache_of_a_lone_one(
    transformers_engine: TransformersEngine,
) -> None:
    """Sessions leave the batch at different steps (their ``max_tokens`` differ), and each ends with
    the tokens and, up to rounding, the cache it would have had decoding alone: no padding left in
    it, every position where it belongs."""
    engine = transformers_engine
    tag = uuid.uuid4().hex[:6]
    wants = [SamplingParams(max_tokens=n) for n in (3, 9, 6)]
    batch = [f"batch{i}-{tag}" for i in range(len(PROMPTS))]
    alone = [f"alone{i}-{tag}" for i in range(len(PROMPTS))]
    try:
        await engine.prefill([PrefillRequest(n, p) for n, p in zip(batch, PROMPTS, strict=True)])
        chunks = await engine.decode([DecodeRequest(n, w) for n, w in zip(batch, wants, strict=True)], 9)
        for name, prompt, want, chunk in zip(alone, PROMPTS, wants, chunks, strict=True):
            await engine.prefill([PrefillRequest(name, prompt)])
            (single,) = await engine.decode([DecodeRequest(name, want)], 9)
            assert (chunk.text, chunk.n_tokens, chunk.done) == (single.text, single.n_tokens, single.done)
        for b, a in zip(batch, alone, strict=True):
            assert engine._sessions[b].tokens == engine._sessions[a].tokens
            for (bk, bv), (ak, av) in zip(_layers(engine, b), _layers(engine, a), strict=True):
                assert bk.shape == ak.shape and bv.shape == av.shape
                torch.testing.assert_close(bk, ak, atol=1e-3, rtol=1e-3)
                torch.testing.assert_close(bv, av, atol=1e-3, rtol=1e-3)
        # and they go on from there: one more prompt part and a decode, batched again
        await engine.prefill([PrefillRequest(n, "\n\nAnother one:") for n in batch[:2]])
        more = await engine.decode([DecodeRequest(n, SamplingParams(max_tokens=4)) for n in batch[:2]], 4)
        assert all(c.n_tokens == 4 and c.text for c in more)
    finally:
        await engine.release(batch + alone)


async def test_the_output_projection_takes_the_tall_product(transformers_engine: TransformersEngine) -> None:
    head = transformers_engine._model.get_output_embeddings()
    assert isinstance(head.forward, functools.partial) and head.forward.func is _tall_projection
    torch.manual_seed(0)
    for rows in (1, 3, 40):  # 40: past the threshold, plain linear
        x = torch.randn(1, rows, head.weight.shape[1])
        expected = torch.nn.functional.linear(x, head.weight, head.bias)
        torch.testing.assert_close(head(x), expected, atol=1e-4, rtol=1e-4)


async def test_model_dir_is_the_cached_conversion(transformers_engine: TransformersEngine) -> None:
    assert (transformers_engine.model_dir / "config.json").is_file()
    with pytest.raises(EngineError, match="not started"):
        _ = TransformersEngine(gguf_file=default_gguf_path()).model_dir
