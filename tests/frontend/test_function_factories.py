"""A function the workflow gets from a factory of the user's called with constants
(``judge = make_judge("correctness")`` of ``def make_judge(rubric): async def judge(a): ...;
return judge``) is made at trace time (``folding.function_factory``): its body only defines
functions (no decorator, constant defaults, no ``nonlocal``) and returns one, so the function it
makes reads only those constants, and awaiting it traces as any helper; it was a graph break. A
factory keeping state for its function, or called with a value of the query, stays as written.
Generated over the factory, the call and the use; eager ≡ traced ≡ optimized on fresh module
copies, a failing call among them."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.frontend.programs import load
from tests.util import fresh_copies_agree

MODULE = '''
import ayo_trace as ayo


def make_judge(rubric):
    """A judge for one rubric."""

    async def judge(answer):
        return await ayo.llm(f"Judge {rubric}: {answer}", max_tokens=3)

    return judge


def make_scorer(rubric, scale=10):
    def parse(text):
        return len(text) % scale

    async def score(answer, tries=1):
        reply = await ayo.llm(f"Score {rubric} /{scale}: {answer}", max_tokens=3)
        return parse(reply) * tries

    return score


def make_counter(rubric):
    calls = [0]

    async def judge(answer):
        calls[0] += 1
        return await ayo.llm(f"Judge {rubric} #{calls[0]}: {answer}", max_tokens=3)

    return judge


def make_nonlocal(rubric):
    async def judge(answer):
        nonlocal rubric
        rubric = rubric + "!"
        return await ayo.llm(f"Judge {rubric}: {answer}", max_tokens=3)

    return judge
'''

FACTORIES = {  # (the call, whether it traces whole)
    "judge": ('make_judge("correctness")', True),
    "scorer": ('make_scorer("style", 7)', True),
    "counter": ('make_counter("correctness")', False),
    "nonlocal": ('make_nonlocal("tone")', False),
    "query_argument": ("make_judge(q[:4])", False),
}
USES = {
    "bound": "    j = {call}\n    first = await j(q)\n    second = await j(q + '?')\n    return first, second\n",
    "inline": "    return await {call}(q)\n",
    "gathered": "    j = {call}\n    return list(await asyncio.gather(j(q), j('other')))\n",
}
CASES = list(itertools.product(FACTORIES, USES))
QUESTIONS = ["what is a heap", "explain FAIL here", "sort"]


@pytest.mark.parametrize(("factory", "use"), CASES, ids=["-".join(c) for c in CASES])
def test_a_function_made_by_a_factory_agrees(factory: str, use: str, tmp_path: Any) -> None:
    call, whole = FACTORIES[factory]
    src = (
        "import asyncio\n"
        + MODULE
        + "\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + USES[use].format(call=call)
    )
    if whole:
        assert graph_breaks(load(src, tmp_path).wf.graph("q", [])) == [], src
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)
