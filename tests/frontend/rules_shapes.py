"""Workflows for test_tracer_rules.py: refusals, guards, strict mode and sampling errors. The tests
find lines here by their text."""

from __future__ import annotations

import asyncio

import ayo_trace as ayo


class Failed(Exception):
    pass


@ayo.workflow
async def reads_caught_exception(question: str) -> str:
    try:
        answer = await ayo.llm(question, max_tokens=2)
    except Failed as e:  # noqa: F841
        answer = "failed"
    return answer + str(e)  # noqa: F821


@ayo.workflow
async def reads_maybe_assigned(question: str) -> str:
    try:  # noqa: SIM105
        answer = await ayo.llm(question, max_tokens=2)
    except Failed:
        pass
    return answer  # maybe unassigned


@ayo.workflow
async def agent_loop_leaving_before_binding(task: str) -> str:
    steps = 0
    while True:
        steps += 1
        if steps > 3:
            break  # leaves before `action` is assigned when it is the first exit
        action = await ayo.llm(f"{task} {steps}", max_tokens=2)
        if "done" in action:
            break
    return action  # maybe unassigned after the loop


@ayo.workflow
async def loop_may_not_bind(questions: list[str]) -> str:
    for q in questions:
        answer = await ayo.llm(q, max_tokens=2)
        if "stop" in answer:
            break
    return answer  # unassigned when there is no question


@ayo.workflow
async def map_loop_may_not_bind(docs: list[str]) -> str:
    for d in docs:
        answer = await ayo.llm(d, max_tokens=2)
    if docs:
        return answer  # unassigned when there is no doc (and `docs[-1]`'s answer otherwise)
    return "none"


@ayo.workflow
async def match_may_not_bind(question: str) -> str:
    match len(question) % 3:
        case 0:
            answer = await ayo.llm(question, max_tokens=2)
        case 1:
            answer = "one"
    return answer  # unassigned when no case matches


@ayo.workflow(strict=True)
async def strict_with_a_break(question: str) -> str:
    draft = ""
    try:  # the break strict mode refuses
        if question:  # (a statement before the body's last would be cut off: test_cut_try.py)
            draft = await ayo.llm(question, max_tokens=2)  # kept when the next call fails: a break
            answer = await ayo.llm(f"Improve: {draft}", max_tokens=2)
        else:
            answer = ""
    except Failed as e:
        answer = f"failed: {e}"
    return draft + answer


@ayo.workflow(strict=True)
async def strict_and_whole(question: str, docs: list[str]) -> list[str]:
    return [await ayo.llm(f"{question}: {d}", max_tokens=2) for d in docs]


@ayo.workflow
async def zero_max_tokens(question: str) -> str:
    return await ayo.llm(question, max_tokens=0)


@ayo.workflow
async def negative_max_tokens(question: str) -> str:
    return await ayo.llm(question, max_tokens=-3)


@ayo.workflow
async def negative_temperature(question: str) -> str:
    return await ayo.llm(question, temperature=-1)


@ayo.workflow
async def nan_temperature(question: str) -> str:
    return await ayo.llm(question, temperature=float("nan"))


@ayo.workflow
async def empty_stop(question: str) -> str:
    return await ayo.llm(question, stop=["\n", ""])


@ayo.workflow
async def number_stop(question: str) -> str:
    return await ayo.llm(question, stop=5)


@ayo.workflow
async def zero_top_k(question: str) -> list[ayo.Hit]:
    return await ayo.search(question, collection="kb", top_k=0)


@ayo.workflow
async def searches(question: str, collection: str) -> list[ayo.Hit]:
    return await ayo.search(question, collection=collection, top_k=1)


@ayo.workflow
async def computed_collection(question: str, prefix: str) -> list[ayo.Hit]:
    name = prefix + "_docs"
    return await ayo.search(question, collection=name, top_k=1)


async def fetch(url: str) -> str:
    await asyncio.sleep(0)  # (it waits for something not ayo: an HTTP client's reply, say)
    return url.upper()


@ayo.workflow
async def awaits_a_plain_coroutine(question: str) -> str:
    page = await fetch(question)
    return await ayo.llm(f"{page}\nQ: {question}", max_tokens=2)


@ayo.workflow
async def awaits_a_plain_coroutine_in_an_argument(question: str) -> str:
    return await ayo.llm(await fetch(question) + "?", max_tokens=2)


async def ask(question: str) -> str:
    return await ayo.llm(f"Q: {question}\nA:", max_tokens=2)


@ayo.workflow
async def calls_a_helper(question: str) -> str:
    return await ask(question)
