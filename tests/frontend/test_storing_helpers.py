"""A helper that keeps its argument in a module's container without changing it (``SEEN.add(d)``,
``LOG.append(d)``, ``LOG.insert(0, d)``), called in a comprehension's filter to skip
repeats (``[await ask(d) for d in docs if novel(d)]``): the item it is handed is not changed, so
the comprehension traces whole (a ``map`` after the filters), where it ran as written because any
method of a module object was taken to change its arguments (``handed.stores_only``). Eager ≡
traced ≡ optimized on fresh module copies, with repeated and failing documents."""

from __future__ import annotations

from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.frontend.programs import load
from tests.util import run_in_new_loop, three_runs_agree

HELPERS = {
    "set_add": "def novel(d):\n    if d in SEEN:\n        return False\n    SEEN.add(d)\n    return True\n",
    "list_append": "def novel(d):\n    if d in LOG:\n        return False\n    LOG.append(d)\n    return True\n",
    "dict_get": "def novel(d):\n    if COUNTS.get(d):\n        return False\n    COUNTS[d] = 1\n    return True\n",
    "insert_first": "def novel(d):\n    found = d not in LOG\n    LOG.insert(0, d)\n    return found\n",
}
USES = {
    "filter": "    out = [await ask(d) for d in docs if novel(d)]\n",
    "filter_twice": "    out = [await ask(d) for d in docs if d and novel(d)]\n    out += [await ask(d) for d in docs if novel(d)]\n",
}

HEAD = """import ayo_trace as ayo

SEEN = set()
LOG = []
COUNTS = {}


async def ask(d):
    return await ayo.llm(f"About {d}", max_tokens=4)


"""

CASES = [(h, u) for h in HELPERS for u in USES]


@pytest.mark.parametrize(("helper", "use"), CASES, ids=["-".join(c) for c in CASES])
def test_a_filter_keeping_its_item_traces_whole_and_agrees(helper: str, use: str, tmp_path: Any) -> None:
    body = (
        "    SEEN.clear()\n    LOG.clear()\n    COUNTS.clear()\n"
        + USES[use]
        + "    return out, sorted(SEEN), LOG\n"
    )
    source = HEAD + HELPERS[helper] + "\n\n@ayo.workflow\nasync def wf(q, docs):\n" + body
    wf = load(source, tmp_path).wf
    assert graph_breaks(wf.graph("q", ["a", "b"])) == []
    docs = [["a", "b", "a"], [], ["x", "FAIL y", "x"], ["", "c", "c"]]
    run_in_new_loop(lambda: three_runs_agree(wf, ["q"], docs))
