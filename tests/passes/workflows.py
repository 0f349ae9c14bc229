"""Real ``@ayo.workflow`` functions the pass goldens trace. Golden texts name lines of this file:
edit with care (append new workflows at the end)."""

from __future__ import annotations

import ayo_trace as ayo


@ayo.workflow
async def naive_rag(question: str, docs: list[str]) -> str:
    await ayo.ingest(docs, collection="docs")
    hits = await ayo.search(question, collection="docs", top_k=8)
    best = await ayo.rerank(question, hits, top_k=3)
    context = "\n".join(h.text for h in best)
    return await ayo.llm(
        f"Answer the question using only the context.\nContext:\n{context}\nQuestion: {question}\nAnswer:",
        max_tokens=32,
        stop="\n",
    )


@ayo.workflow
async def query_expansion(question: str) -> str:
    queries = await ayo.llm(f"Write three search queries about: {question}\n", parse=ayo.lines, max_tokens=48)
    hits = [await ayo.search(q, collection="wiki", top_k=4) for q in queries]
    best = await ayo.rerank(question, [h for per_query in hits for h in per_query], top_k=4)
    context = "\n".join(h.text for h in best)
    return await ayo.llm(
        f"Answer the question using only the context.\nContext:\n{context}\nQuestion: {question}\nAnswer:",
        max_tokens=32,
    )


@ayo.workflow
async def two_views(text: str) -> str:
    summary = await ayo.llm(f"Summarize the text below in one sentence.\n{text}\nSummary:", max_tokens=32)
    keywords = await ayo.llm(f"List keywords for the text below.\n{text}\nKeywords:", max_tokens=16)
    print("summary:", summary)
    return summary + " | " + keywords
