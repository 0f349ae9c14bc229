"""Objects the workflow makes whose fields, set from constants, are graph constants of the calls
their methods make (``collection=self.collection``), for ``test_made_fields.py``; and objects
whose fields are not known at trace time (set again, made of run-time values, or by an
``__init__`` that calls a function): those calls run as written, graph breaks."""

from __future__ import annotations

from dataclasses import dataclass

import ayo_trace as ayo

from .field_setter import retarget


class RAG:
    """A retriever-reader with its settings as fields."""

    def __init__(self, collection: str, k: int = 2, budget: int = 3) -> None:
        self.collection = collection
        self.k = k
        self.budget = budget
        self.notes: list[str] = []

    async def answer(self, question: str) -> str:
        hits = await ayo.search(question, collection=self.collection, top_k=self.k)
        self.notes.append(str(len(hits)))
        context = " ".join(h.text for h in hits)
        return await ayo.llm(f"{context} Q: {question}", max_tokens=self.budget)


@dataclass(frozen=True)
class Settings:
    kb: str = "kb0"
    tokens: int = 2
    stops: tuple[str, ...] = ("\n",)


@dataclass
class Plan:
    source: str
    depth: int = 1


class Switching:
    def __init__(self, shelf: str) -> None:
        self.shelf = shelf

    def move(self) -> None:
        self.shelf = "kb1"  # set again: `shelf` is known only when the workflow runs

    async def look(self, question: str) -> list[str]:
        return [h.text for h in await ayo.search(question, collection=self.shelf, top_k=1)]


def pick(name: str) -> str:
    return name.strip()


class Computed:
    def __init__(self, name: str) -> None:
        self.where = pick(name)  # a call: not read at trace time

    async def look(self, question: str) -> list[str]:
        return [h.text for h in await ayo.search(question, collection=self.where, top_k=1)]


@ayo.workflow
async def rag_made_here(question: str) -> str:
    rag = RAG("kb1", k=3, budget=4)
    return await rag.answer(question)


@ayo.workflow
async def two_rags(question: str) -> str:
    first = RAG("kb0")
    second = RAG(collection="kb1", budget=2)
    a = await first.answer(question)
    b = await second.answer(a)
    return f"{a} | {b} | {first.notes} {second.notes}"


@ayo.workflow
async def rags_made_together(question: str) -> str:
    docs, faq = RAG("kb0", k=1), RAG(collection="kb1", budget=2)
    return f"{await docs.answer(question)} | {await faq.answer(question)}"


@ayo.workflow
async def frozen_settings(question: str) -> str:
    s = Settings(tokens=3)
    hits = await ayo.search(question, collection=s.kb, top_k=s.tokens)
    return await ayo.llm(f"{question} {len(hits)}", max_tokens=s.tokens, stop=list(s.stops))


@ayo.workflow
async def plain_dataclass(question: str) -> list[str]:
    plan = Plan("kb1", depth=2)
    return [h.text for h in await ayo.search(question, collection=plan.source, top_k=plan.depth)]


class Scoped:
    """Settings as class attributes (no ``__init__``)."""

    collection = "kb1"
    top_k = 2

    async def look(self, question: str) -> list[str]:
        return [h.text for h in await ayo.search(question, collection=self.collection, top_k=self.top_k)]


class Narrow(Scoped):
    """An inherited class attribute, one of its own, and a field its ``__init__`` sets."""

    top_k = 1

    def __init__(self, tokens: int = 2) -> None:
        self.tokens = tokens

    async def say(self, question: str) -> str:
        hits = await self.look(question)
        return await ayo.llm(f"{hits} {question}", max_tokens=self.tokens)


class Shadowed(Scoped):
    def __init__(self) -> None:
        self.collection = "kb0"  # (the instance's field hides the class's)


@ayo.workflow
async def class_attributes(question: str) -> list[str]:
    return await Scoped().look(question)


@ayo.workflow
async def class_attributes_bound_and_inherited(question: str) -> tuple[str, list[str]]:
    narrow = Narrow(3)
    shadowed = Shadowed()
    return await narrow.say(question), await shadowed.look(question)


CASES = [
    rag_made_here,
    two_rags,
    rags_made_together,
    frozen_settings,
    plain_dataclass,
    class_attributes,
    class_attributes_bound_and_inherited,
]


@ayo.workflow
async def set_again(question: str) -> list[str]:
    s = Switching("kb0")
    s.move()
    return await s.look(question)


@ayo.workflow
async def made_of_the_question(question: str) -> str:
    rag = RAG("kb1" if "1" in question else "kb0")
    return await rag.answer(question)


@ayo.workflow
async def made_by_a_call(question: str) -> list[str]:
    c = Computed(" kb1 ")
    return await c.look(question)


class Retargeting(RAG):
    async def answer(self, question: str) -> str:
        retarget(self)  # hands `self` on: its fields may change
        return await super().answer(question)


@ayo.workflow
async def handed_on(question: str) -> str:
    rag = RAG("kb1")
    retarget(rag)
    return await rag.answer(question)


@ayo.workflow
async def passed_on_by_a_method(question: str) -> str:
    rag = Retargeting("kb1")
    return await rag.answer(question)


class Switchable:
    shelf = "kb0"

    @classmethod
    def use(cls, shelf: str) -> None:
        cls.shelf = shelf

    async def look(self, question: str) -> list[str]:
        return [h.text for h in await ayo.search(question, collection=self.shelf, top_k=1)]


@ayo.workflow
async def class_attribute_set_again(question: str) -> list[str]:
    Switchable.use("kb0")  # (module state: every run starts from it)
    found = await Switchable().look(question)
    Switchable.use("kb1" if "1" in question else "kb0")
    return found + await Switchable().look(question)


AS_WRITTEN = [
    set_again,
    made_of_the_question,
    made_by_a_call,
    handed_on,
    passed_on_by_a_method,
    class_attribute_set_again,
]
