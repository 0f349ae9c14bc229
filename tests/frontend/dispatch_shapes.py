"""Calls of a function the workflow picks when it runs from a few known when it is traced (an
agent's tools, a router's sub-workflows), for ``test_dispatch.py``: each is traced as a ``cond`` over
the candidates, every arm a traced call; the call as written stays only for a callee that is none
of them. Each workflow takes the choice as a parameter, so a test can drive every arm."""

from __future__ import annotations

import asyncio
from typing import Any

import ayo_trace as ayo


async def lookup(arg: str) -> str:
    hits = await ayo.search(arg, collection="kb0", top_k=1)
    return hits[0].text


async def ask(arg: str) -> str:
    return await ayo.llm(f"Ask: {arg}", max_tokens=3)


async def count(arg: str) -> str:  # no ayo call: its arm runs eagerly
    return str(len(arg))


TOOLS: dict[str, Any] = {"lookup": lookup, "ask": ask, "count": count}


@ayo.workflow
async def rag(question: str) -> str:
    hits = await ayo.search(question, collection="kb1", top_k=1)
    return await ayo.llm(f"{hits[0].text} {question}", max_tokens=2)


@ayo.workflow
async def chat(question: str) -> str:
    return await ayo.llm(f"Chat: {question}", max_tokens=2)


ROUTES = {"rag": rag, "chat": chat}


class Toolbox:
    def __init__(self) -> None:
        self.tools = {"lookup": self.lookup, "ask": ask}

    async def lookup(self, arg: str) -> str:
        return (await ayo.search(arg, collection="kb1", top_k=1))[0].text


BOX = Toolbox()


@ayo.workflow
async def module_table(question: str, tool: str) -> str:
    observation = await TOOLS[tool](question)
    return await ayo.llm(f"{question} {observation}", max_tokens=2)


@ayo.workflow
async def local_table(question: str, tool: str) -> str:
    tools = {"lookup": lookup, "ask": ask, "count": count}
    return await tools[tool](question)


@ayo.workflow
async def bound_then_called(question: str, tool: str) -> str:
    handler = TOOLS[tool]
    plan = await ayo.llm(f"Plan: {question}", max_tokens=2)
    return await handler(plan)


@ayo.workflow
async def with_a_default(question: str, tool: str) -> str:
    return await TOOLS.get(tool, ask)(question)


@ayo.workflow
async def router(question: str, tool: str) -> str:
    route = "rag" if tool == "lookup" else "chat"
    return await ROUTES[route](question)


@ayo.workflow
async def methods_of_an_object(question: str, tool: str) -> str:
    return await BOX.tools.get(tool, BOX.lookup)(question)


@ayo.workflow
async def conditional_callee(question: str, tool: str) -> str:
    step = lookup if tool == "lookup" else ask
    return await step(question)


@ayo.workflow
async def agent_loop(question: str, tool: str) -> str:
    notes = question
    for turn in range(2):
        thought = await ayo.llm(f"{notes} turn {turn}", max_tokens=3)
        name = tool if turn == 0 else ("ask" if len(thought) % 2 else "lookup")
        notes += " " + await TOOLS[name](thought)
    return notes


@ayo.workflow
async def caught_missing_tool(question: str, tool: str) -> str:
    try:
        return await TOOLS[tool](question)
    except KeyError:
        return "no such tool"


@ayo.workflow
async def gathered_tools(question: str, tool: str) -> list[str]:
    first, second = await asyncio.gather(TOOLS[tool](question), ask(question))
    return [first, second]


async def shout(arg: str) -> str:
    return arg.upper()


PLAIN = {"count": count, "shout": shout}


@ayo.workflow
async def only_eager_candidates(question: str, tool: str) -> str:
    return await PLAIN[tool](question)  # no candidate calls a primitive, none waits: inlined


@ayo.workflow
async def key_from_a_condition(question: str, tool: str) -> str:
    name = "lookup" if tool == "lookup" else "ask"
    return await TOOLS[name](question)


CASES = [
    module_table,
    local_table,
    bound_then_called,
    with_a_default,
    router,
    methods_of_an_object,
    conditional_callee,
    agent_loop,
    caught_missing_tool,
    gathered_tools,
    key_from_a_condition,
]
CHOICES = ["lookup", "ask", "count"]


KBS = {"lookup": "kb0", "ask": "kb1"}
BUDGET = {"short": 2, "long": 6}


@ayo.workflow
async def routed_collection(question: str, tool: str) -> str:
    kb = "kb0" if tool == "lookup" else "kb1"  # both candidates known: no last arm
    hits = await ayo.search(question, collection=kb, top_k=1)
    return await ayo.llm(f"{hits[0].text} {question}", max_tokens=2)


@ayo.workflow
async def collection_from_a_table(question: str, tool: str) -> str:
    hits = await ayo.search(question, collection=KBS.get(tool, "kb0"), top_k=1)  # any key: a last arm
    return hits[0].text


@ayo.workflow
async def budget_and_temperature(question: str, tool: str) -> str:
    kind = "long" if tool == "ask" else "short"  # (3, the default, is never taken)
    temperature = 0.0 if tool == "lookup" else 0.5
    return await ayo.llm(question, max_tokens=BUDGET.get(kind, 3), temperature=temperature, seed=1)


@ayo.workflow
async def parameter_then_choice(question: str, tool: str, end: str = "\n") -> str:
    temperature = 0.0 if tool == "lookup" else 0.7  # `stop=end` before it: the trace specializes on it
    return await ayo.llm(question, stop=end, temperature=temperature, seed=2, max_tokens=3)


ARGUMENT_CASES = [routed_collection, collection_from_a_table, budget_and_temperature, parameter_then_choice]


async def pause(arg: str) -> str:  # it waits for something not ayo: its arm runs eagerly
    await asyncio.sleep(0)
    return arg.lower()


WAITING = {"pause": pause, "count": pause}


@ayo.workflow
async def only_waiting_candidates(question: str, tool: str) -> str:
    return await WAITING[tool](question)  # no candidate traces: one graph break
