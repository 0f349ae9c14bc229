"""A comprehension spread into ``gather`` over a generator of the user's that changes state
(``gather(*(ayo.llm(p) for p in prompts(words, seen)))``, ``prompts`` appending each word to
``seen`` or counting in module state): Python's ``*`` makes every coroutine, so draws every item,
before the first call runs; the graph drew the items one by one beside the calls and stopped at
the failing one (found by probe d46: ``seen`` without the words after it). Such items are now
drawn whole first (``comprehensions``: the list the clauses make). Eager ≡ traced ≡ optimized on
fresh module copies, a failing call among them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.util import every_pair, fresh_copies_agree

GENERATORS = {  # the generator, and what the workflow returns of what it changed
    "appends_arg": (
        "def prompts(words, seen):\n    for w in words:\n        seen.append(w)\n        yield w\n",
        "prompts(q.split(), seen)",
    ),
    "module_count": (
        "def prompts(words, seen):\n    for w in words:\n        COUNT[0] += 1\n        yield w.upper()\n",
        "prompts(q.split(), seen)",
    ),
    "kept_in_name": (
        "def prompts(words, seen):\n    for i, w in enumerate(words):\n        seen.append(i)\n"
        "        yield f'{i}: {w}'\n",
        "gen",
    ),
}
SPREADS = {
    "generator": "*({call} for p in {items})",
    "list": "*[{call} for p in {items}]",
    "with_first": "ayo.llm('first', max_tokens=3), *({call} for p in {items})",
}
CALLS = {
    "primitive": "ayo.llm(p, max_tokens=3)",
    "helper": "ask(p)",
}
CAUGHT = ["raised", "caught"]
CASES = every_pair(GENERATORS, SPREADS, CALLS, CAUGHT)


def _source(generator: str, spread: str, call: str, caught: str) -> str:
    code, items = GENERATORS[generator]
    args = SPREADS[spread].format(call=CALLS[call], items=items)
    gather = f"outs = await asyncio.gather({args})"
    lines = ["seen = []", "outs = None"]
    if items == "gen":
        lines.append("gen = prompts(q.split(), seen)")
    lines += (
        ["try:", f"    {gather}", "except ayo.EngineError:", "    pass"] if caught == "caught" else [gather]
    )
    lines.append("return outs, seen, COUNT[0]")
    body = "".join(f"    {s}\n" for s in lines)
    return (
        "import asyncio\n\nimport ayo_trace as ayo\n\nCOUNT = [0]\n\n\n"
        f"{code}\n\nasync def ask(p):\n    return await ayo.llm('Q: ' + p, max_tokens=3)\n\n\n"
        f"@ayo.workflow\nasync def wf(q, docs):\n{body}"
    )


QUESTIONS = ["what is a heap", "explain FAIL here now", "sort lists"]


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_gathered_generator_is_drawn_whole_first(case: tuple[str, ...], tmp_path: Any) -> None:
    fresh_copies_agree(_source(*case), tmp_path, QUESTIONS)
