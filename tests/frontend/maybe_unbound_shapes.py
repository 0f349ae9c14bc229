"""Workflows that read a name some path leaves unbound, as people write them: assigned under a
condition and read under the same one, assigned in a loop that may not run, read where Python
would raise ``UnboundLocalError`` on one input and not on another (``test_maybe_unbound.py``)."""

from __future__ import annotations

import asyncio

import ayo_trace as ayo


@ayo.workflow
async def read_under_the_same_condition(q: str, docs: list[str]) -> str:
    if "x" in q:
        extra = await ayo.llm("Extra: " + q, max_tokens=3)
    base = await ayo.llm("Base: " + q, max_tokens=3)
    if "x" in q:
        return base + extra
    return base


@ayo.workflow
async def read_in_a_later_branch(q: str, docs: list[str]) -> str:
    if len(docs) > 1:
        summary = await ayo.llm(f"Summarize: {docs}", max_tokens=3)
    answer = await ayo.llm("Answer: " + q, max_tokens=3)
    if len(docs) > 1:
        answer = answer + " / " + summary
    return answer


@ayo.workflow
async def read_in_a_conditional_expression(q: str, docs: list[str]) -> str:
    if "x" in q:
        extra = await ayo.llm("Extra: " + q, max_tokens=3)
    base = await ayo.llm("Base: " + q, max_tokens=3)
    result = base + extra if "x" in q else base
    return result


@ayo.workflow
async def read_always(q: str, docs: list[str]) -> str:
    if "x" in q:
        extra = await ayo.llm("Extra: " + q, max_tokens=3)
    base = await ayo.llm("Base: " + q, max_tokens=3)
    return base + extra  # raises UnboundLocalError without "x"


@ayo.workflow
async def read_in_a_prompt(q: str, docs: list[str]) -> str:
    if "x" in q:
        hint = await ayo.llm("Hint: " + q, max_tokens=3)
    return await ayo.llm(f"Use {hint} to answer {q}", max_tokens=3)


@ayo.workflow
async def last_of_a_loop(q: str, docs: list[str]) -> str:
    for d in docs:
        last = await ayo.llm("Summarize: " + d, max_tokens=3)
    return last if docs else "none"


@ayo.workflow
async def loop_may_not_run(q: str, docs: list[str]) -> str:
    for d in docs:
        last = await ayo.llm("Summarize: " + d, max_tokens=3)
    return last  # raises UnboundLocalError when there are no docs


@ayo.workflow
async def found_by_a_break(q: str, docs: list[str]) -> str:
    for d in docs:
        reply = await ayo.llm(f"Is {d} about {q}?", max_tokens=3)
        if len(reply) % 2 == 0:
            found = d
            break
    else:
        return "nothing"
    return found


@ayo.workflow
async def while_loop(q: str, docs: list[str]) -> str:
    n = 0
    while n < len(docs):
        reply = await ayo.llm(f"Step {n}: {q}", max_tokens=3)
        n += 1
    return reply if n else "no steps"


@ayo.workflow
async def plain_statement(q: str, docs: list[str]) -> str:
    if len(q) > 12:
        tag = "long"
    prompt = f"{tag}: {q}" if len(q) > 12 else q
    return await ayo.llm(prompt, max_tokens=3)


@ayo.workflow
async def elif_chain(q: str, docs: list[str]) -> str:
    if "x" in q:
        style = await ayo.llm("Formal: " + q, max_tokens=3)
    elif docs:
        style = await ayo.llm("Casual: " + q, max_tokens=3)
    if "x" in q or docs:
        return await ayo.llm(f"In style {style}: {q}", max_tokens=3)
    return "plain"


@ayo.workflow
async def read_in_a_loop_body(q: str, docs: list[str]) -> list[str]:
    if "x" in q:
        extra = await ayo.llm("Extra: " + q, max_tokens=3)
    out = []
    for d in docs:
        if "x" in q:
            out.append(await ayo.llm(f"{d} with {extra}", max_tokens=3))
        else:
            out.append(d)
    return out


