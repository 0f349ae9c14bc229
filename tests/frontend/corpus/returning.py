"""``return`` inside a loop or a ``match``: the first relevant document, an agent loop that returns
its answer, a ``match`` whose cases return. Each is checked on inputs that return early and inputs
that run to the end. (A scripted answer starts with four hex digits; the workflows branch on them.)"""

from __future__ import annotations

import ayo_trace as ayo

from . import case

DOCS = ["generators yield values lazily", "lists hold values", "coroutines await other coroutines", "tuples"]
QUESTIONS = ["a", "bb", "how do generators work", "zz top", "why"]


def digit(answer: str) -> int:
    head = answer.strip()[:1]
    return int(head, 16) if head else 0


@ayo.workflow
async def first_relevant(question: str, docs: list[str]) -> str:
    for i, d in enumerate(docs):
        verdict = await ayo.llm(f"Relevant? {question} / {d}", max_tokens=2)
        if digit(verdict) > 7:
            return f"{i}: {d}"
    return "none"


@ayo.workflow
async def agent_returns_its_answer(task: str) -> str:
    notes = []
    while True:
        step = await ayo.llm(f"{task} {notes}", max_tokens=2)
        if digit(step) % 3 == 0:
            return f"done after {len(notes)}: {step.strip()}"
        elif len(notes) >= 4:
            return "gave up"
        notes.append(step.strip())


@ayo.workflow
async def return_early_or_summarize(question: str, docs: list[str]) -> list[str]:
    found = []
    for d in docs:
        verdict = await ayo.llm(f"{question}? {d}", max_tokens=2)
        if digit(verdict) == 15:
            return [d]
        if digit(verdict) > 4:
            found.append(d)
    summary = await ayo.llm(f"Summarize {found}", max_tokens=2)
    return [*found, summary]


@ayo.workflow
async def bare_return_in_a_loop(docs: list[str]) -> None:
    for d in docs:
        if await ayo.llm(d, max_tokens=1):
            return
    return None


@ayo.workflow
async def return_and_break_in_one_loop(question: str, docs: list[str]) -> str:
    last = ""
    for d in docs:
        verdict = await ayo.llm(f"{question} {d}", max_tokens=2)
        last = d
        if digit(verdict) > 12:
            break
        if digit(verdict) < 2:
            return "low " + d
    return "stopped at " + last


@ayo.workflow
async def for_else_returns(question: str, docs: list[str]) -> str:
    for d in docs:
        verdict = await ayo.llm(f"{question} {d}", max_tokens=2)
        if digit(verdict) > 12:
            break
        if digit(verdict) < 2:
            return "low " + d
    else:
        return "exhausted"
    return "broke at " + d


@ayo.workflow
async def while_else_returns(question: str) -> str:
    n = 0
    while n < 3:
        reply = await ayo.llm(f"{question} {n}", max_tokens=2)
        n += 1
        if digit(reply) > 7:
            break
    else:
        return "never high"
    return f"high at {n}"


@ayo.workflow
async def match_cases_return(question: str) -> str:
    label = await ayo.llm(f"Classify: {question}", max_tokens=2)
    match digit(label) % 4:
        case 0:
            return "zero"
        case 1:
            extra = await ayo.llm(f"More on {question}", max_tokens=2)
            return "one " + extra
        case 2 if len(question) > 3:
            tail = "two"
        case _:
            tail = "other"
    return tail + await ayo.llm(f"tail {question}", max_tokens=1)


@ayo.workflow
async def returning_loop_inside_a_branch(question: str, docs: list[str], deep: bool) -> str:
    if deep:
        for d in docs:
            if digit(await ayo.llm(f"{question} {d}", max_tokens=1)) > 9:
                return d
    return "shallow"


CASES = [
    *(case(first_relevant, q, DOCS, label=f"first_relevant[{q}]") for q in QUESTIONS),
    case(first_relevant, "q", [], label="first_relevant_no_docs"),
    *(case(agent_returns_its_answer, q, label=f"agent_returns_its_answer[{q}]") for q in QUESTIONS),
    *(case(return_early_or_summarize, q, DOCS, label=f"return_early_or_summarize[{q}]") for q in QUESTIONS),
    case(bare_return_in_a_loop, DOCS),
    case(bare_return_in_a_loop, [], label="bare_return_in_a_loop_empty"),
    *(case(return_and_break_in_one_loop, q, DOCS, label=f"return_and_break[{q}]") for q in QUESTIONS),
    *(case(match_cases_return, q, label=f"match_cases_return[{q}]") for q in QUESTIONS),
    *(case(for_else_returns, q, DOCS, label=f"for_else_returns[{q}]") for q in QUESTIONS),
    *(case(while_else_returns, q, label=f"while_else_returns[{q}]") for q in QUESTIONS),
    case(returning_loop_inside_a_branch, "why", DOCS, True),
    case(returning_loop_inside_a_branch, "why", DOCS, False, label="returning_loop_inside_a_branch_off"),
]
