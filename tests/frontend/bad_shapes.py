"""Workflows that cannot be traced; each must fail with a TraceError naming its line here."""

from __future__ import annotations

import ayo_trace as ayo

COUNTER = 0


async def fetch(q: str) -> str:
    return q


@ayo.workflow
async def assigns_global(question: str) -> str:
    global COUNTER
    for COUNTER in range(2):  # noqa: B007  (a loop target: the rewrite of `global` names does not take it)
        pass
    return await ayo.llm(question)


@ayo.workflow(strict=True)  # a graph break otherwise (the call would run eagerly)
async def traced_max_tokens(question: str, budget: list[int]) -> str:
    return await ayo.llm(question, max_tokens=len(budget))


@ayo.workflow
async def endless_recursion(question: str, depth: str) -> str:
    if depth == "":
        return question
    return await endless_recursion(question, depth[1:])


@ayo.workflow
async def maybe_unbound(question: str, flag: str) -> str:
    try:  # noqa: SIM105
        extra = await ayo.llm(question)
    except ayo.EngineError as extra:  # noqa: F841
        pass
    return await ayo.llm(extra)


@ayo.workflow
async def answer(question: str, max_tokens: int = 8) -> str:
    return await ayo.llm(question, max_tokens=max_tokens)


@ayo.workflow
async def starred_call(question: str, kwargs: dict) -> str:
    return await answer(question, **kwargs)  # a graph break, as a helper's call (its reason names it)


@ayo.workflow
async def bad_parser(question: str) -> list[str]:
    return await ayo.llm(question, parse="lines")
