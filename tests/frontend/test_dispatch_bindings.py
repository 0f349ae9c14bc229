"""A graph constant (``collection=``, ``max_tokens=``) or a callee taken from a name the workflow
binds to a few known values in several places (``if docs: kb = "docs"`` / ``else: kb = "empty"``,
a ``try`` and its handler, ``match`` cases, an override after a default, a chain of conditional
expressions ``"a" if x else "b" if y else "c"``) is traced as a ``cond``
over those values (``dispatch._candidates``, ``source.bindings``): no graph break. It was a break
of every call reading it, where the same choice written as a conditional expression traced. Every
binding form x every use, over inputs taking each path: eager ≡ traced ≡ optimized."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.util import traces_whole_and_agrees

from .programs import load

BINDINGS = {
    "if_else": ["if docs:", "    pick = {a}", "else:", "    pick = {b}"],
    "if_elif": [
        "if len(docs) > 2:",
        "    pick = {a}",
        "elif docs:",
        "    pick = {b}",
        "else:",
        "    pick = {a}",
    ],
    "default_then_override": ["pick = {a}", "if 'x' in q:", "    pick = {b}"],
    "try_handler": [
        "try:",
        "    await ayo.llm(f'Check {{q}}', max_tokens=2)",
        "    pick = {a}",
        "except ayo.EngineError:",
        "    pick = {b}",
    ],
    # (a chain of conditional expressions, each a level deeper: `dispatch.MAX_DEPTH`)
    "chain_three": ["pick = {a} if len(docs) > 2 else {b} if docs else {a}"],
    "chain_four": ["pick = {a} if len(docs) > 2 else {b} if len(docs) > 1 else {a} if docs else {b}"],
    "match_cases": [
        "match len(docs):",
        "    case 0:",
        "        pick = {a}",
        "    case _:",
        "        pick = {b}",
    ],
}
USES = {
    "collection": (
        '"kb0"',
        '"kb1"',
        [
            "await ayo.ingest([f'{{q}} doc'], collection=pick)",
            "return [h.text for h in await ayo.search(q, collection=pick, top_k=1)]",
        ],
    ),
    "max_tokens": ("2", "5", ["return await ayo.llm(f'Say {{q}}', max_tokens=pick)"]),
    "callee": ('"brief"', '"full"', ["return await TOOLS[pick](q)"]),
}

HEADER = """
import ayo_trace as ayo


async def brief(text):
    return await ayo.llm(f"Brief {text}", max_tokens=2)


async def full(text):
    return await ayo.llm(f"Full {text}", max_tokens=4)


TOOLS = {"brief": brief, "full": full}
"""


def _workflow(name: str, binding: str, use: str) -> str:
    a, b, lines = USES[use]
    body = [x.format(a=a, b=b) for x in BINDINGS[binding]] + [x.format() for x in lines]
    return f"\n\n@ayo.workflow\nasync def {name}(q, docs):\n" + "".join(f"    {x}\n" for x in body)


CASES = list(itertools.product(BINDINGS, USES))


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = HEADER + "".join(_workflow(f"wf_{b}_{u}", b, u) for b, u in CASES)
    return load(source, Path(tmp_path_factory.mktemp("dispatch_bindings")))


@pytest.mark.parametrize(("binding", "use"), CASES, ids=["-".join(c) for c in CASES])
def test_a_name_bound_to_known_values_in_several_places_is_a_cond(
    module: Any, binding: str, use: str
) -> None:
    wf = getattr(module, f"wf_{binding}_{use}")
    questions = ["q", "x q", "FAIL q"]
    traces_whole_and_agrees(wf, questions, [[], ["a"], ["a", "b", "c"]], graph=("q", ["a"]))
