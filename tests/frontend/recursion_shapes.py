"""Helpers that recurse on values known only when the workflow runs (each call marked
``# break``), and ones that recurse on static values (unrolled at trace time), for
``test_recursion_breaks.py``."""

from __future__ import annotations

import asyncio

import ayo_trace as ayo


async def tree(chunks: list[str]) -> str:
    if len(chunks) <= 1:
        return chunks[0] if chunks else ""
    mid = len(chunks) // 2
    left, right = await asyncio.gather(tree(chunks[:mid]), tree(chunks[mid:]))
    return await ayo.llm(f"Merge: {left} + {right}", max_tokens=4)


@ayo.workflow
async def tree_summary(chunks: list[str]) -> str:
    return await tree(chunks)  # break


@ayo.workflow
async def tree_then_answer(question: str, chunks: list[str]) -> str:
    intro = await ayo.llm(f"Intro to {question}", max_tokens=3)
    summary = await tree([intro, *chunks])  # break
    return await ayo.llm(f"Using {summary}, answer {question}", max_tokens=5)


async def until_short(text: str) -> str:
    if len(text) < 12:
        return text
    return await until_short(await ayo.llm(f"Shorten: {text}", max_tokens=2))


@ayo.workflow
async def shorten(question: str) -> str:
    first = await ayo.llm(f"Say {question}", max_tokens=4)
    return (await until_short(first)).strip()  # break


async def ping(text: str, n: int) -> str:
    return text if n <= 0 else await pong(await ayo.llm(f"ping {text}", max_tokens=2), n - 1)


async def pong(text: str, n: int) -> str:
    return text if n <= 0 else await ping(await ayo.llm(f"pong {text}", max_tokens=2), n - 1)


@ayo.workflow
async def mutual(question: str, rounds: list[int]) -> str:
    return await ping(question, len(rounds))  # break


@ayo.workflow
async def local_recursion(question: str, docs: list[str]) -> list[str]:
    async def expand(items: list[str]) -> list[str]:
        if not items:
            return []
        head = await ayo.llm(f"Expand {items[0]} for {question}", max_tokens=2)
        return [head, *(await expand(items[1:]))]

    return await expand(docs)  # break


class Planner:
    async def plan(self, goal: str, depth: int) -> list[str]:
        if depth == 0:
            return [goal]
        step = await ayo.llm(f"First step of {goal}", max_tokens=3)
        return [step, *(await self.plan(step, depth - 1))]


PLANNER = Planner()


@ayo.workflow
async def method_recursion(goal: str, levels: list[str]) -> list[str]:
    return await PLANNER.plan(goal, len(levels))  # break


@ayo.workflow
async def static_recursion(goal: str) -> list[str]:
    return await PLANNER.plan(goal, 3)  # traced: depth 3 is known


@ayo.workflow
async def deep_static_recursion(goal: str) -> list[str]:
    return await PLANNER.plan(goal, 30)  # break: deeper than the trace unrolls
