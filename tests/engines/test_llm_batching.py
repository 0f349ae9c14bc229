"""Prompts of several requests in shared model calls (``batching``, ``_session_llm``) on the real CPU
engines: prefills of several sessions and likelihood scores.

With batching on (the default) results depend on the batch, so batched results are checked against
the same requests evaluated alone within a tolerance: teacher-forced logits after each prefill (the
next-token distribution every later token depends on), the scores themselves, and the greedy
continuation's first tokens. With batching off, a call of several requests gives bit-equal results
to the requests one by one, and a call of one request is evaluated the same way in both modes.
Tolerances are those of each engine's kernels: transformers (float32, padded batches) stays within
1e-3 of a lone request. llama.cpp's quantized CPU kernels take other paths for a few rows than for
many, and split a batch of sequences into micro-batches with the same number of tokens of each,
which cuts a long sequence into pieces (DESIGN.md): a log-probability moves by up to about 0.25 per
token between a lone request and a batch (measured: 0.24 on " Paris" after the France question,
0.28 over " Gustave Eiffel"), while the likeliest next token and the ranking stay the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import ayo_trace as ayo
from ayo_trace.backend.engines.base import LLMEngine, PrefillRequest, RerankRequest, ScoreRequest
from ayo_trace.backend.engines.likelihood_rerank import LikelihoodReranker
from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine
from ayo_trace.ir.params import SamplingParams

from .sessions import batching, generate
from .test_llm_engines import FRANCE, RAG

pytestmark = [pytest.mark.real, pytest.mark.anyio, pytest.mark.in_process]

# Different lengths (RAG spans three of llama.cpp's 64-token prefill blocks), so every row of a
# batch is padded or blocked differently.
FIRST = [RAG, FRANCE, "The opposite of hot is", "1, 2, 3, 4,"]
MORE = ["\nQuestion: When was it completed?\nAnswer:", " Paris is also", " cold, and the opposite of"]
SCORES = [
    ScoreRequest(RAG, " Gustave Eiffel"),
    ScoreRequest(FRANCE, " Paris"),
    ScoreRequest(FRANCE, " Rome"),
    ScoreRequest("The opposite of hot is", " cold"),
    ScoreRequest("1, 2, 3, 4,", " 5, 6"),
]


def tolerance(engine: LLMEngine) -> float:
    """How far a batched log-probability (per token) may be from the lone request's."""
    return 0.3 if isinstance(engine, LlamaCppEngine) else 1e-3


def logprobs(engine: LLMEngine, name: str) -> np.ndarray:
    """The session's next-token log-probabilities (after its last prefilled token)."""
    held: Any = engine._sessions[name]  # type: ignore[attr-defined]
    assert held.logits is not None
    row = np.array(held.logits, dtype=np.float64)
    shifted = row - row.max()
    return shifted - np.log(np.exp(shifted).sum())


def calls(engine: LLMEngine, kind: str, before: dict[str, Any]) -> int:
    return int(engine.stats()[f"{kind}_model_calls"] - before[f"{kind}_model_calls"])


async def lone_sessions(engine: LLMEngine, sid: Callable[..., str], parts: list[list[str]]) -> list[Any]:
    """For each list of prompt parts, a lone session prefilled part by part with batching off: its
    next-token log-probabilities and its first three greedy tokens (released at once, so the engine's
    few slots suffice)."""
    out = []
    with batching(engine, False):
        for prompt in parts:
            name = sid()
            for part in prompt:
                await engine.prefill([PrefillRequest(name, part)])
            out.append((logprobs(engine, name), await generate(engine, name, SamplingParams(max_tokens=3))))
            await engine.release([name])
    return out


async def test_batched_scores_are_close_to_lone_scores_and_share_model_calls(engine: LLMEngine) -> None:
    with batching(engine, False):
        lone = [(await engine.score([r]))[0] for r in SCORES]
    before = engine.stats()
    batched = await engine.score(SCORES)  # batching is the engines' default
    assert calls(engine, "score", before) < len(SCORES)
    n_tokens = [engine.count_tokens(r.continuation) for r in SCORES]
    for got, want, n in zip(batched, lone, n_tokens, strict=True):
        assert got == pytest.approx(want, abs=tolerance(engine) * n)
    assert batched[1] > batched[2]  # Paris over Rome, as alone


