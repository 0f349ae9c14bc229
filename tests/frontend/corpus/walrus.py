"""Assignment expressions (``:=``) where users write them: in a primitive's argument, in an ``if``
or ``while`` condition (around an await, or on the right of ``or``), in an f-string hole."""

from __future__ import annotations

import re

import ayo_trace as ayo

from . import case

DOCS = ["generators yield values lazily", "lists hold values", "coroutines await other coroutines"]


@ayo.workflow
async def walrus_in_a_prompt_argument(question: str) -> str:
    answer = await ayo.llm(prompt := f"Q: {question}\nA:", max_tokens=4)
    return prompt + answer


@ayo.workflow
async def walrus_around_an_await_in_a_condition(question: str) -> str:
    if (n := len(await ayo.llm(f"Q: {question}", max_tokens=4))) > 3:
        return f"long {n}"
    return "short"


@ayo.workflow
async def walrus_on_a_regex_match(question: str) -> str:
    out = await ayo.llm(f"Q: {question}", max_tokens=4)
    if m := re.search(r"\d+", out):
        return await ayo.llm(f"Number {m.group()}", max_tokens=2)
    return "none"


@ayo.workflow
async def walrus_right_of_or_keeps_the_old_value(question: str) -> str:
    n = 0
    out = await ayo.llm(f"Q: {question}", max_tokens=4)
    if out.startswith(" 0") or (n := len(out)) > 2:
        out = await ayo.llm(f"Long {n}", max_tokens=2)
    return f"{n} {out}"


@ayo.workflow
async def walrus_in_an_fstring_hole(question: str, docs: list[str]) -> str:
    answer = await ayo.llm(f"Context: {(context := ' | '.join(docs))}\nQ: {question}", max_tokens=3)
    return context + answer


@ayo.workflow
async def walrus_in_a_while_condition(question: str) -> list[str]:
    seen = []
    while (reply := await ayo.llm(f"{question} {len(seen)}", max_tokens=2)).strip()[:1] != "0" and len(
        seen
    ) < 3:
        seen.append(reply)
    return seen


CASES = [
    case(walrus_in_a_prompt_argument, "how do generators work"),
    case(walrus_around_an_await_in_a_condition, "how do generators work"),
    case(walrus_on_a_regex_match, "how do generators work"),
    case(walrus_on_a_regex_match, "what", label="walrus_on_a_regex_match_what"),
    case(walrus_right_of_or_keeps_the_old_value, "how do generators work"),
    case(walrus_right_of_or_keeps_the_old_value, "zz", label="walrus_right_of_or_zz"),
    case(walrus_in_an_fstring_hole, "what yields", DOCS),
    case(walrus_in_a_while_condition, "what"),
]
