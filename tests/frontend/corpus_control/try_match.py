"""try/except/else/finally around primitives, and match statements on traced values.

The engines these run on fail any LLM request whose prompt holds ``FAIL`` (see the test module).
"""

from __future__ import annotations

from dataclasses import dataclass

import ayo_trace as ayo


class ParseFailure(Exception):
    """The user's own exception class."""


def parse_score(text: str) -> int:
    digits = [c for c in text if c.isdigit()]
    if len(digits) < 3:
        raise ParseFailure(f"no score in {text!r}")
    return int(digits[0])


@ayo.workflow
async def answer_or_fallback(question: str) -> str:
    try:
        answer = await ayo.llm(f"{question}\nAnswer:", max_tokens=8)
    except ayo.EngineError as e:
        answer = f"unavailable ({type(e).__name__})"
    return answer


@ayo.workflow
async def score_or_minus_one(question: str) -> int:
    try:
        reply = await ayo.llm(f"Rate from 0 to 9: {question}\n", max_tokens=4)
        score = parse_score(reply)
    except ParseFailure:
        score = -1
    return score


@ayo.workflow
async def two_handlers(question: str) -> str:
    try:
        reply = await ayo.llm(f"Rate from 0 to 9: {question}\n", max_tokens=4)
        note = f"score {parse_score(reply)}"
    except ayo.EngineError:
        note = "engine down"
    except (ParseFailure, ValueError) as err:
        note = f"bad reply: {err}"
    return note


@ayo.workflow
async def try_else_finally(question: str, docs: list[str]) -> str:
    status = "started"
    try:
        draft = await ayo.llm(f"Draft: {question}\n", max_tokens=8)
    except Exception:
        final = "no draft"
    else:
        final = await ayo.llm(f"Polish: {draft}\n", max_tokens=8)
    finally:
        await ayo.ingest(docs, collection="audit")
    audit = await ayo.search(question, collection="audit", top_k=1)
    return f"{status}: {final} / {audit[0].text}"


@ayo.workflow
async def retry_until_ok(questions: list[str]) -> list[str]:
    answers = []
    for q in questions:
        for attempt in range(3):
            prompt = q if attempt == 0 else q.replace("FAIL ", "")
            try:
                text = await ayo.llm(f"{prompt} (attempt {attempt})", max_tokens=4)
            except ayo.EngineError:
                continue
            answers.append(f"{attempt}:{text}")
            break
        else:
            answers.append("gave up")
    return answers


@ayo.workflow
async def error_name_unbound_after(question: str) -> str:
    e = "kept"
    try:
        out = await ayo.llm(question, max_tokens=4)
    except ayo.EngineError as e:  # noqa: F811, F841 - Python deletes `e` after the handler
        out = "failed"
    return out


@dataclass
class Ticket:
    priority: int
    text: str


@ayo.workflow
async def route_by_intent(question: str) -> str:
    intent = await ayo.llm(f"Classify: {question}\nIntent:", max_tokens=2)
    match intent.strip()[:1]:
        case "a" | "b" | "c":
            reply = await ayo.llm(f"Search-based answer for {question}", max_tokens=8)
        case "1" | "2" | "3" as digit:
            reply = f"digit {digit}"
        case other:
            reply = await ayo.llm(f"General answer ({other}) for {question}", max_tokens=8)
    return reply


@ayo.workflow
async def handle_request(request: object) -> str:
    match request:
        case {"kind": "summarize", "text": str(text)}:
            out = await ayo.llm(f"Summarize: {text}", max_tokens=8)
        case {"kind": "translate", "text": text, "to": lang}:
            out = await ayo.llm(f"Translate to {lang}: {text}", max_tokens=8)
        case Ticket(priority=1, text=text):
            out = await ayo.llm(f"URGENT: {text}", max_tokens=8)
        case Ticket(priority=p) if p > 1:
            out = f"queued at {p}"
        case [first, *rest]:
            out = await ayo.llm(f"First of {len(rest) + 1}: {first}", max_tokens=8)
        case _:
            out = "unsupported"
    return out


@ayo.workflow
async def engine_error_message(question: str) -> str:
    try:
        out = await ayo.llm(question, max_tokens=3)
    except ayo.EngineError as e:
        out = f"error: {e} (node {e.node})"
    return out


@ayo.workflow
async def finally_notes_what_happened(question: str) -> str:
    notes = []
    try:
        answer = await ayo.llm(f"Q: {question}", max_tokens=3)
    except ayo.EngineError:
        answer = "n/a"
        notes.append("failed")
    else:
        notes.append("ok")
    finally:
        notes.append("done")
    return f"{answer} {notes}"


@ayo.workflow
async def finally_without_handlers(question: str) -> str:
    steps = []
    try:
        steps.append(await ayo.llm(f"Q: {question}", max_tokens=2))
        steps.append(await ayo.llm(f"Again: {question}", max_tokens=2))
    finally:
        steps.append("closed")
    return " | ".join(steps)
