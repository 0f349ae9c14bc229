"""The corpus of user-written workflows: eager ≡ traced ≡ optimized under every pass subset, the
graph breaks each declares, and golden graph text for some of them."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest

from ayo_trace.passes import DEFAULT_PASSES, DEFAULT_PROFILES, run_passes
from tests.util import run_in_new_loop

from .corpus import Case, all_cases
from .corpus.statics import RAISING
from .test_differential import ALL_SUBSETS, assert_all_equal, run_every_mode

# An LLM that resumes a prompt at any token: the default profile's 64-token blocks leave short
# constant heads unsplit.
NO_BLOCK = {**DEFAULT_PROFILES, "llm": dataclasses.replace(DEFAULT_PROFILES["llm"], prefill_block=0)}

CASES = all_cases()


async def run_case(case: Case, seed: int | None, pass_sets: Sequence[Sequence[Any]]) -> list[tuple[str, Any]]:
    entry, inputs = case.wf._entry(case.args, case.kwargs)
    return await run_every_mode(
        lambda: case.wf.eager(*case.args, **case.kwargs), entry.graph, inputs, seed, pass_sets
    )


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_eager_traced_and_optimized_agree_under_every_pass_subset(case: Case) -> None:
    results = run_in_new_loop(run_case, case, 7, ALL_SUBSETS)
    _, eager = results[0]
    assert not (isinstance(eager, tuple) and eager[:1] == ("raised",)), f"the eager run raised: {eager}"
    assert_all_equal(results)


@pytest.mark.parametrize("case", [c for c in CASES if c.breaks is not None], ids=lambda c: c.id)
def test_graph_breaks_are_what_the_case_declares(case: Case) -> None:
    graph = case.wf.graph(*case.args, **case.kwargs)
    breaks = [f"{n.loc}: {n.attrs.get('reason')}" for n in graph.walk() if n.op == "break"]
    assert len(breaks) == case.breaks, "\n".join(breaks) or "no breaks"


def test_the_corpus_is_large() -> None:
    assert len(CASES) >= 40
    assert len({c.wf for c in CASES}) >= 40


@pytest.mark.parametrize("case", RAISING, ids=lambda c: c.id)
def test_a_run_time_error_is_the_same_in_every_mode(case: Case) -> None:
    results = run_in_new_loop(run_case, case, 7, ALL_SUBSETS)
    _, eager = results[0]
    assert isinstance(eager, tuple) and eager[:1] == ("raised",)
    assert_all_equal(results)


def test_a_prompt_written_over_several_lines_is_a_template() -> None:
    """Its constant text reaches the graph as text (shared and prefilled ahead), not as a value."""
    from .corpus import multiline

    for wf, args in [
        (multiline.concatenated_over_lines, ("q",)),
        (multiline.concatenated_with_comments, ("q", ["d"])),
    ]:
        graph = run_passes(wf.graph(*args), DEFAULT_PASSES, profiles=NO_BLOCK)  # resumes at any token
        shared = [n for n in graph.walk() if n.op == "llm_prefill" and n.attrs.get("shared")]
        assert shared, graph
    text = str(multiline.concatenated_over_lines.graph("q"))
    assert 'llm(f"You answer questions about Python.\\nQuestion: {%question}\\nAnswer:"' in text, text
