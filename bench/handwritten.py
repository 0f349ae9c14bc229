"""Every benchmark workflow hand-parallelized with asyncio: the fairest peer of the optimizer.

What an expert writes by hand on the same runtime's eager API (``ayo.ingest``, ``ayo.search``,
``ayo.rerank``, ``ayo.llm``, so the same engine schedulers and the same cross-query batching as the
traced variants): independent steps started together with ``asyncio.gather`` and each step started
as early as its inputs allow. Per workflow:

* indexing is split into chunks of ``INGEST_CHUNK`` passages ingested concurrently, so embedding
  one chunk overlaps inserting the one before (the hand-written form of stage decomposition);
* the advanced workloads start the query rewrite together with the indexing (Ayo's module chain
  puts indexing first, but the rewrite does not read it), then search every rewritten query at once;
* what the API cannot express by hand is left out: the eager ``llm`` takes a whole prompt, so there
  is no prefill of the constant prompt head before the context is known, and a parsed output
  arrives whole, so searches start after the whole rewrite is decoded (no decode pipelining).

Each function computes exactly what its workflow in ``bench/workflows.py`` computes (same prompts,
sampling, parser, merge and top-k); ``tests/bench/test_e2e_smoke.py`` checks the answers agree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import ayo_trace as ayo
from bench import workflows as W

INGEST_CHUNK = 32


async def _ingest(docs: list[str], collection: str) -> None:
    chunks = [docs[i : i + INGEST_CHUNK] for i in range(0, len(docs), INGEST_CHUNK)] or [[]]
    await asyncio.gather(*(ayo.ingest(c, collection=collection) for c in chunks))


async def _answer(question: str, passages: list[Any], top_k: int, max_tokens: int) -> str:
    best = await ayo.rerank(question, passages, top_k=top_k)
    context = "\n".join(h.text for h in best)
    prompt = f"{W.ANSWER_HEAD}Documentation:\n{context}\nQuestion: {question}\nAnswer:"
    return str(await ayo.llm(prompt, max_tokens=max_tokens, stop="\n"))


async def _rewrite(question: str, max_tokens: int) -> list[str]:
    out = await ayo.llm(
        f"{W.EXPAND_HEAD}Question: {question}\nQueries:\n",
        parse=ayo.lines,
        max_tokens=max_tokens,
        stop="\n\n",
    )
    return list(out)


def _merge(per_query: list[list[ayo.Hit]]) -> list[str]:
    return list(dict.fromkeys(h.text for hits in per_query for h in hits))


async def naive_rag(question: str, docs: list[str], collection: str) -> str:
    await _ingest(docs, collection)
    hits = await ayo.search(question, collection=collection, top_k=W.SEARCH_K)
    return await _answer(question, hits, W.CONTEXT_K, W.ANSWER_TOKENS)


async def expanded_rag(question: str) -> str:
    queries = await _rewrite(question, W.QUERY_TOKENS)
    hits = await asyncio.gather(
        *(ayo.search(q, collection=W.KB_COLLECTION, top_k=W.EXPANSION_K) for q in queries)
    )
    return await _answer(question, _merge(list(hits)), W.CONTEXT_K, W.ANSWER_TOKENS)


async def seed_naive_rag(question: str, docs: list[str], collection: str) -> str:
    await _ingest(docs, collection)
    hits = await ayo.search(question, collection=collection, top_k=W.SEED_SEARCH_K)
    return await _answer(question, hits, W.SEED_CONTEXT_K, W.SEED_ANSWER_TOKENS)


async def seed_advanced_rag(question: str, docs: list[str], collection: str) -> str:
    _, queries = await asyncio.gather(_ingest(docs, collection), _rewrite(question, W.SEED_REWRITE_TOKENS))
    hits = await asyncio.gather(
        *(ayo.search(q, collection=collection, top_k=W.SEED_SEARCH_K) for q in queries)
    )
    return await _answer(question, _merge(list(hits)), W.SEED_CONTEXT_K, W.SEED_ANSWER_TOKENS)


HANDWRITTEN: dict[str, Callable[..., Awaitable[str]]] = {
    "naive_rag": naive_rag,
    "expanded_rag": expanded_rag,
    "seed_naive_rag": seed_naive_rag,
    "seed_advanced_rag": seed_advanced_rag,
}
