"""Constructs in combination: gather inside loops, try inside agent loops, match with continue,
task groups per item."""

from __future__ import annotations

import asyncio

import ayo_trace as ayo


@ayo.workflow
async def debate_until_agreement(topics: list[str]) -> list[str]:
    verdicts = []
    for topic in topics:
        pro, con = await asyncio.gather(
            ayo.llm(f"For {topic}:", max_tokens=6), ayo.llm(f"Against {topic}:", max_tokens=6)
        )
        verdict = await ayo.llm(f"Judge. For: {pro}\nAgainst: {con}\nWinner:", max_tokens=3)
        verdicts.append(verdict.strip())
        if verdict.strip().startswith("f"):
            break
    return verdicts


@ayo.workflow
async def agent_with_flaky_tool(question: str, budget: int = 4) -> dict[str, object]:
    notes: list[str] = []
    failures = 0
    step = 0
    while step < budget:
        step += 1
        plan = await ayo.llm(f"Q: {question}\nNotes: {notes}\nNext lookup:", max_tokens=4)
        try:
            lookup = await ayo.llm(f"{'FAIL ' if step == 2 else ''}Look up {plan.strip()}", max_tokens=4)
        except ayo.EngineError:
            failures += 1
            continue
        notes.append(lookup.strip())
        if len(notes) >= 2:
            break
    return {"notes": notes, "failures": failures, "steps": step}


@ayo.workflow
async def triage(messages: list[str]) -> list[str]:
    out = []
    for message in messages:
        match message.split(":", 1):
            case ["spam", _]:
                continue
            case ["urgent", body]:
                out.append(await ayo.llm(f"Escalate: {body}", max_tokens=4))
            case [body]:
                out.append(body)
            case _:
                out.append(await ayo.llm(f"Reply to: {message}", max_tokens=4))
    return out


@ayo.workflow
async def per_doc_task_groups(docs: list[str]) -> list[str]:
    cards = []
    for doc in docs:
        async with asyncio.TaskGroup() as tg:
            title = tg.create_task(ayo.llm(f"Title for: {doc}", max_tokens=3))
            summary = tg.create_task(ayo.llm(f"Summary of: {doc}", max_tokens=5))
        cards.append(f"{title.result().strip()}: {summary.result().strip()}")
    return cards


@ayo.workflow
async def stop_on_outage(questions: list[str]) -> list[str]:
    answers = []
    for q in questions:
        try:
            answers.append(await ayo.llm(q, max_tokens=3))
        except ayo.EngineError:
            answers.append("outage")
            break
    else:
        answers.append("all answered")
    return answers
