"""A module-level object whose field code the workflow runs sets from elsewhere (another object's
method, a helper that method calls, through a table or an object holding it: ``AGENTS["code"].style
= s``, ``APP.team.lead.style = s``; a class attribute it reads, ``Agent.prefix = s``): its methods
inlined into the graph read that field when the graph runs, not when it was traced
(``helpers._held_self``, ``closures.object_changed``); where the table's own objects change it, a
call through the table runs as written (``impure._table_objects``). Each was a wrong answer: the
field was folded as it was at the trace. Generated over who sets it, how it names the object and
how the workflow reaches it (every pair of choices; the change also carries over to the next
query); eager ≡ traced ≡ optimized on fresh module copies."""

from __future__ import annotations

from typing import Any

import pytest

from tests.util import every_pair, fresh_copies_agree

HEAD = """import ayo_trace as ayo


class Agent:
    prefix = "P"

    def __init__(self, style):
        self.style = style

    async def run(self, q):
        return await ayo.llm(f"{{self.prefix}} {{self.style}}: {{q}}", max_tokens=4)


def retune(s):
    {target}.style = s


class Tuner:
    async def run(self, q):
        {setter}
        return await ayo.llm(f"tune {{q}}", max_tokens=4)


class Team:
    def __init__(self, lead):
        self.lead = lead


class App:
    def __init__(self, lead):
        self.team = Team(lead)


CODE = Agent("c")
APP = App(CODE)
TUNER = Tuner()
AGENTS = {{"code": CODE, "math": Agent("m"), "tune": TUNER}}


@ayo.workflow
async def wf(q, docs):
    kind = q.split()[0]
"""

TARGETS = {"name": "CODE", "table": 'AGENTS["code"]', "nested": "APP.team.lead"}
SETTERS = {
    "helper": "retune(q[:3])",
    "method": "{target}.style = q[:3]",
    "class": "Agent.prefix = q[:3]",
}
READERS = {
    "name": "    b = await CODE.run(q)\n",
    "table": "    b = await AGENTS[kind].run(q)\n",
    "nested": "    b = await APP.team.lead.run(q)\n",
    "alias": "    agent = AGENTS.get(kind, CODE)\n    b = await agent.run(q)\n",
}
ORDERS = {
    "set_first": "    a = await TUNER.run(q)\n{read}    return a, b, CODE.style\n",
    "tuned_through_the_table": "    a = await AGENTS[kind].run(q)\n{read}    return a, b, CODE.style\n",
}

QUESTIONS = ["code one", "tune two", "math three", "code FAIL four", "code five"]
CASES = every_pair(TARGETS, SETTERS, READERS, ORDERS)


def source(target: str, setter: str, reader: str, order: str) -> str:
    t = TARGETS[target]
    head = HEAD.format(target=t, setter=SETTERS[setter].format(target=t))
    return head + ORDERS[order].format(read=READERS[reader])


@pytest.mark.parametrize(("target", "setter", "reader", "order"), CASES, ids=["-".join(c) for c in CASES])
def test_a_field_set_elsewhere_is_read_when_the_graph_runs(
    target: str, setter: str, reader: str, order: str, tmp_path: Any
) -> None:
    fresh_copies_agree(source(target, setter, reader, order), tmp_path, QUESTIONS)
