"""An object the workflow makes with an argument known only when it runs (``req = Request(q)``)
still has the fields the call does not set from it known at trace time (a default
``collection="kb"``, ``k=3``, a constant passed): ``made_fields`` makes its trace-time copy with a
stand-in for the run-time argument that only storing accepts, so ``collection=req.collection`` and
``max_tokens=req.k`` are graph constants; each call was a graph break. A field made from the
run-time argument is never taken for a constant. Every class shape x way to call it x use: no
graph break, eager ≡ traced ≡ optimized; the fields made from run-time values agree with eager."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.util import run_in_new_loop, three_runs_agree, traces_whole_and_agrees

from .programs import load

CLASSES = {
    "frozen_dataclass": (
        "@dataclass(frozen=True)\nclass Request_T:\n    question: str\n"
        "    collection: str = 'kb'\n    k: int = 3\n"
    ),
    "dataclass": "@dataclass\nclass Request_T:\n    question: str\n    collection: str = 'kb'\n    k: int = 3\n",
    "plain": (
        "class Request_T:\n    def __init__(self, question, collection='kb', k=3):\n"
        "        self.question = question\n        self.collection = collection\n        self.k = k\n"
    ),
    "class_attribute": (
        "class Request_T:\n    collection = 'kb'\n    k = 3\n\n"
        "    def __init__(self, question):\n        self.question = question\n"
    ),
}
MADE = {
    "positional": "Request_T(q)",
    "keyword": "Request_T(question=q)",
    "with_a_constant": "Request_T(q, 'kb')",
}
USES = {
    "collection": [
        "await ayo.ingest(['rust is a language', 'go has goroutines'], collection='kb')",
        "hits = await ayo.search(req.question, collection=req.collection, top_k=2)",
        "return [h.text for h in hits]",
    ],
    "max_tokens": ["return await ayo.llm(req.question, max_tokens=req.k)"],
    "both": [
        "await ayo.ingest(['rust is a language'], collection=req.collection)",
        "hits = await ayo.search(req.question, collection=req.collection, top_k=req.k)",
        "return await ayo.llm(f'{req.question}: {hits[0].text}', max_tokens=req.k + 1)",
    ],
}
CASES = [
    c
    for c in itertools.product(CLASSES, MADE, USES)
    if not (c[0] == "class_attribute" and c[1] == "with_a_constant")
]

# fields made from the run-time argument: never graph constants (each a break or a node)
DERIVED = """
class Derived:
    def __init__(self, question, k=3):
        self.label = question + "!"
        self.k = k


class Stored:
    def __init__(self, question, k):
        self.question = question
        self.k = k


@ayo.workflow
async def derived_label(q, docs):
    d = Derived(q)
    return await ayo.llm(d.label, max_tokens=d.k)


@ayo.workflow
async def run_time_k(q, docs):
    s = Stored(q, len(docs) + 1)
    return await ayo.llm(s.question, max_tokens=s.k)
"""


def _source(case: tuple[str, str, str]) -> str:
    tag = "_".join(case)
    cls = CLASSES[case[0]].replace("Request_T", f"Request_{tag}")
    made = MADE[case[1]].replace("Request_T", f"Request_{tag}")
    body = "".join(f"    {line}\n" for line in [f"req = {made}", *USES[case[2]]])
    return f"\n\n{cls}\n\n@ayo.workflow\nasync def wf_{tag}(q, docs):\n{body}"


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = "\nfrom dataclasses import dataclass\n\nimport ayo_trace as ayo\n" + DERIVED
    source += "".join(_source(c) for c in CASES)
    return load(source, Path(tmp_path_factory.mktemp("partly_known_objects")))


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_fields_not_set_from_run_time_values_are_graph_constants(
    module: Any, case: tuple[str, str, str]
) -> None:
    traces_whole_and_agrees(getattr(module, "wf_" + "_".join(case)), ["what is rust", "FAIL q"], [[]])


@pytest.mark.parametrize("name", ["derived_label", "run_time_k"])
def test_a_field_made_from_a_run_time_value_is_not_a_constant(module: Any, name: str) -> None:
    wf = getattr(module, name)
    assert len(graph_breaks(wf.graph("q", []))) == 1  # (max_tokens= from data: run as written)
    run_in_new_loop(lambda: three_runs_agree(wf, ["what is rust", "FAIL q"], [[], ["a", "b"]]))
