"""Control flow whose meaning the tracer cannot keep in the graph: each is refused at trace time
with a message naming the line and the fix, or left as a graph break that runs it eagerly."""

from __future__ import annotations

import asyncio

import ayo_trace as ayo


@ayo.workflow
async def reads_error_after_handler(question: str) -> str:
    try:
        out = await ayo.llm(question, max_tokens=4)
    except ayo.EngineError as e:  # noqa: F841
        out = "failed"
    return out + str(e)  # noqa: F821 - Python deleted `e` after the handler


@ayo.workflow
async def break_inside_try_body(questions: list[str]) -> str:
    found = ""
    for q in questions:
        try:
            found = await ayo.llm(q, max_tokens=4)
            if found:
                break
        except ayo.EngineError:
            pass
    return found


@ayo.workflow
async def partial_body_may_leave_unbound(question: str) -> str:
    try:
        first = await ayo.llm(question, max_tokens=4)
        second = await ayo.llm(first, max_tokens=4)
    except ayo.EngineError:
        second = "failed"
    return first + second  # Python raises UnboundLocalError when the first call fails


@ayo.workflow
async def partial_body_then_handler(question: str) -> str:
    first = "none"
    try:
        first = await ayo.llm(question.split("|")[0], max_tokens=4)
        second = await ayo.llm(question.split("|")[-1] + first, max_tokens=4)
    except ayo.EngineError as e:
        second = f" failed: {e}"
    return first + second  # `first` keeps the first answer when only the second call fails


@ayo.workflow
async def gather_returning_exceptions(question: str) -> list[str]:
    results = await asyncio.gather(
        ayo.llm(question, max_tokens=2), ayo.llm(f"{question}?", max_tokens=2), return_exceptions=True
    )
    return [f"{type(r).__name__}: {r}" if isinstance(r, Exception) else r for r in results]


@ayo.workflow
async def fire_and_forget(question: str) -> str:
    asyncio.create_task(ayo.ingest([question], collection="log"))  # noqa: RUF006 - on purpose
    return await ayo.llm(question, max_tokens=4)


@ayo.workflow
async def bound_in_the_last_statement_before_its_await(questions: list[str]) -> str:
    found = ""
    for q in questions:
        try:
            if q:
                found = q.upper()
                await ayo.llm(q, max_tokens=4)
                break
        except ayo.EngineError:
            pass
    return found  # Python keeps `found` bound when the call after it fails
