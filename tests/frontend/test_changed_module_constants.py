"""A graph constant of a primitive (``seed=``, ``max_tokens=``, ``temperature=``, ``stop=``,
``collection=``) read from module state the workflow changes (``seed=CONFIG["seed"]`` then
``CONFIG["seed"] += 1``) is read when the workflow runs: the call runs eagerly, a graph break
naming the keyword. It was refused (``must be known when the workflow is traced``), where the same
value from a loop's variable was such a break. Every keyword x way the module's state changes, on a
new copy of the module for each of eager, traced and optimized, over three queries in a row: the
answers and the state after them agree."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.util import outcome, run_in_new_loop, scripted_runtime

from .programs import load

KEYWORDS = {
    "seed": "ayo.llm(q, seed={v}, temperature=0.5, max_tokens=3)",
    "max_tokens": "ayo.llm(q, max_tokens={v})",
    "stop": "ayo.llm(q, max_tokens=4, stop=[' answer'] if {v} % 2 else [])",
    "collection": "ayo.search(q, collection=f'kb{{{v} % 2}}', top_k=1)",
}
CHANGES = {
    # (the module's state, its read, its change)
    "dict_item": ('CONFIG = {"n": 1}', 'CONFIG["n"]', 'CONFIG["n"] += 1'),
    "attribute": ("class Settings:\n    n = 1\nSETTINGS = Settings()", "SETTINGS.n", "SETTINGS.n += 1"),
    "list_item": ("STATE = [1]", "STATE[0]", "STATE.append(STATE[-1] + 1)\n    STATE.pop(0)"),
}
CASES = list(itertools.product(KEYWORDS, CHANGES))


def _source(keyword: str, change: str) -> str:
    state, read, changed = CHANGES[change]
    call = KEYWORDS[keyword].format(v=read)
    return (
        f"\nimport ayo_trace as ayo\n\n{state}\n\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        "    await ayo.ingest(['one kb doc'], collection='kb0')\n"
        "    await ayo.ingest(['another kb doc'], collection='kb1')\n"
        f"    got = await {call}\n    {changed}\n    return got\n"
    )


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_constant_from_changed_module_state_is_read_when_run(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[str, str]
) -> None:
    import ayo_trace as ayo

    source = _source(*case)
    directory = Path(tmp_path_factory.mktemp("changed_module_constants"))
    breaks = graph_breaks(load(source, directory).wf.graph("q", []))
    # (refused before: `graph` raised; a `stop=` chosen by a conditional traces as a cond)
    assert all(case[0] in str(b.attrs.get("reason")) for b in breaks) and len(breaks) <= 1

    async def runs() -> list[Any]:
        got = []
        for variant in ("eager", "traced", "optimized"):
            module = load(source, directory)  # (a new copy: its state as it starts)
            wf = module.wf
            run = {"eager": wf.eager, "traced": ayo.workflow(wf.fn, passes=[]), "optimized": wf}[variant]
            async with scripted_runtime():
                answers = [await outcome(run, q, []) for q in ("q", "FAIL q", "q again")]
            state = {k: vars(v) if k == "SETTINGS" else v for k, v in vars(module).items() if k.isupper()}
            got.append((answers, repr(state)))
        return got

    eager, traced, optimized = run_in_new_loop(runs)
    assert traced == eager and optimized == eager, (eager, traced, optimized)
