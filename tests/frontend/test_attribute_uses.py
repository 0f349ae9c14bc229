"""What a module's code does with objects' attributes (``attribute_uses.module_sets``): reading an
object's ``__dict__`` (``print(vars(cfg))``, ``{**vars(cfg)}``, ``json.dumps(x.__dict__)``) or
setting a named attribute (``setattr(x, "a", v)``) anywhere in a module made every field of every
object its workflows make unknown at trace time (``max_tokens=self.budget`` a graph break); now only
a use that may change a ``__dict__`` (an item set, ``update``, an alias, handing it to other code, a
return) or a ``setattr`` of a computed name does. And a class with ``__slots__`` has its fields read
too (it had none). Found by probe zt. Every use x eager ≡ traced ≡ optimized on fresh module copies;
the reads keep the constant field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.util import fresh_copies_agree

from .programs import load

HEAD = """
import json

import ayo_trace as ayo


class Client:
    def __init__(self, prefix="P: ", budget=4):
        self.prefix = prefix
        self.budget = budget

    async def ask(self, q):
        return await ayo.llm(self.prefix + q, max_tokens=self.budget)


class Tag:
    pass


class Slotted:
    __slots__ = ("prefix", "budget")

    def __init__(self, prefix="S: ", budget=5):
        self.prefix = prefix
        self.budget = budget

    async def ask(self, q):
        return await ayo.llm(self.prefix + q, max_tokens=self.budget)
"""
HELPERS = {  # (module functions changing an object's namespace, for the cases using them)
    "helper_returns_it": "def to_dict(obj):\n    return vars(obj)\n",
    "in_a_function": "def reset(obj):\n    vars(obj).update(prefix='R: ', budget=3)\n",
}
READS = {
    "length": ["info = len(vars(c))"],
    "spread": ["info = {**vars(c), 'q': q}"],
    "dumps": ["info = json.dumps(c.__dict__)"],
    "formatted": ["info = f'{vars(c)}'"],
    "get": ["info = c.__dict__.get('budget')"],
    "iterated": ["info = [k for k in vars(c)]"],
    "contains": ["info = 'prefix' in vars(c)"],
    "named_setattr_elsewhere": ["t = Tag()", "setattr(t, 'label', q[:2])", "info = t.label"],
}
CHANGES = {
    "update": ["vars(c).update(budget=1 + len(q) % 3, prefix=q[:2])"],
    "item": ["c.__dict__['prefix'] = q[:3]"],
    "alias": ["d = vars(c)", "d['prefix'] = q[:3]"],
    "named_setattr": ["setattr(c, 'prefix', q[:3])"],
    "computed_setattr": ["setattr(c, 'pre' + 'fix', q[:3])"],
    "helper_returns_it": ["to_dict(c)['prefix'] = q[:3]"],
    "replaced": ["c.__dict__ = {'prefix': q[:3], 'budget': 3}"],
    "in_a_function": ["reset(c)"],
    "handed_on": ["d = dict(budget=3)", "vars(c).update(d)"],
    "object_setattr": ["object.__setattr__(c, 'prefix', q[:3])"],
}
QUESTIONS = ["what is rust", "FAIL x", "again"]


def _source(lines: list[str], cls: str = "Client", use: str = "") -> str:
    body = ["info = None", f"c = {cls}()", *lines, "out = await c.ask(q)", "return out, str(info)"]
    return (
        HEAD
        + f"\n\n{HELPERS.get(use, '')}"
        + "\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + "".join(f"    {line}\n" for line in body)
    )


@pytest.mark.parametrize("use", [*READS, *CHANGES])
def test_a_use_of_an_objects_namespace_agrees(use: str, tmp_path: Path) -> None:
    fresh_copies_agree(_source({**READS, **CHANGES}[use], use=use), tmp_path, QUESTIONS)


@pytest.mark.parametrize("use", READS)
def test_reading_an_objects_namespace_keeps_its_constant_fields(use: str, tmp_path: Path) -> None:
    from ayo_trace.frontend.breaks import graph_breaks

    graph = load(_source(READS[use]), tmp_path).wf.graph("q", [])
    assert graph_breaks(graph) == [] and "max_tokens=4" in str(graph)


@pytest.mark.parametrize("change", ["", "setattr(c, 'budget', 1 + len(q) % 3)", "c.prefix = q[:2]"])
def test_a_slotted_objects_fields_agree(change: str, tmp_path: Path) -> None:
    source = _source([change] if change else [], "Slotted")
    fresh_copies_agree(source, tmp_path, QUESTIONS)
    if not change:  # (its fields known: the graph's constants)
        from ayo_trace.frontend.breaks import graph_breaks

        graph = load(source, tmp_path).wf.graph("q", [])
        assert graph_breaks(graph) == [] and "max_tokens=5" in str(graph)


MODULE_SETS = {
    "print(vars(x))": set(),
    "f(**vars(x))": set(),
    "{**x.__dict__}": set(),
    "for k in vars(x): pass": set(),
    "'a' in vars(x)": set(),
    "f'{vars(x)}'": set(),
    "x.__dict__.get('a')": set(),
    "json.dumps(x.__dict__)": set(),
    "x.__dict__['a']": set(),
    "setattr(x, 'a', 1)": {"a"},
    "delattr(x, 'b')": {"b"},
    "d = vars(x)": {"*"},
    "vars(x)['a'] = 1": {"*"},
    "vars(x).update(b)": {"*"},
    "f(state=vars(x))": {"*"},
    "{'a': x.__dict__}": {"*"},
    "def f():\n    return x.__dict__": {"*"},
    "[n.__dict__ for n in ns]": {"*"},
    "x.__dict__ = {}": {"*"},
    "del x.__dict__['a']": {"*"},
    "g(vars(x))": {"*"},
    "f = vars": {"*"},
    "setattr(x, k, 1)": {"*"},
    "object.__setattr__(x, 'a', 1)": {"*"},
    "def __post_init__(self):\n    object.__setattr__(self, 'a', 1)": set(),
}


@pytest.mark.parametrize("code", MODULE_SETS)
def test_what_a_module_sets(code: str, tmp_path: Path) -> None:
    from ayo_trace.frontend import attribute_uses

    source = "x = ns = b = k = None\n\nif False:\n" + "".join(f"    {line}\n" for line in code.split("\n"))
    module = load(source, tmp_path)
    assert set(attribute_uses.module_sets(module.__name__)) == MODULE_SETS[code]
