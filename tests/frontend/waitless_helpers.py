"""``async def`` helpers that never wait (tools with an async signature): awaiting one runs its body
at once, so the graph inlines it as it inlines a helper awaiting ayo calls, where it was a graph
break (``test_waitless_helpers.py``). Each workflow takes ``(q, docs)``."""

from __future__ import annotations

import asyncio

import ayo_trace as ayo


async def shout(x: str) -> str:
    return x.upper()


async def calc(expr: str) -> str:
    try:
        return str(len(expr) * 2)
    except Exception as e:  # (a tool's own guard)
        return f"error: {e}"


async def lookup(key: str) -> str:
    table = {"a": "alpha", "b": "beta"}
    if not key:
        raise KeyError("empty key")
    return table.get(key[:1], "unknown")


TOOLS = {"calc": calc, "lookup": lookup}


class Toolbox:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def run(self, name: str, arg: str) -> str:
        self.calls.append(name)
        return f"{name}({arg.strip()})"


async def sleeper(x: str) -> str:
    await asyncio.sleep(0)  # (it waits: still a graph break)
    return x


@ayo.workflow
async def tool_then_llm(q: str, docs: list[str]) -> str:
    loud = await shout(q)
    return await ayo.llm(loud, max_tokens=3)


@ayo.workflow
async def react_with_a_tool_table(q: str, docs: list[str]) -> list[str]:
    notes: list[str] = []
    for step in range(2):
        thought = await ayo.llm(f"{q} step {step} {notes}", max_tokens=3)
        tool = "calc" if len(thought) % 2 else "lookup"
        notes.append(await TOOLS[tool](thought))
    return notes


@ayo.workflow
async def toolbox_object(q: str, docs: list[str]) -> tuple[str, list[str]]:
    box = Toolbox()
    found = await box.run("search", q)
    answer = await ayo.llm(found, max_tokens=3)
    return await box.run("echo", answer), box.calls


@ayo.workflow
async def gathered_with_calls(q: str, docs: list[str]) -> tuple[str, str, list[str]]:
    loud, reply = await asyncio.gather(shout(q), ayo.llm(q, max_tokens=3))
    sized = list(await asyncio.gather(*(calc(d) for d in docs)))
    return loud, reply, sized


@ayo.workflow
async def a_tool_raising(q: str, docs: list[str]) -> str:
    reply = await ayo.llm(q, max_tokens=3)
    try:
        return await lookup(docs[0] if docs else "")
    except KeyError:
        return reply


@ayo.workflow
async def a_tool_that_waits(q: str, docs: list[str]) -> str:
    return await ayo.llm(await sleeper(q), max_tokens=3)


INLINED = [tool_then_llm, react_with_a_tool_table, toolbox_object, gathered_with_calls, a_tool_raising]


@ayo.workflow
async def local_helper_default_from_a_variable(q: str, docs: list[str]) -> tuple[list[str], str]:
    prefix = "Summarize:"

    async def process(d: str, p: str = prefix, n: int = 2) -> str:
        return await ayo.llm(f"{p} {d}", max_tokens=n)

    prefix = "changed"  # (Python took the default where the `def` stands)
    return list(await asyncio.gather(*(process(d) for d in docs))), await process(q, n=3)


INLINED += [local_helper_default_from_a_variable]