@ayo.workflow
async def bound_on_the_other_path_later(q: str, docs: list[str]) -> str:
    if "x" in q:
        text = await ayo.llm("One: " + q, max_tokens=3)
    if "x" not in q:
        text = await ayo.llm("Two: " + q, max_tokens=3)
    return text.strip()


@ayo.workflow
async def helper_style(q: str, docs: list[str]) -> str:
    if docs:
        context = "\n".join(docs)
    answer = await ayo.llm("Q: " + q, max_tokens=3)
    if docs:
        answer = await ayo.llm(f"{context}\n{answer}", max_tokens=3)
    return answer


@ayo.workflow
async def handler_binds_nothing(q: str, docs: list[str]) -> str:
    try:  # noqa: SIM105 (as people write it)
        answer = await ayo.llm("Answer: " + q, max_tokens=3)
    except ayo.EngineError:
        pass
    return answer if "FAIL" not in q else "failed"


@ayo.workflow
async def handler_binds_nothing_read_always(q: str, docs: list[str]) -> str:
    try:  # noqa: SIM105 (as people write it)
        answer = await ayo.llm("Answer: " + q, max_tokens=3)
    except ayo.EngineError:
        pass
    return answer  # raises UnboundLocalError when the call failed


async def noted(q: str) -> str:
    """A plain helper binding a name under a condition."""
    if "x" in q:
        note = await ayo.llm("Note: " + q, max_tokens=3)
    return note if "x" in q else ""


@ayo.workflow
async def in_a_helper(q: str, docs: list[str]) -> str:
    return await noted(q) + await noted(q + " again")


@ayo.workflow
async def carried_by_a_loop(q: str, docs: list[str]) -> list[str]:
    out = []
    for d in docs:
        if "a" in d:
            tag = await ayo.llm("Tag: " + d, max_tokens=3)
        out.append(tag)  # the tag of an earlier item, or UnboundLocalError before the first
    return out


@ayo.workflow
async def in_a_match(q: str, docs: list[str]) -> str:
    match len(docs):
        case 0:
            answer = await ayo.llm("None: " + q, max_tokens=3)
        case 1:
            answer = await ayo.llm("One: " + q, max_tokens=3)
    return answer  # UnboundLocalError for more docs


@ayo.workflow
async def in_a_while_with_break(q: str, docs: list[str]) -> str:
    steps = 0
    while steps < 3:
        steps += 1
        if steps > len(docs):
            break
        reply = await ayo.llm(f"Step {steps}: {q}", max_tokens=3)
    return reply if docs else "no docs"


@ayo.workflow
async def in_a_try_body_branch(q: str, docs: list[str]) -> str:
    try:
        if "x" in q:
            extra = await ayo.llm("Extra: " + q, max_tokens=3)
        base = await ayo.llm("Base: " + q, max_tokens=3)
    except ayo.EngineError:
        base = "failed"
    return base + (extra if "x" in q and base != "failed" else "")


@ayo.workflow
async def gathered_under_a_condition(q: str, docs: list[str]) -> str:
    if docs:
        a, b = await asyncio.gather(ayo.llm("A: " + q, max_tokens=3), ayo.llm("B: " + q, max_tokens=3))
    return a + b if docs else "none"


WORKFLOWS = [
    read_under_the_same_condition,
    read_in_a_later_branch,
    read_in_a_conditional_expression,
    read_always,
    read_in_a_prompt,
    last_of_a_loop,
    loop_may_not_run,
    found_by_a_break,
    while_loop,
    plain_statement,
    elif_chain,
    read_in_a_loop_body,
    bound_on_the_other_path_later,
    helper_style,
    handler_binds_nothing,
    handler_binds_nothing_read_always,
    in_a_helper,
    carried_by_a_loop,
    in_a_match,
    in_a_while_with_break,
    in_a_try_body_branch,
    gathered_under_a_condition,
]
