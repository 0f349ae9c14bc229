"""An awaiting comprehension with a tuple target or a filter over what a helper of the user's
returns (``[await ask(i, s) for i, s in enumerate(split_steps(plan))]``): its items may all be made
before its first element when every ``return`` of the helper gives a container
(``drawn_items._returns_containers``): a slice of one (``plan.split()[:2]``), ``re.findall``,
``json.loads``, a comprehension, ``sorted``. A generator helper is drawn in turn, as written.
Generated over the helper and the comprehension's shape; eager ≡ traced ≡ optimized."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.frontend.programs import load
from tests.util import fresh_copies_agree

HELPERS = {
    "slice": "def split_steps(plan):\n    return plan.split()[:2]\n",
    "findall": "def split_steps(plan):\n    return re.findall(r'[a-f0-9]+', plan)\n",
    "json": "def split_steps(plan):\n    try:\n        return json.loads(plan)\n    except ValueError:\n        return plan.split()\n",
    "comprehension": "def split_steps(plan):\n    return [w.strip('.') for w in plan.split() if w]\n",
    "sorted_slice": "def split_steps(plan):\n    words = sorted(plan.split())\n    return words[-3:]\n",
    "generator": (  # (drawn in turn: may break, must agree)
        "LOG = []\n\n\ndef split_steps(plan):\n    for w in plan.split():\n        LOG.append(w)\n        yield w\n"
    ),
}

SHAPES = {
    "enumerate": "[await ayo.llm(f'{i}: {s} {len(LOG)}', max_tokens=2) for i, s in enumerate(split_steps(plan))]",
    "bound_first": "[await ayo.llm(f'{i}: {s}', max_tokens=2) for i, s in enumerate(steps)]",
    "filtered": "[await ayo.llm(f'do {s}', max_tokens=2) for s in split_steps(plan) if len(s) > 2]",
}


def source(helper: str, shape: str) -> str:
    log = "" if helper == "generator" else "LOG = []\n"
    steps = "    steps = split_steps(plan)\n" if shape == "bound_first" else ""
    return (
        "import json\nimport re\n\nimport ayo_trace as ayo\n\n"
        + log
        + HELPERS[helper]
        + "\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + "    plan = await ayo.llm(f'Plan: {q}', max_tokens=4)\n"
        + steps
        + f"    return {SHAPES[shape]}\n"
    )


CASES = list(itertools.product(HELPERS, SHAPES))
QUESTIONS = ["how to sort a list", "explain FAIL here"]


@pytest.mark.parametrize(("helper", "shape"), CASES, ids=["-".join(c) for c in CASES])
def test_a_helpers_list_drawn_ahead_agrees(helper: str, shape: str, tmp_path: Any) -> None:
    src = source(helper, shape)
    if helper != "generator":
        graph = load(src, tmp_path).wf.graph("q", [])
        assert graph_breaks(graph) == [], graph
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)
