"""An object handed to a helper as an argument (``await run_with(agent, q)`` where ``run_with``
awaits ``agent.generate(q)``): the helper is traced, with the object's methods inlined by its class
(``handed_objects``); it was a graph break of the whole call (found by probe zn: "a helper given a
Protocol-typed object as a parameter"). Every way to hand the object x what the helper does with it
x the object's class: eager ≡ traced ≡ optimized, each variant on a fresh copy of the module and
called three times (state an object keeps from query to query shows); where the helper only reads
the object (made in the call, before it, or the module's), no graph break at all (its constant
fields, ``max_tokens=self.budget``, are known)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.util import fresh_copies_agree

from .programs import load
from .service_classes import COUNTING

HEAD = (
    """
import asyncio
from dataclasses import dataclass

import ayo_trace as ayo

LOG = []


class Plain:
    def __init__(self, prefix="Q: ", budget=4):
        self.prefix = prefix
        self.budget = budget

    async def generate(self, q):
        return await ayo.llm(f"{self.prefix}{q}", max_tokens=self.budget)

    def tag(self):
        return self.prefix.strip()


"""
    + COUNTING
    + """

@dataclass
class Data:
    prefix: str = "D: "
    budget: int = 2

    async def generate(self, q):
        return await ayo.llm(self.prefix + q, max_tokens=self.budget)

    def tag(self):
        return self.prefix * 2


PLAIN = Plain("M: ", 5)
COUNTING = Counting("N: ")
DATA = Data("E: ")


class Team:
    def __init__(self, name):
        self.name = name

    async def run_with(self, agent, q):
        return self.name + (await agent.generate(q))
