"""The scripted engines keep the engine protocol (base.py) exactly: the runtime tests rely on it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ayo_trace.backend.engines.base import DecodeRequest, PrefillRequest, Vector
from ayo_trace.errors import InvalidRequest
from ayo_trace.ir import SamplingParams
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore, tokenize
from tests.util import run_in_new_loop

pytestmark = pytest.mark.anyio

COMPLETION = " Paris is the capital of France.\nIt is large.\nEND"


async def generate(llm: ScriptedLLM, session: str, params: SamplingParams, steps: int = 1) -> tuple[str, str]:
    text = ""
    while True:
        [chunk] = await llm.decode([DecodeRequest(session, params)], steps)
        text += chunk.text
        if chunk.done:
            assert chunk.finish_reason is not None
            return text, chunk.finish_reason


@settings(max_examples=60, deadline=None)
@given(prompt=st.text(min_size=1, max_size=40), cut=st.integers(0, 40), steps=st.integers(1, 5))
def test_a_session_depends_only_on_its_concatenated_text(prompt: str, cut: int, steps: int) -> None:
    async def run() -> tuple[str, str]:
        llm = ScriptedLLM()
        await llm.prefill([PrefillRequest("whole", prompt)])
        await llm.prefill([PrefillRequest("split", prompt[:cut])])
        await llm.prefill([PrefillRequest("split", prompt[cut:])])
        params = SamplingParams(max_tokens=8)
        return (await generate(llm, "whole", params, steps))[0], (
            await generate(llm, "split", params, steps)
        )[0]

    whole, split = run_in_new_loop(run)
    assert whole == split


@pytest.mark.parametrize("steps", [1, 2, 7])
@pytest.mark.parametrize(
    ("stop", "expected"),
    [
        (("\n",), " Paris is the capital of France."),
        (("capital",), " Paris is the "),
        (("e c",), " Paris is th"),
        (("nowhere",), COMPLETION),
    ],
)
async def test_stop_strings_are_never_shown(steps: int, stop: tuple[str, ...], expected: str) -> None:
    llm = ScriptedLLM(respond=lambda p: COMPLETION)
    await llm.prefill([PrefillRequest("s", "Q")])
    text, reason = await generate(llm, "s", SamplingParams(max_tokens=64, stop=stop), steps)
    assert (text, reason) == (expected, "stop")


async def test_max_tokens_ends_with_length() -> None:
    llm = ScriptedLLM(respond=lambda p: COMPLETION)
    await llm.prefill([PrefillRequest("s", "Q")])
    text, reason = await generate(llm, "s", SamplingParams(max_tokens=3), 2)
    assert (text, reason) == ("".join(tokenize(COMPLETION)[:3]), "length")


async def test_release_frees_sessions_and_ignores_unknown_names() -> None:
    llm = ScriptedLLM()
    await llm.prefill([PrefillRequest("a", "x"), PrefillRequest("b", "y")])
    await llm.release(["a", "nope"])
    assert list(llm.sessions) == ["b"]


async def test_a_prompt_past_the_context_is_invalid_and_leaves_the_session() -> None:
    llm = ScriptedLLM(context_length=4)
    await llm.prefill([PrefillRequest("s", "one two")])
    with pytest.raises(InvalidRequest):
        await llm.prefill([PrefillRequest("s", " three four five")])
    assert llm.sessions["s"] == "one two"


async def test_a_decode_batch_costs_less_than_its_requests_alone() -> None:
    llm = ScriptedLLM(respond=lambda p: " a b c d", decode_s_per_step=0.02)
    sessions = [f"s{i}" for i in range(4)]
    await llm.prefill([PrefillRequest(s, "q") for s in sessions])
    t = time.monotonic()
    await llm.decode([DecodeRequest(s, SamplingParams()) for s in sessions], 1)
    batched = time.monotonic() - t
    t = time.monotonic()
    for s in sessions:
        await llm.decode([DecodeRequest(s, SamplingParams())], 1)
    alone = time.monotonic() - t
    assert batched < 0.6 * alone
    assert llm.batch_sizes["decode"] == [4, 1, 1, 1, 1]


async def test_scores_are_deterministic_and_favour_overlap() -> None:
    llm, reranker = ScriptedLLM(), ScriptedReranker()
    from ayo_trace.backend.engines.base import RerankRequest, ScoreRequest

    a, b = await llm.score(
        [ScoreRequest("cats sleep a lot", "cats sleep"), ScoreRequest("dogs bark", "cats")]
    )
    assert a > b
    [[x, y]] = await reranker.score([RerankRequest("where do cats sleep", ("cats sleep here", "dogs bark"))])
    assert x > y


async def test_embeddings_are_deterministic_unit_vectors() -> None:
    emb = ScriptedEmbedder(dim=16)
    v1, v2, v3 = await emb.embed(["red apples", "red apples", "green trains"])
    assert v1 == v2 and v1 != v3
    assert sum(x * x for x in v1) == pytest.approx(1.0)


async def test_store_dedupes_by_text_and_searches_by_cosine() -> None:
    emb, store = ScriptedEmbedder(), ScriptedStore()
    texts = ["paris is in france", "berlin is in germany", "paris is in france"]
    assert await store.insert("kb", texts, await emb.embed(texts)) == 2
    assert await store.insert("kb", texts[:1], await emb.embed(texts[:1])) == 0
    [hits] = await store.search("kb", await emb.embed(["where is paris"]), 1)
    assert [h.text for h in hits] == ["paris is in france"]
    assert await store.count("kb") == 2


async def test_store_ranks_by_similarity_then_by_row_id() -> None:
    store = ScriptedStore()
    texts = ["far", "near b", "near a", "mid", "near c"]
    vectors = [[0.0, 1.0], [1.0, 0.0], [2.0, 0.0], [1.0, 1.0], [3.0, 0.0]]  # the three near ones tie
    await store.insert("kb", texts, vectors)
    [hits] = await store.search("kb", [[1.0, 0.0]], 4)
    assert [h.text for h in hits] == ["near b", "near a", "near c", "mid"]  # ties in insertion order
    assert [h.id for h in hits[:3]] == sorted(h.id for h in hits[:3])
    [everything] = await store.search("kb", [[1.0, 0.0]], 10)
    assert len(everything) == 5 and everything[-1].text == "far"


async def test_insert_stream_is_all_or_nothing() -> None:
    emb, store = ScriptedEmbedder(), ScriptedStore()

    async def failing() -> AsyncIterator[tuple[Sequence[str], Sequence[Vector]]]:
        yield ["a"], await emb.embed(["a"])
        raise RuntimeError("upstream failed")

    with pytest.raises(RuntimeError):
        await store.insert_stream("kb", failing())
    assert await store.count("kb") == 0

    async def chunks() -> AsyncIterator[tuple[Sequence[str], Sequence[Vector]]]:
        for t in (["a", "b"], ["c"]):
            yield t, await emb.embed(t)

    assert await store.insert_stream("kb", chunks()) == 3
    assert store.transactions == 1