async def test_a_batched_prefill_gives_each_session_the_next_token_of_a_lone_one(
    engine: LLMEngine, sid
) -> None:
    """Four new sessions in one call, then a call mixing three of them (each with its own cached
    prompt of a different length) and a new session: teacher-forced, every session's next token is
    the lone one's and the log-probabilities of the lone session's 5 likeliest tokens are within the
    tolerance; its greedy continuation starts the same."""
    parts = [[first, more] for first, more in zip(FIRST, MORE, strict=False)] + [[FIRST[-1]], [RAG]]
    lone = await lone_sessions(engine, sid, parts)
    together = [sid() for _ in FIRST]
    before = engine.stats()
    await engine.prefill([PrefillRequest(n, p) for n, p in zip(together, FIRST, strict=True)])
    assert calls(engine, "prefill", before) < len(FIRST)  # alone: at least one call each
    late = sid()
    await engine.prefill(
        [PrefillRequest(n, m) for n, m in zip(together, MORE, strict=False)] + [PrefillRequest(late, RAG)]
    )
    for name, (want, continuation) in zip([*together, late], lone, strict=True):
        got = logprobs(engine, name)
        assert int(np.argmax(got)) == int(np.argmax(want))
        top = np.argsort(-want)[:5]
        np.testing.assert_allclose(got[top], want[top], atol=tolerance(engine))
        assert await generate(engine, name, SamplingParams(max_tokens=3)) == continuation


async def test_without_batching_a_call_of_several_prefills_is_bit_exact(engine: LLMEngine, sid) -> None:
    parts = [[first, more] for first, more in zip(FIRST, MORE, strict=False)] + [[FIRST[-1]]]
    lone = await lone_sessions(engine, sid, parts)
    together = [sid() for _ in FIRST]
    with batching(engine, False):
        before = engine.stats()
        await engine.prefill([PrefillRequest(n, p) for n, p in zip(together, FIRST, strict=True)])
        assert calls(engine, "prefill", before) >= len(FIRST)
        await engine.prefill([PrefillRequest(n, m) for n, m in zip(together, MORE, strict=False)])
    for name, (want, _) in zip(together, lone, strict=True):
        assert np.array_equal(logprobs(engine, name), want)


async def test_a_call_of_one_request_is_evaluated_alike_in_both_modes(engine: LLMEngine, sid) -> None:
    on, off = sid(), sid()
    with batching(engine, True):
        for part in (RAG[:200], RAG[200:]):
            await engine.prefill([PrefillRequest(on, part)])
        scored_on = [(await engine.score([r]))[0] for r in SCORES]
    with batching(engine, False):
        for part in (RAG[:200], RAG[200:]):
            await engine.prefill([PrefillRequest(off, part)])
        scored_off = [(await engine.score([r]))[0] for r in SCORES]
    assert np.array_equal(logprobs(engine, on), logprobs(engine, off))
    assert scored_on == scored_off


@pytest.mark.parametrize("on", [False, True], ids=["runtime-unbatched", "runtime-batching"])
async def test_the_runtimes_batching_decides_whether_scores_share_model_calls(
    llama_engine: LlamaCppEngine, on: bool
) -> None:
    """The runtime's ``batching=False`` hands an engine one request per call, so a rerank's scores are
    the exact ones; with batching they reach the engine together and share model calls."""
    query = "Who designed the Eiffel Tower?"
    passages = [RAG, "Paris is the capital of France.", "Bees make honey.", "The Seine flows through Paris."]
    rt = ayo.Runtime(engines=[llama_engine, LikelihoodReranker(llama_engine, name="rerank")], batching=on)
    await rt.start()
    try:
        before = llama_engine.stats()
        hits = await rt.rerank(query, list(passages), top_k=len(passages))
        n_calls = calls(llama_engine, "score", before)
    finally:
        await rt.aclose()
    with batching(llama_engine, False):
        [exact] = await LikelihoodReranker(llama_engine).score([RerankRequest(query, tuple(passages))])
    got = {h.text: h.score for h in hits}
    if on:
        assert n_calls < len(passages)
        assert [got[p] for p in passages] == pytest.approx(exact, abs=tolerance(llama_engine))
    else:
        assert n_calls == len(passages)
        assert [got[p] for p in passages] == exact
    assert hits[0].text == RAG
