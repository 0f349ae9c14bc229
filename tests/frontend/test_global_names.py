"""``global`` in a workflow's body is traced: each binding of the name becomes a call of a function
the workflow defines that declares it (``frontend/global_names.py``), so the module's name changes
where Python changes it and every read sees the value Python's would. Eager ≡ traced ≡ optimized
over inputs taking every path (failing calls among them), two queries in a row on one module
state; random programs (``programs.py``, kind ``global_body``) cover the class further."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ayo_trace.errors import TraceError
from ayo_trace.frontend import global_names
from ayo_trace.frontend.breaks import graph_breaks
from ayo_trace.passes import DEFAULT_PASSES
from tests.util import outcome, run_in_new_loop, scripted_runtime, three_runs_agree

from . import global_shapes as shapes
from .programs import CONTROL_KINDS, KINDS, load, program_source
from .test_differential import DOCS as DIFF_DOCS
from .test_differential import QUESTION, assert_all_equal, run_modes

pytestmark = pytest.mark.anyio

QUESTIONS = ["a plain question", "FAIL x"]  # (FAIL: the LLM fails the call)
DOCS = [[], ["alpha"], ["alpha", "beta FAIL", "gamma"], ["one", "two", "three", "four"]]


async def twice(wf: Any, q: str, docs: list[str]) -> tuple[Any, Any, tuple[object, ...]]:
    """Two queries in a row from a fresh module state, and the state they leave."""
    shapes.reset()
    first = await outcome(wf, q, docs)
    second = await outcome(wf, q, docs)
    return first, second, shapes.state()


@pytest.mark.parametrize("wf", shapes.WORKFLOWS, ids=[wf.fn.__name__ for wf in shapes.WORKFLOWS])
async def test_a_name_the_workflow_declares_global_is_traced(wf: Any) -> None:
    shapes.reset()
    assert graph_breaks(wf.graph("q", ["d"])) == []
    await three_runs_agree(wf, QUESTIONS, DOCS, run=twice)


async def test_the_module_name_changes_as_python_changes_it() -> None:
    async with scripted_runtime():
        shapes.reset()
        assert (await shapes.counts_queries("q", []))[1] == 1
        assert (await shapes.counts_queries("q", []))[1] == 2
        assert shapes.QUERIES == 2


@pytest.mark.parametrize("wf", shapes.REFUSED, ids=[wf.fn.__name__ for wf in shapes.REFUSED])
def test_bindings_the_rewrite_does_not_take_are_refused(wf: Any) -> None:
    with pytest.raises(TraceError, match=r"`global .*` cannot be traced"):
        wf.graph("q", ["a", "b"])


def rewritten(source: str) -> str:
    return global_names.rewrite(cst.parse_module(textwrap.dedent(source)))[0].code


def test_each_binding_becomes_a_call_and_reads_stay() -> None:
    out = rewritten(
        """
        async def wf(q):
            global N, M
            N = 1
            N += len(q)
            M *= 2
            del N
            def f():
                N = 5
                return N
            return M, [N for N in range(2)]
        """
    )
    assert out.splitlines()[2:] == [
        "    def N__global(ayo_value__): global N; N = ayo_value__",
        "    def N__global_add(ayo_old__, ayo_value__): global N; ayo_old__ += ayo_value__; N = ayo_old__",
        "    def N__global_del(): global N; del N",
        "    def M__global_multiply(ayo_old__, ayo_value__): global M; ayo_old__ *= ayo_value__; M = ayo_old__",
        "    N__global(1)",
        "    N__global_add(N, len(q))",
        "    M__global_multiply(M, 2)",
        "    N__global_del()",
        "    def f():",
        "        N = 5",
        "        return N",
        "    return M, [N for N in range(2)]",
    ]


def test_the_graph_reports_the_source_lines() -> None:
    wf = shapes.rebinds_a_log
    first = wf.fn.__code__.co_firstlineno + 1  # (the `def` line, below `@ayo.workflow`)
    line_of = {n.attrs["code"].source: n.loc.line for n in wf.graph("q", []).walk() if n.op == "python"}
    assert line_of['LOG__global(LOG + [f"start {q}"])'] == first + 2
    assert line_of["LOG__global_add(LOG, [plan])"] == first + 4
    assert line_of['LOG.append("done")'] == first + 5


_OTHERS = st.sampled_from([k for k in KINDS + CONTROL_KINDS if k != "global_body"])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=st.lists(st.tuples(_OTHERS, st.integers(0, 7), st.integers(0, 1)), max_size=3),
    globals_=st.lists(
        st.tuples(st.just("global_body"), st.integers(0, 7), st.integers(0, 1)), min_size=1, max_size=3
    ),
    after=st.lists(st.tuples(_OTHERS, st.integers(0, 7), st.integers(0, 1)), max_size=3),
    seed=st.integers(0, 2**16),
)
def test_random_programs_with_global_names(
    before: Any, globals_: Any, after: Any, seed: int, tmp_path: Path
) -> None:
    """Programs of every other kind around names the workflow declares ``global``: no graph break,
    and the module's names and the results agree."""
    module = load(program_source([*before, *globals_, *after]), tmp_path)
    assert graph_breaks(module.program.graph(QUESTION, DIFF_DOCS)) == []
    results = run_in_new_loop(
        run_modes, module.program, (QUESTION, DIFF_DOCS), seed, [[], list(DEFAULT_PASSES)]
    )  # (each on engines and a store of its own: the programs ingest)
    assert_all_equal(results)
