"""``with contextlib.suppress(E): ...`` around awaits is traced as ``try: ... except E: pass``
(a ``try`` node; it was a graph break), eager ≡ traced ≡ optimized whether its calls fail or not;
the file's line numbers stay right after the rewritten block."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from ayo_trace.passes import DEFAULT_PASSES
from tests.util import run_in_new_loop

from . import suppress_shapes as s
from .test_corpus_control import run_modes
from .test_differential import assert_all_equal

ARGS = [("q", ["a", "b"]), ("q", ["a", "FAIL b"]), ("FAIL", ["FAIL"]), ("q", []), ("q", ["zz"])]


@pytest.mark.parametrize("args", ARGS, ids=["none fail", "one fails", "all fail", "no items", "key error"])
@pytest.mark.parametrize("wf", s.CASES, ids=[wf.fn.__name__ for wf in s.CASES])
def test_suppress_is_traced_as_a_try_and_answers_as_eager(wf: Any, args: tuple[Any, ...]) -> None:
    graph = wf.graph(*args)
    ops = [n.op for n in graph.walk()]
    assert "break" not in ops and "try" in ops
    assert_all_equal(run_in_new_loop(run_modes, wf, args, 3, [[], list(DEFAULT_PASSES)]))


def test_lines_after_the_block_are_the_files() -> None:
    lines, first = inspect.getsourcelines(s.line_after.fn)
    expected = first + next(i for i, line in enumerate(lines) if "LINE_AFTER" in line)
    graph = s.line_after.graph("q", [])
    upper = next(n for n in graph.walk() if n.op == "python" and "upper" in n.attrs["code"].source)
    assert upper.loc is not None and upper.loc.line == expected


def test_lines_after_blocks_of_several_suppresses_are_the_files() -> None:
    lines, first = inspect.getsourcelines(s.nested.fn)
    expected = first + next(i for i, line in enumerate(lines) if 'f"{r}?"' in line)
    last = [n for n in s.nested.graph("q", ["a"]).walk() if n.op == "llm"][-1]
    assert last.loc is not None and last.loc.line == expected
