"""An object held in a container is one object with the container's item: a change through either
is seen through the other, so the passes keep the order of the two (``objects.reach``,
``mutation.handed_names``). The optimized graph ran a read of ``a.tag`` before a change made
through ``box``'s items (``retag_all([a, b])``, ``[retag(x) for x in box]``) and answered with the
old value. Every container x way to change through it x way to read the object after it, and the
other way round (a change of the object, read through the container): no graph break, eager ≡
traced ≡ optimized."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.frontend.programs import load
from tests.util import traces_whole_and_agrees

# how the objects get into `box`, and the expressions of its items and of `a` through it
HOLDERS = {
    "list": (["box = [a, b]"], "box", "box[0]"),
    "tuple": (["box = (a, b)"], "box", "box[0]"),
    "dict": (["box = {'a': a, 'b': b}"], "box.values()", 'box["a"]'),
    "appended": (["box = []", "box.append(a)", "box.append(b)"], "box", "box[0]"),
    "nested": (["box = [[a], [b]]"], "[x for xs in box for x in xs]", "box[0][0]"),
    "literal": ([], "[a, b]", "a"),
}
# a change of every item, through the container (ITEMS: its items' expression)
THROUGH = {
    "helper": ["retag_all(ITEMS)"],
    "comprehension": ["[retag(x) for x in ITEMS]"],
    "loop": ["for x in ITEMS:", "    x.tag = x.tag + '!'"],
    "method": ["for x in ITEMS:", "    x.rename('renamed')"],
    "setattr": ["[setattr(x, 'tag', 'set') for x in ITEMS]"],
}
# a read of `a` itself after it
READ_DIRECT = {
    "await_method": ["second = await a.run(q)"],
    "prompt": ["second = await ayo.llm(f'{a.tag} {q}', max_tokens=3)"],
    "value": ["second = a.tag"],
}
# a change of `a` itself, then a read through the container (FIRST: `a` through it)
DIRECT = {
    "attribute": ["a.tag = 'direct'"],
    "helper": ["retag(a)"],
    "method": ["a.rename('direct')"],
}
READ_THROUGH = {
    "prompt": ["second = await ayo.llm(f'{FIRST.tag} {q}', max_tokens=3)"],
    "values": ["second = [x.tag for x in ITEMS]"],
}
THROUGH_CASES = list(itertools.product(HOLDERS, THROUGH, READ_DIRECT))
DIRECT_CASES = list(itertools.product(HOLDERS, DIRECT, READ_THROUGH))

HEAD = """
import ayo_trace as ayo


class Pure:
    def __init__(self, tag):
        self.tag = tag

    def rename(self, tag):
        self.tag = tag

    async def run(self, q):
        return await ayo.llm(f"{self.tag}: {q}", max_tokens=3)


def retag(o):
    o.tag = "retagged"


def retag_all(objs):
    for o in objs:
        o.tag = "all"
"""


def _workflow(name: str, holder: str, change: list[str], read: list[str]) -> str:
    made, items, first = HOLDERS[holder]
    lines = [
        "a, b = Pure('a'), Pure('b')",
        *made,
        "first = await a.run(q)",
        *change,
        *read,
        "return first, second, a.tag, b.tag",
    ]
    body = "".join(f"    {line}\n" for line in lines).replace("ITEMS", items).replace("FIRST", first)
    return f"\n\n@ayo.workflow\nasync def {name}(q, docs):\n{body}"


def _name(kind: str, case: tuple[str, ...]) -> str:
    return "wf_" + kind + "_" + "_".join(case)


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = HEAD
    for h, t, r in THROUGH_CASES:
        source += _workflow(_name("through", (h, t, r)), h, THROUGH[t], READ_DIRECT[r])
    for h, d, r in DIRECT_CASES:
        source += _workflow(_name("direct", (h, d, r)), h, DIRECT[d], READ_THROUGH[r])
    return load(source, Path(tmp_path_factory.mktemp("objects_in_containers")))


@pytest.mark.parametrize("case", THROUGH_CASES, ids=["-".join(c) for c in THROUGH_CASES])
def test_a_change_through_a_container_is_seen_by_a_later_read(module: Any, case: tuple[str, ...]) -> None:
    traces_whole_and_agrees(getattr(module, _name("through", case)), ["q", "FAIL q"], [[]])


@pytest.mark.parametrize("case", DIRECT_CASES, ids=["-".join(c) for c in DIRECT_CASES])
def test_a_change_of_an_object_is_seen_through_its_container(module: Any, case: tuple[str, ...]) -> None:
    traces_whole_and_agrees(getattr(module, _name("direct", case)), ["q", "FAIL q"], [[]])
