"""What the OpenAI-compatible engines do beyond the shared contract (``test_llm_engines`` runs that
on ``OpenAILLM`` too): warming prefixes, scoring through ``echo``/``logprobs``, embeddings, the
refusal of over-long prompts, configuration, and the client's retries, timeouts and concurrency
limit. Real-server tests run on llama-cpp-python's server on localhost (``tests/fixtures/
openai_server.py``); the client-side ones on a scripted server (``fake_openai``).
"""

from __future__ import annotations

import uuid

import anyio
import numpy as np
import pytest

import ayo_trace as ayo
from ayo_trace.backend.config import EngineConfig, build_engine
from ayo_trace.backend.engines.base import DecodeRequest, PrefillRequest, ScoreRequest
from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine
from ayo_trace.backend.engines.openai_embed import OpenAIEmbedder
from ayo_trace.backend.engines.openai_llm import OpenAILLM
from ayo_trace.errors import ConfigError, EngineError, InvalidRequest, Overloaded
from ayo_trace.ir.params import SamplingParams

from .fake_openai import DROPPED, Seen, completion, fake_openai
from .sessions import complete, generate
from .test_llm_engines import FRANCE, RAG

SHORT = "The capital of France is"
TOPICS = ["cats", "dogs", "rain", "sun", "Paris", "Rome", "code", "tea"]

pytestmark = [pytest.mark.anyio]
real = pytest.mark.real


def name(stem: str = "s") -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


# --- on the real server --------------------------------------------------------------------------


@real
async def test_an_ahead_prefill_warms_the_prefix_and_a_plain_one_sends_nothing(openai_llm: OpenAILLM) -> None:
    prefix, rest = RAG[: RAG.index("Question")], RAG[RAG.index("Question") :]
    s = name()
    try:
        before = dict(openai_llm.stats())
        (warmed,) = await openai_llm.prefill([PrefillRequest(s, prefix, ahead=True)])
        after_ahead = openai_llm.stats()
        assert after_ahead["warm_requests"] == before["warm_requests"] + 1
        assert after_ahead["requests"] == before["requests"] + 1
        assert warmed.n_tokens + warmed.n_cached == openai_llm.count_tokens(prefix) + 1  # with BOS
        (plain,) = await openai_llm.prefill([PrefillRequest(s, rest)])
        assert plain.n_tokens == 0 and openai_llm.stats()["requests"] == after_ahead["requests"]
        out = await generate(openai_llm, s, SamplingParams(max_tokens=6, stop=("\n",)))
        assert "Eiffel" in out
    finally:
        await openai_llm.release([s])


@real
async def test_sessions_warming_one_shared_prefix_at_once_send_one_request(openai_llm: OpenAILLM) -> None:
    prefix = f"Task {uuid.uuid4().hex[:6]}: answer in one word.\n"
    names = [name() for _ in range(3)]
    before = dict(openai_llm.stats())
    try:
        async with anyio.create_task_group() as tg:
            for n in names:
                tg.start_soon(openai_llm.prefill, [PrefillRequest(n, prefix, shared=True)])
        stats = openai_llm.stats()
        assert stats["warm_requests"] - before["warm_requests"] == 1
        assert (
            stats["prefix_misses"] - before["prefix_misses"],
            stats["prefix_hits"] - before["prefix_hits"],
        ) == (1, 2)
    finally:
        await openai_llm.release(names)


@real
async def test_scores_match_the_in_process_engine_on_the_same_model(
    openai_llm: OpenAILLM, llama_engine: LlamaCppEngine
) -> None:
    # Short prompts: llama-cpp-python's server sorts the whole vocabulary in Python for every echoed
    # prompt token (about a second each here), which vLLM does not.
    reqs = [ScoreRequest(SHORT, " Paris"), ScoreRequest(SHORT, " London")]
    remote = await openai_llm.score(reqs)
    local = await llama_engine.score(reqs)
    assert remote[0] > remote[1] and all(s < 0 for s in remote)
    # The same GGUF and llama.cpp build; the server evaluates the prompt in one batch, the engine in
    # blocks of 64 tokens, so the sums differ by rounding only.
    assert np.allclose(remote, local, atol=0.3), (remote, local)
    assert await openai_llm.score([ScoreRequest(SHORT, "")]) == [0.0]
    assert openai_llm.stats()["scored_tokens"] >= 2


