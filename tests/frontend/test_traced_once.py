"""A workflow that changes a list, dict or set in place through its methods (``HISTORY.append(q)``,
``CACHE.setdefault(q, a)``, ``SEEN.add(q)``: a history, a memo, a dedup set), held by its module,
a factory's closure or a helper's module, is traced once, not once per query. The trace resolved
``HISTORY.append`` by the object's identity only, but kept a copy of the contents as if it had folded
them, so every query that changed them traced the workflow again (the trace holds the workflow's
lock: concurrent queries waited on it). Generated over where the state lives, the change, where it
stands and what the workflow returns; each variant traced once over the queries, and eager ≡
traced ≡ optimized on fresh module copies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ayo_trace.frontend.workflow import Workflow
from tests.util import every_pair, outcome, run_in_new_loop, runs_on_fresh_copies, scripted_runtime

from .programs import load

HEAD = """
import ayo_trace as ayo

HISTORY = []
CACHE = {}
SEEN = set()


def remember(ARG):
    CHANGE


async def ask(ARG):
    CHANGE
    return await ayo.llm(f"ask {ARG}", max_tokens=2)
"""

WORKFLOW = """
async def wf(q, docs):
    BEFORE
    answer = await ayo.llm(f"{q} {len(HISTORY)}", max_tokens=3)
    AFTER
    return answer, READ
"""

CHANGES = [
    "HISTORY.append(ARG)",
    "HISTORY.extend([ARG, 'more'])",
    "CACHE.setdefault(ARG, len(CACHE))",
    "CACHE.update({ARG: len(ARG)})",
    "CACHE[ARG] = len(CACHE)",
    "SEEN.add(ARG)",
    "SEEN.discard(ARG)",
    "HISTORY.clear()",
]
READS = ["len(HISTORY)", "sorted(SEEN)", "dict(CACHE)", "CACHE.get(q)", "list(HISTORY)"]
# where the change is written: in the workflow (its module's state or a factory's closure), in a
# sync helper it calls, in an async helper it awaits
PLACES = ["module", "closure", "helper", "async_helper"]
STANDS = ["before", "after", "both"]
QUESTIONS = ["what is a heap", "sort lists", "what is a heap", "explain FAIL here", "sort lists"]


def _source(place: str, change: str, stands: str, read: str) -> str:
    here = {"module": change, "closure": change, "helper": "remember(ARG)", "async_helper": "await ask(ARG)"}[
        place
    ]
    before = here.replace("ARG", "q") if stands in ("before", "both") else "pass"
    after = here.replace("ARG", "answer") if stands in ("after", "both") else "pass"
    body = WORKFLOW.replace("BEFORE", before).replace("AFTER", after).replace("READ", read)
    head = HEAD.replace("CHANGE", change)
    if place != "closure":
        return head + "\n@ayo.workflow" + body
    inner = "".join(f"    {line}\n" if line else "\n" for line in body.splitlines())
    state = "    HISTORY = []\n    CACHE = {}\n    SEEN = set()\n"
    return head + f"\n\ndef make():\n{state}\n    @ayo.workflow{inner}\n    return wf\n\n\nwf = make()\n"


CASES = every_pair(PLACES, CHANGES, STANDS, READS)


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The workflows traced during the test, one entry per trace (``Workflow._trace`` counted)."""
    found: list[str] = []
    real = Workflow._trace

    def counting(self: Workflow, bound: Any) -> Any:
        found.append(self.fn.__qualname__)
        return real(self, bound)

    monkeypatch.setattr(Workflow, "_trace", counting)
    return found


@pytest.mark.parametrize(
    "case", CASES, ids=["-".join(c).split("(")[0] + f"-{i}" for i, c in enumerate(CASES)]
)
def test_a_workflow_changing_state_in_place_is_traced_once(
    case: tuple[str, str, str, str], tmp_path: Path, traced: list[str]
) -> None:
    source = _source(*case)
    runs = runs_on_fresh_copies(source, tmp_path, QUESTIONS)
    assert runs["unoptimized"] == runs["eager"], runs
    assert runs["optimized"] == runs["eager"], runs
    assert len(traced) == 2, traced  # (the unoptimized and the optimized variant, once each)


def test_contents_the_trace_folds_still_trace_again(tmp_path: Path, traced: list[str]) -> None:
    """The counterpart: a workflow whose prompt holds a module list's contents (the graph folds
    them) is traced again after code outside it appended to the list, once, and answers as eagerly."""
    source = HEAD.replace("CHANGE", "HISTORY.append(ARG)") + (
        "\nTOPICS = ['heaps']\n\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        "    HISTORY.append(q)\n"
        "    answer = await ayo.llm(f'{TOPICS} {q}', max_tokens=3)\n"
        "    return answer, len(HISTORY)\n\n\ndef admin(t):\n    TOPICS.append(t)\n"
    )
    answers: dict[str, list[Any]] = {}
    for variant in ("eager", "optimized"):
        (tmp_path / variant).mkdir()
        module = load(source, tmp_path / variant)
        run = module.wf.eager if variant == "eager" else module.wf

        async def go(run: Any = run, module: Any = module) -> list[Any]:
            async with scripted_runtime():
                got = [await outcome(run, "what is a heap", [])]
                module.admin("sorting")
                got += [await outcome(run, q, []) for q in ("sort lists", "what is a heap")]
                return got

        answers[variant] = run_in_new_loop(go)
    assert answers["optimized"] == answers["eager"], answers
    assert answers["eager"][0][0] != answers["eager"][2][0]  # (the topic is in the prompt)
    assert len(traced) == 2, traced  # (before and after the topic was added)
