"""Loops and comprehensions over a few constants known when traced, whose item is a graph constant
of a call (``collection=``, ``seed=``, ``temperature=``, ``max_tokens=``, ``stop=``) or the function
called: each is traced unrolled, whole, for ``test_unrolled_loops.py``. ``BOUNDARY``: shapes that stay graph breaks."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import ayo_trace as ayo

KBS = ("kb0", "kb1")
STYLES = {"short": 2, "long": 5}


@ayo.workflow
async def search_each_kb(question: str) -> list[str]:
    hits = []
    for kb in ["kb0", "kb1"]:
        hits += await ayo.search(question, collection=kb, top_k=2)
    return [h.text for h in hits]


@ayo.workflow
async def module_constant(question: str) -> list[str]:
    out: list[str] = []
    for kb in KBS:
        found = await ayo.search(question, collection=kb, top_k=1)
        out.extend(f"{kb}: {h.text}" for h in found)
    return out


@ayo.workflow
async def styles_with_budgets(question: str) -> dict[str, str]:
    notes = {}
    for style, n in (("short", 2), ("long", 6)):
        notes[style] = await ayo.llm(f"A {style} answer to {question}:", max_tokens=n)
    return notes


@ayo.workflow
async def dict_items_of_a_constant(question: str) -> list[str]:
    return [await ayo.llm(f"{k}: {question}", max_tokens=n) for k, n in STYLES.items()]


@ayo.workflow
async def self_consistency(question: str) -> str:
    p = f"Q: {question}\nA:"
    answers = await asyncio.gather(*[ayo.llm(p, temperature=0.8, seed=i, max_tokens=6) for i in range(3)])
    return max(answers, key=answers.count)


@ayo.workflow
async def coroutines_then_gather(question: str) -> list[str]:
    calls = [ayo.llm(f"Q: {question}", seed=s, max_tokens=6) for s in (7, 11)]
    return list(await asyncio.gather(*calls))


@ayo.workflow
async def generator_spread(question: str) -> list[str]:
    return list(await asyncio.gather(*(ayo.llm(question, temperature=t, max_tokens=4) for t in (0.2, 0.9))))


@ayo.workflow
async def local_list_of_temperatures(question: str) -> list[str]:
    temps = [0.0, 0.5, 1.0]
    print_count = len(temps)
    return [await ayo.llm(f"{print_count} Q: {question}", temperature=t, max_tokens=4) for t in temps]


@ayo.workflow
async def dict_comprehension(question: str) -> dict[str, str]:
    return {k: await ayo.llm(f"{k} {question}", stop=[k[-1]], max_tokens=8) for k in ("x=", "y]")}


@ayo.workflow
async def nested_loops(question: str) -> list[str]:
    out = []
    for kb in KBS:
        hits = await ayo.search(question, collection=kb, top_k=2)
        for seed in (1, 2):
            out.append(await ayo.llm(f"{hits[0].text if hits else kb}?", seed=seed, max_tokens=4))
    return out


async def search_in(question: str, kb: str) -> list[ayo.Hit]:
    return await ayo.search(question, collection=kb, top_k=1)


@ayo.workflow
async def through_a_helper(question: str) -> list[str]:
    texts = []
    for kb in KBS:
        texts += [h.text for h in await search_in(question, kb)]
    return texts


async def ask_all(question: str) -> list[str]:
    answers = []
    for seed in range(2):
        answers.append(await ayo.llm(question, seed=seed, temperature=0.7, max_tokens=3))
    return answers


@ayo.workflow
async def loop_inside_a_helper(question: str) -> list[str]:
    first = await ask_all(question)
    return first + await ask_all(first[0])


@ayo.workflow
async def enumerate_and_else(question: str) -> str:
    last = ""
    for i, kb in enumerate(KBS):
        hits = await ayo.search(question, collection=kb, top_k=1 + i)
        last += f"{i}:{len(hits)} "
    else:
        last += f"done at {kb}"
    return last


@ayo.workflow
async def branch_on_the_item(question: str) -> list[str]:
    out = []
    for kb in KBS:
        if kb == "kb1":
            out.append(await ayo.llm(f"Second {question}", seed=len(kb), max_tokens=3))
        else:
            hits = await ayo.search(question, collection=kb, top_k=2)
            out.extend(h.text for h in hits)
    return out


@ayo.workflow
async def nothing_to_loop_over(question: str) -> list[str]:
    out = [question]
    for kb in ():
        out += [h.text for h in await ayo.search(question, collection=kb, top_k=1)]
    return out


async def pros(question: str) -> str:
    return await ayo.llm(f"Pros of {question}:", max_tokens=3)


async def cons(question: str) -> str:
    return await ayo.llm(f"Cons of {question}:", temperature=0.5, max_tokens=4)


async def refine(text: str) -> str:
    return (await ayo.llm(f"Refine: {text}", max_tokens=5)).strip()


@ayo.workflow
async def steps_in_a_loop(question: str) -> str:
    text = question
    for step in (pros, refine, refine):
        text = await step(text)
    return text


@ayo.workflow
async def helpers_in_a_comprehension(question: str) -> list[str]:
    return [await f(question) for f in (pros, cons)]


@ayo.workflow
async def helpers_gathered(question: str) -> list[str]:
    return list(await asyncio.gather(*(view(question) for view in (cons, pros))))


@ayo.workflow
async def over_a_parameter(question: str, kbs: list[str]) -> list[str]:
    out = []
    for kb in kbs:
        out += [h.text for h in await ayo.search(question, collection=kb, top_k=1)]
    return out


@dataclass(frozen=True)
class Settings:
    kbs: tuple[str, ...] = ("kb1", "kb0")
    budgets: tuple[int, ...] = (2, 5)


@ayo.workflow
async def over_a_field(question: str, settings: Settings) -> list[str]:
    return [await ayo.llm(f"{n} words on {question}", max_tokens=n) for n in settings.budgets]


class Router:
    def __init__(self, kbs: tuple[str, ...]) -> None:
        self.kbs = kbs

    @ayo.workflow
    async def answer(self, question: str) -> list[str]:
        out = []
        for kb in self.kbs:
            out += [h.text for h in await ayo.search(question, collection=kb, top_k=1)]
        return out


ROUTER = Router(("kb1", "kb0"))

# (workflow, arguments): traced whole, unrolled
CASES = [
    (search_each_kb, ("passage",)),
    (module_constant, ("passage",)),
    (styles_with_budgets, ("why",)),
    (dict_items_of_a_constant, ("why",)),
    (self_consistency, ("2+2?",)),
    (coroutines_then_gather, ("2+2?",)),
    (generator_spread, ("q",)),
    (local_list_of_temperatures, ("q",)),
    (dict_comprehension, ("q",)),
    (nested_loops, ("passage",)),
    (through_a_helper, ("passage",)),
    (loop_inside_a_helper, ("q",)),
    (enumerate_and_else, ("passage",)),
    (branch_on_the_item, ("passage",)),
    (nothing_to_loop_over, ("q",)),
    (ROUTER.answer, ("passage",)),
    (steps_in_a_loop, ("q",)),
    (helpers_in_a_comprehension, ("q",)),
    (helpers_gathered, ("q",)),
    (over_a_parameter, ("passage", ["kb0", "kb1"])),
    (over_a_parameter, ("passage", ["kb1"])),
    (over_a_field, ("q", Settings())),
]


@ayo.workflow
async def too_many_items(question: str) -> list[str]:
    return [await ayo.llm(question, seed=i, max_tokens=2) for i in range(17)]


@ayo.workflow
async def loop_that_breaks(question: str) -> list[str]:
    out = []
    for seed in (1, 2, 3):
        out.append(await ayo.llm(question, seed=seed, max_tokens=3))
        if "s=2" in out[-1]:
            break
    return out


@ayo.workflow
async def list_changed_later(question: str) -> list[str]:
    seeds = [1, 2]
    seeds.append(3)
    return [await ayo.llm(question, seed=s, max_tokens=2) for s in seeds]


@ayo.workflow
async def over_a_long_parameter(question: str, words: list[str]) -> list[str]:
    return [await ayo.llm(question, max_tokens=1 + len(w)) for w in words]


@ayo.workflow
async def over_a_changed_parameter(question: str, kbs: list[str]) -> list[str]:
    kbs.append("kb0")
    return [h.text for kb in kbs for h in [*(await ayo.search(question, collection=kb, top_k=1))]]


@ayo.workflow
async def list_changed_by_a_closure(question: str) -> list[str]:
    seeds = [1, 2]

    def more() -> None:
        seeds.append(3)

    more()
    return [await ayo.llm(question, seed=s, max_tokens=2) for s in seeds]


async def search_all(question: str, kbs: list[str]) -> list[str]:
    out = []
    for kb in kbs:
        out += [h.text for h in await ayo.search(question, collection=kb, top_k=1)]
    return out


@ayo.workflow
async def parameter_passed_to_a_helper(question: str, kbs: list[str]) -> list[str]:
    kbs.append("kb0")  # the helper's loop is over a list the workflow changed
    return await search_all(question, kbs)


# (workflow, arguments): a loop of run-time constants that stays a graph break
BOUNDARY = [
    (list_changed_by_a_closure, ("q",)),
    (over_a_long_parameter, ("q", ["a"] * 17)),
    (too_many_items, ("q",)),
    (list_changed_later, ("q",)),
]
