"""Four idioms users write around primitives: ``return`` inside ``try``, ``functools.partial`` of a
primitive or helper, ``asyncio.gather`` over ``map``/a generator, and ``asyncio.wait_for``.

The engines these run on fail any LLM request whose prompt holds ``FAIL`` (see the test module).
"""

from __future__ import annotations

import asyncio
import functools

import ayo_trace as ayo


class NoScore(Exception):
    """The user's own exception class."""


def score_of(text: str) -> int:
    digits = [c for c in text if c.isdigit()]
    if not digits:
        raise NoScore(text)
    return int(digits[0])


async def summarize(text: str, words: int = 3) -> str:
    reply = await ayo.llm(f"Summarize in {words} words: {text}\nSummary:", max_tokens=words)
    return reply.strip()


# --- return inside try -------------------------------------------------------------------------


@ayo.workflow
async def return_in_try(question: str) -> str:
    try:
        return await ayo.llm(f"{question}\nAnswer:", max_tokens=6)
    except ayo.EngineError:
        return "unavailable"


@ayo.workflow
async def return_in_try_then_more(question: str) -> str:
    try:
        answer = await ayo.llm(f"{question}\nAnswer:", max_tokens=6)
        return answer.strip()
    except ayo.EngineError:
        pass
    retry = await ayo.llm(f"Simpler: {question.lower()}\nAnswer:", max_tokens=6)
    return retry.strip()


@ayo.workflow
async def return_in_try_else(question: str) -> int:
    try:
        reply = await ayo.llm(f"Rate 0-9: {question}\n", max_tokens=4)
        score = score_of(reply)
    except NoScore:
        return -1
    else:
        return score * 10


@ayo.workflow
async def return_in_finally_free_try(question: str) -> str:
    notes = []
    try:
        reply = await ayo.llm(f"{question}\nAnswer:", max_tokens=6)
        notes.append("ok")
        return reply + " " + ",".join(notes)
    finally:
        notes.append("done")


@ayo.workflow
async def first_answer_that_works(questions: list[str]) -> str:
    for q in questions:
        try:
            return await ayo.llm(f"{q}\nAnswer:", max_tokens=5)
        except ayo.EngineError:
            continue
    return "none worked"


@ayo.workflow
async def return_in_try_under_if(question: str, careful: bool) -> str:
    if careful:
        try:
            reply = await ayo.llm(f"Carefully: {question}\n", max_tokens=5)
            return reply.upper()
        except ayo.EngineError as e:
            return f"failed: {type(e).__name__}"
    return await ayo.llm(f"{question}\n", max_tokens=5)


# --- functools.partial ---------------------------------------------------------------------------


@ayo.workflow
async def partial_llm(question: str) -> str:
    short = functools.partial(ayo.llm, max_tokens=4)
    first = await short(f"One line: {question}\n")
    return await short(f"Expand: {first}\n")


@ayo.workflow
async def partial_llm_in_gather(question: str) -> list[str]:
    brief = functools.partial(ayo.llm, max_tokens=3, stop=["\n"])
    pro, con = await asyncio.gather(brief(f"For: {question}\n"), brief(f"Against: {question}\n"))
    return [pro, con]


@ayo.workflow
async def partial_helper_per_doc(docs: list[str]) -> list[str]:
    two_words = functools.partial(summarize, words=2)
    return [await two_words(d) for d in docs]


# --- gather over map / a generator ---------------------------------------------------------------


@ayo.workflow
async def gather_map_helper(docs: list[str]) -> str:
    summaries = await asyncio.gather(*map(summarize, docs))
    return " | ".join(summaries)


@ayo.workflow
async def gather_generator_helper(docs: list[str]) -> list[str]:
    return list(await asyncio.gather(*(summarize(d, 2) for d in docs)))


@ayo.workflow
async def gather_generator_filtered(question: str, docs: list[str]) -> list[str]:
    checks = await asyncio.gather(
        *(ayo.llm(f"Relevant to {question}? {d}\nYes/No:", max_tokens=2) for d in docs if d)
    )
    return [c.strip() for c in checks]


@ayo.workflow
async def gather_map_partial(docs: list[str]) -> list[str]:
    tiny = functools.partial(ayo.llm, max_tokens=2)
    return list(await asyncio.gather(*map(tiny, docs)))


@ayo.workflow
async def gather_generator_then_loop(question: str, docs: list[str]) -> str:
    notes = await asyncio.gather(*(ayo.llm(f"Note on {d}:", max_tokens=3) for d in docs))
    best = ""
    for note in notes:
        if len(note) > len(best):
            best = note
    return await ayo.llm(f"{question}\nBest note: {best}\nAnswer:", max_tokens=4)


# --- wait_for --------------------------------------------------------------------------------------


@ayo.workflow
async def wait_for_llm(question: str) -> str:
    return await asyncio.wait_for(ayo.llm(f"{question}\nAnswer:", max_tokens=6), timeout=30)


@ayo.workflow
async def wait_for_with_fallback(question: str) -> str:
    try:
        answer = await asyncio.wait_for(ayo.llm(f"{question}\nAnswer:", max_tokens=6), timeout=30)
    except TimeoutError:
        answer = "too slow"
    return answer


@ayo.workflow
async def wait_for_helper(text: str) -> str:
    gist = await asyncio.wait_for(summarize(text), 30)
    return gist.upper()


@ayo.workflow
async def wait_for_per_doc(docs: list[str]) -> list[str]:
    return [await asyncio.wait_for(ayo.llm(f"Tag: {d}\n", max_tokens=2), timeout=30) for d in docs]


@ayo.workflow
async def wait_for_with_limit(question: str, limit: float) -> str:
    try:
        answer = await asyncio.wait_for(ayo.llm(f"{question}\nAnswer:", max_tokens=6), timeout=limit)
    except TimeoutError:
        answer = "too slow"
    return answer.strip()


@ayo.workflow
async def first_score_that_parses(questions: list[str]) -> int:
    tried = 0
    for q in questions:
        tried += 1
        try:
            reply = await ayo.llm(f"Rate 0-9: {q}\n", max_tokens=4)
            if score_of(reply) > 2:
                return score_of(reply) + tried * 100
        except NoScore:
            continue
        except ayo.EngineError:
            break
    return -tried


@ayo.workflow
async def retry_while_failing(question: str, attempts: int) -> str:
    n = 0
    while n < attempts:
        n += 1
        try:
            reply = await ayo.llm(f"{question} (try {n})\n", max_tokens=4)
        except ayo.EngineError:
            question = question.replace("FAIL", "", 1)
        else:
            return f"{reply.strip()} after {n}"
    return "gave up"
