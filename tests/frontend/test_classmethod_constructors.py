"""An object made by a class method of the user's class (``Retriever.default()``, ``Agent.for_topic(q)``
returning ``cls(...)``): a factory whose class is known (``factories``: the first parameter names
the class it is called on), so the object's ``async`` methods are inlined as those of ``Retriever(2)``
are. A constructor doing more than making the object (counting its objects, reading a class
attribute) runs as written. Generated over the constructor, its arguments and how the object is
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
    "class_attribute": (  # (reads the class: run as written)
        "STYLE = 'terse'\n\n    @classmethod\n    def styled(cls):\n        return cls(cls.STYLE)",
        "styled()",
        False,
    ),
}

OWNERS = ("Retriever", "Special")

USES = {
    "method": "    return await r.answer(q)\n",
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
    if MAKERS[maker][2]:
        graph = load(src, tmp_path).wf.graph("q", [])
        assert graph_breaks(graph) == [], graph
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)
