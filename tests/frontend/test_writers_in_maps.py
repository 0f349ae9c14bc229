"""An object of a class of the user's whose ``__str__``, ``__repr__`` or ``__format__`` changes
state (counts its calls, logs), formatted in the prompt of a loop's calls: Python formats the
items one after another and stops at the call that fails, so the items after it are never
formatted. The optimizer runs a map's independent items at once, and formatting each where its
call stood ran that code for the items after a failing one too (found by probe d34: a
``Chunk.renders`` count of 9 against eager's 8). Such a field is now formatted by a node in program
order (``text._written_by_user``: an object the workflow made of such a class, or a value whose
class the trace does not know while the module names such a class), so the map keeps its order.
A class whose writers change nothing leaves the map's items running at once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.frontend.programs import load
from tests.util import every_pair, fresh_copies_agree

WRITERS = {  # the class's writer, changing state
    "repr_counts": ("__repr__", "        Item.renders += 1\n        return f'Item({self.text!r})'"),
    "str_logs": ("__str__", "        LOG.append(self.text)\n        return self.text.upper()"),
    "format_counts": ("__format__", "        SEEN['n'] += 1\n        return format(self.text, spec)"),
}
FIELDS = {  # how the prompt formats the object
    "plain": "{item}",
    "repr": "{item!r}",
    "spec": "{item:>8}",
}
MADE = {  # where the objects come from
    "comprehension": ("items = [Item(w) for w in q.split()]", "for item in items:"),
    "in_loop": ("words = q.split()", "for w in words:\n        item = Item(w)"),
    "one_object": ("item = Item(q)", "for w in q.split():"),
}
LOOPS = ["for_append", "comprehension"]
CASES = every_pair(WRITERS, FIELDS, MADE, LOOPS)


def _source(writer: str, field: str, made: str, loop: str) -> str:
    method, code = WRITERS[writer]
    signature = "(self, spec)" if method == "__format__" else "(self)"
    before, header = MADE[made]
    about = " about {w}" if made == "one_object" else ""  # (each item's prompt its own)
    prompt = f'f"Say {FIELDS[field]}{about}"'
    if loop == "for_append" or made == "in_loop":
        body = f"    outs = []\n    {header}\n        outs.append(await ayo.llm({prompt}, max_tokens=3))\n"
    else:
        clause = header.removesuffix(":")
        body = f"    outs = [await ayo.llm({prompt}, max_tokens=3) {clause}]\n"
    return (
        "import ayo_trace as ayo\n\nLOG = []\nSEEN = {'n': 0}\n\n\nclass Item:\n    renders = 0\n\n"
        "    def __init__(self, text):\n        self.text = text\n\n"
        f"    def {method}{signature}:\n{code}\n\n\n"
        f"@ayo.workflow\nasync def wf(q, docs):\n    {before}\n{body}"
        "    return len(outs), Item.renders, list(LOG), SEEN['n']\n"
    )


QUESTIONS = ["what is a heap", "explain FAIL here now", "sort lists"]


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_an_object_writing_itself_with_effects_keeps_the_loop_in_order(
    case: tuple[str, ...], tmp_path: Any
) -> None:
    fresh_copies_agree(_source(*case), tmp_path, QUESTIONS)


PURE = """
import ayo_trace as ayo


class Item:
    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return f"Item({self.text!r})"


@ayo.workflow
async def wf(q, docs):
    items = [Item(w) for w in q.split()]
    return [await ayo.llm(f"Say {item!r}", max_tokens=3) for item in items]
"""


def test_a_class_writing_itself_without_effects_leaves_the_items_at_once(tmp_path: Any) -> None:
    (tmp_path / "graph").mkdir()
    wf = load(PURE, tmp_path / "graph").wf
    maps = [n for n in wf.graph("a b", [], optimized=True).walk() if n.op == "map"]
    assert [m.attrs.get("concurrency") for m in maps] == [None]
    fresh_copies_agree(PURE, tmp_path, QUESTIONS)
