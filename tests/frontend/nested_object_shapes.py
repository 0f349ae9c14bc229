"""Objects made in the ``__init__`` of an object the workflow makes (``self.retriever =
Retriever(kb)``), for ``test_nested_objects.py``: when such an object's class only sets fields and
its methods read ``self`` only for constant fields and methods, it is the same in every query, and
its methods' calls are traced with their constants (they were graph breaks). Objects whose
methods change them, that are handed on bare, or that read ``self`` bare stay graph breaks; an
object made in the call (``await Chat().ask(q)``) is made once per query, as Python makes it."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass

import ayo_trace as ayo

from .field_setter import retarget


class Retriever:
    PREFIX = "ctx:"

    def __init__(self, collection: str, top_k: int = 2) -> None:
        self.collection = collection
        self.k = top_k

    def fmt(self, hits: list[ayo.Hit]) -> str:
        return self.PREFIX + " | ".join(h.text for h in hits)

    async def retrieve(self, q: str) -> str:
        hits = await ayo.search(q, collection=self.collection, top_k=self.k)
        return self.fmt(hits)


class Writer:
    def __init__(self, tokens: int) -> None:
        self.tokens = tokens

    async def write(self, prompt: str) -> str:
        return await ayo.llm(prompt, max_tokens=self.tokens)


class Pipeline:
    def __init__(self, kb: str, tokens: int = 4) -> None:
        self.retriever = Retriever(kb, top_k=3)
        self.writer = Writer(tokens)
        self.history: list[str] = []

    async def run(self, q: str) -> str:
        ctx = await self.retriever.retrieve(q)
        answer = await self.writer.write(f"{ctx} Q: {q}")
        self.history.append(answer)
        return answer


class Scoped(Retriever):
    """A subclass taking its base's ``__init__``."""

    async def retrieve(self, q: str) -> str:
        hits = await ayo.search(q.upper(), collection=self.collection, top_k=self.k)
        return self.fmt(hits)


@dataclass(frozen=True)
class Budget:
    kb: str = "kb1"
    tokens: int = 2


class Layered:
    def __init__(self) -> None:
        self.first = Retriever("kb0")
        self.second = Scoped("kb1", top_k=1)
        self.budget = Budget()
        self.writer = Writer(3)

    async def run(self, q: str) -> str:
        a, b = await asyncio.gather(self.first.retrieve(q), self.second.retrieve(q))
        hits = await ayo.search(q, collection=self.budget.kb, top_k=1)
        return await self.writer.write(f"{a}\n{b}\n{hits[0].text}\nQ: {q}")


class Outer:
    def __init__(self) -> None:
        self.layered = Layered()

    async def go(self, q: str) -> str:
        return await self.layered.writer.write(await self.layered.first.retrieve(q))


class Chat:
    def __init__(self) -> None:
        self.turns: list[str] = []

    async def ask(self, q: str) -> str:
        self.turns.append(q)
        return await ayo.llm(" / ".join(self.turns), max_tokens=3)


@ayo.workflow
async def two_runs(q: str) -> tuple[str, str, int, int]:
    p = Pipeline("kb1")
    a = await p.run(q)
    b = await p.run(q + "?")
    return a, b, len(p.history), p.retriever.k


@ayo.workflow
async def held_objects_called_here(q: str) -> str:
    p = Pipeline("kb0", tokens=2)
    ctx = await p.retriever.retrieve(q)
    return await p.writer.write(ctx)


@ayo.workflow
async def gathered_and_layered(q: str) -> str:
    layered = Layered()
    return await layered.run(q)


@ayo.workflow
async def two_levels_down(q: str) -> str:
    outer = Outer()
    return await outer.go(q)


@ayo.workflow
async def imported_in_the_workflow(q: str) -> str:
    import asyncio as aio
    from json import dumps

    a, b = await aio.gather(ayo.llm(q, max_tokens=2), ayo.llm(q + "?", max_tokens=2))
    return dumps([a, b])


@ayo.workflow
async def made_in_the_call(q: str) -> str:
    return await Chat().ask(q)


@ayo.workflow
async def made_in_two_calls(q: str) -> tuple[str, str]:
    return await Chat().ask(q), await Chat().ask(q + "!")


@ayo.workflow
async def popped_in_a_gather(q: str) -> tuple[str, str, list[str]]:
    # the calls' arguments change `history`; the statement's own code does not read it
    history = [q, q + " one", q + " two"]
    a, b = await asyncio.gather(ayo.llm(history.pop(), max_tokens=2), ayo.llm(history.pop(), max_tokens=3))
    return a, b, history


