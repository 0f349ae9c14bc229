"""Workflows for test_deferred_reads.py: calls made before the statement that awaits them (a list
or dict of coroutines, ``gather`` or ``as_completed``), written the ways people write them: an
annotated assignment, a ``for`` statement over ``as_completed``, the dict's keys read in the
gather's own statement. Each is traced whole; the ``BREAKS`` stay graph breaks (run as written)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any

import ayo_trace as ayo

PROMPTS = {"pros": "Pros of {q}", "cons": "Cons of {q}", "risks": "Risks of {q}"}


async def summarize(text: str) -> str:
    return (await ayo.llm(f"Summarize: {text}\n", max_tokens=2)).strip()


# --- `x: T = value` is `x = value` (a local's annotation is never evaluated) -----------------------


@ayo.workflow
async def annotated_list_appended(q: str, docs: list[str]) -> list[str]:
    batch: list[Awaitable[str]] = []
    for d in docs:
        batch.append(ayo.llm(f"{q}: {d}", max_tokens=2))
    return list(await asyncio.gather(*batch))


@ayo.workflow
async def annotated_comprehension(q: str, docs: list[str]) -> list[str]:
    coros: list[Coroutine[Any, Any, str]] = [summarize(f"{q} {d}") for d in docs]
    found = await asyncio.gather(*coros)
    return sorted(found)


@ayo.workflow
async def annotated_dict(q: str, docs: list[str]) -> dict[str, str]:
    coros: dict[str, Any] = {name: ayo.llm(p.format(q=q), max_tokens=2) for name, p in PROMPTS.items()}
    results = await asyncio.gather(*coros.values())
    return dict(zip(coros, results, strict=True))


@ayo.workflow
async def annotated_with_a_name_never_defined(q: str, docs: list[str]) -> list[str]:
    coros: NeverDefined = [ayo.llm(f"{q} {d}", max_tokens=2) for d in docs]  # type: ignore[name-defined]  # noqa: F821
    return list(await asyncio.gather(*coros))


@ayo.workflow
async def annotated_task(q: str, docs: list[str]) -> str:
    first: asyncio.Task[str] = asyncio.create_task(summarize(q))
    rest = [await summarize(d) for d in docs]
    return " ".join([await first, *rest])


# --- a `for` statement's iterable is evaluated once, where it stands ------------------------------


@ayo.workflow
async def for_over_as_completed(q: str, docs: list[str]) -> list[str]:
    coros = [ayo.llm(f"{q} {d}", max_tokens=2) for d in docs]
    got = []
    for fut in asyncio.as_completed(coros):
        r = await fut
        got.append(r.strip())
    return sorted(got)


@ayo.workflow
async def for_over_as_completed_appending_the_await(q: str, docs: list[str]) -> list[str]:
    coros = [summarize(f"{q} {d}") for d in docs if d]
    got = []
    for fut in asyncio.as_completed(coros):
        got.append(await fut)
    return sorted(got)


@ayo.workflow
async def for_over_a_gather(q: str, docs: list[str]) -> list[str]:
    coros = [summarize(f"{q} {d}") for d in docs]
    out = []
    for r in await asyncio.gather(*coros):
        out.append(r.upper())
    return out


@ayo.workflow
async def made_and_awaited_in_each_round(q: str, docs: list[str]) -> list[str]:
    out: list[str] = []
    for k in range(2):
        coros = [ayo.llm(f"{q} {k} {d}", max_tokens=2) for d in docs]
        for fut in asyncio.as_completed(coros):
            out.append(await fut)
    return sorted(out)


# --- a dict's keys read in the statement that gathers its values ---------------------------------


@ayo.workflow
async def keys_zipped_in_the_gather_statement(q: str, docs: list[str]) -> dict[str, str]:
    tasks = {k: ayo.llm(p.format(q=q), max_tokens=2) for k, p in PROMPTS.items()}
    return dict(zip(tasks.keys(), await asyncio.gather(*tasks.values()), strict=True))


@ayo.workflow
async def dict_zipped_in_the_gather_statement(q: str, docs: list[str]) -> dict[str, str]:
    coros = {d: summarize(f"{q} {d}") for d in docs}
    answers = dict(zip(coros, await asyncio.gather(*coros.values()), strict=True))
    return answers


@ayo.workflow
async def length_beside_the_gather(q: str, docs: list[str]) -> tuple[int, list[str]]:
    coros = {d: summarize(d) for d in docs}
    n, found = len(coros), await asyncio.gather(*coros.values())
    return n, list(found)


TRACED = [
    annotated_list_appended,
    annotated_comprehension,
    annotated_dict,
    annotated_with_a_name_never_defined,
    annotated_task,
    for_over_as_completed,
    for_over_as_completed_appending_the_await,
    for_over_a_gather,
    made_and_awaited_in_each_round,
    keys_zipped_in_the_gather_statement,
    dict_zipped_in_the_gather_statement,
    length_beside_the_gather,
]


# --- as written (graph breaks) --------------------------------------------------------------------


@ayo.workflow
async def values_read_in_the_gather_statement(q: str, docs: list[str]) -> list[Any]:
    coros = {d: summarize(d) for d in docs}
    return [type(v).__name__ for v in coros.values()] + list(await asyncio.gather(*coros.values()))


BREAKS = [values_read_in_the_gather_statement]


@ayo.workflow
async def enumerated_as_completed(q: str, docs: list[str]) -> list[str]:
    coros = [ayo.llm(f"{q} {d}", max_tokens=2) for d in docs]
    out = []
    for i, fut in enumerate(asyncio.as_completed(coros)):  # inside other code: as written
        out.append(f"{i}:{await fut}")
    return sorted(out)


@ayo.workflow
async def enumerated_as_completed_in_a_comprehension(q: str, docs: list[str]) -> list[str]:
    coros = [ayo.llm(f"{q} {d}", max_tokens=2) for d in docs]
    return sorted([f"{i}:{await f}" for i, f in enumerate(asyncio.as_completed(coros))])


BREAKS += [enumerated_as_completed, enumerated_as_completed_in_a_comprehension]
