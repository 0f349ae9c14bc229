"""A ``finally`` that prints (to the terminal, or ``file=`` a module's buffer) runs on the path
where the ``try`` fails too, as Python runs it: a ``print`` is seen, so such a ``finally`` is not
local code the graph may run after the ``try`` node only when it succeeded (``aliases.stays_inside``;
found by a probe: in a loop whose later statement reads the ``try``'s name, the failing query's
line was lost). Generated over where the ``try`` stands, where the print goes, what reads the
name after and the handler; eager ≡ traced ≡ optimized on fresh module copies, the printed text
compared too, failing calls among them."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

import ayo_trace as ayo
from tests.frontend.programs import load
from tests.util import outcome, run_in_new_loop, scripted_runtime

MODULE = """
import io

import ayo_trace as ayo

BUF = io.StringIO()
"""

PRINTS = {"buffer": "print('done', c, file=BUF)", "terminal": "print('done', c)"}
PLACES = {"loop": True, "straight": False}
AFTER = {"read": "out.append(r)", "none": "out.append(c)"}
HANDLERS = {"none": [], "engine_error": ["except ayo.EngineError:", "    r = 'failed'"]}
CASES = list(itertools.product(PRINTS, PLACES, AFTER, HANDLERS))


def source(printed: str, place: str, after: str, handler: str) -> str:
    body = [
        "try:",
        "    r = await ayo.llm(q + ' ' + c, max_tokens=2)",
        *HANDLERS[handler],
        "finally:",
        f"    {PRINTS[printed]}",
        AFTER[after],
    ]
    if PLACES[place]:
        lines = ["out = []", "for c in ['a', 'b']:", *("    " + b for b in body)]
    else:
        lines = ["out = []", "c = 'only'", *body]
    lines.append("return out, BUF.getvalue()")
    return MODULE + "\n\n@ayo.workflow\nasync def wf(q, docs):\n" + "".join(f"    {x}\n" for x in lines)


QUESTIONS = ["what is a heap", "explain FAIL here", "sort"]


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_printing_finally_runs_on_the_failing_path(
    case: tuple[str, ...], tmp_path: Any, capsys: Any
) -> None:
    src = source(*case)
    printed: dict[str, str] = {}
    runs: dict[str, list[Any]] = {}
    for variant in ("eager", "unoptimized", "optimized"):
        capsys.readouterr()
        (tmp_path / variant).mkdir()
        wf = load(src, tmp_path / variant).wf  # (a fresh copy of the module: its own buffer)
        run = {"eager": wf.eager, "unoptimized": ayo.workflow(wf.fn, passes=[]), "optimized": wf}[variant]

        async def go(run: Any = run) -> list[Any]:
            async with scripted_runtime():
                return [await outcome(run, q, []) for q in QUESTIONS]

        runs[variant] = run_in_new_loop(go)
        printed[variant] = "".join(
            line for line in capsys.readouterr().out.splitlines(True) if "done" in line
        )
    assert runs["unoptimized"] == runs["eager"], runs
    assert runs["optimized"] == runs["eager"], runs
    assert printed["unoptimized"] == printed["eager"], printed
    assert printed["optimized"] == printed["eager"], printed
