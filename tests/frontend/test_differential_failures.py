"""The oracle when engine calls fail: a random program whose LLM calls fail part-way leaves what
its eager run leaves (the same error, the same module state, the same rows in every collection).

Some completions hold the word ``FAIL`` and every LLM request whose text holds it fails (in its
prefill, or for odd seeds in its decode after the prefill), so a failure strikes wherever a prompt
reads such a reply: at a random place in a random program. The
graph runs independent statements at once; a change seen outside the query (module state, a
collection's rows, a value the caller gave) must still not happen when a statement before it
failed, as eagerly it never would (``passes/prune_dependencies.py``). The programs return every
value they make: a call whose value nothing reads is not made by the optimized graph, so its failure
is not raised (docs/ir-conventions.md).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ayo_trace as ayo
from ayo_trace.backend.interpreter import interpret
from ayo_trace.passes import DEFAULT_PASSES, run_passes
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker
from tests.util import run_in_new_loop

from .programs import load, program_source, programs
from .test_differential import DOCS, QUESTION, assert_all_equal, corpus_store
from .test_effects_after_failure import FailsInDecode


def respond(prompt: str) -> str:
    h = hashlib.sha1(prompt.encode()).hexdigest()
    mark = " FAIL" if h[0] in "012" else ""  # about one reply in five poisons the prompts reading it
    return f" {h[:4]} yields{mark}\n- {h[4:8]} lists\n{h[8:12]} await\n"


def failing(text: str) -> bool:
    return "FAIL" in text


async def observe(run: Any, module: Any, seed: int) -> tuple[Any, ...]:
    """What a run leaves: its answer or error (an engine failure named by kind, not by the request
    kind it struck: a split prompt may fail in its decode where the whole prompt failed in its
    prefill), the module's state and every collection's rows."""
    module.NOTES.clear()
    module.SEEN.clear()
    store = corpus_store()
    prefill, decode = (seed % 3) * 0.0002, (seed % 3) * 0.0005
    if seed % 2:  # the prompt is prefilled, its decode fails
        llm: ScriptedLLM = FailsInDecode(
            "llm", respond, prefill_s_per_token=prefill, decode_s_per_step=decode
        )
    else:
        llm = ScriptedLLM("llm", respond, fail=failing, prefill_s_per_token=prefill, decode_s_per_step=decode)
    engines = [llm, ScriptedEmbedder("embed"), store, ScriptedReranker("rerank")]
    async with ayo.Runtime(engines=engines, batching=False, retries=0) as rt:
        try:
            outcome: Any = await run(rt)
        except Exception as e:
            while e.__cause__ is not None:
                e = e.__cause__  # type: ignore[assignment]
            text = str(e).replace("prefill", "engine").replace("decode", "engine")
            outcome = ("raised", type(e).__name__, text)
    rows = {name: sorted(r.text for r in rows) for name, rows in store.collections.items() if rows}
    return outcome, list(module.NOTES), sorted(module.SEEN), rows


async def every_mode(module: Any, seed: int, subset: list[Any], question: str) -> list[tuple[str, Any]]:
    wf = module.program
    traced = wf.graph(question, DOCS)
    inputs = {"question": question, "docs": DOCS}
    results = [("eager", await observe(lambda rt: wf.eager(question, DOCS), module, seed))]
    results.append(
        ("in-order interpreter", await observe(lambda rt: interpret(rt, traced, inputs), module, seed))
    )
    for passes in ([], subset, list(DEFAULT_PASSES)):
        graph = run_passes(traced, passes)
        label = "+".join(p.name for p in passes) or "traced"
        results.append((label, await observe(lambda rt, g=graph: rt.run(g, inputs), module, seed)))
    return results


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    spec=programs,
    seed=st.integers(0, 2**16),
    subset=st.sampled_from([[p] for p in DEFAULT_PASSES] + [list(DEFAULT_PASSES[:2])]),
    poisoned=st.booleans(),
)
def test_random_programs_that_fail_leave_what_eager_leaves(
    spec: Any, seed: int, subset: list[Any], poisoned: bool, tmp_path: Path
) -> None:
    # a poisoned question fails the first call that reads it, and every call reading its reply
    question = "FAIL: " + QUESTION if poisoned else QUESTION
    # an effect reading no call after each statement: it must wait for every statement before it
    noted = [step for kind in spec for step in (kind, ("note", kind[1], 0))]
    module = load(program_source(noted, every_value=True), tmp_path)
    assert_all_equal(run_in_new_loop(every_mode, module, seed, subset, question))