@real
async def test_an_overlong_prompt_is_refused_before_any_request_with_a_tokenizer(
    openai_llm: OpenAILLM,
) -> None:
    s = name()
    sent = openai_llm.stats()["requests"]
    with pytest.raises(InvalidRequest, match="does not fit the context window"):
        await openai_llm.prefill([PrefillRequest(s, " very" * openai_llm.context_length, ahead=True)])
    assert openai_llm.stats()["requests"] == sent
    assert s not in openai_llm._sessions


@real
async def test_without_a_tokenizer_the_servers_refusal_is_an_invalid_request(openai_server: str) -> None:
    async with OpenAILLM(base_url=openai_server, timeout_s=120) as engine:
        assert not engine.exact_tokens
        assert engine.count_tokens("Paris is nice") >= 3  # an estimate, above the real count
        s, overlong = name(), " very" * 2000
        with pytest.raises(InvalidRequest, match="maximum context length"):
            await engine.prefill([PrefillRequest(s, overlong, ahead=True)])
        assert s not in engine._sessions
        # Sent by the decode instead, llama-cpp-python's server ends the stream at once, empty (or,
        # under load, closes the connection after its answer's headers): the same error either way.
        await engine.prefill([PrefillRequest(s, overlong)])
        ended = r"(ended the stream|closed the connection \(.*\)) without any event"
        with pytest.raises(EngineError, match=ended):
            await engine.decode([DecodeRequest(s, SamplingParams(max_tokens=2))], 4)
        assert (engine.stats()["streams_open"], engine.stats()["requests_in_flight"]) == (0, 0)
        assert await complete(engine, name(), FRANCE, SamplingParams(max_tokens=4, stop=("\n",))) == " Paris"


@real
async def test_embeddings_come_back_in_order_and_match_one_by_one(openai_embedder: OpenAIEmbedder) -> None:
    texts = [f"Sentence number {i} is about {topic}." for i, topic in enumerate(TOPICS)]
    assert openai_embedder.dim == 640
    together = await openai_embedder.embed(texts)  # batch_size=4: two requests, run at once
    alone = [(await openai_embedder.embed([t]))[0] for t in texts]
    # The server computes a batch with other kernels than one text, so the values may differ (on an
    # AMD EPYC by up to 0.25 in a coordinate, a cosine of 0.99997): compare directions. Each text's
    # vector from the batch is, of all the texts' own vectors, nearest its own (the texts are alike:
    # the next nearest is at a cosine of about 0.988), so none came back out of order.
    a, b = np.asarray(together), np.asarray(alone)
    a, b = a / np.linalg.norm(a, axis=1, keepdims=True), b / np.linalg.norm(b, axis=1, keepdims=True)
    cosine = a @ b.T
    assert list(cosine.argmax(axis=1)) == list(range(len(texts)))
    assert cosine.diagonal().min() > 0.999
    assert len({tuple(v[:4]) for v in together}) == len(texts)
    assert await openai_embedder.embed([]) == []


# --- the client side, on a scripted server -------------------------------------------------------


async def test_transient_errors_are_retried_with_backoff() -> None:
    answers = iter([(503, {"error": {"message": "busy"}}), (500, {"error": {"message": "oops"}})])

    def reply(seen: Seen):
        return next(answers, (200, completion()))

    async with (
        fake_openai(reply) as server,
        OpenAILLM(model="fake", base_url=server.url, max_retries=2) as engine,
    ):
        assert await engine.score([ScoreRequest("a", "")]) == [0.0]  # sends nothing
        await engine.prefill([PrefillRequest("s", "Hello", ahead=True)])
        assert len([r for r in server.requests if r.path.endswith("/completions")]) == 3


async def test_an_overload_that_outlasts_the_retries_is_overloaded() -> None:
    async with (
        fake_openai(lambda seen: (429, {"error": {"message": "slow down"}})) as server,
        OpenAILLM(model="fake", base_url=server.url, max_retries=1) as engine,
    ):
        with pytest.raises(Overloaded, match="slow down"):
            await engine.prefill([PrefillRequest("s", "Hello", ahead=True)])
        assert len([r for r in server.requests if r.path.endswith("/completions")]) == 2
        assert "s" not in engine._sessions


async def test_a_server_that_never_answers_times_out() -> None:
    async with (
        fake_openai(lambda seen: None) as server,
        OpenAILLM(model="fake", base_url=server.url, timeout_s=0.3, max_retries=0) as engine,
    ):
        with pytest.raises(EngineError, match="timeout"):
            await engine.prefill([PrefillRequest("s", "Hello", ahead=True)])


