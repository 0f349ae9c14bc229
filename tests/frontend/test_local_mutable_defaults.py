"""A function the workflow defines with a mutable default (``async def ask(x, acc=[])``, a memo
``cache={}``) gets a new object each time its ``def`` runs, as Python makes one: in every query and
every turn of a loop around the ``def``, shared by that function's calls in between
(``helpers.known_defaults``). It was folded into one object at trace time, so one query's calls
filled it for the next (a memo answered a query with another's reply). Every default x function
kind x where it is defined x how it is called, two queries in a row on one runtime: eager ≡ traced
≡ optimized."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.util import outcome, traces_whole_and_agrees

from .programs import load

DEFAULTS = {
    "list": ("acc=[]", "acc.append(x)", "len(acc)"),
    "dict": ("acc={}", "acc[x] = acc.get(x, 0) + 1", "sum(acc.values())"),
    "set": ("acc=set()", "acc.add(x)", "len(acc)"),
    "kwonly_list": ("*, acc=list()", "acc.append(x)", "len(acc)"),
}
KINDS = ("async", "plain")
WHERE = ("body", "loop")
CALLS = ("twice", "each_doc")


def _workflow(name: str, default: str, kind: str, where: str, calls: str) -> str:
    param, change, size = DEFAULTS[default]
    if kind == "async":
        define = [
            f"async def ask(x, {param}):",
            f"    {change}",
            f"    return {size}, await ayo.llm(f'{{{size}}}: {{x}}', max_tokens=2)",
        ]
        call = "await ask({arg})"
    else:
        define = [f"def ask(x, {param}):", f"    {change}", f"    return {size}"]
        call = "ask({arg})"
    use = (
        [f"out.append({call.format(arg='q')})", f"out.append({call.format(arg='q + q')})"]
        if calls == "twice"
        else ["for d in docs:", f"    out.append({call.format(arg='d')})"]
    )
    lines = ["out = []"]
    if where == "body":
        lines += [*define, *use]
    else:  # (the def runs once per turn: each turn's calls share a new object)
        lines += ["for turn in range(2):", *(f"    {x}" for x in [*define, *use])]
    lines.append("return out")
    body = "".join(f"    {x}\n" for x in lines)
    return f"\n\n@ayo.workflow\nasync def {name}(q, docs):\n{body}"


CASES = list(itertools.product(DEFAULTS, KINDS, WHERE, CALLS))


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = "\nimport ayo_trace as ayo\n" + "".join(_workflow(f"wf_{'_'.join(c)}", *c) for c in CASES)
    return load(source, Path(tmp_path_factory.mktemp("local_mutable_defaults")))


async def _twice(wf: Any, q: str, docs: list[str]) -> tuple[Any, Any]:
    return await outcome(wf, q, docs), await outcome(wf, q, docs)


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_mutable_default_is_new_each_time_the_def_runs(module: Any, case: tuple[str, ...]) -> None:
    wf = getattr(module, f"wf_{'_'.join(case)}")
    traces_whole_and_agrees(wf, ["q", "FAIL q"], [[], ["a", "b", "a"]], graph=("q", ["a", "b"]), run=_twice)
