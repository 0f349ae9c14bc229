"""A graph constant read from an entry of a loop's item that is a dict (``for s in SPECS`` or
``[... for s in SPECS]``, then ``max_tokens=s["tokens"]``, ``collection=s["kb"]``) is a ``cond``
over that entry of each dict (``dispatch._entries``, ``_loop_items``), each arm traced; a last arm
runs the call as written for a value a dict holds since the trace. It was a graph break (dicts are
no items a loop unrolls over). Generated over the loop and the use; eager ≡ traced ≡ optimized on
fresh module copies, failing calls among them, and a dict changed between queries."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.frontend.programs import load
from tests.util import fresh_copies_agree, outcome, run_in_new_loop, scripted_runtime

MODULE = """
import ayo_trace as ayo

SPECS = [
    {"prompt": "Define", "tokens": 2, "kb": "kb_a"},
    {"prompt": "Example of", "tokens": 3, "kb": "kb_b"},
]
"""

USES = {
    "max_tokens": "await ayo.llm(s['prompt'] + ' ' + q, max_tokens=s['tokens'])",
    "collection": "len(await ayo.search(q, collection=s['kb'], top_k=2))",
}
LOOPS = {
    "comprehension": "    return [{use} for s in SPECS]\n",
    "loop": "    out = []\n    for s in SPECS:\n        out.append({use})\n    return out\n",
    "loop_break": "    out = []\n    for s in SPECS:\n        out.append({use})\n        if len(out) > 5:\n            break\n    return out\n",
}
CASES = list(itertools.product(LOOPS, USES))
QUESTIONS = ["what is a heap", "explain FAIL here", "sort"]


def source(loop: str, use: str) -> str:
    head = "    await ayo.ingest([f'doc {q}'], collection='kb_b')\n"
    return (
        MODULE
        + "\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + head
        + LOOPS[loop].replace("{use}", USES[use])
    )


@pytest.mark.parametrize(("loop", "use"), CASES, ids=["-".join(c) for c in CASES])
def test_an_entry_of_a_loops_dict_is_a_cond(loop: str, use: str, tmp_path: Any) -> None:
    src = source(loop, use)
    graph = load(src, tmp_path).wf.graph("q", [])
    assert "cond" in [n.op for n in graph.walk()], graph
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)


def test_a_dict_changed_between_queries_is_read_anew(tmp_path: Any) -> None:
    module = load(source("loop_break", "max_tokens"), tmp_path)

    async def go() -> None:
        async with scripted_runtime():
            for change in [
                None,
                lambda: module.SPECS[0].update(tokens=5),
                lambda: module.SPECS.append(dict(module.SPECS[0], tokens=1)),
            ]:
                if change is not None:
                    change()
                for q in QUESTIONS:
                    assert await outcome(module.wf, q, []) == await outcome(module.wf.eager, q, [])

    run_in_new_loop(go)
