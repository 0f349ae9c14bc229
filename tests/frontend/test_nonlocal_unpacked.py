"""A workflow's variables first bound together by tuple unpacking (``best, score = None, -1``),
then rebound by a function it defines through ``nonlocal`` (the best-so-far pattern), are kept in
cells as a plain assignment's are: ``best__cell, score__cell = [None], [-1]`` (``nonlocals``); they
were refused. Every way to write the first binding x how the function rebinds them x which of them
it declares: no graph break, eager ≡ traced ≡ optimized; a first binding the rule leaves alone
(a value not a tuple of as many items) is still refused."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from ayo_trace.errors import TraceError
from tests.util import traces_whole_and_agrees

from .programs import load

FIRST = {
    "tuple": "best, score = None, -1",
    "parenthesized": "(best, score) = (None, -1)",
    "list_target": "[best, score] = None, -1",
    "with_another": "best, score, seen = None, -1, []",
}
# (what the function declares, how it rebinds them with its answer `r`)
INNER = {
    "unpacked": ("best, score", ["best, score = r, len(r)"]),
    "separate": ("best, score", ["best = r", "score = len(r)"]),
    "conditional": ("best, score", ["if len(r) > score:", "    best, score = r, len(r)"]),
    "swapped": ("score, best", ["score, best = len(r) % 7, r"]),
    "one_of_them": ("best", ["best = r"]),
}
CASES = list(itertools.product(FIRST, INNER))


def _workflow(name: str, first: str, inner: str) -> str:
    declared, lines = INNER[inner]
    ask = "".join(f"        {line}\n" for line in lines)
    return (
        f"\n\n@ayo.workflow\nasync def {name}(q, docs):\n"
        f"    {FIRST[first]}\n\n"
        "    async def ask(x):\n"
        f"        nonlocal {declared}\n"
        "        r = await ayo.llm(f'rate {x}', max_tokens=3)\n"
        f"{ask}"
        "        return r\n\n"
        "    for d in [q, *docs]:\n"
        "        await ask(d)\n"
        "    return best, score\n"
    )


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = "\nimport ayo_trace as ayo\n" + "".join(_workflow("wf_" + "_".join(c), *c) for c in CASES)
    source += (
        "\n\n@ayo.workflow\nasync def not_a_tuple(q, docs):\n    best, score = pair()\n\n"
        "    async def ask(x):\n        nonlocal best, score\n"
        "        best, score = x, len(x)\n\n    await ask(q)\n    return best, score\n\n\n"
        "def pair():\n    return None, -1\n"
    )
    return load(source, Path(tmp_path_factory.mktemp("nonlocal_unpacked")))


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_names_first_bound_together_are_kept_in_cells(module: Any, case: tuple[str, str]) -> None:
    traces_whole_and_agrees(
        getattr(module, "wf_" + "_".join(case)), ["a question", "FAIL q"], [[], ["one", "two"]]
    )


def test_a_value_not_a_tuple_of_as_many_items_is_still_refused(module: Any) -> None:
    with pytest.raises(TraceError, match="nonlocal"):
        module.not_a_tuple.graph("q", [])
