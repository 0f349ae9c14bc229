"""Eight workflows of different shapes, written the way users write them, for ``bench/heldout_like.py``.

None of them is tuned for the optimizer: each is the plain sequential code a user would write first.
Their inputs reuse the end-to-end benchmark's questions and documents (``bench/workflows.py``): a
question about one standard-library module, that module's first passages as its documents, and a
shared knowledge base of every query's documents.

==================== =====================================================================================
``rag_rerank``        ingest the query's documents, search, rerank with the LLM, answer
``query_expansion``   the LLM writes search queries; a ``for`` loop searches each; rerank; answer
``map_reduce``        summarize each document (a comprehension of LLM calls), then combine the summaries
``branches``          two independent retrievals and an LLM classification, joined for the answer
``summarize_compare`` two independent summaries, then the LLM compares them
``early_stop``        search expanded queries one by one and stop at the first good hit (``break``)
``helper``            an undecorated ``async def`` helper does the retrieval; the workflow answers
``ingest_ask``        ingest a larger document set, then ask one question over it
==================== =====================================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ayo_trace as ayo
from bench import workflows as W

ANSWER = W.ANSWER_HEAD + "Documentation:\n{context}\nQuestion: {question}\nAnswer:"
SUMMARY_TOKENS = 16


def _context(hits: list[ayo.Hit]) -> str:
    return "\n".join(h.text for h in hits)


async def rag_rerank(question: str, docs: list[str], collection: str) -> str:
    await ayo.ingest(docs, collection=collection)
    hits = await ayo.search(question, collection=collection, top_k=W.SEARCH_K)
    best = await ayo.rerank(question, hits, top_k=W.CONTEXT_K)
    context = "\n".join(h.text for h in best)
    prompt = f"{W.ANSWER_HEAD}Documentation:\n{context}\nQuestion: {question}\nAnswer:"
    return await ayo.llm(prompt, max_tokens=W.ANSWER_TOKENS, stop="\n")


async def query_expansion(question: str) -> str:
    queries = await ayo.llm(
        f"{W.EXPAND_HEAD}Question: {question}\nQueries:\n",
        parse=ayo.lines,
        max_tokens=W.QUERY_TOKENS,
        stop="\n\n",
    )
    passages = []
    for q in queries:
        hits = await ayo.search(q, collection=W.KB_COLLECTION, top_k=W.EXPANSION_K)
        passages.extend(h.text for h in hits)
    best = await ayo.rerank(question, list(dict.fromkeys(passages)), top_k=W.CONTEXT_K)
    context = "\n".join(h.text for h in best)
    prompt = f"{W.ANSWER_HEAD}Documentation:\n{context}\nQuestion: {question}\nAnswer:"
    return await ayo.llm(prompt, max_tokens=W.ANSWER_TOKENS, stop="\n")


async def map_reduce(question: str, docs: list[str]) -> str:
    summaries = [
        await ayo.llm(f"Text: {d}\nOne-line summary:", max_tokens=SUMMARY_TOKENS, stop="\n") for d in docs[:4]
    ]
    context = "\n".join(s.strip() for s in summaries)
    prompt = f"{W.ANSWER_HEAD}Documentation:\n{context}\nQuestion: {question}\nAnswer:"
    return await ayo.llm(prompt, max_tokens=W.ANSWER_TOKENS, stop="\n")


async def branches(question: str) -> str:
    topic = await ayo.llm(f"Question: {question}\nThe Python module it is about:", max_tokens=6, stop="\n")
    hits = await ayo.search(question, collection=W.KB_COLLECTION, top_k=2)
    more = await ayo.search(f"python {question}", collection=W.KB_COLLECTION, top_k=2)
    context = "\n".join(h.text for h in hits + more)
    prompt = (
        f"{W.ANSWER_HEAD}Documentation:\n{context}\nTopic: {topic.strip()}\nQuestion: {question}\nAnswer:"
    )
    return await ayo.llm(prompt, max_tokens=W.ANSWER_TOKENS, stop="\n")


async def summarize_compare(question: str, docs: list[str]) -> str:
    first = await ayo.llm(f"Text: {docs[0]}\nOne-line summary:", max_tokens=SUMMARY_TOKENS, stop="\n")
    second = await ayo.llm(f"Text: {docs[1]}\nOne-line summary:", max_tokens=SUMMARY_TOKENS, stop="\n")
    prompt = (
        f"A: {first.strip()}\nB: {second.strip()}\nQuestion: {question}\nWhich of A or B answers it better?"
    )
    return await ayo.llm(prompt, max_tokens=8, stop="\n")


async def early_stop(question: str) -> str:
    queries = await ayo.llm(
        f"{W.EXPAND_HEAD}Question: {question}\nQueries:\n",
        parse=ayo.lines,
        max_tokens=W.QUERY_TOKENS,
        stop="\n\n",
    )
    found = []
    for q in queries:
        hits = await ayo.search(q, collection=W.KB_COLLECTION, top_k=2)
        found.extend(hits)
        if len(found) >= 4:
            break
    context = "\n".join(h.text for h in found)
    prompt = f"{W.ANSWER_HEAD}Documentation:\n{context}\nQuestion: {question}\nAnswer:"
    return await ayo.llm(prompt, max_tokens=W.ANSWER_TOKENS, stop="\n")


async def retrieve(question: str, collection: str) -> list[ayo.Hit]:
    """A plain (undecorated) helper, as users factor code."""
    hits = await ayo.search(question, collection=collection, top_k=W.SEARCH_K)
    return await ayo.rerank(question, hits, top_k=W.CONTEXT_K)


async def helper(question: str) -> str:
    best = await retrieve(question, W.KB_COLLECTION)
    context = "\n".join(h.text for h in best)
    prompt = f"{W.ANSWER_HEAD}Documentation:\n{context}\nQuestion: {question}\nAnswer:"
    return await ayo.llm(prompt, max_tokens=W.ANSWER_TOKENS, stop="\n")


async def ingest_ask(question: str, docs: list[str], collection: str) -> str:
    await ayo.ingest(docs, collection=collection)
    hits = await ayo.search(question, collection=collection, top_k=W.CONTEXT_K)
    context = "\n".join(h.text for h in hits)
    prompt = f"{W.ANSWER_HEAD}Documentation:\n{context}\nQuestion: {question}\nAnswer:"
    return await ayo.llm(prompt, max_tokens=W.ANSWER_TOKENS, stop="\n")


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "rag_rerank": rag_rerank,
    "query_expansion": query_expansion,
    "map_reduce": map_reduce,
    "branches": branches,
    "summarize_compare": summarize_compare,
    "early_stop": early_stop,
    "helper": helper,
    "ingest_ask": ingest_ask,
}
STATIC = {"rag_rerank": ("collection",), "ingest_ask": ("collection",)}


def make(passes: list[ayo.Pass] | None) -> dict[str, ayo.Workflow]:
    """Every workflow compiled with ``passes`` (None: the default passes; ``[]``: program order)."""
    return {
        name: ayo.workflow(fn, passes=passes, static=STATIC.get(name, ())) for name, fn in FUNCTIONS.items()
    }


def inputs_for(workflow: str, query: W.Query) -> dict[str, object]:
    """The keyword arguments of ``workflow`` for ``query``."""
    docs = list(W.docs_for(query.module))
    if workflow == "rag_rerank":
        return {"question": query.question, "docs": docs, "collection": W.collection_for(query)}
    if workflow == "ingest_ask":
        return {"question": query.question, "docs": docs, "collection": f"heldout_{query.module}"}
    if workflow in ("map_reduce", "summarize_compare"):
        return {"question": query.question, "docs": docs}
    return {"question": query.question}
