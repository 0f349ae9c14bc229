"""A module's list or tuple of agents iterated over (``for agent in TEAM: draft = await
agent.run(draft)``, ``gather(*(a.run(q) for a in TEAM))``, ``[await a.run(q) for a in TEAM]``):
each item's method is inlined, the loop unrolled over the objects the list holds at the trace,
where no method of theirs changes them (``impure.item_method_calls``: calling one changes the list
no more than ``TEAM[i].run(q)`` does); agents keeping state, or a field the workflow sets, run as
written. Code outside the workflow changing the list between queries (an agent added, replaced, a
field set) traces it again (``deps._Held``). Generated over the loop's shape, the container and
the agents' class; eager ≡ traced ≡ optimized on fresh module copies, a failing call among them."""

from __future__ import annotations

from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.frontend.programs import load
from tests.frontend.test_agent_tables import CLASSES as TABLE_CLASSES
from tests.util import every_pair, fresh_copies_agree, run_in_new_loop, scripted_runtime

CLASSES = {
    "plain": TABLE_CLASSES["plain"],
    "helper_method": """
class Agent:
    def __init__(self, style):
        self.style = style

    def prompt(self, q):
        return f"[{self.style}] {q.strip()}"

    async def run(self, q):
        text = await ayo.llm(self.prompt(q), max_tokens=4)
        return f"{self.style}={text}"
""",
    "dataclass": """
@dataclasses.dataclass(frozen=True)
class Agent:
    style: str
    k: int = 2

    async def run(self, q):
        hits = await ayo.search(q, collection="docs", top_k=self.k)
        return await ayo.llm(f"{self.style} {len(hits)}: {q}", max_tokens=4)
""",
    # (a plain `@dataclass`: its `__eq__` leaves it unhashable; traced as any object of the user's)
    "dataclass_eq": """
@dataclasses.dataclass
class Agent:
    style: str
    k: int = 2

    async def run(self, q):
        return await ayo.llm(f"{self.style} {self.k}: {q}", max_tokens=4)
""",
    "keeps_history": TABLE_CLASSES["keeps_history"],
}

CONTAINERS = {
    "list": 'TEAM = [Agent("critic"), Agent("writer"), Agent("editor")]',
    "tuple": 'TEAM = (Agent("critic"), Agent("writer"))',
}

LOOPS = {
    "for_append": "    outs = []\n    for a in TEAM:\n        outs.append(await a.run(q))\n    return outs\n",
    "for_chain": "    draft = q\n    for agent in TEAM:\n        draft = await agent.run(draft)\n    return draft\n",
    "for_two_calls": (
        "    notes = {}\n    for a in TEAM:\n        first = await a.run(q)\n"
        "        notes[len(notes)] = await a.run(first)\n    return notes\n"
    ),
    "gather_generator": "    return list(await asyncio.gather(*(a.run(q) for a in TEAM)))\n",
    "gather_list": "    outs = await asyncio.gather(*[w.run(q) for w in TEAM])\n    return ' | '.join(outs)\n",
    "awaited_comprehension": "    return [await a.run(q) for a in TEAM]\n",
}

# (a field of an agent the workflow sets: its agents change, so the loop runs as written)
SETS_FIELD = "    TEAM[0].style = q[:4]\n"

QUESTIONS = ["what is a heap", "explain FAIL here", "sort a list", ""]


def source(cls: str, container: str, loop: str, sets_field: bool = False) -> str:
    return (
        "import asyncio\nimport dataclasses\n\nimport ayo_trace as ayo\n"
        + CLASSES[cls]
        + f"\n\n{CONTAINERS[container]}\n\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + (SETS_FIELD if sets_field else "")
        + LOOPS[loop]
    )


CASES = every_pair(CLASSES, CONTAINERS, LOOPS)  # (every pair of choices; the suite's time kept)


@pytest.mark.parametrize(("cls", "container", "loop"), CASES, ids=["-".join(c) for c in CASES])
def test_a_loop_over_a_modules_agents_agrees(cls: str, container: str, loop: str, tmp_path: Any) -> None:
    src = source(cls, container, loop)
    graph = load(src, tmp_path).wf.graph("q", [])
    if cls != "keeps_history":  # (each call changes its agent: that one runs as written)
        assert graph_breaks(graph) == [], graph
        assert "llm" in {n.op for n in graph.walk()}, graph
    fresh_copies_agree(src, tmp_path, QUESTIONS)


@pytest.mark.parametrize("loop", list(LOOPS))
def test_a_field_the_workflow_sets_agrees(loop: str, tmp_path: Any) -> None:
    fresh_copies_agree(source("plain", "list", loop, sets_field=True), tmp_path, QUESTIONS)


@pytest.mark.parametrize(("cls", "loop"), [(c, lp) for c in ("plain", "dataclass_eq") for lp in LOOPS])
def test_agents_changed_between_queries_are_read_anew(cls: str, loop: str, tmp_path: Any) -> None:
    """An agent added to the list, one replaced and a field set by code outside the workflow
    between queries: each query's graph answers as the function run eagerly does then."""
    module = load(source(cls, "list", loop), tmp_path)
    changes = [
        lambda: module.TEAM.append(module.Agent("poet")),
        lambda: module.TEAM.__setitem__(0, module.Agent("boss")),
        lambda: setattr(module.TEAM[1], "style", "terse"),
        lambda: module.TEAM.pop(),
    ]

    async def go() -> None:
        async with scripted_runtime():
            for change in [None, *changes]:
                if change is not None:
                    change()
                assert await module.wf("q", []) == await module.wf.eager("q", [])

    run_in_new_loop(go)
