"""A function the workflow defines reads the workflow's names, as its closure does, wherever it is
called: called from another function the workflow defines (``wrap``) that binds a name of the same
spelling (a parameter ``x``, an assignment), it read ``wrap``'s (the graph answered with
``"inner"`` where Python says ``"outer"``). And one handed to a helper as an argument (``await
wrap(local, q)``, ``f = local``) is inlined as its own call is, where it was a graph break
(``local_defs``). Every way ``wrap`` gets the function x binds the name x calls it: eager ≡ traced ≡
optimized; traced whole where the call is in ``wrap``'s own body, or in a branch of it that
shadows nothing (a branch's, a loop's, a comprehension's body is a graph of its own: a graph break
where a name is shadowed there)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.util import run_in_new_loop, three_runs_agree

from .programs import load

HOW = {  # (wrap's parameters before `y`, the arguments the workflow passes before `q`, the callee)
    "named": ("", "", "local"),
    "handed": ("f, ", "local, ", "f"),
    "aliased": ("", "", "g"),
}
SHADOW = {  # (a parameter, its argument, a line of wrap's)
    "param": ("x, ", "'inner', ", None),
    "assigned": ("", "", "x = 'inner'"),
    "none": ("", "", None),
}
CALLS = {
    "direct": ["return await CALLEE(y)"],
    "branch": ["if y:", "    return await CALLEE(y)", "return 'none'"],
    "loop": ["out = []", "for v in [y, y + '?']:", "    out.append(await CALLEE(v))", "return out"],
    "comprehension": ["return [await CALLEE(v) for v in [y, y + '?']]"],
}
CASES = list(itertools.product(HOW, SHADOW, CALLS))


def _workflow(how: str, shadow: str, call: str) -> str:
    params, args, callee = HOW[how]
    sparam, sarg, sline = SHADOW[shadow]
    wrap = [*([sline] if sline else []), *CALLS[call]]
    lines = [
        "x = 'outer'",
        "",
        "async def local(v):",
        "    return await ayo.llm(f'{x} {v}', max_tokens=3)",
        "",
        *(["g = local", ""] if how == "aliased" else []),
        f"async def wrap({params}{sparam}y):",
        *("    " + line.replace("CALLEE", callee) for line in wrap),
        "",
        f"return await wrap({args}{sarg}q), x",
    ]
    body = "".join(f"    {line}\n" if line else "\n" for line in lines)
    return f"\n\n@ayo.workflow\nasync def wf_{how}_{shadow}_{call}(q, docs):\n{body}"


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = "\nimport ayo_trace as ayo\n" + "".join(_workflow(*c) for c in CASES)
    return load(source, Path(tmp_path_factory.mktemp("local_def_scopes")))


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_local_function_reads_the_workflows_names_wherever_it_is_called(
    module: Any, case: tuple[str, str, str]
) -> None:
    wf = getattr(module, "wf_" + "_".join(case))
    breaks = graph_breaks(wf.graph("q", []))
    # (`g = local` before `def wrap` reading `g`: the def hands `g` on, a value of its own node,
    # so `g` is no longer known to hold `local` there: a graph break, as before)
    if case[0] != "aliased" and (case[2] == "direct" or (case[2] == "branch" and case[1] == "none")):
        assert breaks == [], [n.attrs["reason"] for n in breaks]
    run_in_new_loop(lambda: three_runs_agree(wf, ["what is rust", "FAIL q", ""], [[]]))
