"""A router's table of agents (``await AGENTS[kind].run(q)``, ``agent = AGENTS.get(kind, default)``
then ``await agent.run(q)``, a list or tuple of workers indexed by a computed position): the call
is traced as a ``cond`` over the table's objects' methods (``frontend/dispatch._methods``), each
arm the method inlined, where no method of the objects changes them (``impure.item_method_calls``,
``closures._aliased``); the call as written stays only for an object none of them is (a missing
key raises as in Python). Objects whose methods change them (an agent keeping a history) run as
written. Generated over the table's kind, the way it is read and the objects' classes; eager ≡
traced ≡ optimized on fresh module copies (a missing key and a failing call among the queries)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.frontend.programs import load
from tests.util import fresh_copies_agree, run_in_new_loop, scripted_runtime

CLASSES = {
    "plain": """
class Agent:
    def __init__(self, style, budget=4):
        self.style = style
        self.budget = budget

    async def run(self, q):
        return await ayo.llm(f"{self.style}: {q}", max_tokens=self.budget)
""",
    "helper_method": """
class Agent:
    def __init__(self, style):
        self.style = style

    def prompt(self, q):
        return f"[{self.style}] {q.strip()}"

    async def run(self, q):
        text = await ayo.llm(self.prompt(q), max_tokens=4)
        return self.style, text
""",
    "two_classes": """
class Agent:
    def __init__(self, style):
        self.style = style

    async def run(self, q):
        return await ayo.llm(f"{self.style}: {q}", max_tokens=4)


class Searcher:
    def __init__(self, style, k=2):
        self.style, self.k = style, k

    async def run(self, q):
        hits = await ayo.search(q, collection="docs", top_k=self.k)
        return [self.style] + [h.text for h in hits]
""",
    "keeps_history": """
class Agent:
    def __init__(self, style):
        self.style = style
        self.history = []

    async def run(self, q):
        self.history.append(q)
        return await ayo.llm(f"{self.style} {len(self.history)}: {q}", max_tokens=4)
""",
}

TABLES = {
    "dict": ('AGENTS = {"math": Agent("m"), "code": Agent("c")}', "kind"),
    "dict_two_classes": ('AGENTS = {"math": Agent("m"), "code": Searcher("c")}', "kind"),
    "list": ('AGENTS = [Agent("m"), Agent("c")]', "len(kind) % 2"),
    "tuple": ('AGENTS = (Agent("m"), Agent("c"), Agent("x"))', "len(kind) % 3"),
}

READS = {
    "direct": "    return await AGENTS[{key}].run(q)\n",
    "alias": "    agent = AGENTS[{key}]\n    out = await agent.run(q)\n    return out\n",
    "get": "    agent = AGENTS.get({key}, FALLBACK)\n    return await agent.run(q)\n",
}

QUESTIONS = ["math what is 2+2", "code a sort", "prose a poem", "math FAIL this", "code again"]


def source(cls: str, table: str, read: str) -> str:
    made, key = TABLES[table]
    if read == "get" and not table.startswith("dict"):
        read = "alias"
    body = READS[read].format(key=key)
    return (
        "import ayo_trace as ayo\n"
        + CLASSES[cls]
        + f"\n\n{made}\nFALLBACK = Agent('fb')\n\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + "    kind = q.split()[0]\n"
        + body
    )


def _cases() -> list[tuple[str, str, str]]:
    out = []
    for cls, table, read in itertools.product(CLASSES, TABLES, READS):
        if (table == "dict_two_classes") != (cls == "two_classes"):
            continue
        if read == "get" and not table.startswith("dict"):
            continue
        out.append((cls, table, read))
    return out


CASES = _cases()


@pytest.mark.parametrize(("cls", "table", "read"), CASES, ids=["-".join(c) for c in CASES])
def test_a_table_of_agents_agrees(cls: str, table: str, read: str, tmp_path: Any) -> None:
    src = source(cls, table, read)
    graph = load(src, tmp_path).wf.graph("math q", [])
    ops = {n.op for n in graph.walk()}
    if cls == "keeps_history":  # (each call changes its agent: run as written)
        assert "cond" not in ops, graph
    else:
        assert "cond" in ops and ("llm" in ops or "search" in ops), graph
        # (the one break left is the call as written, for an object none of the table's)
        assert all(b.attrs["reason"].startswith("a call of a function") for b in graph_breaks(graph)), graph
    fresh_copies_agree(src, tmp_path, QUESTIONS)


def test_an_agent_changed_after_the_trace_is_read_anew(tmp_path: Any) -> None:
    """A field of a table's agent set by code outside the workflow after it was traced, and an
    entry replaced: the graph answers as the function run eagerly does."""
    module = load(source("plain", "dict", "direct"), tmp_path)
    wf = module.wf

    async def go() -> None:
        async with scripted_runtime():
            before = {q: await wf(q, []) for q in ("math q", "code q")}
            module.AGENTS["math"].style = "changed"
            module.AGENTS["code"] = module.Agent("new")
            for q in ("math q", "code q"):
                after = await wf(q, [])
                assert after == await wf.eager(q, []) and after != before[q]

    run_in_new_loop(go)