class Finder:
    """Called as a function: ``await self.finder(q)``."""

    def __init__(self, collection: str, top_k: int = 2) -> None:
        self.collection = collection
        self.top_k = top_k

    async def __call__(self, q: str) -> list[ayo.Hit]:
        return await ayo.search(q, collection=self.collection, top_k=self.top_k)


class App:
    """Given the objects it uses (dependency injection)."""

    def __init__(self, finder: Finder, writer: Writer, template: str = "{ctx}\nQ: {q}") -> None:
        self.finder = finder
        self.writer = writer
        self.template = template

    async def answer(self, q: str) -> str:
        hits = await self.finder(q)
        ctx = "\n".join(h.text for h in hits)
        return await self.writer.write(self.template.format(ctx=ctx, q=q))


class Agent:
    def __init__(self, name: str) -> None:
        self.name = name
        self.writer = Writer(2)

    async def step(self, q: str) -> str:
        return await self.writer.write(f"{self.name}: {q}")

    async def run(self, q: str) -> str:
        first = await self.step(q)
        return await self.step(first)


@ayo.workflow
async def given_made_in_the_call(q: str) -> str:
    app = App(Finder("kb1"), Writer(2))
    return await app.answer(q)


@ayo.workflow
async def given_made_before(q: str) -> str:
    finder = Finder("kb0", top_k=3)
    writer = Writer(4)
    app = App(finder, writer)
    return await app.answer(q)


@ayo.workflow
async def given_by_keyword(q: str) -> tuple[str, int]:
    app = App(finder=Finder("kb0"), writer=Writer(3), template="{q}? {ctx}")
    answer = await app.answer(q)
    hits = await app.finder(q)
    return answer, len(hits)


@ayo.workflow
async def method_calls_its_method(q: str) -> str:
    agent = Agent("bob")
    return await agent.run(q)


@ayo.workflow
async def agents_gathered(q: str) -> list[str]:
    a, b = Agent("a"), Agent("b")
    return await asyncio.gather(a.run(q), b.run(q))


class Lookup:
    def __init__(self, kb: str) -> None:
        self.kb = kb
        self.seen: list[str] = []

    async def find(self, q: str) -> list[ayo.Hit]:
        self.seen.append(q)  # (the module's object changes: `self` is a run-time value after it)
        return await ayo.search(q, collection=self.kb, top_k=1)


LOOKUP = Lookup("kb0")


@ayo.workflow
async def module_object_changed_in_place(q: str) -> tuple[str, bool]:
    hits = await LOOKUP.find(q)
    return hits[0].text, len(LOOKUP.seen) > 0


class Base:
    def __init__(self, kb: str, k: int = 2) -> None:
        self.kb = kb
        self.k = k
        self.budget = 2

    async def retrieve(self, q: str) -> list[ayo.Hit]:
        return await ayo.search(q, collection=self.kb, top_k=self.k)

    async def answer(self, q: str) -> str:
        hits = await self.retrieve(q)
        return await ayo.llm(f"{hits[0].text} {q}", max_tokens=self.budget)


class Shouting(Base):
    def __init__(self, kb: str, style: str = "upper") -> None:
        super().__init__(kb, k=3)
        self.style = style

    async def retrieve(self, q: str) -> list[ayo.Hit]:
        hits = await super().retrieve(q.upper())
        return hits[:2]


class Twice(Shouting):
    async def retrieve(self, q: str) -> list[ayo.Hit]:
        first = await super().retrieve(q)
        second = await super().retrieve(q + " again")
        return first + second


SHOUTING = Shouting("kb0")


@ayo.workflow
async def base_method_of_a_module_object(q: str) -> str:
    return await SHOUTING.answer(q)


@ayo.workflow
async def base_method_of_a_made_object(q: str) -> tuple[str, str]:
    s = Shouting("kb1", style="x")
    return await s.answer(q), s.style


@ayo.workflow
async def base_methods_two_levels_up(q: str) -> str:
    t = Twice("kb0")
    return await t.answer(q)


@functools.lru_cache
def shared_pipeline() -> Pipeline:
    return Pipeline("kb0", tokens=3)  # (one object, whoever asks: a singleton)


def new_counter() -> CountsInside:
    return CountsInside()  # (a new object at every call)


@ayo.workflow
async def singleton_from_a_cached_function(q: str) -> str:
    return await shared_pipeline().retriever.retrieve(q)


CASES = [
    singleton_from_a_cached_function,
    base_method_of_a_module_object,
    base_method_of_a_made_object,
    base_methods_two_levels_up,
    module_object_changed_in_place,
    given_made_in_the_call,
    given_made_before,
    given_by_keyword,
    method_calls_its_method,
    agents_gathered,
    popped_in_a_gather,
    two_runs,
    held_objects_called_here,
    gathered_and_layered,
    two_levels_down,
    imported_in_the_workflow,
]
FRESH = [made_in_the_call, made_in_two_calls]


