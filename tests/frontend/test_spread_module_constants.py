"""A module's dict or list of strings and numbers spread into a call of a helper (``await
ask(q, **DEFAULTS)``, ``await join(*PARTS)``): the helper gets a new container, so the spread does
not change the module's (``handed._flat``), which stays a constant of the graph: the helper's
calls and the workflow's own ``ayo.llm(q, **DEFAULTS)`` trace whole. A helper changing the dict by
its name, or a dict holding a list, still counts as changed. Generated over the helper's
signature, the container and whether something changes it; eager ≡ traced ≡ optimized."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.frontend.programs import load
from tests.util import fresh_copies_agree

CONTAINERS = {
    "flat": "DEFAULTS = {'max_tokens': 4, 'temperature': 0.0}\nPARTS = ['Answer', 'briefly']\n",
    "holding_a_list": "DEFAULTS = {'max_tokens': 4, 'stop': ['\\n']}\nPARTS = ['Answer', 'briefly']\n",
}

HELPERS = {
    "kwargs": "async def ask(q, *words, **opts):\n    return await ayo.llm(' '.join(words) + q, **opts)\n",
    "named": (
        "async def ask(q, *words, max_tokens=8, temperature=1.0, stop=None):\n"
        "    return await ayo.llm(' '.join(words) + q, max_tokens=max_tokens, temperature=temperature)\n"
    ),
}

CHANGES = {
    "none": "",
    "by_name": "def tune():\n    DEFAULTS['max_tokens'] = 2\n",
}


def source(container: str, helper: str, change: str) -> str:
    tune = "    tune()\n" if change == "by_name" else ""
    return (
        "import ayo_trace as ayo\n\n"
        + CONTAINERS[container]
        + "\n\n"
        + HELPERS[helper]
        + "\n\n"
        + CHANGES[change]
        + "\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + "    first = await ask(q, *PARTS, **DEFAULTS)\n"
        + tune
        + "    second = await ayo.llm(first + q, **DEFAULTS)\n"
        + "    return first, second, dict(DEFAULTS)\n"
    )


CASES = list(itertools.product(CONTAINERS, HELPERS, CHANGES))
QUESTIONS = ["what is a heap", "explain FAIL here"]


@pytest.mark.parametrize(("container", "helper", "change"), CASES, ids=["-".join(c) for c in CASES])
def test_spread_module_constants_agree(container: str, helper: str, change: str, tmp_path: Any) -> None:
    src = source(container, helper, change)
    if container == "flat" and change == "none":
        graph = load(src, tmp_path).wf.graph("q", [])
        assert graph_breaks(graph) == [], graph
    fresh_copies_agree(src, tmp_path, QUESTIONS)
