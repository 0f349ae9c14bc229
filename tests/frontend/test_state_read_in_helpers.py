"""Module state the workflow changes, read by a helper it calls: the helper's reads are made when
the graph runs, never folded at trace time (``folding._static_scope`` asks ``closures.reads_changed``,
which looks at the bodies around the helper too). Found by probe zq: ``STATE["docs"] = docs`` in
the workflow, then a helper's ``if STATE["docs"]:`` was folded to the state the trace saw, so every
query took the branch of the state before it. Every way to change the state x every way a helper
reads it x where the helper stands: eager ≡ traced ≡ optimized, on fresh module copies, each
variant called three times."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.util import every_pair, fresh_copies_agree

HEAD = """
import ayo_trace as ayo


class Config:
    docs = ()
    budget = 3


STATE = {"docs": [], "budget": 3}
ITEMS = []
CFG = Config()


def remember(docs):
    STATE["docs"] = list(docs)
    ITEMS[:] = docs
    CFG.docs = tuple(docs)
    CFG.budget = 2 + len(docs)
    STATE["budget"] = 2 + len(docs)


async def setup(docs):
    await ayo.llm("setting up " + str(len(docs)), max_tokens=1)
    remember(docs)
"""

# how the workflow changes the state (from the question's words, so it moves from query to query)
WRITES = {
    "dict_item": ['STATE["docs"] = words', 'STATE["budget"] = 2 + len(words)'],
    "dict_update": ["STATE.update(docs=words, budget=2 + len(words))"],
    "list_in_place": ["ITEMS.clear()", "ITEMS.extend(words)", 'STATE["budget"] = 2 + len(ITEMS)'],
    "attribute": ["CFG.docs = tuple(words)", "CFG.budget = 2 + len(words)"],
    "plain_function": ["remember(words)"],
    "async_helper": ["await setup(words)"],
}
# what the helper reads (DOCS: the changed sequence; BUDGET: the changed number)
READS = {
    "condition": ["if DOCS:", "    return await ayo.llm(DOCS[0] + q, max_tokens=3)", "return 'empty'"],
    "prompt": ["return await ayo.llm(f'{DOCS} {q}', max_tokens=3)"],
    "budget": ["return await ayo.llm(q, max_tokens=BUDGET)"],
    "loop": ["out = []", "for d in DOCS:", "    out.append(await ayo.llm(d, max_tokens=2))", "return out"],
    "length": ["return await ayo.llm(q + str(len(DOCS)), max_tokens=2)"],
}
SOURCES = {
    "dict_item": ('STATE["docs"]', 'STATE["budget"]'),
    "dict_update": ('STATE["docs"]', 'STATE["budget"]'),
    "list_in_place": ("ITEMS", 'STATE["budget"]'),
    "attribute": ("CFG.docs", "CFG.budget"),
    "plain_function": ('STATE["docs"]', "CFG.budget"),
    "async_helper": ("ITEMS", 'STATE["budget"]'),
}
WHERE = ["helper", "nested_helper"]
CASES = every_pair(WRITES, READS, WHERE)


def _source(write: str, read: str, where: str) -> str:
    docs, budget = SOURCES[write]
    reads = [line.replace("DOCS", docs).replace("BUDGET", budget) for line in READS[read]]
    helper = "async def helper(q):\n" + "".join(f"    {line}\n" for line in reads)
    if where == "nested_helper":  # (the reading helper called by another helper)
        helper += "\n\nasync def outer(q):\n    return await helper(q)\n"
    call = "outer" if where == "nested_helper" else "helper"
    body = [
        "words = [w for w in q.split() if len(w) > 2][:2]",
        *WRITES[write],
        f"answer = await {call}(q)",
        "return answer, STATE['docs'], list(ITEMS), CFG.budget",
    ]
    return f"{HEAD}\n\n{helper}\n\n@ayo.workflow\nasync def wf(q, docs):\n" + "".join(
        f"    {b}\n" for b in body
    )


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_helper_reads_the_state_the_workflow_changed(case: tuple[str, str, str], tmp_path: Path) -> None:
    fresh_copies_agree(_source(*case), tmp_path, ["what is rust here", "", "FAIL the gpu"])


# State a helper keeps in the closure of the function that made it (a factory's, a decorator's):
# found by probe zq (a rate limiter's `st = {"n": 0}`, folded at trace time; a closure `nonlocal`,
# refused). Read when the graph runs; a helper binding its closure's variable runs as written.
CLOSURES = {
    "factory_dict": (
        "def make():\n    st = {'n': 0}\n    async def step(p):\n        if st['n'] >= 2:\n"
        "            return 'limited'\n        st['n'] += 1\n        return await ayo.llm(p, max_tokens=st['n'])\n"
        "    return step\n\n\nstep = make()\n"
    ),
    "factory_nonlocal": (
        "def make():\n    calls = 0\n    async def step(p):\n        nonlocal calls\n        if calls >= 2:\n"
        "            return 'limited'\n        calls += 1\n        return await ayo.llm(p, max_tokens=calls + 1)\n"
        "    return step\n\n\nstep = make()\n"
    ),
    "factory_cache": (
        "def make():\n    seen = []\n    async def step(p):\n        if p in seen:\n            return 'again'\n"
        "        seen.append(p)\n        return await ayo.llm(p + str(len(seen)), max_tokens=2)\n"
        "    return step\n\n\nstep = make()\n"
    ),
    "decorator_dict": (
        "def limit(fn):\n    left = {'n': 3}\n    async def wrapper(*args):\n        if left['n'] <= 0:\n"
        "            return 'limited'\n        left['n'] -= 1\n        return await fn(*args)\n    return wrapper\n\n\n"
        "@limit\nasync def step(p):\n    return await ayo.llm(p, max_tokens=2)\n"
    ),
    "decorator_nonlocal": (
        "def limit(fn):\n    left = 3\n    async def wrapper(*args):\n        nonlocal left\n        if left <= 0:\n"
        "            return 'limited'\n        left -= 1\n        return await fn(*args)\n    return wrapper\n\n\n"
        "@limit\nasync def step(p):\n    return await ayo.llm(p, max_tokens=2)\n"
    ),
}
CALLERS = {
    "twice": ["a = await step('x ' + q)", "b = await step('y')", "return a, b"],
    "in_a_loop": ["out = []", "for w in q.split()[:3]:", "    out.append(await step(w))", "return out"],
    "repeated": ["return await step(q), await step(q)"],
}


@pytest.mark.parametrize("closure", list(CLOSURES))
@pytest.mark.parametrize("caller", list(CALLERS))
def test_state_kept_in_a_closure_is_read_when_the_graph_runs(
    closure: str, caller: str, tmp_path: Path
) -> None:
    body = "".join(f"    {line}\n" for line in CALLERS[caller])
    source = (
        f"import ayo_trace as ayo\n\n\n{CLOSURES[closure]}\n\n@ayo.workflow\nasync def wf(q, docs):\n{body}"
    )
    fresh_copies_agree(source, tmp_path, ["what is rust here", "again", "FAIL the gpu", "rust"])
