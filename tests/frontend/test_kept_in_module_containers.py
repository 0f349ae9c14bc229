"""An object of the workflow put into a module's container (``LOG.append(items)``, or by a helper
doing it, ``keep(items)``), then changed through the container (``LOG[-1].append(a)``, a loop over
it): a later read of the object (a prompt, its length) sees the change, as Python's does
(``aliases.mutated_locals``, ``kept_in._stored_params``). Both were wrong answers: the optimized
graph read the object before the change. Eager ≡ traced ≡ optimized on fresh module copies."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.util import fresh_copies_agree

HEAD = """import ayo_trace as ayo

LOG = []


def keep(x):
    LOG.append(x)


def keep_first(x, tag):
    LOG.insert(0, x)
    return tag


@ayo.workflow
async def wf(q, docs):
    LOG.clear()
    items = [q]
"""
PUTS = {
    "append": "    LOG.append(items)\n",
    "helper": "    keep(items)\n",
    "helper_insert": "    tag = keep_first(items, 't')\n",
}
CHANGES = {
    "last_item": "    LOG[-1].append(a)\n",
    "first_item": "    LOG[0].append(a)\n",
    "loop": "    for it in LOG:\n        it.append(a)\n",
}
READS = {
    "prompt": '    r = await ayo.llm(f"{items}", max_tokens=4)\n    return r\n',
    "length": "    n = len(items)\n    r = await ayo.llm(f'{n} {q}', max_tokens=4)\n    return r, n\n",
}
CASES = list(itertools.product(PUTS, CHANGES, READS))


def source(put: str, change: str, read: str) -> str:
    first = '    a = await ayo.llm(f"first {q}", max_tokens=4)\n'
    return HEAD + PUTS[put] + first + CHANGES[change] + READS[read]


@pytest.mark.parametrize(("put", "change", "read"), CASES, ids=["-".join(c) for c in CASES])
def test_an_object_changed_through_a_module_container_is_read_after(
    put: str, change: str, read: str, tmp_path: Any
) -> None:
    fresh_copies_agree(source(put, change, read), tmp_path, ["one", "FAIL two", "three"])