class Counting:
    def __init__(self, kb: str) -> None:
        self.kb = kb
        self.calls = 0

    async def retrieve(self, q: str) -> list[ayo.Hit]:
        self.calls += 1
        return await ayo.search(q, collection=self.kb, top_k=2)


class CountsInside:
    def __init__(self) -> None:
        self.counter = Counting("kb1")

    async def run(self, q: str) -> tuple[int, int]:
        first = await self.counter.retrieve(q)
        second = await self.counter.retrieve(q + "2")
        return len(first) + len(second), self.counter.calls


class Memo:
    def __init__(self) -> None:
        self.items: list[str] = []

    async def add(self, q: str) -> str:
        reply = await ayo.llm(q, max_tokens=3)
        self.items.append(reply)
        return reply


class Remembers:
    def __init__(self) -> None:
        self.memo = Memo()

    async def run(self, q: str) -> list[str]:
        await self.memo.add(q)
        await self.memo.add(q + " again")
        return list(self.memo.items)


class Selfish:
    def __init__(self, kb: str) -> None:
        self.kb = kb

    def me(self) -> Selfish:
        return self

    async def retrieve(self, q: str) -> list[ayo.Hit]:
        return await ayo.search(q, collection=self.me().kb, top_k=1)


class HoldsSelfish:
    def __init__(self) -> None:
        self.inner = Selfish("kb1")

    async def run(self, q: str) -> list[ayo.Hit]:
        return await self.inner.retrieve(q)


@ayo.workflow
async def changed_by_its_method(q: str) -> tuple[int, int]:
    return await CountsInside().run(q)


@ayo.workflow
async def memory_inside(q: str) -> list[str]:
    r = Remembers()
    return await r.run(q)


@ayo.workflow
async def handed_on_bare(q: str) -> tuple[str, str]:
    p = Pipeline("kb1")
    r = p.retriever
    return await r.retrieve(q), await p.run(q)


@ayo.workflow
async def reads_itself_bare(q: str) -> list[ayo.Hit]:
    h = HoldsSelfish()
    return await h.run(q)


class Holder:
    def __init__(self, memo: Memo, tokens: int = 2) -> None:
        self.memo = memo
        self.tokens = tokens

    async def run(self, q: str) -> tuple[list[str], str]:
        await self.memo.add(q)
        return list(self.memo.items), await ayo.llm(q, max_tokens=self.tokens)


@ayo.workflow
async def given_and_handed_on(q: str) -> str:
    finder = Finder("kb0")
    app = App(finder, Writer(2))
    retarget(finder)  # (sets `finder.collection`, in a module the tracer does not read)
    return await app.answer(q)


@ayo.workflow
async def given_to_two(q: str) -> tuple[str, str]:
    finder = Finder("kb0")
    a, b = App(finder, Writer(2)), App(finder, Writer(3))
    return await a.answer(q), await b.answer(q)


@ayo.workflow
async def given_a_memory(q: str) -> tuple[tuple[list[str], str], int]:
    memo = Memo()
    holder = Holder(memo, tokens=3)
    out = await holder.run(q)
    return out, len(memo.items)


@ayo.workflow
async def made_by_a_factory(q: str) -> tuple[int, int]:
    return await new_counter().run(q)


class Slotted:
    """No ``__dict__``: its slots are its fields (the tracer crashed on ``vars()`` once)."""

    __slots__ = ("k", "kb")

    def __init__(self, kb: str, k: int = 2) -> None:
        self.kb = kb
        self.k = k

    async def find(self, q: str) -> list[ayo.Hit]:
        return await ayo.search(q, collection=self.kb, top_k=self.k)


class HoldsSlotted:
    def __init__(self) -> None:
        self.inner = Slotted("kb1")

    async def run(self, q: str) -> list[ayo.Hit]:
        return await self.inner.find(q)


@ayo.workflow
async def slotted_made_here(q: str) -> list[ayo.Hit]:
    s = Slotted("kb0")
    return await s.find(q)


@ayo.workflow
async def slotted_held(q: str) -> list[ayo.Hit]:
    return await HoldsSlotted().run(q)


AS_WRITTEN = [
    given_and_handed_on,
    given_to_two,
    handed_on_bare,
    reads_itself_bare,
]
# (these ran as written too, until held objects (`made_fields.Fields.held`), factories, objects
# handed to a holder's constructor and slots were read: now traced whole)
HELD = [
    slotted_made_here,
    slotted_held,
    made_by_a_factory,
    given_a_memory,
    changed_by_its_method,
    memory_inside,
]
