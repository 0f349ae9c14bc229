"""A module-level object whose field (or class attribute) the workflow sets, then calls a method
of that reads it (``CODE.style = q[:3]`` then ``await CODE.run(q)``; through an alias, a table,
``setattr``, a helper of the module, a class attribute ``Agent.prefix = ...``, a list or dict it
holds, ``CODE.notes.append(q)``, also through a local, ``notes = CODE.notes``): the method, or
one of an object holding it (``Reader(CODE)``), inlined into the graph reads the field when the
graph runs (``closures.changed_globals``' ``changed_ids``, ``helpers._held_self``). It was
folded as it was at the trace, a wrong answer from the first query on. Generated over how the
field is set, how the method is reached and whether the change comes before the call or after it
(seen by the next query), every pair of choices; eager ≡ traced ≡ optimized on fresh module
copies."""

from __future__ import annotations

from typing import Any

import pytest

from tests.util import every_pair, fresh_copies_agree

HEAD = """import ayo_trace as ayo


class Agent:
    prefix = "P"

    def __init__(self, style):
        self.style = style
        self.notes = []
        self.cfg = {"t": 4}

    @property
    def label(self):
        return f"{self.prefix} {self.style}"

    async def run(self, q):
        return await ayo.llm(f"{self.label} {len(self.notes)} {self.cfg['t']}: {q}", max_tokens=4)


class Reader:
    def __init__(self, agent):
        self.agent = agent

    async def run(self, q):
        return await ayo.llm(f"{self.agent.label} {self.agent.notes} {self.agent.cfg}: {q}", max_tokens=4)


CODE = Agent("c")
AGENTS = {"code": CODE}
READER = Reader(CODE)


def retune(s):
    CODE.style = s


async def go(q):
    return await CODE.run(q)


@ayo.workflow
async def wf(q, docs):
"""
SETS = {
    "attribute": "    CODE.style = q[:3]\n",
    "augmented": "    CODE.style += q[:1]\n",
    "setattr": '    setattr(CODE, "style", q[:3])\n',
    "alias": "    agent = CODE\n    agent.style = q[:3]\n",
    "table": '    AGENTS["code"].style = q[:3]\n',
    "class_attribute": "    Agent.prefix = q[:2]\n",
    "helper": "    retune(q[:3])\n",
    "namespace": '    vars(CODE)["style"] = q[:3]\n',
    "list_field": "    CODE.notes.append(q)\n",
    "dict_field": '    CODE.cfg["t"] = len(q)\n',
    "part_alias": "    notes = CODE.notes\n    notes.append(q)\n",
}
CALLS = {
    "method": "    out = await CODE.run(q)\n",
    "table": '    out = await AGENTS["code"].run(q)\n',
    "alias": "    bot = CODE\n    out = await bot.run(q)\n",
    "helper": "    out = await go(q)\n",
    "holder": "    out = await READER.run(q)\n",
}
ORDERS = ["set_then_call", "call_then_set"]
CASES = every_pair(SETS, CALLS, ORDERS)


def source(how: str, call: str, order: str) -> str:
    body = SETS[how] + CALLS[call] if order == "set_then_call" else CALLS[call] + SETS[how]
    return HEAD + body + "    return out, CODE.style, Agent.prefix\n"


@pytest.mark.parametrize(("how", "call", "order"), CASES, ids=["-".join(c) for c in CASES])
def test_a_field_the_workflow_sets_is_read_by_the_method_when_the_graph_runs(
    how: str, call: str, order: str, tmp_path: Any
) -> None:
    fresh_copies_agree(source(how, call, order), tmp_path, ["one", "two", "FAIL three", "four"])
