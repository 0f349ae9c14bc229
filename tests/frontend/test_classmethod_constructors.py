"""An object made by a class method of the user's class (``Retriever.default()``, ``Agent.for_topic(q)``
returning ``cls(...)``): a factory whose class is known (``factories``: the first parameter names
the class it is called on), so the object's ``async`` methods are inlined as those of ``Retriever(2)``
are; one reading an attribute of its class (``cls(cls.STYLE)``, ``cls.PRESETS["deep"]``) too,
that attribute read as a module name's is. A constructor doing more than making the object
(counting its objects) runs as written. Generated over the constructor, its arguments and how the object is
used; eager ≡ traced ≡ optimized on fresh module copies, a failing call among them."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.frontend.programs import load
from tests.util import fresh_copies_agree

CLASS = """
class Retriever:
    def __init__(self, style, top_k=2):
        self.style = style
        self.top_k = top_k

    {maker}

    async def answer(self, q):
        hits = await ayo.search(q, collection="docs", top_k=self.top_k)
        return await ayo.llm(f"{{self.style}} {{len(hits)}}: {{q}}", max_tokens=4)


class Special(Retriever):
    pass
"""

MAKERS = {
    "constants": ("@classmethod\n    def default(cls):\n        return cls('plain', 3)", "default()", True),
    "argument": (
        "@classmethod\n    def for_topic(cls, topic):\n        return cls(topic)",
        "for_topic(q)",
        True,
    ),
    "branch": (
        "@classmethod\n    def sized(cls, n):\n        if n > 1:\n            return cls('wide', top_k=n)\n"
        "        return cls('narrow')",
        "sized(2)",
        True,
    ),
    # (reads an attribute of the class, the module's: a read of that class's attribute, checked as
    # a module name's is; it ran as written, found by a probe)
    "class_attribute": (
        "STYLE = 'terse'\n\n    @classmethod\n    def styled(cls):\n        return cls(cls.STYLE)",
        "styled()",
        True,
    ),
    "class_table": (
        "PRESETS = {'fast': 1, 'deep': 4}\n\n    @classmethod\n    def preset(cls):\n"
        "        return cls('preset', top_k=cls.PRESETS['deep'])",
        "preset()",
        True,
    ),
}

OWNERS = ("Retriever", "Special")

USES = {
    "method": "    return await r.answer(q)\n",
    # (the class's attribute set by the workflow first: read when the constructor runs)
    "class_changed": "    out = await r.answer(q)\n    Retriever.STYLE = q[:4]\n    return out, r.style\n",
    "field_and_method": "    out = await r.answer(q)\n    return out, r.top_k, type(r).__name__\n",
}


def source(maker: str, owner: str, use: str) -> str:
    code, call, _ = MAKERS[maker]
    return (
        "import ayo_trace as ayo\n"
        + CLASS.format(maker=code)
        + f"\n\n@ayo.workflow\nasync def wf(q, docs):\n    r = {owner}.{call}\n"
        + USES[use]
    )


CASES = list(itertools.product(MAKERS, OWNERS, USES))
QUESTIONS = ["what is a heap", "explain FAIL here", "sort"]


@pytest.mark.parametrize(("maker", "owner", "use"), CASES, ids=["-".join(c) for c in CASES])
def test_an_object_a_class_method_makes_agrees(maker: str, owner: str, use: str, tmp_path: Any) -> None:
    src = source(maker, owner, use)
    if MAKERS[maker][2] and use != "class_changed":
        graph = load(src, tmp_path).wf.graph("q", [])
        assert graph_breaks(graph) == [], graph
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)
