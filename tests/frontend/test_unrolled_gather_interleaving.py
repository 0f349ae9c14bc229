"""A gather of a comprehension over a few functions known at trace time (``gather(*[f(q) for f in
(tool_a, tool_b)])``), traced unrolled, runs its calls at once: where they touch one object on both
sides of their awaits, changing it, Python interleaves them there and the graph would run each
whole, so the gather runs as written. The check judged the element's call with no item bound (it
followed nothing, saw nothing: a wrong answer); it judges each item's call now
(``unroll.each_item``). Shared touches and none x ways to write the items: eager ≡ traced ≡
optimized; a graph break exactly where they share."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.util import run_in_new_loop, three_runs_agree

from .programs import load

HEAD = """
import asyncio

import ayo_trace as ayo

LOG = []


async def shared_a(q):
    LOG.append("a start")
    r = await ayo.llm(f"a {q}", max_tokens=2)
    LOG.append("a done")
    return r


async def shared_b(q):
    LOG.append("b start")
    r = await ayo.llm(f"b {q}", max_tokens=2)
    LOG.append("b done")
    return r


async def own_a(q):
    return await ayo.llm(f"a {q}", max_tokens=2)


async def own_b(q):
    return await ayo.llm(f"b {q}", max_tokens=2)


SHARED = (shared_a, shared_b)
OWN = (own_a, own_b)
"""
FUNCTIONS = {
    "shared": ("(shared_a, shared_b)", "SHARED"),
    "own": ("(own_a, own_b)", "OWN"),
}  # (own: touch nothing)
WRITTEN = {
    "literal_list": "out = await asyncio.gather(*[f(q) for f in FUNCS])",
    "literal_generator": "out = await asyncio.gather(*(f(q) for f in FUNCS))",
    "module": "out = await asyncio.gather(*[f(q) for f in MODULE])",
}
CASES = list(itertools.product(FUNCTIONS, WRITTEN))


def _workflow(kind: str, written: str) -> str:
    funcs, module = FUNCTIONS[kind]
    lines = [
        "LOG.clear()",
        WRITTEN[written].replace("FUNCS", funcs).replace("MODULE", module),
        "return list(out), list(LOG)",
    ]
    body = "".join(f"    {line}\n" for line in lines)
    return f"\n\n@ayo.workflow\nasync def wf_{kind}_{written}(q, docs):\n{body}"


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = HEAD + "".join(_workflow(*c) for c in CASES)
    return load(source, Path(tmp_path_factory.mktemp("unrolled_gather_interleaving")))


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_an_unrolled_gather_runs_as_written_exactly_where_its_calls_interleave(
    module: Any, case: tuple[str, str]
) -> None:
    wf = getattr(module, "wf_" + "_".join(case))
    breaks = graph_breaks(wf.graph("q", []))
    assert (len(breaks) == 1) == (case[0] == "shared"), [n.attrs["reason"] for n in breaks]
    run_in_new_loop(lambda: three_runs_agree(wf, ["what is rust", "FAIL q"], [[]]))
