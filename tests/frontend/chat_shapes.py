"""Workflows that call ``ayo.llm(messages=...)`` in the shapes users write, and shapes refused."""

from __future__ import annotations

import ayo_trace as ayo

SYSTEM = "You answer in one word."
SYSTEM_MSG = ayo.system(SYSTEM)
FEW_SHOT = [ayo.user("Capital of Italy?"), ayo.assistant("Rome")]
FEW_SHOT_DICTS = ({"role": "user", "content": "Capital of Peru?"}, {"role": "assistant", "content": "Lima"})


def constant_turns() -> list[dict[str, str]]:
    return [SYSTEM_MSG, *FEW_SHOT]


TURNS = constant_turns()  # built once, at import: a constant of every trace


@ayo.workflow
async def dict_literals(q: str) -> str:
    return await ayo.llm(
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": q}], max_tokens=8
    )


@ayo.workflow
async def helpers_and_fstring(q: str) -> str:
    return await ayo.llm(messages=[ayo.system(SYSTEM), ayo.user(f"Question: {q}")], max_tokens=8)


@ayo.workflow
async def spliced_few_shot(q: str) -> str:
    return await ayo.llm(messages=[SYSTEM_MSG, *FEW_SHOT, *FEW_SHOT_DICTS, ayo.user(q)], max_tokens=8)


@ayo.workflow
async def fstring_inside(q: str, topic: str) -> str:
    return await ayo.llm(
        messages=(ayo.system(f"You know {topic}. {SYSTEM}"), ayo.user(f"  About {topic}: {q}?  ")),
        max_tokens=8,
    )


@ayo.workflow
async def content_from_an_llm(q: str) -> str:
    draft = await ayo.llm(f"Draft: {q}\n", max_tokens=6, stop="\n")
    return await ayo.llm(messages=[*FEW_SHOT, ayo.user(draft)], max_tokens=8)


@ayo.workflow
async def variable_content(q: str) -> str:
    text = q.upper() + "!"
    role = "user"
    return await ayo.llm(messages=[SYSTEM_MSG, {"role": role, "content": text}], max_tokens=8)


@ayo.workflow
async def static_messages(n: int) -> str:
    return await ayo.llm(messages=[*TURNS, ayo.user(f"{n} + {n}?")], max_tokens=8)


@ayo.workflow
async def messages_in_a_map(qs: list[str]) -> list[str]:
    return [await ayo.llm(messages=[SYSTEM_MSG, ayo.user(q)], max_tokens=8) for q in qs]


# --- messages built when the workflow runs: rendered then (the whole prompt one hole) --------------


def build(q: str) -> list[dict[str, str]]:
    return [SYSTEM_MSG, ayo.user(q)]


@ayo.workflow
async def built_at_run_time(q: str) -> str:
    msgs = build(q)
    return await ayo.llm(messages=msgs, max_tokens=8)  # run time: computed


@ayo.workflow
async def helper_built(q: str) -> str:
    return await ayo.llm(messages=build(q), max_tokens=8)  # run time: helper


@ayo.workflow
async def chat_history(q: str, follow_ups: list[str]) -> list[str]:
    history = [SYSTEM_MSG, ayo.user(q)]
    replies = []
    for f in follow_ups:
        reply = await ayo.llm(messages=history, max_tokens=8)  # run time: history
        replies.append(reply)
        history += [ayo.assistant(reply), ayo.user(f)]
    replies.append(await ayo.llm(messages=history, max_tokens=8))  # run time: last
    return replies


@ayo.workflow
async def history_then_literal(q: str) -> str:
    history = build(q)
    first = await ayo.llm(messages=history, max_tokens=8)  # run time: then
    return await ayo.llm(messages=[SYSTEM_MSG, ayo.user(first)], max_tokens=8)  # traced after


@ayo.workflow
async def message_in_a_name(q: str) -> str:
    msg = ayo.user(f"Answer: {q}")
    system = {"role": "system", "content": "Be brief."}
    return await ayo.llm(messages=[system, msg], max_tokens=8)  # run time: name


@ayo.workflow
async def traced_splice(q: str, history: list[dict[str, str]]) -> str:
    return await ayo.llm(messages=[*history, ayo.user(q)], max_tokens=8)  # run time: splice


# --- refused ---------------------------------------------------------------------------------------


@ayo.workflow
async def traced_role(q: str, role: str) -> str:
    return await ayo.llm(messages=[{"role": role, "content": q}], max_tokens=8)  # a guard


@ayo.workflow
async def unknown_role(q: str) -> str:
    return await ayo.llm(messages=[{"role": "tool", "content": q}], max_tokens=8)  # refused: unknown role


@ayo.workflow
async def extra_key(q: str) -> str:
    return await ayo.llm(messages=[{"role": "user", "content": q, "name": "x"}], max_tokens=8)  # refused


@ayo.workflow
async def both_prompt_and_messages(q: str) -> str:
    return await ayo.llm(q, messages=[ayo.user(q)])  # refused: both


@ayo.workflow
async def empty_messages(q: str) -> str:
    return await ayo.llm(messages=[])  # refused: empty


@ayo.workflow
async def non_str_content(q: str) -> str:
    return await ayo.llm(messages=[ayo.user(3)])  # type: ignore[arg-type]  # refused: content
