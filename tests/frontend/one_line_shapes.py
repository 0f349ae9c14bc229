"""Compound statements whose body stands on their own line (``for d in docs: out.append(...)``),
for ``test_one_line_bodies.py``: the tracer reads them as the same body on a line of its own
(they were dropped: the loop ran nothing, the ``try`` kept its old value). The scripted LLM fails
a prompt holding FAIL."""

# ruff: noqa: E701, E702

from __future__ import annotations

import asyncio
from contextlib import suppress

import ayo_trace as ayo

LIMIT = asyncio.Semaphore(2)

# fmt: off


@ayo.workflow
async def loop_on_one_line(question: str, docs: list[str]) -> list[str]:
    out = []
    for d in docs: out.append(await ayo.llm(f"{question} {d}", max_tokens=2))
    return out


@ayo.workflow
async def try_on_one_line(question: str, docs: list[str]) -> str:
    try: got = await ayo.llm(question, max_tokens=2)
    except ayo.EngineError: got = "failed"
    return got


@ayo.workflow
async def first_that_answers(question: str, docs: list[str]) -> str:
    got = "none"
    for d in docs:
        try:
            got = await ayo.llm(f"{question} {d}", max_tokens=2)
            break
        except ayo.EngineError: pass
    return got


@ayo.workflow
async def branches_on_one_line(question: str, docs: list[str]) -> str:
    if "FAIL" in question: r = "refused"
    elif docs: r = await ayo.llm(f"{question} {docs[0]}", max_tokens=2)
    else: r = await ayo.llm(question, max_tokens=3)
    return r


@ayo.workflow
async def while_on_one_line(question: str, docs: list[str]) -> int:
    n = 0
    while n < 3: n += len(await ayo.llm(f"{question} {n}", max_tokens=1))
    return n


@ayo.workflow
async def several_statements(question: str, docs: list[str]) -> list[str]:
    out: list[str] = []
    for d in docs: a = await ayo.llm(d, max_tokens=2); out.append(a.upper())
    return out


@ayo.workflow
async def suppressed_on_one_line(question: str, docs: list[str]) -> list[str]:
    out = []
    for d in docs:
        with suppress(ayo.EngineError): out.append(await ayo.llm(f"{question} {d}", max_tokens=2))
    return out


@ayo.workflow
async def bounded_on_one_line(question: str, docs: list[str]) -> list[str]:
    async def one(d: str) -> str:
        async with LIMIT: return await ayo.llm(f"{question} {d}", max_tokens=2)

    return list(await asyncio.gather(*(one(d) for d in docs)))


@ayo.workflow
async def finally_on_one_line(question: str, docs: list[str]) -> list[str]:
    log: list[str] = []
    try: answer = await ayo.llm(question, max_tokens=2)
    finally: log.append("done")
    return [answer, *log]


CASES = [
    loop_on_one_line,
    try_on_one_line,
    first_that_answers,
    branches_on_one_line,
    while_on_one_line,
    several_statements,
    suppressed_on_one_line,
    bounded_on_one_line,
    finally_on_one_line,
]


@ayo.workflow
async def lines_kept(question: str, docs: list[str]) -> str:
    for d in docs: question = await ayo.llm(f"{question} {d}", max_tokens=2)
    return question.upper()  # LINE_AFTER
