"""An object another object holds for good (``QAService(repo)`` keeping ``self.repo = repo``;
``App(Counting(...))``), that changes (a repository adding to its index, a counter): its class is
known at trace time, so its methods are inlined where they are awaited through the holder
(``app.gen.generate(q)``, ``self.repo.find(q)`` in the holder's method: ``made_methods``, was a
graph break), and its constant fields stay graph constants though the workflow hands it to the
holder bare (``collection=self.collection``: ``attribute_uses.holder_reads``, was a graph break).
Found by probe zr ("an object handed bare to another object's constructor", the repository
pattern). Ways to hold it x the held object's class x what the workflow does (each value in the
pairs that differ): eager ≡ traced ≡ optimized, each on a fresh copy of the module, three queries; the read-only shapes trace whole."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.util import every_pair, fresh_copies_agree

from .programs import load
from .service_classes import COUNTING

HEAD = (
    """
import asyncio
import functools
from dataclasses import dataclass

import ayo_trace as ayo

LOG = []
SEEN = []


"""
    + COUNTING
    + """

class Repo:
    def __init__(self, prefix="R: ", budget=5):
        self.prefix = prefix
        self.budget = budget
        self.seen = {}

    async def generate(self, q):
        self.seen[q] = len(self.seen)
        return await ayo.llm(self.prefix + q, max_tokens=self.budget)


class Service:
    def __init__(self, gen, tag="s"):
        self.gen = gen
        self.tag = tag

    async def answer(self, q):
        first = await self.gen.generate(q)
        return self.tag + first

    async def __call__(self, q):
        return await self.answer(q)


@dataclass
class Box:
    gen: object
    tag: str = "b"

    async def answer(self, q):
        first = await self.gen.generate(q)
        return self.tag + first

    async def __call__(self, q):
        return await self.answer(q)


class Bare:
    def __init__(self, gen):
        self.gen = gen

    async def answer(self, q):
        return await self.gen.generate(q)

    async def __call__(self, q):
        return await self.gen.generate(q)


def register(svc):
    SEEN.append(type(svc.gen).__name__)
"""
)
# how the held object gets into its holder (HELD: its class)
HOLDS = {
    "made_in_holder": ([], "Service(HELD())"),
    "named_then_held": (["g = HELD('N: ')"], "Service(g)"),
    "keyword": (["g = HELD()"], "Service(gen=g, tag='k')"),
    "dataclass": (["g = HELD()"], "Box(g)"),
    "used_before": (["g = HELD()", "pre = await g.generate('pre ' + q)"], "Service(g)"),
    "bare_holder": (["g = HELD()"], "Bare(g)"),  # (a holder with no constant field)
}
# what the workflow does with the holder (`svc`)
USES = {
    "method": ["out = await svc.answer(q)"],
    "through": ["out = await svc.gen.generate(q)"],
    "twice": ["a = await svc.answer(q)", "out = a + (await svc.gen.generate(a[:5]))"],
    "gathers": ["a, b = await asyncio.gather(svc.answer(q), svc.gen.generate(q + '!'))", "out = a + b"],
    "inline": ["out = await HOLDER.answer(q)"],
    "calls_it": ["out = await svc(q)"],
    "calls_it_inline": ["out = await HOLDER(q)"],
    "handed_bare": ["register(svc)", "out = await svc.answer(q)"],
    "swapped": ["swap(svc)", "out = await svc.gen.generate(q)"],
    "field_set": ["svc.gen.budget = 1 + len(q) % 3", "out = await svc.answer(q)"],
    # (handed bare to code of another module, which sets its fields: the holder's view is not kept)
    "escapes": [
        "functools.update_wrapper(svc.gen, Counting('Z: ', 1), assigned=(), updated=('__dict__',))",
        "out = await svc.answer(q)",
    ],
}
READ_ONLY = {
    "method",
    "through",
    "twice",
    "inline",
    "calls_it",
    "calls_it_inline",
}  # (`gathers`: the calls interleave)
CASES = list(  # (every way to hold it and every use, in the pairs that differ; the suite's time kept)
    dict.fromkeys(
        [
            *itertools.product(HOLDS, ["method", "handed_bare", "escapes"], ["Counting"]),
            *itertools.product(["named_then_held", "bare_holder"], USES, ["Counting"]),
            *itertools.product(["used_before", "dataclass"], ["through", "field_set", "swapped"], ["Repo"]),
        ]
    )
)


def _source(hold: str, use: str, held: str) -> str:
    made, holder = HOLDS[hold]
    holder = holder.replace("HELD", held)
    lines = [line.replace("HELD", held) for line in made]
    if use in ("inline", "calls_it_inline"):
        lines += [line.replace("HOLDER", holder) for line in USES[use]]
    else:
        lines += [f"svc = {holder}", *USES[use]]
    extra = "pre, " if hold == "used_before" else ""
    lines.append(f"return {extra}out, list(LOG), list(SEEN)")
    swap = '\n\ndef swap(svc):\n    svc.gen = Counting("SWAPPED: ")\n' if use == "swapped" else ""
    return (
        HEAD
        + swap
        + "\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + "".join(f"    {line}\n" for line in lines)
    )


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_an_object_held_by_another_agrees(case: tuple[str, str, str], tmp_path: Path) -> None:
    fresh_copies_agree(_source(*case), tmp_path, ["what is rust", "FAIL x", "again"])


WHOLE = every_pair(HOLDS, sorted(READ_ONLY), ["Counting", "Repo"])  # (every pair of choices)


@pytest.mark.parametrize("case", WHOLE, ids=["-".join(c) for c in WHOLE])
def test_a_held_object_read_only_through_its_holder_traces_whole(
    case: tuple[str, str, str], tmp_path: Path
) -> None:
    from ayo_trace.frontend.breaks import graph_breaks

    graph = load(_source(*case), tmp_path).wf.graph("q", [])
    assert graph_breaks(graph) == []
    if case[2] == "Repo":  # (its constant field, a graph constant)
        assert "max_tokens=5" in str(graph)
