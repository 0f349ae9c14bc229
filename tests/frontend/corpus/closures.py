"""Functions and lambdas the workflow defines, closing over its names: a closure that changes a
workflow list in place, one read in a loop body, one handed to ``sorted``, one using another."""

from __future__ import annotations

import ayo_trace as ayo

from . import case

DOCS = ["generators yield values lazily", "lists hold values", "coroutines await other coroutines"]


@ayo.workflow
async def closure_remembers_answers(question: str) -> list[str]:
    seen = []

    def remember(answer: str) -> str:
        seen.append(answer.strip())
        return answer

    first = remember(await ayo.llm(f"Q: {question}", max_tokens=2))
    remember(await ayo.llm(f"Again: {first}", max_tokens=2))
    return seen


@ayo.workflow
async def closure_reads_a_list_filled_later(question: str, docs: list[str]) -> str:
    notes: list[str] = []

    def context() -> str:
        return "\n".join(notes)

    for d in docs:
        notes.append(d.upper())
    notes.append(await ayo.llm(f"Hint for {question}", max_tokens=2))
    return await ayo.llm(f"{context()}\nQ: {question}", max_tokens=2)


@ayo.workflow
async def lambda_per_item(docs: list[str]) -> list[str]:
    out = []
    for d in docs:
        shout = lambda: d.upper()  # noqa: E731, B023 - the way people write it
        out.append(await ayo.llm(shout(), max_tokens=2))
    return out


@ayo.workflow
async def local_key_function(question: str, docs: list[str]) -> list[str]:
    weights = {"lists": 3, "generators": 2}

    def weight(text: str) -> int:
        return max((w for k, w in weights.items() if k in text), default=0)

    answers = [await ayo.llm(f"{question} {d}", max_tokens=2) for d in docs]
    ranked = sorted(zip(docs, answers, strict=True), key=lambda pair: -weight(pair[0]))
    return [f"{d}: {a}" for d, a in ranked]


@ayo.workflow
async def closure_uses_a_closure(question: str) -> str:
    log: list[str] = []

    def note(s: str) -> None:
        log.append(s)

    def ask_prompt(s: str) -> str:
        note(s)
        return f"Q: {s}\nA:"

    answer = await ayo.llm(ask_prompt(question), max_tokens=2)
    follow = await ayo.llm(ask_prompt(answer), max_tokens=2)
    return " | ".join([*log, follow])


@ayo.workflow
async def local_async_helper_reads_the_latest_value(question: str) -> str:
    tone = "plain"

    async def ask(s: str) -> str:
        return await ayo.llm(f"[{tone}] {s}", max_tokens=2)

    tone = (await ayo.llm(f"tone for {question}", max_tokens=1)).strip()
    return await ask(question)


HISTORY: list[str] = []


@ayo.workflow
async def history_kept_in_a_module_list(question: str) -> list[str]:
    HISTORY.append(question)
    answer = await ayo.llm(question, max_tokens=2)
    HISTORY.append(answer)
    return list(HISTORY[-2:])


CASES = [
    case(closure_remembers_answers, "how do generators work"),
    case(closure_reads_a_list_filled_later, "what yields", DOCS),
    case(lambda_per_item, DOCS),
    case(local_key_function, "why", DOCS),
    case(closure_uses_a_closure, "what is a list"),
    case(local_async_helper_reads_the_latest_value, "what yields"),
    case(history_kept_in_a_module_list, "what holds"),
]
