"""Retry idioms around primitives, for ``test_retries.py``. The question is ``|``-separated, one
prompt per attempt, and the scripted LLM fails a prompt holding FAIL, so a test can make the first
attempts fail, or all of them (then the handler's bare ``raise`` re-raises the engine error)."""

from __future__ import annotations

import asyncio

import ayo_trace as ayo


def attempt_prompt(question: str, attempt: int) -> str:
    parts = question.split("|")
    return parts[min(attempt, len(parts) - 1)]


@ayo.workflow
async def return_or_reraise(question: str) -> str:
    for attempt in range(3):
        try:
            return await ayo.llm(attempt_prompt(question, attempt), max_tokens=3)
        except ayo.EngineError:
            if attempt == 2:
                raise
    return "unreachable"


@ayo.workflow
async def bind_then_break(question: str) -> str:
    answer = ""
    for attempt in range(3):
        try:
            answer = await ayo.llm(attempt_prompt(question, attempt), max_tokens=3)
            break
        except ayo.EngineError:
            if attempt == 2:
                raise
    return answer.strip()


@ayo.workflow
async def while_until_it_works(question: str) -> str:
    tries = 0
    answer = ""
    while True:
        try:
            answer = await ayo.llm(attempt_prompt(question, tries), max_tokens=3)
            break
        except ayo.EngineError:
            tries += 1
            if tries >= 3:
                raise
    return f"{answer} after {tries}"


@ayo.workflow
async def last_error_kept(question: str) -> str:
    last = None
    for attempt in range(3):
        try:
            return await ayo.llm(attempt_prompt(question, attempt), max_tokens=3)
        except Exception as e:
            last = e
            await asyncio.sleep(0)  # a back-off: a graph break of its own
    raise RuntimeError(f"gave up: {last}")


@ayo.workflow
async def log_then_reraise(question: str) -> str:
    log: list[str] = []
    try:
        answer = await ayo.llm(attempt_prompt(question, 0), max_tokens=3)
    except ayo.EngineError as e:
        log.append(type(e).__name__)
        raise
    return answer + str(len(log))


@ayo.workflow
async def reraise_by_name(question: str) -> str:
    try:
        answer = await ayo.llm(attempt_prompt(question, 0), max_tokens=3)
    except ayo.EngineError as e:
        raise e
    return answer


@ayo.workflow
async def fallback_model_then_reraise(question: str) -> str:
    try:
        answer = await ayo.llm(attempt_prompt(question, 0), max_tokens=3)
    except ayo.EngineError:
        try:
            answer = await ayo.llm(attempt_prompt(question, 1), max_tokens=2)
        except ayo.EngineError:
            raise  # (the inner handler's error)
    return answer


@ayo.workflow
async def back_off_then_reraise(question: str) -> str:
    for attempt in range(3):
        try:
            return await ayo.llm(attempt_prompt(question, attempt), max_tokens=3)
        except ayo.EngineError:
            if attempt == 2:
                await asyncio.sleep(0)  # (the `if` awaits: a graph break whose bare `raise` re-raises)
                raise
    return "unreachable"


@ayo.workflow
async def log_then_return(question: str) -> tuple[str | None, list[object]]:
    log: list[object] = []
    for attempt in range(3):
        try:
            out = await ayo.llm(attempt_prompt(question, attempt), max_tokens=3)
            log.append(attempt)  # (after the only await: nothing after it can fail)
            return out, log
        except ayo.EngineError:
            log.append("failed")
    return None, log


@ayo.workflow
async def backoff_log_then_return(question: str) -> tuple[str | None, list[object]]:
    delay = 0.5
    log: list[object] = []
    for attempt in range(3):
        try:
            out = await ayo.llm(attempt_prompt(question, attempt), max_tokens=3)
            log.append(("ok", attempt, delay))
            return out
        except ayo.EngineError:
            log.append(("fail", attempt, delay))
            delay *= 2
    return None, log


CASES = [
    log_then_return,
    backoff_log_then_return,
    return_or_reraise,
    bind_then_break,
    while_until_it_works,
    last_error_kept,
    log_then_reraise,
    reraise_by_name,
    fallback_model_then_reraise,
    back_off_then_reraise,
]
