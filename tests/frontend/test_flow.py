"""Python's definite-assignment rules (``flow.py``), checked against Python itself: random function
bodies run on every combination of their conditions; a name ``flow`` calls definite is bound on every
run that reaches the end, a name bound at the end is one ``flow`` calls maybe, and a body ``flow`` says
never falls through never reaches the end."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ayo_trace.frontend.flow import flow
from ayo_trace.frontend.source import FunctionSource

from .programs import load

NAMES = ["a", "b", "c"]
CONDS = ["p", "q"]


def block(depth: int) -> st.SearchStrategy[list[str]]:
    simple = st.one_of(
        st.sampled_from(NAMES).map(lambda n: [f"{n} = 1"]),
        st.sampled_from(NAMES).map(lambda n: [f"if {n!r} in locals():", f"    del {n}"]),
        st.just(["return 'early'"]),
        st.sampled_from(CONDS).map(lambda c: [f"if {c}:", "    raise Boom()"]),
    )
    if depth == 0:
        return st.lists(simple, min_size=1, max_size=3).map(lambda ls: [x for s in ls for x in s])
    inner = block(depth - 1)

    def indent(lines: list[str]) -> list[str]:
        return ["    " + x for x in lines]

    compound = st.one_of(
        st.tuples(st.sampled_from(CONDS), inner, inner).map(
            lambda t: [f"if {t[0]}:", *indent(t[1]), "else:", *indent(t[2])]
        ),
        st.tuples(st.sampled_from(CONDS), inner).map(lambda t: [f"if {t[0]}:", *indent(t[1])]),
        st.tuples(inner, inner, st.booleans()).map(
            lambda t: ["try:", *indent(t[0]), "except Boom as a:" if t[2] else "except Boom:", *indent(t[1])]
        ),
        st.tuples(st.sampled_from(CONDS), inner).map(lambda t: [f"for _ in [0] * {t[0]}:", *indent(t[1])]),
        st.tuples(st.sampled_from(CONDS), inner).map(
            lambda t: [f"while {t[0]}:", *indent(t[1]), "    break"]
        ),
        st.tuples(inner, st.sampled_from(CONDS), inner).map(
            lambda t: [
                "while True:",
                *indent(t[0]),
                f"    if {t[1]}:",
                "        break",
                *indent(t[2]),
                "    break",
            ]
        ),
    )
    return st.lists(st.one_of(simple, compound), min_size=1, max_size=3).map(
        lambda ls: [x for s in ls for x in s]
    )


def runs(fn: Any) -> list[Any]:
    out = []
    for p, q in itertools.product([False, True], repeat=2):
        try:
            out.append(fn(p, q))
        except Exception:
            continue
    return out


@settings(max_examples=150, deadline=None)
@given(body=block(2))
def test_flow_agrees_with_python(body: list[str], tmp_path_factory: Any) -> None:
    source = "\n".join(
        [
            "class Boom(Exception):",
            "    pass",
            "",
            "",
            "def program(p, q):",
            *["    " + x for x in body],
            "    return set(locals()) & {'a', 'b', 'c'}",
            "",
        ]
    )
    module = load(source, Path(tmp_path_factory.mktemp("flow")))
    parsed = _parse(module.program)
    f = flow(list(parsed.node.body.body)[:-1], parsed.assigned_names)
    ends = [r for r in runs(module.program) if r != "early"]
    for bound in ends:
        assert f.definite - f.killed <= bound, (source, f)
        assert bound <= f.maybe, (source, f)
    if not f.falls_through:
        assert not ends, (source, f)


def _parse(fn: Any) -> FunctionSource:
    """``FunctionSource.parse`` wants an ``async def``; parse the plain function's module instead."""
    import inspect
    import textwrap

    import libcst as cst
    from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider, ScopeProvider

    text = textwrap.dedent(inspect.getsource(fn))
    module = cst.parse_module(text)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    scopes = wrapper.resolve(ScopeProvider)
    node = next(s for s in module.body if isinstance(s, cst.FunctionDef))
    return FunctionSource(
        fn,
        "<flow>",
        1,
        module,
        node,
        scopes,
        wrapper.resolve(PositionProvider),
        wrapper.resolve(ParentNodeProvider),
        scopes[node.body],
    )


PRECISE = [
    ("while True:\n    a = 1\n    if p:\n        break\n    b = 1", {"a"}),
    ("while 1:\n    if p:\n        a = 1\n        break\n    if q:\n        a = 2\n        break", {"a"}),
    ("try:\n    a = 1\nexcept Boom as b:\n    a = 2", {"a"}),
    ("if p:\n    a = 1\nelse:\n    raise Boom()", {"a"}),
    ("if p:\n    return 'early'\nelif q:\n    a = 1\nelse:\n    a = 2", {"a"}),
    ("for _ in [p]:\n    a = 1", set()),
    ("with open(__file__) as c:\n    a = c.read()", {"a", "c"}),
    ("import os.path as op, json", {"op", "json"}),
    ("def f():\n    return 1\nclass K:\n    pass", {"f", "K"}),
    ("a = b = 1\ndel b", {"a"}),
]


@pytest.mark.parametrize(("body", "definite"), PRECISE, ids=[p[0].splitlines()[0] for p in PRECISE])
def test_flow_is_as_precise_as_python(body: str, definite: set[str], tmp_path: Path) -> None:
    source = "class Boom(Exception):\n    pass\n\n\ndef program(p, q):\n"
    source += "".join(f"    {line}\n" for line in body.splitlines()) + "    return None\n"
    module = load(source, tmp_path)
    parsed = _parse(module.program)
    f = flow(list(parsed.node.body.body)[:-1], parsed.assigned_names)
    assert f.definite - f.killed == definite
