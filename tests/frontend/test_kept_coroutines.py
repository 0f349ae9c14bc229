"""A coroutine kept in a name and awaited later (``pending = ask(q)``, other work, ``x = await
pending``): traced as the call at its await (``coroutine_lists.kept``), when the name is bound once
and awaited once, outside any loop around it, and nothing the call reads is bound again or changed
in place before (Python made the coroutine with the arguments as they were then). Anything else
runs as written. Generated over the call, what stands between and where the await stands;
eager ≡ traced ≡ optimized on fresh module copies, a failing call among them."""

from __future__ import annotations

from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.frontend.programs import load
from tests.util import every_pair, fresh_copies_agree

MODULE = """
async def ask(p):
    return await ayo.llm(f"ask {p}", max_tokens=3)


class Bot:
    def __init__(self, style):
        self.style = style

    async def run(self, p):
        return await ayo.llm(f"{self.style}: {p}", max_tokens=3)


BOT = Bot("terse")
"""

CALLS = {
    "primitive": "ayo.llm(q, max_tokens=3)",
    "helper": "ask(q)",
    "method": "BOT.run(q)",
}

# (what stands between, whether the call still traces whole)
BETWEEN = {
    "nothing": ("", True),
    "other_work": ("    other = await ayo.llm(q + '!', max_tokens=2)\n    n = len(other)\n", True),
    "rebinds_argument": ("    q = q.upper()\n", False),
    "changes_object": ("    BOT.style = q[:3]\n", False),
}

AWAITS = {
    "return": "    return await pending\n",
    "assigned": "    out = await pending\n    return out, q\n",
    "in_try": "    try:\n        return await pending\n    except ayo.EngineError:\n        return 'failed'\n",
}


def source(call: str, between: str, place: str) -> str:
    return (
        "import ayo_trace as ayo\n"
        + MODULE
        + "\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + f"    pending = {CALLS[call]}\n"
        + BETWEEN[between][0]
        + AWAITS[place]
    )


CASES = every_pair(CALLS, BETWEEN, AWAITS)  # (every pair of choices; the suite's time kept)
QUESTIONS = ["what is a heap", "explain FAIL here", "sort"]


# (a failing call between leaves Python's coroutine never awaited: its warning is Python's)
@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize(("call", "between", "place"), CASES, ids=["-".join(c) for c in CASES])
def test_a_kept_coroutine_agrees(call: str, between: str, place: str, tmp_path: Any) -> None:
    src = source(call, between, place)
    if BETWEEN[between][1]:
        graph = load(src, tmp_path).wf.graph("q", [])
        assert graph_breaks(graph) == [], graph
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)


def test_a_coroutine_awaited_twice_runs_as_written(tmp_path: Any) -> None:
    """Python's second await raises ``RuntimeError`` (a coroutine runs once): not traced."""
    src = (
        "import ayo_trace as ayo\n\n\n@ayo.workflow\nasync def wf(q, docs):\n    pending = ayo.llm(q, max_tokens=2)\n"
        "    first = await pending\n    try:\n        second = await pending\n    except RuntimeError as e:\n"
        "        second = type(e).__name__\n    return first, second\n"
    )
    fresh_copies_agree(src, tmp_path, QUESTIONS)
