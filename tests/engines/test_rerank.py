"""Rerankers: the UPR likelihood reranker (on a scripted LLM and on llama.cpp) and the cross-encoder."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import anyio
import numpy as np
import pytest

from ayo_trace.backend.engines.base import (
    DecodeChunk,
    DecodeRequest,
    LLMEngine,
    PrefillRequest,
    PrefillResult,
    RerankRequest,
    ScoreRequest,
)
from ayo_trace.backend.engines.likelihood_rerank import DEFAULT_TEMPLATE, LikelihoodReranker
from ayo_trace.backend.engines.sentence_transformers import CrossEncoderReranker, default_embedding_model
from ayo_trace.errors import ConfigError, InvalidRequest

pytestmark = pytest.mark.anyio


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


class ScriptedLLM(LLMEngine):
    """A scripted stand-in for an LLM: one token per word, and a question word costs log-probability
    -1 when the passage contains it and -4 when it does not. Records every ``score`` batch."""

    def __init__(self, context_length: int = 512) -> None:
        super().__init__("scripted")
        self._context_length = context_length
        self.batches: list[list[ScoreRequest]] = []

    @property
    def context_length(self) -> int:
        return self._context_length

    def count_tokens(self, text: str) -> int:
        return len(words(text))

    async def score(self, batch: Sequence[ScoreRequest]) -> list[float]:
        self.batches.append(list(batch))
        for r in batch:
            assert 1 + self.count_tokens(r.context) + self.count_tokens(r.continuation) <= self.context_length
        return [
            sum(-1.0 if w in set(words(r.context)) else -4.0 for w in words(r.continuation)) for r in batch
        ]

    async def prefill(self, batch: Sequence[PrefillRequest]) -> list[PrefillResult]:
        raise AssertionError("the reranker only scores")

    async def decode(self, batch: Sequence[DecodeRequest], max_steps: int) -> list[DecodeChunk]:
        raise AssertionError("the reranker only scores")

    async def release(self, sessions: Sequence[str]) -> None:
        raise AssertionError("the reranker only scores")


CASES = [
    RerankRequest(
        "What is the capital of France?",
        (
            "Photosynthesis converts light energy into chemical energy in green plants.",
            "Paris is the capital and the largest city of France, on the river Seine.",
            "The Pacific is the largest and deepest of the Earth's oceans.",
        ),
    ),
    RerankRequest(
        "How many legs does a spider have?",
        (
            "Spiders are arachnids: they have eight legs, two body segments and no antennae.",
            "The violin is a string instrument played with a bow.",
            "Mount Everest is the highest mountain above sea level.",
        ),
    ),
    RerankRequest(
        "Who wrote the play Romeo and Juliet?",
        (
            "The piano has 88 keys, 52 white and 36 black.",
            "Coffee beans are the roasted seeds of the Coffea plant.",
            "Romeo and Juliet is a tragedy written by William Shakespeare early in his career.",
        ),
    ),
]
RELEVANT = [1, 0, 2]


# --- the likelihood reranker on a scripted LLM -------------------------------------------------------


async def test_every_pair_of_every_request_goes_to_the_llm_in_one_batch() -> None:
    llm = ScriptedLLM()
    await LikelihoodReranker(llm).score(CASES)
    [batch] = llm.batches
    assert batch == [
        ScoreRequest(DEFAULT_TEMPLATE.format(passage=p), " " + case.query)
        for case in CASES
        for p in case.passages
    ]
    assert batch[0].context.startswith("Passage: Photosynthesis")
    assert batch[0].context.endswith("\nPlease write a question based on this passage.\nQuestion:")


async def test_scores_are_the_mean_log_likelihood_per_question_token() -> None:
    request = RerankRequest("capital of France", ("France has Paris as its capital", "nothing here"))
    [scores] = await LikelihoodReranker(ScriptedLLM()).score([request])
    # "capital" and "france" are in the first passage, "of" is not: (-1 - 4 - 1) / 3 tokens.
    assert scores == pytest.approx([-6 / 3, -12 / 3])


async def test_the_relevant_passage_ranks_first_with_a_scripted_llm() -> None:
    scores = await LikelihoodReranker(ScriptedLLM()).score(CASES)
    assert [int(np.argmax(s)) for s in scores] == RELEVANT
    assert [len(s) for s in scores] == [3, 3, 3]


async def test_empty_requests_score_nothing() -> None:
    llm = ScriptedLLM()
    reranker = LikelihoodReranker(llm)
    assert await reranker.score([]) == []
    assert await reranker.score([RerankRequest("q?", ())]) == [[]]
    assert llm.batches == []


async def test_a_passage_too_long_for_the_context_is_cut_to_fit() -> None:
    llm = ScriptedLLM(context_length=64)
    reranker = LikelihoodReranker(llm)
    long_passage = "capital " + " ".join(f"filler{i}" for i in range(500))
    [scores] = await reranker.score([RerankRequest("capital of France?", (long_passage, "short"))])
    [batch] = llm.batches
    assert 1 + llm.count_tokens(batch[0].context) + llm.count_tokens(batch[0].continuation) <= 64
    assert batch[0].context.startswith("Passage: capital filler0 filler1")
    assert batch[1].context == DEFAULT_TEMPLATE.format(passage="short")
    assert reranker.stats()["passages_truncated"] == 1
    assert scores[0] > scores[1]


async def test_a_question_that_leaves_no_room_for_a_passage_is_refused() -> None:
    reranker = LikelihoodReranker(ScriptedLLM(context_length=16))
    with pytest.raises(InvalidRequest, match="no room for a passage"):
        await reranker.score([RerankRequest(" ".join(["word"] * 20), ("p",))])


def test_a_template_without_a_passage_slot_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="passage"):
        LikelihoodReranker(ScriptedLLM(), template="Question:")


# --- the likelihood reranker on llama.cpp (the session's ``llama_engine``) ------------------------------


@pytest.mark.real
async def test_the_relevant_passage_ranks_first_on_llama_cpp(llama_engine: LLMEngine) -> None:
    scores = await LikelihoodReranker(llama_engine).score(CASES)
    assert [int(np.argmax(s)) for s in scores] == RELEVANT
    assert all(x < 0 for s in scores for x in s)


@pytest.mark.real
async def test_a_score_is_the_engines_log_likelihood_over_question_tokens(llama_engine: LLMEngine) -> None:
    case = CASES[0]
    [scores] = await LikelihoodReranker(llama_engine).score([RerankRequest(case.query, case.passages[1:2])])
    continuation = " " + case.query
    [total] = await llama_engine.score(
        [ScoreRequest(DEFAULT_TEMPLATE.format(passage=case.passages[1]), continuation)]
    )
    assert scores == pytest.approx([total / llama_engine.count_tokens(continuation)], abs=1e-3)


# --- the cross-encoder --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 2-layer BERT sequence classifier (one label) with the MiniLM tokenizer,
    saved with ``save_pretrained``. No cross-encoder ships offline; this exercises the real
    sentence-transformers loading and scoring path, not relevance."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    path = tmp_path_factory.mktemp("cross_encoder")
    tokenizer = AutoTokenizer.from_pretrained(str(default_embedding_model()), local_files_only=True)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        num_labels=1,
    )
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))
    return path


@pytest.fixture(scope="module")
async def cross_encoder(tiny_cross_encoder: Path) -> AsyncIterator[CrossEncoderReranker]:
    async with CrossEncoderReranker(tiny_cross_encoder, batch_size=4, threads=2) as engine:
        yield engine


@pytest.mark.real
async def test_cross_encoder_scores_match_sentence_transformers_predict(
    cross_encoder: CrossEncoderReranker, tiny_cross_encoder: Path
) -> None:
    from sentence_transformers import CrossEncoder

    scores = await cross_encoder.score(CASES)
    reference = CrossEncoder(str(tiny_cross_encoder), device="cpu", local_files_only=True)
    for case, got in zip(CASES, scores, strict=True):
        expected = reference.predict([(case.query, p) for p in case.passages], show_progress_bar=False)
        assert np.allclose(got, expected, atol=1e-5)
    assert len({x for s in scores for x in s}) == 9, "a random model still scores every pair differently"


@pytest.mark.real
async def test_cross_encoder_scores_do_not_depend_on_the_batch(cross_encoder: CrossEncoderReranker) -> None:
    together = await cross_encoder.score(CASES)
    alone: dict[int, list[float]] = {}

    async def one(i: int) -> None:
        [alone[i]] = await cross_encoder.score([CASES[i]])

    async with anyio.create_task_group() as tg:
        for i in range(len(CASES)):
            tg.start_soon(one, i)
    assert np.allclose(together, [alone[i] for i in range(len(CASES))], atol=1e-5)


@pytest.mark.real
async def test_cross_encoder_scores_empty_requests_as_empty(cross_encoder: CrossEncoderReranker) -> None:
    assert await cross_encoder.score([RerankRequest("q", ()), RerankRequest("r", ())]) == [[], []]


async def test_cross_encoder_without_a_model_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        await CrossEncoderReranker(tmp_path / "missing").start()
