"""Module state the workflow changes in place through no name of it: a function's result
(``flags()["seen"] = q``, ``REG.bucket().append(q)``, a singleton's ``Config().tone = s``), a
walrus (``(c := CACHE)[q] = 1``), a bound method handed on (``map(TOPICS.append, qs)``,
``each(qs, LOG.append)``), a container holding it (``SHELVES[0].append(q)``), a local bound to a
call's result (``t = table(); t["n"] += 1``), the field of an object the workflow makes that holds
it (``Agent().inbox.append(q)``). What the expression may reach counts as changed
(``closures._reached_by``): never folded at trace time, read in program order. Generated over the
route and how the state is read afterwards (pairwise); eager ≡ traced ≡ optimized on fresh module
copies, a failing call among them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.util import fresh_copies_agree

# (module-level code, the change, the expression reading the state afterwards)
ROUTES = {
    "call_result": ("STATE = {}\n\n\ndef flags():\n    return STATE\n", "flags()['seen'] = x", "STATE"),
    "method_result": (
        "class Registry:\n    def __init__(self):\n        self.items = []\n\n    def bucket(self):\n"
        "        return self.items\n\n\nREG = Registry()\n",
        "REG.bucket().append(x)",
        "REG.items",
    ),
    "singleton": (
        "class Config:\n    _instance = None\n\n    def __new__(cls):\n        if cls._instance is None:\n"
        "            cls._instance = super().__new__(cls)\n            cls._instance.tone = 'neutral'\n"
        "        return cls._instance\n",
        "Config().tone = x",
        "Config().tone",
    ),
    "walrus": ("CACHE = {}\n", "(c := CACHE)[x] = len(x)", "CACHE"),
    "walrus_if": ("CACHE = {}\n", "if (c := CACHE) is not None:\n        c[x] = 1", "CACHE"),
    "handed_method": ("TOPICS = []\n", "list(map(TOPICS.append, [x]))", "TOPICS"),
    "handed_to_helper": (
        "LOG = []\n\n\ndef each(xs, f):\n    for v in xs:\n        f(v)\n",
        "each([x, x], LOG.append)",
        "LOG",
    ),
    "held_in_container": ("NOTES = []\nSHELVES = [NOTES]\n", "SHELVES[0].append(x)", "NOTES"),
    "local_of_call": (
        "TABLE = {'n': 0}\n\n\ndef table():\n    return TABLE\n",
        "t = table()\n    t['n'] += len(x)",
        "TABLE['n']",
    ),
    "made_object_field": (
        "SHARED = []\n\n\nclass Agent:\n    def __init__(self):\n        self.inbox = SHARED\n",
        "a = Agent()\n    a.inbox.append(x)",
        "SHARED",
    ),
}

READS = {
    "prompt": '    out = await ayo.llm(f"State: {{{read}}} {{q}}", max_tokens=3)\n',
    "length": "    out = len(str({read}))\n",
    "condition": "    out = 'some' if {read} else 'none'\n",
}


def source(route: str, read: str) -> str:
    module_code, change, reading = ROUTES[route]
    return (
        "import ayo_trace as ayo\n\n"
        + module_code
        + "\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + "    x = await ayo.llm(q, max_tokens=3)\n"
        + f"    {change}\n"
        + READS[read].format(read=reading)
        + "    return x, out\n"
    )


CASES = [(r, m) for r in ROUTES for m in READS]
QUESTIONS = ["what is a heap", "explain FAIL here", "sort a list"]


@pytest.mark.parametrize(("route", "read"), CASES, ids=["-".join(c) for c in CASES])
def test_a_change_through_no_name_agrees(route: str, read: str, tmp_path: Any) -> None:
    fresh_copies_agree(source(route, read), tmp_path, QUESTIONS)
