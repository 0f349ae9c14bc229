"""Objects the workflow makes of a plain class, whose ``async def`` methods await primitives and
change the object (an agent's memory, a pipeline's state), for ``test_made_objects.py``: each
method call is inlined like a helper, with ``self`` the traced object."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import ayo_trace as ayo


class Agent:
    def __init__(self, name: str) -> None:
        self.name = name
        self.memory: list[str] = []

    async def step(self, question: str) -> str:
        answer = await ayo.llm(f"{self.name} {' | '.join(self.memory)} {question}", max_tokens=4)
        self.memory.append(answer)
        return answer

    async def recall(self, question: str) -> list[str]:
        hits = await ayo.search(question, collection="kb0", top_k=2)
        self.memory.extend(h.text for h in hits)
        return await self.summary()

    async def summary(self) -> list[str]:
        return [await ayo.llm(f"Short: {m}", max_tokens=2) for m in self.memory]


@ayo.workflow
async def agent_with_memory(question: str) -> list[str]:
    agent = Agent("helper")
    first = await agent.step(question)
    await agent.step(f"and then {first}")
    return agent.memory


@ayo.workflow
async def method_calling_methods(question: str) -> list[str]:
    agent = Agent("reader")
    return await agent.recall(question)


@dataclass
class Notebook:
    topic: str
    notes: list[str] = field(default_factory=list)

    async def add(self, text: str) -> None:
        self.notes.append(await ayo.llm(f"Note on {self.topic}: {text}", max_tokens=3))


@ayo.workflow
async def dataclass_methods_in_a_loop(question: str) -> list[str]:
    book = Notebook(question)
    for word in question.split():
        await book.add(word)
    return book.notes


@ayo.workflow
async def two_objects_at_once(question: str) -> list[str]:
    a, b = Agent("a"), Agent("b")
    x = Agent("x")
    y = Agent("y")
    found = await asyncio.gather(x.step(question), y.step(question))
    return [*found, *x.memory, *y.memory, a.name, b.name]


class Summarizer:
    def __init__(self, style: str) -> None:
        self.style = style
        self.calls = 0

    async def __call__(self, text: str) -> str:
        self.calls += 1
        return await ayo.llm(f"{self.style} ({self.calls}): {text}", max_tokens=3)


@ayo.workflow
async def callable_object(question: str) -> list[str]:
    summarize = Summarizer("brief")  # called as a function: its class's `async def __call__`
    first = await summarize(question)
    second = await summarize(first)
    return [first, second, str(summarize.calls)]


CASES = [
    (agent_with_memory, ("why",)),
    (callable_object, ("q",)),
    (method_calling_methods, ("passage",)),
    (dataclass_methods_in_a_loop, ("two words",)),
    (two_objects_at_once, ("q",)),
]
