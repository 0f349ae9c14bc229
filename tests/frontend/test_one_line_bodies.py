"""A compound statement's body written on its own line (``for d in docs: out.append(await
...)``, ``try: x = await ...``, ``except E: pass``, ``else: r = ...``, ``while c: ...``) is traced
as that body: eager ≡ traced ≡ optimized. They were dropped (a wrong answer) or crashed the
tracer; the file's line numbers stay right after them."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from ayo_trace.passes import DEFAULT_PASSES
from tests.util import run_in_new_loop

from . import one_line_shapes as o
from .test_corpus_control import run_modes
from .test_differential import assert_all_equal

ARGS = [("q", ["a", "b"]), ("q", ["FAIL a", "b"]), ("FAIL", ["a"]), ("q", [])]


@pytest.mark.parametrize("args", ARGS, ids=["none fail", "one fails", "all fail", "no items"])
@pytest.mark.parametrize("wf", o.CASES, ids=[wf.fn.__name__ for wf in o.CASES])
def test_one_line_bodies_are_traced_and_answer_as_eager(wf: Any, args: tuple[Any, ...]) -> None:
    graph = wf.graph(*args)
    assert "llm" in [n.op for n in graph.walk()]  # the body is there
    assert_all_equal(run_in_new_loop(run_modes, wf, args, 3, [[], list(DEFAULT_PASSES)]))


def test_lines_after_a_one_line_body_are_the_files() -> None:
    lines, first = inspect.getsourcelines(o.lines_kept.fn)
    expected = first + next(i for i, line in enumerate(lines) if "LINE_AFTER" in line)
    loop_line = first + next(i for i, line in enumerate(lines) if "for d in docs" in line)
    graph = o.lines_kept.graph("q", ["a"])
    upper = next(n for n in graph.walk() if n.op == "python" and "upper" in n.attrs["code"].source)
    call = next(n for n in graph.walk() if n.op == "llm")
    assert upper.loc is not None and upper.loc.line == expected
    assert call.loc is not None and call.loc.line == loop_line
