"""A ``functools.partial`` known at trace time, given to code run as written: that code sees it as
Python made it. Found by probe zq: ``p3 = partial(p2, q)`` of a partial of a partial had empty
``keywords`` when traced (``{'max_tokens': 12, 'style': 'terse'}`` eagerly), because the tracer,
reading the partial, gave it an attribute dict, and Python merges a partial into a new one only
when it has none (``ir.code._as_made``). Every way to build the chain x every use of it:
eager ≡ traced ≡ optimized."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.util import run_in_new_loop, three_runs_agree

from .programs import load

HEAD = """
import functools
from functools import partial

import ayo_trace as ayo


async def ask(prompt, *, style="", max_tokens=64):
    return await ayo.llm(style + prompt, max_tokens=max_tokens)


def shout(text, mark="!", times=1):
    return text.upper() + mark * times
"""

CHAINS = {
    "one": ["p = partial(FN, KW)"],
    "two": ["base = partial(FN, KW)", "p = partial(base, MORE)"],
    "three": ["base = partial(FN, KW)", "mid = partial(base, MORE)", "p = functools.partial(mid)"],
}
FUNCTIONS = {  # (the function, its first keyword, a second)
    "helper": ("ask", "max_tokens=5", "style='terse '"),
    "primitive": ("ayo.llm", "max_tokens=4", "stop='\\n'"),
    "plain": ("shout", "mark='?'", "times=2"),
}
USES = {
    "fields": "return sorted(p.keywords.items()), p.args, p.func.__name__",
    "wrapped_again": "w = partial(p, q)\n    return sorted(w.keywords.items()), w.args, w.func.__name__",
    "called": "",  # (awaited, but for the plain function)
}
CASES = list(itertools.product(CHAINS, FUNCTIONS, USES))


def _workflow(name: str, chain: str, fn: str, use: str) -> str:
    func, kw, more = FUNCTIONS[fn]
    lines = [line.replace("FN", func).replace("KW", kw).replace("MORE", more) for line in CHAINS[chain]]
    body = USES[use]
    if use == "called":
        body = "return await p(q)" if fn != "plain" else "return p(q)"
    lines.append(body)
    return f"\n\n@ayo.workflow\nasync def {name}(q, docs):\n" + "".join(f"    {line}\n" for line in lines)


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = HEAD + "".join(_workflow("wf_" + "_".join(c), *c) for c in CASES)
    return load(source, Path(tmp_path_factory.mktemp("partials_as_made")))


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_partial_known_at_trace_time_is_seen_as_python_made_it(module: Any, case: tuple[str, ...]) -> None:
    wf = getattr(module, "wf_" + "_".join(case))
    run_in_new_loop(lambda: three_runs_agree(wf, ["what is rust?", "FAIL q"], [[]]))
