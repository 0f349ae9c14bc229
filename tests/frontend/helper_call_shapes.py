"""Helpers (plain ``async def`` functions the workflow awaits) whose ayo calls are not awaited one
by one: gathered, made into tasks, passed by name, for ``test_helper_calls.py``. Each is inlined
like any helper; the tracer used to look only at what a helper awaits directly, so these ran as a
graph break."""

from __future__ import annotations

import asyncio
import functools

import anyio

import ayo_trace as ayo


async def both_ways(q: str) -> list[str]:
    return await asyncio.gather(ayo.llm(f"Brief: {q}", max_tokens=3), ayo.llm(f"Detail: {q}", max_tokens=5))


async def summaries(q: str) -> list[str]:
    hits = await ayo.search(q, collection="kb0", top_k=3)
    return await asyncio.gather(*(ayo.llm(f"Sum: {h.text}", max_tokens=3) for h in hits))


async def task_per_hit(q: str) -> list[str]:
    hits = await ayo.search(q, collection="kb0", top_k=2)
    tasks = []
    for h in hits:
        tasks.append(asyncio.create_task(ayo.llm(h.text, max_tokens=2)))
    return await asyncio.gather(*tasks)


async def in_task_group(q: str) -> list[str]:
    async with asyncio.TaskGroup() as tg:
        a = tg.create_task(ayo.llm(f"A {q}", max_tokens=2))
        b = tg.create_task(ayo.llm(f"B {q}", max_tokens=3))
    return [a.result(), b.result()]


async def add(docs: list[str]) -> None:
    await ayo.ingest(docs, collection="kb1")


async def started_soon(q: str) -> str:
    async with anyio.create_task_group() as tg:
        tg.start_soon(add, [f"{q} one", f"{q} two"])
    hits = await ayo.search(q, collection="kb1", top_k=1)
    return hits[0].text


async def through_partial(q: str) -> list[str]:
    search = functools.partial(ayo.search, collection="kb0", top_k=2)
    return [h.text for h in await search(q)]


async def outer(q: str) -> str:
    brief, detail = await both_ways(q)  # a helper calling a helper that only gathers
    return await ayo.llm(f"{brief} / {detail}", max_tokens=2)


@ayo.workflow
async def unpacked_gather(question: str) -> str:
    brief, detail = await both_ways(question)
    return await ayo.llm(f"Compare {brief} with {detail}", max_tokens=3)


@ayo.workflow
async def gathered_map(question: str) -> str:
    parts = await summaries(question)
    return await ayo.llm("Combine: " + " ".join(parts), max_tokens=3)


@ayo.workflow
async def appended_tasks(question: str) -> list[str]:
    return await task_per_hit(question)


@ayo.workflow
async def task_group(question: str) -> list[str]:
    return await in_task_group(question)


@ayo.workflow
async def start_soon_by_name(question: str) -> str:
    return await started_soon(question)


@ayo.workflow
async def partial_in_helper(question: str) -> list[str]:
    return await through_partial(question)


@ayo.workflow
async def nested_helpers(question: str) -> str:
    return await outer(question)


CASES = [
    (unpacked_gather, ("alpha",)),
    (gathered_map, ("alpha",)),
    (appended_tasks, ("alpha",)),
    (task_group, ("alpha",)),
    (start_soon_by_name, ("alpha",)),
    (partial_in_helper, ("alpha",)),
    (nested_helpers, ("alpha beta",)),
]
