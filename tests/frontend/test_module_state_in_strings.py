"""A string built from module state the workflow changes after it (``prompt = f"turns={TURNS}"``
then ``TURNS.append(q)``) holds the object as Python formatted it when the string was built: the
graph formatted it where the string was used, after the change (``text._formatted_now``, now for a
module's name too). Every kind of module state x how the workflow changes it x how the string is
built and used: no graph break, eager ≡ traced ≡ optimized."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.util import every_pair, traces_whole_and_agrees

from .programs import load

# (the hole, what empties it at the start of a query, the change of it with `x`)
STATE = {
    "list": ("LOG", "LOG.clear()", "LOG.append(x)"),
    "dict": ("COUNTS", "COUNTS['n'] = 0", "COUNTS['n'] += len(x)"),
    "nested": ("STATE['hist']", "STATE['hist'].clear()", "STATE['hist'].append(x)"),
    "deque": ("RECENT", "RECENT.clear()", "RECENT.append(x)"),
    "counter": ("SEEN", "SEEN.clear()", "SEEN[x] += 1"),
    "class_attr": ("Stats.calls", "Stats.calls.clear()", "Stats.calls.append(x)"),
    "object_attr": ("BOX.items", "BOX.items.clear()", "BOX.items.append(x)"),
}
# how the workflow changes it after the string is built
CHANGES = {
    "direct": ["x = q[:6]", "CHANGE"],
    "helper": ["record_KIND(q[:6])"],
    "loop": ["for x in q.split()[:2]:", "    CHANGE"],
}
# how the string is built, and what is done with it after the change
USES = {
    "returned": (['s = f"state {HOLE} of {q}"'], ["return s"]),
    "prompt": (['p = f"state: {HOLE}"'], ["return await ayo.llm(p, max_tokens=3)"]),
    "format": (["p = 'state: {} {}'.format(HOLE, q)"], ["return await ayo.llm(p, max_tokens=3)"]),
    "embed": (['p = f"{q} {HOLE}"'], ["v = await ayo.embed(p)", "return p, round(v[0], 4)"]),
}
CASES = every_pair(STATE, CHANGES, USES)  # (every pair of choices; the suite's time kept)

HEAD = """
from collections import Counter, deque

import ayo_trace as ayo

LOG = []
COUNTS = {"n": 0}
STATE = {"hist": []}
RECENT = deque(maxlen=3)
SEEN = Counter()


class Stats:
    calls = []


class Box:
    def __init__(self):
        self.items = []


BOX = Box()
"""


def _helpers() -> str:
    return "".join(f"\n\ndef record_{kind}(x):\n    {change}\n" for kind, (_, _, change) in STATE.items())


def _workflow(kind: str, change: str, use: str) -> str:
    hole, reset, changed = STATE[kind]
    built, used = USES[use]
    lines = [reset, *built, *CHANGES[change], *used]
    body = "".join(f"    {line}\n" for line in lines)
    body = body.replace("HOLE", hole).replace("CHANGE", changed).replace("KIND", kind)
    return f"\n\n@ayo.workflow\nasync def wf_{kind}_{change}_{use}(q, docs):\n{body}"


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = HEAD + _helpers() + "".join(_workflow(*c) for c in CASES)
    return load(source, Path(tmp_path_factory.mktemp("module_state_in_strings")))


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_string_holds_module_state_as_it_was_when_built(module: Any, case: tuple[str, str, str]) -> None:
    traces_whole_and_agrees(
        getattr(module, "wf_" + "_".join(case)), ["what is rust", "tell me about FAIL mode"], [[]]
    )
