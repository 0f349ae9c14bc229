"""Eager ≡ optimized on the real LLM engines, for workflows that use only ``llm``: query expansion
(lines parsed and mapped), a map over passages, independent branches, and a conditional.

Each mode runs on a runtime over the same session engine with cross-request batching off (engines are
not batch-invariant, DESIGN.md); the optimized graphs split prompts into parts and stream parsed
lines, so this checks that the engines' session contract makes those rewrites exact.
"""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.backend.engines.base import LLMEngine
from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine
from ayo_trace.backend.engines.transformers_llm import TransformersEngine

pytestmark = [pytest.mark.real, pytest.mark.anyio]

INSTRUCTIONS = "You write short, plain answers about the Python programming language.\n"


@ayo.workflow
async def expand(question: str) -> list[str]:
    queries = await ayo.llm(
        f"{INSTRUCTIONS}Write two search queries, one per line, for: {question}\nQueries:\n",
        parse=ayo.lines,
        max_tokens=16,
    )
    return [await ayo.llm(f"{INSTRUCTIONS}Query: {q}\nAnswer:", max_tokens=6, stop="\n") for q in queries]


@ayo.workflow
async def summaries(passages: list[str]) -> str:
    parts = [
        await ayo.llm(f"Summarize in a few words: {p}\nSummary:", max_tokens=6, stop="\n") for p in passages
    ]
    return await ayo.llm("Combine these notes: " + "; ".join(parts) + "\nCombined:", max_tokens=8, stop="\n")


@ayo.workflow
async def branches(question: str) -> str:
    kind = await ayo.llm(f"Is this about code or about people? {question}\nAnswer:", max_tokens=3, stop="\n")
    short = await ayo.llm(f"{INSTRUCTIONS}Q: {question}\nA:", max_tokens=8, stop="\n")
    return f"[{kind.strip()}] {short.strip()}"


@ayo.workflow
async def conditional(question: str) -> str:
    label = await ayo.llm(f"Answer yes or no. Is this a question? {question}\nAnswer:", max_tokens=2)
    if "yes" in label.lower():
        return await ayo.llm(f"Q: {question}\nA:", max_tokens=8, stop="\n")
    return await ayo.llm(f"Rewrite as a question: {question}\nQuestion:", max_tokens=8, stop="\n")


CASES: dict[str, tuple[Any, tuple[Any, ...]]] = {
    "query_expansion": (expand, ("How do I read a file line by line?",)),
    "map_over_passages": (
        summaries,
        (["Lists are mutable sequences.", "Tuples are immutable sequences.", "Dicts map keys to values."],),
    ),
    "independent_branches": (branches, ("What does the zip function do?",)),
    "conditional": (conditional, ("Who created Python?",)),
}


@pytest.fixture(params=["llama", "transformers"])
def llm(request: pytest.FixtureRequest) -> LLMEngine:
    engine = request.getfixturevalue(f"{request.param}_engine")
    assert isinstance(engine, LlamaCppEngine | TransformersEngine)
    return engine


@pytest.mark.parametrize("name", sorted(CASES))
async def test_optimized_equals_eager_on_the_real_llm(llm: LLMEngine, name: str) -> None:
    wf, args = CASES[name]
    rt = ayo.Runtime(engines=[llm], batching=False)  # started, not entered: only this test uses it
    await rt.start()
    try:
        previous = ayo.Runtime.set_default(rt)
        try:
            eager = await wf.eager(*args)
            optimized = await wf(*args)
        finally:
            ayo.Runtime.set_default(previous)
    finally:
        await rt.aclose()
    assert optimized == eager
    assert optimized not in ("", [], None)
    graph = wf.graph(*args, optimized=True)
    assert any(n.op == "llm_prefill" for n in graph.walk()), "the optimized graph was lowered"
    assert llm.stats().get("sessions", 0) == 0, "every session was released"