async def test_a_stream_closed_before_its_first_event_says_so() -> None:
    # what llama-cpp-python's server does under load with a prompt longer than its context
    async with (
        fake_openai(lambda seen: (200, DROPPED)) as server,
        OpenAILLM(model="fake", base_url=server.url, max_retries=0) as engine,
    ):
        await engine.prefill([PrefillRequest("s", "Hello")])
        with pytest.raises(EngineError, match=r"closed the connection \(.*\) without any event") as caught:
            await engine.decode([DecodeRequest("s", SamplingParams(max_tokens=2))], 4)
        assert "cannot reach" not in str(caught.value)
        assert (engine.stats()["streams_open"], engine.stats()["requests_in_flight"]) == (0, 0)


async def test_requests_in_flight_stay_within_max_concurrency() -> None:
    async with (
        fake_openai(lambda seen: (200, completion()), hold_s=0.05) as server,
        OpenAILLM(model="fake", base_url=server.url, max_concurrency=3) as engine,
    ):
        await engine.prefill([PrefillRequest(f"s{i}", f"Hello {i}", ahead=True) for i in range(12)])
        assert server.peak <= 3
        assert engine.stats()["peak_requests_in_flight"] == 3
        assert engine.max_sessions == 2


async def test_the_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AYO_OPENAI_API_KEY", "sk-ayo")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-other")
    monkeypatch.setenv("MY_KEY", "sk-mine")
    async with fake_openai(lambda seen: (200, completion())) as server:
        for options, key in [
            ({}, "sk-ayo"),
            ({"api_key_env": "MY_KEY"}, "sk-mine"),
            ({"api_key": "sk-x"}, "sk-x"),
        ]:
            async with OpenAILLM(model="fake", base_url=server.url, **options):
                pass
            assert server.requests[-1].headers["authorization"] == f"Bearer {key}"
    with pytest.raises(ConfigError, match="NOT_SET"):
        OpenAILLM(base_url="http://x/v1", api_key_env="NOT_SET")
    monkeypatch.delenv("AYO_OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="base_url"):
        OpenAILLM()
    monkeypatch.setenv("AYO_OPENAI_BASE_URL", "http://from-env/v1")
    assert OpenAILLM().endpoint.base_url == "http://from-env/v1"


def test_backend_openai_builds_an_llm_or_an_embedder_and_nothing_else() -> None:
    llm = build_engine(
        EngineConfig("llm", "llm", backend="openai", model="m", options={"base_url": "http://h/v1"})
    )
    emb = build_engine(
        EngineConfig("embed", "embedding", backend="openai", options={"base_url": "http://h/v1", "dim": 8})
    )
    assert isinstance(llm, OpenAILLM) and llm.endpoint.model == "m"
    assert isinstance(emb, OpenAIEmbedder) and emb.dim == 8
    with pytest.raises(ConfigError, match="openai"):
        EngineConfig("rerank", "rerank", backend="openai")


# --- through the runtime -------------------------------------------------------------------------


# Longer than one 64-token prefill block, so the default cost profile splits it off and warms it.
CAPITALS = "".join(
    f"Question: What is the capital of {c}?\nAnswer: {a}\n"
    for c, a in [("Italy", "Rome"), ("Spain", "Madrid"), ("Germany", "Berlin"), ("Japan", "Tokyo"),
                 ("Egypt", "Cairo"), ("Canada", "Ottawa"), ("Norway", "Oslo")]
)  # fmt: skip


@ayo.workflow
async def capital(country: str) -> str:
    return await ayo.llm(
        f"{CAPITALS}Question: What is the capital of {country}?\nAnswer:",
        max_tokens=4,
        stop="\n",
    )


@real
async def test_a_workflow_warms_its_constant_prefix_on_the_server(openai_llm: OpenAILLM) -> None:
    rt = ayo.Runtime(engines=[openai_llm], batching=False)  # started, not entered: the engine is shared
    await rt.start()
    previous = ayo.Runtime.set_default(rt)
    try:
        warmed = openai_llm.stats()["warm_requests"]
        assert (await capital("France")).strip() == "Paris"
        assert openai_llm.stats()["warm_requests"] == warmed + 1  # split_prefill's constant prefix
        assert openai_llm.stats()["sessions"] == 0
    finally:
        ayo.Runtime.set_default(previous)
        await rt.aclose()
