"""``asyncio.gather(..., return_exceptions=True)`` of calls that may fail (the scripted LLM fails a
prompt holding FAIL), for ``test_gather_exceptions.py``: each call is traced in a ``try`` node
that hands back its error as its value, as gather does; the rest of the workflow reads the list."""

from __future__ import annotations

import asyncio

import ayo_trace as ayo


def shown(results: list[object]) -> list[str]:
    return [f"{type(r).__name__}: {r}" if isinstance(r, BaseException) else str(r) for r in results]


async def summarize(text: str) -> str:
    hits = await ayo.search(text, collection="agent_docs", top_k=1)
    return await ayo.llm(f"Sum {text}: {hits[0].text if hits else ''}", max_tokens=3)


@ayo.workflow
async def two_calls(question: str, docs: list[str]) -> list[str]:
    results = await asyncio.gather(
        ayo.llm(question, max_tokens=2), ayo.llm(f"{question}?", max_tokens=3), return_exceptions=True
    )
    return shown(results)


@ayo.workflow
async def over_the_docs(question: str, docs: list[str]) -> list[str]:
    results = await asyncio.gather(
        *[ayo.llm(f"{question} {d}", max_tokens=2) for d in docs], return_exceptions=True
    )
    return [r for r in results if isinstance(r, str)]


@ayo.workflow
async def filtered_generator(question: str, docs: list[str]) -> list[str]:
    results = await asyncio.gather(*(summarize(d) for d in docs if d), return_exceptions=True)
    ok = [r for r in results if not isinstance(r, Exception)]
    return [*ok, str(len(results) - len(ok))]


@ayo.workflow
async def mixed_then_combine(question: str, docs: list[str]) -> str:
    head, *rest = await asyncio.gather(
        ayo.llm(f"Head {question}", max_tokens=2),
        *(ayo.llm(d, max_tokens=2) for d in docs),
        return_exceptions=True,
    )
    good = [r for r in rest if isinstance(r, str)]
    if isinstance(head, Exception):
        return "failed head: " + " ".join(good)
    return await ayo.llm(f"{head} {' '.join(good)}", max_tokens=3)


@ayo.workflow
async def flag_false(question: str, docs: list[str]) -> list[str]:
    return await asyncio.gather(*(ayo.llm(d, max_tokens=2) for d in docs), return_exceptions=False)


CASES = [two_calls, over_the_docs, filtered_generator, mixed_then_combine, flag_false]


@ayo.workflow
async def tasks_made_before(question: str, docs: list[str]) -> list[str]:
    tasks = [asyncio.create_task(ayo.llm(d, max_tokens=2)) for d in docs]
    n = len(tasks)
    return [str(n), *shown(await asyncio.gather(*tasks, return_exceptions=True))]
