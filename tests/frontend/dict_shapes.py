"""Dicts of calls and of tasks made by a comprehension and awaited through their values, for
``test_task_dicts.py`` (the scripted LLM fails a prompt holding FAIL)."""

from __future__ import annotations

import asyncio

import ayo_trace as ayo

VIEWS = {"pro": "Argue for {q}", "con": "Argue against {q}"}


async def summarize(text: str) -> str:
    hits = await ayo.search(text, collection="agent_docs", top_k=1)
    return await ayo.llm(f"Sum {text}: {hits[0].text if hits else ''}", max_tokens=3)


@ayo.workflow
async def views_zipped_with_keys(question: str, docs: list[str]) -> dict[str, str]:
    coros = {name: ayo.llm(view.format(q=question), max_tokens=3) for name, view in VIEWS.items()}
    results = await asyncio.gather(*coros.values())
    return dict(zip(coros.keys(), results, strict=True))


@ayo.workflow
async def filtered_docs_zipped(question: str, docs: list[str]) -> dict[str, str]:
    coros = {d: summarize(f"{question} {d}") for d in docs if d}
    results = await asyncio.gather(*coros.values())
    return dict(zip(coros, results, strict=True))


@ayo.workflow
async def then_combined(question: str, docs: list[str]) -> str:
    coros = {i: ayo.llm(f"{question} {d}", max_tokens=2) for i, d in enumerate(docs)}
    results = await asyncio.gather(*coros.values())
    notes = "; ".join(f"{i}={r}" for i, r in zip(coros, results, strict=True))
    return await ayo.llm(f"{question} [{len(coros)}] {notes}", max_tokens=3)


@ayo.workflow
async def among_other_calls(question: str, docs: list[str]) -> list[str]:
    coros = {d: ayo.llm(d, max_tokens=2) for d in docs}
    head, *rest = await asyncio.gather(ayo.llm(f"Head {question}", max_tokens=2), *coros.values())
    return [head, *sorted(f"{k}:{v}" for k, v in zip(coros, rest, strict=True))]


@ayo.workflow
async def tasks_gathered_then_read(question: str, docs: list[str]) -> dict[str, str]:
    tasks = {d: asyncio.create_task(summarize(d)) for d in docs}
    await asyncio.gather(*tasks.values())
    return {k: t.result() for k, t in tasks.items()}


@ayo.workflow
async def tasks_awaited_by_items(question: str, docs: list[str]) -> dict[str, str]:
    tasks = {d: asyncio.create_task(ayo.llm(f"{question} {d}", max_tokens=2)) for d in docs}
    out = {}
    for k, t in tasks.items():
        out[k] = await t
    return out


@ayo.workflow
async def tasks_awaited_by_key(question: str, docs: list[str]) -> str:
    tasks = {
        name: asyncio.create_task(ayo.llm(view.format(q=question), max_tokens=3))
        for name, view in VIEWS.items()
    }
    pro = await tasks["pro"]
    con = await tasks["con"]
    return await ayo.llm(f"{pro} vs {con}", max_tokens=3)


@ayo.workflow
async def tasks_awaited_by_values(question: str, docs: list[str]) -> list[str]:
    tasks = {d: asyncio.create_task(ayo.llm(d, max_tokens=2)) for d in docs if "FAIL" not in d}
    return [await t for t in tasks.values()]


@ayo.workflow
async def tasks_in_a_comprehension(question: str, docs: list[str]) -> dict[str, str]:
    tasks = {d.upper(): asyncio.create_task(summarize(d)) for d in docs}
    return {k: await t for k, t in tasks.items()}


@ayo.workflow
async def searched_after_an_ingest(question: str, docs: list[str]) -> list[int]:
    coros = {d: ayo.search(d, collection="agent_docs", top_k=50) for d in docs}
    await ayo.ingest([f"{question} added"], collection="agent_docs")
    found = await asyncio.gather(*coros.values())  # the searches run here, after the ingest
    return [len(hits) for hits in found]


CASES = [
    searched_after_an_ingest,
    views_zipped_with_keys,
    filtered_docs_zipped,
    then_combined,
    among_other_calls,
    tasks_gathered_then_read,
    tasks_awaited_by_items,
    tasks_awaited_by_key,
    tasks_awaited_by_values,
    tasks_in_a_comprehension,
]


@ayo.workflow
async def read_before_the_gather(question: str, docs: list[str]) -> list[str]:
    coros = {d: ayo.llm(d, max_tokens=2) for d in docs}
    n = len(coros)
    return [str(n), *(await asyncio.gather(*coros.values()))]  # as written: a graph break


@ayo.workflow
async def gathered_in_a_branch(question: str, docs: list[str]) -> list[tuple[str, str]]:
    coros = {d: ayo.llm(d, max_tokens=2) for d in docs}
    found: list[str] = []
    if docs:
        found = await asyncio.gather(*coros.values())  # as written: `coros` is read after the `if`
    return sorted(zip(coros, found, strict=False))


@ayo.workflow
async def task_inspected_first(question: str, docs: list[str]) -> list[str]:
    tasks = {d: asyncio.create_task(ayo.llm(d, max_tokens=2)) for d in docs}
    done = [k for k, t in tasks.items() if t.done()]
    await asyncio.gather(*tasks.values())
    return done  # refused


@ayo.workflow
async def tasks_gathered_returning_exceptions(question: str, docs: list[str]) -> list[str]:
    tasks = {d: asyncio.create_task(ayo.llm(d, max_tokens=2)) for d in docs}
    return [str(r) for r in await asyncio.gather(*tasks.values(), return_exceptions=True)]


@ayo.workflow
async def task_awaited_in_a_try(question: str, docs: list[str]) -> dict[str, str]:
    tasks = {d: asyncio.create_task(ayo.llm(d, max_tokens=2)) for d in docs}
    out = {}
    for k, t in tasks.items():
        try:
            out[k] = await t
        except ayo.EngineError:
            out[k] = "failed"
    return out  # (each task keeps its error until it is awaited)
