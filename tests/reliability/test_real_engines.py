"""Poisoned requests among concurrent queries on the real engines, batching on (the default): the
MiniLM embedder and llama.cpp. Text that is not valid Unicode and non-finite sampling parameters
are refused where they are made, before any batch; every other query answers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ayo_trace as ayo
from ayo_trace.backend import BatchPolicy, Runtime
from ayo_trace.backend.engines.base import DecodeRequest, PrefillRequest
from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine
from ayo_trace.backend.engines.sentence_transformers import SentenceTransformerEmbedder
from ayo_trace.backend.engines.transformers_llm import TransformersEngine

from ..runtime import graphs as G
from .poison import outcomes

pytestmark = [pytest.mark.real, pytest.mark.anyio]

POLICY = BatchPolicy(max_batch=16, max_wait_s=0.05)
SURROGATE = "a question with a lone surrogate \ud800 in it"


async def test_a_surrogate_among_minilm_embeds_fails_alone(embedder: SentenceTransformerEmbedder) -> None:
    texts = [f"passage number {i} about cats" for i in range(8)]
    texts[3] = SURROGATE
    async with Runtime(engines=[embedder], batch=POLICY) as rt:
        got = await outcomes([lambda t=t: rt.embed([t]) for t in texts])
    bad = got[3]
    assert isinstance(bad, ayo.InvalidParams) and "surrogate" in str(bad), repr(bad)
    alone = [await embedder.embed([t]) for i, t in enumerate(texts) if i != 3]
    for want, vectors in zip(alone, [g for i, g in enumerate(got) if i != 3], strict=True):
        assert np.allclose(vectors, want, atol=1e-5)


async def test_a_surrogate_in_a_traced_embed_names_its_node(embedder: SentenceTransformerEmbedder) -> None:
    g = ayo.Graph("embed")
    q = g.add("input", attrs={"name": "q"}, name="q")
    v = g.add("embed", [q], {"engine": None}, loc=G.loc(), name="vec")
    g.add("output", [v], loc=G.loc())
    async with Runtime(engines=[embedder], batch=POLICY) as rt:
        got = await outcomes([lambda t=t: rt.run(g, {"q": t}) for t in ["fine", SURROGATE, "also fine"]])
    assert isinstance(got[1], ayo.InvalidParams) and got[1].node == "vec"
    assert "node %vec (graphs.py:" in str(got[1])
    assert isinstance(got[0], list) and isinstance(got[2], list)


@pytest.mark.slow
async def test_a_surrogate_and_a_nan_temperature_among_llama_cpp_queries_fail_alone() -> None:
    engine = LlamaCppEngine("llm", n_ctx=512, n_seq_max=8, threads=2)
    questions = [f"What is {i} plus {i}?" for i in range(6)]
    questions[2] = SURROGATE
    async with Runtime(engines=[engine], batch=POLICY, own_engines=True, progress=False) as rt:
        got = await outcomes(
            [lambda q=q: rt.run(G.unsplit_prompt(), {"question": q}) for q in questions]
            + [lambda: rt.llm("Q: 1 plus 1?\nA:", ayo.SamplingParams(temperature=float("nan")))]
        )
        sessions_left = engine.stats()["sessions"]
    assert isinstance(got[2], ayo.InvalidParams) and got[2].node == "answer", repr(got[2])
    assert all(isinstance(got[i], str) and got[i] for i in (0, 1, 3, 4, 5)), got
    assert isinstance(got[6], ayo.InvalidParams) and got[6].param == "temperature"
    assert sessions_left == 0


@pytest.mark.slow
async def test_a_surrogate_among_transformers_queries_fails_alone(
    transformers_engine: TransformersEngine,
) -> None:
    questions = [f"What is {i} plus {i}?" for i in range(4)]
    questions[1] = SURROGATE
    async with Runtime(engines=[transformers_engine], batch=POLICY, progress=False) as rt:
        got = await outcomes([lambda q=q: rt.run(G.unsplit_prompt(), {"question": q}) for q in questions])
    assert isinstance(got[1], ayo.InvalidParams) and got[1].node == "answer", repr(got[1])
    assert all(isinstance(got[i], str) and got[i] for i in (0, 2, 3)), got
    assert transformers_engine.stats()["sessions"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("batching", [False, True])
async def test_a_transformers_prefill_batch_that_fails_midway_leaves_every_session_as_it_was(
    transformers_engine: TransformersEngine, monkeypatch: pytest.MonkeyPatch, batching: bool
) -> None:
    # The scheduler re-runs a failed batch in halves: a session prefilled before the failure must
    # not keep its new text, or the re-run would append it twice. Unbatched, the innocent session is
    # computed before the poisoned one fails; batched, they share the one model call that fails.
    engine = transformers_engine
    forward, stacked = engine._forward, engine._prefill_stacked

    def failing(s: Any, tokens: list[int]) -> Any:
        if s.name.startswith("poisoned"):
            raise RuntimeError("the device failed")
        return forward(s, tokens)

    def failing_stacked(group: list[Any]) -> None:
        if any(s.name.startswith("poisoned") for s, _ in group):
            raise RuntimeError("the device failed")
        stacked(group)

    prompt = "Question: What is the capital of France?\nAnswer:"
    params = ayo.SamplingParams(max_tokens=6)
    try:
        monkeypatch.setattr(engine, "batching", batching)
        monkeypatch.setattr(engine, "_forward", failing)
        monkeypatch.setattr(engine, "_prefill_stacked", failing_stacked)
        with pytest.raises(RuntimeError):
            await engine.prefill([PrefillRequest("innocent", prompt), PrefillRequest("poisoned", prompt)])
        monkeypatch.undo()
        await engine.prefill([PrefillRequest("innocent", prompt)])  # the re-run
        await engine.prefill([PrefillRequest("fresh", prompt)])
        got = await decode_to_end(engine, "innocent", params)
        want = await decode_to_end(engine, "fresh", params)
    finally:
        await engine.release(["innocent", "poisoned", "fresh"])
    assert got == want


async def decode_to_end(engine: Any, session: str, params: ayo.SamplingParams) -> str:
    text = ""
    while True:
        (chunk,) = await engine.decode([DecodeRequest(session, params)], 4)
        text += chunk.text
        if chunk.done:
            return text
