"""A graph constant read from a field of an object chosen from a module's table (``p =
PERSONAS["long" if "explain" in q else "short"]``, then ``max_tokens=p.budget`` or
``collection=p.kb``) is a ``cond`` over the field of each object it may be (``dispatch._fields``):
read from the object's own ``__dict__``, a last arm running the call as written for a value set
since the trace (a frozen dataclass's too, by ``object.__setattr__``). It was a graph break.
Generated over the class, the table, how the key is chosen, the use and a field the workflow
sets; eager ≡ traced ≡ optimized on fresh module copies, a failing call among them."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.frontend.programs import load
from tests.util import every_pair, fresh_copies_agree, outcome, run_in_new_loop, scripted_runtime

CLASSES = {
    "frozen": "@dataclass(frozen=True)\nclass Persona:\n    name: str\n    budget: int\n    kb: str\n",
    "dataclass": "@dataclass\nclass Persona:\n    name: str\n    budget: int\n    kb: str\n",
    "plain": (
        "class Persona:\n    def __init__(self, name, budget, kb):\n"
        "        self.name, self.budget, self.kb = name, budget, kb\n"
    ),
    # (a property: read when the workflow runs, no candidates; the call runs as written)
    "property": (
        "class Persona:\n    def __init__(self, name, budget, kb):\n"
        "        self.name, self._budget, self.kb = name, budget, kb\n\n"
        "    @property\n    def budget(self):\n        return self._budget\n"
    ),
}
TABLES = {
    "dict": (
        'PERSONAS = {"short": Persona("Terse", 2, "kb_a"), "long": Persona("Chatty", 4, "kb_b")}',
        '"long"',
        '"short"',
    ),
    "list": ('PERSONAS = [Persona("Terse", 2, "kb_a"), Persona("Chatty", 4, "kb_b")]', "1", "0"),
}
KEYS = {
    "conditional": "    p = PERSONAS[{a} if 'explain' in q else {b}]\n",
    "bound": "    key = {b}\n    if 'explain' in q:\n        key = {a}\n    p = PERSONAS[key]\n",
}
USES = {
    "max_tokens": "    return await ayo.llm(f'{p.name}: {q}', max_tokens=p.budget)\n",
    "collection": (
        "    await ayo.ingest([f'doc {q}'], collection=p.kb)\n"
        "    return [h.text for h in await ayo.search(q, collection=p.kb, top_k=1)]\n"
    ),
}
SETS = {
    "none": "",
    "field": "    if 'sort' in q and not isinstance(p, tuple):\n        object.__setattr__(p, 'kb', 'kb_c')\n        p.__dict__['budget'] = 3\n",
}
CASES = [
    *itertools.product(["frozen", "dataclass", "plain"], TABLES, KEYS, USES, ["none"]),
    *(c for c in every_pair(CLASSES, TABLES, KEYS, USES, SETS) if c[0] == "property" or c[4] != "none"),
]
QUESTIONS = ["explain a heap", "what is FAIL", "sort a list", "explain sorting"]


def source(cls: str, table: str, key: str, use: str, sets: str) -> str:
    made, a, b = TABLES[table]
    return (
        "from dataclasses import dataclass\n\nimport ayo_trace as ayo\n\n\n"
        + CLASSES[cls]
        + f"\n\n{made}\n\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + KEYS[key].format(a=a, b=b)
        + (SETS[sets] if cls != "property" else "")
        + USES[use]
    )


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_field_of_a_chosen_object_is_a_cond(case: tuple[str, ...], tmp_path: Any) -> None:
    src = source(*case)
    graph = load(src, tmp_path).wf.graph("explain q", [])
    if case[0] != "property" and case[4] == "none":  # (a field the workflow sets: read as it runs)
        ops = [n.op for n in graph.walk()]
        assert "cond" in ops, graph
        # (each call's last arm runs it as written, for a field set since the trace)
        assert len(graph_breaks(graph)) == (1 if case[3] == "max_tokens" else 2), graph
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)


def test_a_field_set_between_queries_is_read_anew(tmp_path: Any) -> None:
    module = load(source("plain", "dict", "conditional", "max_tokens", "none"), tmp_path)

    async def go() -> None:
        async with scripted_runtime():
            for budget in [None, 5, 1]:
                if budget is not None:
                    module.PERSONAS["short"].budget = budget
                for q in QUESTIONS:
                    assert await outcome(module.wf, q, []) == await outcome(module.wf.eager, q, [])

    run_in_new_loop(go)


ENUM = """
import enum

import ayo_trace as ayo


class Mode(enum.Enum):
    BRIEF = 2
    DETAILED = 5


class Kb(enum.Enum):
    kb_a = "first"
    kb_b = "second"
"""
ENUM_USES = {
    "conditional_value": (
        "    mode = Mode.DETAILED if 'explain' in q else Mode.BRIEF\n"
        "    return await ayo.llm(q, max_tokens=mode.value)\n"
    ),
    "bound_value": (
        "    mode = Mode.BRIEF\n    if len(q) > 12:\n        mode = Mode.DETAILED\n"
        "    return await ayo.llm(q, max_tokens=mode.value)\n"
    ),
    "member_name": (
        "    kb = Kb.kb_b if 'sort' in q else Kb.kb_a\n"
        "    await ayo.ingest([f'doc {q}'], collection=kb.name)\n"
        "    return [h.text for h in await ayo.search(q, collection=kb.name, top_k=1)]\n"
    ),
}


@pytest.mark.parametrize("use", list(ENUM_USES))
def test_an_enum_members_value_or_name_is_a_cond(use: str, tmp_path: Any) -> None:
    """(`mode.value`: an enum member's own for good, all it can be: no last arm.)"""
    src = ENUM + "\n\n@ayo.workflow\nasync def wf(q, docs):\n" + ENUM_USES[use]
    graph = load(src, tmp_path).wf.graph("explain q", [])
    assert "cond" in [n.op for n in graph.walk()] and graph_breaks(graph) == [], graph
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)
