"""Objects the workflow makes that hold one object between them: a module list given to each
(``Agent(SHARED)``), a mutable default of ``__init__`` (``inbox=[]``), a module list ``__init__``
stores itself (``self.inbox = SHARED``). A change through one object's field (``b.inbox.append(x)``,
``b.post(x)``) is a change of what the other holds, so their statements keep program order
(``shared_fields``: the objects are held). Generated over the sharing, the change and the read;
eager ≡ traced ≡ optimized on fresh module copies, a failing call among them."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.util import fresh_copies_agree

SHARINGS = {
    "argument": ("    def __init__(self, inbox):\n        self.inbox = inbox\n", "Agent(SHARED)"),
    "default": ("    def __init__(self, inbox=[]):\n        self.inbox = inbox\n", "Agent()"),
    "module": ("    def __init__(self):\n        self.inbox = SHARED\n", "Agent()"),
}

CHANGES = {
    "field": "    b.inbox.append(x)\n",
    "method": "    b.post(x)\n",
    "item": "    b.inbox[:0] = [x]\n",
}

READS = {
    "field": "len(a.inbox)",
    "method": "a.size()",
    "module": "len(SHARED)",
}


def source(sharing: str, change: str, read: str) -> str:
    init, make = SHARINGS[sharing]
    return (
        "import ayo_trace as ayo\n\nSHARED = []\n\n\nclass Agent:\n"
        + init
        + "\n    def post(self, v):\n        self.inbox.append(v)\n"
        + "\n    def size(self):\n        return len(self.inbox)\n"
        + f"\n\n@ayo.workflow\nasync def wf(q, docs):\n    a = {make}\n    b = {make}\n"
        + "    x = await ayo.llm(f'first {q}', max_tokens=3)\n"
        + CHANGES[change]
        + f"    y = await ayo.llm(f'reads {{{READS[read]}}}', max_tokens=3)\n"
        + "    return x, y\n"
    )


CASES = list(itertools.product(SHARINGS, CHANGES, READS))
QUESTIONS = ["what is a heap", "explain FAIL here", "sort a list"]


@pytest.mark.parametrize(("sharing", "change", "read"), CASES, ids=["-".join(c) for c in CASES])
def test_objects_sharing_a_field_agree(sharing: str, change: str, read: str, tmp_path: Any) -> None:
    fresh_copies_agree(source(sharing, change, read), tmp_path, QUESTIONS)