"""
)

# how the workflow hands the object over (CLS: the class)
GIVEN = {
    "made_in_call": ([], "CLS()"),
    "made_with_param": ([], "CLS(q[:4] + ': ')"),
    "module": ([], "MOD"),
    "local": (["agent = CLS('L: ')"], "agent"),
    "keyword": ([], "agent=CLS()"),
    "module_changed": (["MOD.budget = 2 + len(q) % 3"], "MOD"),
    "to_a_method": ([], "CLS()"),
}
# what the helper does with the object it is handed (`agent`)
HELPERS = {
    "awaits_method": ["return await agent.generate(q)"],
    "reads_then_awaits": ["head = agent.tag()", "return head + (await agent.generate(q))"],
    "field_as_budget": ["return await ayo.llm(agent.prefix + q, max_tokens=agent.budget)"],
    "sets_then_awaits": ["agent.budget = 2", "return await agent.generate(q)"],
    "augments_then_awaits": ["agent.budget += 1", "return await agent.generate(q)"],
    "setattr_then_awaits": ["setattr(agent, 'prefix', 'S: ')", "return await agent.generate(q)"],
    "hands_on": ["return await again(agent, q)"],
    "awaits_twice": ["first = await agent.generate(q)", "return first + (await agent.generate(first[:6]))"],
    "gathers": [
        "a, b = await asyncio.gather(agent.generate(q), agent.generate('more ' + q))",
        "return a + b",
    ],
    "rebinds": ["agent = Plain('R: ')", "return await agent.generate(q)"],
}
MODULE = {"Plain": "PLAIN", "Counting": "COUNTING", "Data": "DATA"}
HANDED = [g for g in GIVEN if g != "to_a_method"]
CASES = [  # (every way to hand it x every helper with the class that changes, a few with the other)
    *itertools.product(HANDED, HELPERS, ["Counting"]),
    *itertools.product(["local", "module"], HELPERS, ["Plain"]),
    *itertools.product(HANDED, ["awaits_method", "sets_then_awaits"], ["Data"]),
    *(("to_a_method", "awaits_method", cls) for cls in MODULE),
]
# traced whole: the helper only reads the object (made in the call or before it, or the module's)
WHOLE = {"awaits_method", "reads_then_awaits", "field_as_budget", "awaits_twice"}


def _source(given: str, helper: str, cls: str) -> str:
    made, arg = GIVEN[given]
    arg = arg.replace("CLS", cls).replace("MOD", MODULE[cls])
    made = [line.replace("MOD", MODULE[cls]).replace("CLS", cls) for line in made]
    call = f"run_with(q, {arg})" if given == "keyword" else f"run_with({arg}, q)"
    if given == "to_a_method":  # (a method of another object, handed the object)
        call, helper = f"Team('t').run_with({arg}, q)", "awaits_method"
    params = "q, agent" if given == "keyword" else "agent, q"
    body = "".join(f"    {line}\n" for line in HELPERS[helper])
    workflow = "".join(f"    {line}\n" for line in [*made, f"out = await {call}", "return out, list(LOG)"])
    return (
        f"{HEAD}\n\nasync def again(agent, q):\n    return await agent.generate(q + '!')\n"
        f"\n\nasync def run_with({params}):\n{body}"
        f"\n\n@ayo.workflow\nasync def wf(q, docs):\n{workflow}"
    )


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_an_object_handed_to_a_helper_agrees(case: tuple[str, str, str], tmp_path: Path) -> None:
    fresh_copies_agree(_source(*case), tmp_path, ["what is rust", "FAIL x", "again"])


@pytest.mark.parametrize(
    "given", ["made_in_call", "made_with_param", "module", "local", "keyword", "to_a_method"]
)
@pytest.mark.parametrize("helper", sorted(WHOLE))
def test_a_helper_reading_the_object_it_is_handed_traces_whole(
    given: str, helper: str, tmp_path: Path
) -> None:
    from ayo_trace.frontend.breaks import graph_breaks

    wf = load(_source(given, helper, "Plain"), tmp_path).wf
    assert graph_breaks(wf.graph("q", [])) == []


def test_a_helper_setting_a_field_reads_it_when_it_runs(tmp_path: Path) -> None:
    # (`agent.budget = 2` in the helper: the field is not folded from the object as made)
    wf = load(_source("made_in_call", "sets_then_awaits", "Plain"), tmp_path).wf
    graph = str(wf.graph("q", [], optimized=True))
    assert "max_tokens=4" not in graph


SETTING = """
import ayo_trace as ayo


class Repo:
    def __init__(self, collection="kb"):
        self.collection = collection
        self.loaded = False
        self.count = 0


async def load(repo, docs):
    if repo.loaded or not docs:
        return 0
    n = await ayo.ingest(docs, collection=repo.collection)
    CHANGE
    return n


async def retrieve(repo, q):
    if not repo.loaded:
        return []
    hits = await ayo.search(q, collection=repo.collection, top_k=2)
    return [h.text for h in hits]


@ayo.workflow
async def wf(q, docs):
    repo = Repo("kb")
    n = await load(repo, [q + " one", q + " two"])
    return n, await retrieve(repo, q), repo.loaded, repo.count, repo.collection
"""
CHANGES = {
    "flag": ("repo.loaded = True", True),
    "counter": ("repo.loaded = True\n    repo.count += 1", True),
    "the_field_itself": ("repo.loaded = True\n    repo.collection = 'other'", False),
    "nothing": ("pass", True),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_helper_of_the_module_setting_other_attributes_keeps_the_constant(
    change: str, tmp_path: Path
) -> None:
    # (`repo.loaded = True` in the module's helper: the module's sets count, so `repo.collection`
    # stays the graph constant "kb"; it was a graph break of both calls)
    from ayo_trace.frontend.breaks import graph_breaks

    source = SETTING.replace("CHANGE", CHANGES[change][0])
    fresh_copies_agree(source, tmp_path, ["what is rust", "FAIL x", "again"])
    graph = load(source, tmp_path).wf.graph("q", [])
    assert (graph_breaks(graph) == []) is CHANGES[change][1]
