"""Workflows for test_idiom_rules.py: the edges of ``functools.partial``, ``gather`` over ``map`` and
generators, and ``return`` inside ``try``."""

from __future__ import annotations

import asyncio
import functools

import ayo_trace as ayo


async def tag(text: str) -> str:
    return (await ayo.llm(f"Tag: {text}\n", max_tokens=2)).strip()


@ayo.workflow
async def describe(text: str, words: int = 2) -> str:
    return await ayo.llm(f"Describe in {words} words: {text}\n", max_tokens=words)


@ayo.workflow
async def partial_keyword_overridden(question: str) -> str:
    short = functools.partial(ayo.llm, max_tokens=4)
    return await short(f"{question}\n", max_tokens=2)


@ayo.workflow
async def partial_argument_rebound_later(question: str) -> str:
    n = 3
    short = functools.partial(ayo.llm, max_tokens=n)
    n = 5
    return await short(f"{question} ({n})\n")


@ayo.workflow
async def partial_of_a_traced_value(question: str) -> str:
    n = len(await ayo.llm(f"How many? {question}\n", max_tokens=2)) % 3 + 1
    short = functools.partial(ayo.llm, max_tokens=n)
    return await short(f"{question}\n")


@ayo.workflow
async def partial_of_a_workflow(docs: list[str]) -> list[str]:
    brief = functools.partial(describe, words=1)
    return [await brief(d) for d in docs]


TOPIC = "generators"


@ayo.workflow
async def partial_positional(docs: list[str]) -> list[str]:
    about = functools.partial(describe, TOPIC)
    return [d + await about(2) for d in docs]


@ayo.workflow
async def partial_of_a_traced_positional(question: str, docs: list[str]) -> list[str]:
    about = functools.partial(describe, question)
    return [d + await about(2) for d in docs]


@ayo.workflow
async def gather_map_of_two_iterables(docs: list[str]) -> list[str]:
    return list(await asyncio.gather(*map(describe, docs, [1] * len(docs))))


@ayo.workflow
async def gather_generator_awaiting_in_its_filter(docs: list[str]) -> list[str]:
    return list(await asyncio.gather(*(tag(d) for d in docs if await tag(d))))


@ayo.workflow
async def gather_map_then_spread_among_calls(question: str, docs: list[str]) -> list[str]:
    return list(await asyncio.gather(tag(question), *map(tag, docs), describe(question)))


@ayo.workflow
async def return_in_finally(question: str) -> str:
    try:
        reply = await ayo.llm(f"{question}\n", max_tokens=3)
    finally:
        return "finally wins"  # noqa: B012
    return reply


@ayo.workflow
async def return_in_except_only(question: str) -> str:
    try:
        reply = await ayo.llm(f"{question}\n", max_tokens=3)
    except ayo.EngineError:
        return "down"
    return reply.upper()


@ayo.workflow
async def return_in_a_nested_try(question: str) -> str:
    try:
        try:
            return await ayo.llm(f"{question}\n", max_tokens=3)
        except ValueError:
            return "inner"
    except ayo.EngineError:
        return "outer"


@ayo.workflow
async def returns_on_some_paths_of_try(question: str, strict: bool) -> str:
    note = "start"
    try:
        reply = await ayo.llm(f"{question}\n", max_tokens=3)
        if strict and len(reply) % 2:
            return "odd"
        note = reply
    except ayo.EngineError:
        note = "down"
    else:
        if note.startswith(" "):
            return note.strip()
    return note + "!"
