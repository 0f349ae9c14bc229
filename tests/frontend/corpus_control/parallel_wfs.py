"""Parallel constructs: asyncio.gather, TaskGroup, create_task, anyio task groups."""

from __future__ import annotations

import asyncio

import anyio

import ayo_trace as ayo


@ayo.workflow
async def gather_two_views(question: str) -> str:
    pro, con = await asyncio.gather(
        ayo.llm(f"Argue for: {question}\nFor:", max_tokens=16),
        ayo.llm(f"Argue against: {question}\nAgainst:", max_tokens=16),
    )
    return await ayo.llm(f"Weigh these.\nFor: {pro}\nAgainst: {con}\nVerdict:", max_tokens=16)


@ayo.workflow
async def gather_spread_generator(question: str) -> list[str]:
    queries = await ayo.llm(f"Three search queries for: {question}\n", parse=ayo.lines, max_tokens=32)
    answers = await asyncio.gather(*(ayo.llm(f"Answer briefly: {q}\nAnswer:", max_tokens=8) for q in queries))
    return [a.strip() for a in answers]


@ayo.workflow
async def gather_spread_list(docs: list[str]) -> str:
    summaries = await asyncio.gather(*[ayo.llm(f"Summarize: {d}\nSummary:", max_tokens=8) for d in docs])
    return " | ".join(summaries)


@ayo.workflow
async def gather_search_and_classify(question: str, docs: list[str]) -> str:
    await ayo.ingest(docs, collection="kb")
    hits, kind = await asyncio.gather(
        ayo.search(question, collection="kb", top_k=2),
        ayo.llm(f"Is this about code or prose? {question}\nAnswer:", max_tokens=2),
        return_exceptions=False,
    )
    context = "\n".join(h.text for h in hits)
    return await ayo.llm(f"[{kind.strip()}]\n{context}\nQ: {question}\nA:", max_tokens=16)


@ayo.workflow
async def summarize(text: str) -> str:
    return await ayo.llm(f"Summarize in one line: {text}\nSummary:", max_tokens=12)


@ayo.workflow
async def gather_workflows(a: str, b: str) -> str:
    results = await asyncio.gather(summarize(a), summarize(b))
    return "\n".join(results)


@ayo.workflow
async def task_group_results(question: str) -> str:
    async with asyncio.TaskGroup() as tg:
        short = tg.create_task(ayo.llm(f"One word answer: {question}\n", max_tokens=4))
        long = tg.create_task(ayo.llm(f"Detailed answer: {question}\n", max_tokens=24))
    return f"{short.result().strip()} / {long.result().strip()}"


@ayo.workflow
async def create_task_then_await(question: str) -> str:
    background = asyncio.create_task(ayo.search(question, collection="kb", top_k=3))
    draft = await ayo.llm(f"Draft an answer: {question}\nDraft:", max_tokens=16)
    hits = await background
    return draft + "\n" + "\n".join(h.text for h in hits)


@ayo.workflow
async def index_docs(docs: list[str]) -> int:
    return await ayo.ingest(docs, collection="notes")


@ayo.workflow
async def anyio_task_group(docs: list[str], question: str) -> str:
    async with anyio.create_task_group() as tg:
        tg.start_soon(index_docs, docs)
        tg.start_soon(summarize, question)
    hits = await ayo.search(question, collection="notes", top_k=2)
    return "\n".join(h.text for h in hits)


@ayo.workflow
async def gather_pairs(questions: list[str], docs: list[str]) -> list[str]:
    return await asyncio.gather(
        *(ayo.llm(f"Does '{d}' answer '{q}'?", max_tokens=2) for q, d in zip(questions, docs, strict=False))
    )
