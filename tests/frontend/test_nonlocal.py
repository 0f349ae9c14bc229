"""``nonlocal`` of a workflow's variable in a function the workflow defines is traced: the variable
is kept in a cell (``calls__cell = [0]``, every use ``calls__cell[0]``) as Python keeps it, so a
helper changing it changes an object of the workflow in place (``frontend/nonlocals.py``).
Eager ≡ traced ≡ optimized over inputs taking every path, failing calls among them; random
programs (``programs.py``, kind ``nonlocal_helper``) cover the class further."""

from __future__ import annotations

import textwrap
from typing import Any

import libcst as cst
import pytest

from ayo_trace.errors import TraceError
from ayo_trace.frontend import nonlocals
from ayo_trace.frontend.breaks import graph_breaks
from tests.util import scripted_runtime, three_runs_agree

from . import nonlocal_shapes as shapes

pytestmark = pytest.mark.anyio

QUESTIONS = ["a plain question", "stop now", "FAIL x"]  # (FAIL: the LLM fails the call)
DOCS = [[], ["alpha"], ["alpha", "beta FAIL", "gamma"], ["one", "two", "three"]]


@pytest.mark.parametrize("wf", shapes.WORKFLOWS, ids=[wf.fn.__name__ for wf in shapes.WORKFLOWS])
async def test_a_variable_changed_by_a_function_of_the_workflow_is_traced(wf: Any) -> None:
    graph = wf.graph("q", ["d"])
    assert [n for n in graph.walk() if n.op == "break"] == []
    await three_runs_agree(wf, QUESTIONS, DOCS)


async def test_the_graph_keeps_the_variable_in_a_cell_on_the_source_lines() -> None:
    wf = shapes.counter_of_sequential_calls
    text = str(wf.graph("q", []))
    assert "calls__cell = [0]" in text
    assert "calls__cell[0] += 1" in text
    first = wf.fn.__code__.co_firstlineno + 1  # (the `def` line, below `@ayo.workflow`)
    line_of = {n.attrs["code"].source: n.loc.line for n in wf.graph("q", []).walk() if n.op == "python"}
    assert line_of["calls__cell = [0]"] == first + 1
    assert line_of["calls__cell[0] += 1"] == first + 5


@pytest.mark.parametrize(
    "wf, says",
    [
        (shapes.defined_before_the_variable, "`nonlocal calls` in `ask` cannot be traced"),
        (shapes.REFUSED[1], "`nonlocal made` cannot be traced"),
    ],
    ids=["defined_before", "outside_the_workflow"],
)
def test_what_the_graph_cannot_keep_is_refused(wf: Any, says: str) -> None:
    with pytest.raises(TraceError, match=says):
        wf.graph("q", ["a", "b"])


async def test_a_gather_python_interleaves_runs_eagerly() -> None:
    wf = shapes.read_before_and_after_a_gathered_wait
    (found,) = graph_breaks(wf.graph("q", ["a", "b"]))
    assert "touches `calls` before it first waits" in str(found.attrs["reason"])
    await three_runs_agree(wf, QUESTIONS, DOCS)
    # every call counts itself before it waits, so each reads the count all made: [2, 2]
    async with scripted_runtime():
        assert await wf("q", ["a", "b"]) == [2, 2]


def rewritten(source: str) -> str:
    return nonlocals.rewrite(cst.parse_module(textwrap.dedent(source)))[0].code


def test_every_use_of_the_variable_becomes_the_cell_and_others_are_left() -> None:
    out = rewritten(
        """
        async def wf(q):
            n = 0
            def bump():
                nonlocal n
                n += 1
            def shadow():
                n = 5
                return n
            labels = [f"{n}:{x}" for x in q]
            for n in range(2):
                bump()
            return n, labels, obj.n, f(n=1)
        """
    )
    assert "n__cell = [0]" in out
    assert "nonlocal" not in out
    assert "n__cell[0] += 1" in out
    assert "        n = 5\n        return n\n" in out  # (its own `n`)
    assert 'f"{n__cell[0]}:{x}"' in out
    assert "for n__cell[0] in range(2):" in out
    assert "return n__cell[0], labels, obj.n, f(n=1)" in out


def test_a_parameter_gets_its_cell_on_a_line_before_the_first_statement() -> None:
    out = rewritten(
        """
        async def wf(q):
            async def refine():
                nonlocal q
                q = q + "?"
            await refine()
            return q
        """
    )
    assert "async def wf(q):\n    q__cell = [q]\n    async def refine():\n        pass\n" in out
    assert 'q__cell[0] = q__cell[0] + "?"' in out
    assert "return q__cell[0]" in out


def test_a_parameters_cell_stands_on_the_first_statements_line() -> None:
    wf = shapes.parameter_rewritten
    first = wf.fn.__code__.co_firstlineno + 1  # (the `def` line, below `@ayo.workflow`)
    line_of = {n.attrs["code"].source: n.loc.line for n in wf.graph("q", []).walk() if n.op == "python"}
    assert line_of["q__cell = [q]"] == first + 1
    assert line_of["rounds = len(docs)"] == first + 1
    assert [n.loc.line for n in wf.graph("q", ["a"]).walk() if n.op == "llm"] == [first + 5, first + 9]


@pytest.mark.parametrize(
    "body",
    [
        "async def ask():\n    nonlocal n\n    n += 1\nn = 0",  # defined before the variable
        "n = 0\nasync def ask():\n    nonlocal n\n    n += 1\ndel n",  # deleted
        "n = 0\nasync def ask():\n    nonlocal n\n    n += 1\nif (n := 3):\n    pass",  # a walrus
        "if q:\n    n = 0\nasync def ask():\n    nonlocal n\n    n += 1",  # first bound in a branch
        "n = 0\nasync def ask():\n    nonlocal n\n    n += 1\nclass C:\n    m = n",  # read in a class body
        "n = 0\nasync def ask():\n    nonlocal n\n    n += 1\ntry:\n    pass\nexcept E as n:\n    pass",
    ],
    ids=["def_first", "del", "walrus", "in_a_branch", "class_body", "except_as"],
)
def test_what_a_cell_cannot_stand_for_keeps_its_nonlocal(body: str) -> None:
    source = "async def wf(q):\n" + textwrap.indent(body, "    ") + "\n"
    assert rewritten(source) == source
