"""Zero-shot reranking by an LLM's likelihood of the question given the passage.

This is UPR (Sachan et al., "Improving Passage Retrieval with Zero-Shot Question Generation",
EMNLP 2022): a passage is relevant to a question when the language model, shown the passage and asked
to write a question about it, finds the actual question likely. The score of a passage is the mean
log-probability per question token, the prompt being ``DEFAULT_TEMPLATE`` filled with the passage::

    score(p, q) = log p(q | "Passage: {p}⏎Please write a question based on this passage.⏎Question:") / |q|

It is the default reranker because it needs no cross-encoder weights, only the LLM the application
already runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar

from ...errors import ConfigError, EngineError, InvalidRequest
from .base import LLMEngine, LLMScoredReranker, RerankRequest, ScoreRequest, scores_per_request

_MARGIN = 4
DEFAULT_TEMPLATE = "Passage: {passage}\nPlease write a question based on this passage.\nQuestion:"


class LikelihoodReranker(LLMScoredReranker):
    """Scores passages by an LLM's mean log-likelihood of the question given each passage.

    ``score`` sends every (passage, question) pair of every request to ``llm.score`` as one batch and
    returns, per request and in passage order, ``llm.score`` of the continuation ``" " + query`` after
    ``template`` filled with the passage, divided by the continuation's token count
    (``llm.count_tokens``). Scores are therefore comparable across questions of different lengths, are
    at most 0, and higher means more relevant.

    A passage too long for the LLM's context window is cut (from the end, at a character boundary)
    until the prompt and question fit; a question that does not fit even with an empty passage raises
    ``InvalidRequest``. The reranker owns no model: ``start`` and ``stop`` do nothing, and the LLM
    engine must be started, and stopped, by its owner. ``template`` must contain ``{passage}``.
    """

    kind: ClassVar[str] = "rerank"

    def __init__(self, llm: LLMEngine, name: str = "likelihood_rerank", *, template: str = DEFAULT_TEMPLATE):
        super().__init__(name)
        if "{passage}" not in template:
            raise ConfigError(f"engine {name!r}: the template must contain '{{passage}}', got {template!r}")
        self.llm = llm
        self.template = template
        self._pairs = 0
        self._truncated = 0

    async def score_with(
        self,
        batch: Sequence[RerankRequest],
        scorer: Callable[[list[ScoreRequest]], Awaitable[Sequence[float]]],
    ) -> list[list[float]]:
        requests: list[ScoreRequest] = []
        lengths: list[int] = []
        for request in batch:
            continuation = " " + request.query.strip()
            n_question = max(1, self.llm.count_tokens(continuation))
            for passage in request.passages:
                context = self.template.format(passage=self._fit(passage, n_question))
                requests.append(ScoreRequest(context=context, continuation=continuation))
                lengths.append(n_question)
        if not requests:
            return [[] for _ in batch]
        totals = list(await scorer(requests))
        if len(totals) != len(requests):
            raise EngineError(f"{len(requests)} score requests but {len(totals)} scores", engine=self.name)
        self._pairs += len(requests)
        flat = [total / n for total, n in zip(totals, lengths, strict=True)]
        return scores_per_request(flat, batch)

    def _fit(self, passage: str, n_question: int) -> str:
        # BOS, the template's own tokens and the question must fit beside the passage; the margin
        # covers tokens that merge differently where the passage meets the template.
        template = self.llm.count_tokens(self.template.format(passage=""))
        budget = self.llm.context_length - 1 - template - n_question - _MARGIN
        if budget <= 0:
            raise InvalidRequest(
                f"a question of {n_question} tokens leaves no room for a passage in the context window of "
                f"{self.llm.context_length} tokens",
                engine=self.name,
            )
        n_passage = self.llm.count_tokens(passage)
        if n_passage <= budget:
            return passage
        self._truncated += 1
        # Token and character counts are not proportional everywhere; shrink until it fits.
        while n_passage > budget and passage:
            passage = passage[: max(0, int(len(passage) * budget / n_passage) - 1)]
            n_passage = self.llm.count_tokens(passage)
        return passage

    def stats(self) -> dict[str, Any]:
        return {"pairs": self._pairs, "passages_truncated": self._truncated}
