"""The control-flow corpus: eager ≡ traced ≡ optimized under every pass subset, with no graph break.

Each workflow of ``corpus_control/`` is written the way users write parallel code and control flow;
the tracer must turn every construct into graph nodes (``loop``, ``try``, ``cond``, ``map``, parallel
primitive nodes), never into a ``break`` node, and every mode must return what plain Python returns.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ayo_trace as ayo
from ayo_trace.backend.interpreter import interpret
from ayo_trace.ir import Graph
from ayo_trace.passes import DEFAULT_PASSES, run_passes
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker
from tests.util import run_in_new_loop

from .corpus_control import agents, combined, idioms, loops, parallel_wfs, try_match
from .programs import CONTROL_KINDS, load, program_source, programs
from .test_differential import ALL_SUBSETS, DOCS, QUESTION, assert_all_equal, corpus_store, respond

# random programs with at least one control-flow or parallel statement
control_programs = programs.filter(lambda spec: any(kind in CONTROL_KINDS for kind, _, _ in spec))

CASES: dict[str, tuple[Any, tuple[Any, ...]]] = {
    # parallel constructs
    "gather_two_views": (parallel_wfs.gather_two_views, (QUESTION,)),
    "gather_spread_generator": (parallel_wfs.gather_spread_generator, (QUESTION,)),
    "gather_spread_list": (parallel_wfs.gather_spread_list, (DOCS,)),
    "gather_search_and_classify": (parallel_wfs.gather_search_and_classify, (QUESTION, DOCS)),
    "gather_workflows": (parallel_wfs.gather_workflows, ("generators", "coroutines")),
    "task_group_results": (parallel_wfs.task_group_results, (QUESTION,)),
    "create_task_then_await": (parallel_wfs.create_task_then_await, (QUESTION,)),
    "anyio_task_group": (parallel_wfs.anyio_task_group, (DOCS, QUESTION)),
    "gather_pairs": (parallel_wfs.gather_pairs, (["what", "why"], DOCS)),
    # loops
    "running_summary": (loops.running_summary, (DOCS,)),
    "numbered_answers": (loops.numbered_answers, (["what", "why", "how"],)),
    "search_rounds": (loops.search_rounds, (["lists", "values"], DOCS)),
    "reviewed_draft": (loops.reviewed_draft, (QUESTION,)),
    "enumerate_zip_pairs": (loops.enumerate_zip_pairs, (["what", "why", "how"], DOCS)),
    "zip_grade": (loops.zip_grade, (["what", "why"], DOCS)),
    "items_rewrite": (loops.items_rewrite, ({"intro": DOCS[0], "usage": DOCS[1]},)),
    "first_relevant": (loops.first_relevant, (QUESTION, DOCS)),
    "first_relevant_none": (loops.first_relevant, ("zzz", [])),
    "skip_short_docs": (loops.skip_short_docs, (DOCS,)),
    "search_else": (loops.search_else, (QUESTION, DOCS)),
    "search_else_found": (loops.search_else, (QUESTION, ["zzz one", "zzz two"])),
    "refine_while_short": (loops.refine_while_short, (QUESTION,)),
    "ingest_then_search_loop": (loops.ingest_then_search_loop, (QUESTION, [DOCS[:1], DOCS[1:2], DOCS, DOCS])),
    "nested_loops_break": (loops.nested_loops_break, (["lists", "values"], DOCS)),
    "await_in_while_condition": (loops.await_in_while_condition, (QUESTION,)),
    # agent loops
    "react_agent": (agents.react_agent, (QUESTION,)),
    "react_agent_budget_1": (agents.react_agent, (QUESTION, 1)),
    "while_agent": (agents.while_agent, (QUESTION, DOCS)),
    "tool_dispatch_agent": (agents.tool_dispatch_agent, ("add 2 and 3",)),
    "react_agent_done": (agents.react_agent, ("what is a dict",)),
    "tool_dispatch_calc": (agents.tool_dispatch_agent, ("how to sort",)),
    "tool_dispatch_stops": (agents.tool_dispatch_agent, ("explain closures",)),
    # try/except/else/finally
    "answer_or_fallback": (try_match.answer_or_fallback, (QUESTION,)),
    "answer_or_fallback_fails": (try_match.answer_or_fallback, ("FAIL " + QUESTION,)),
    "score_or_minus_one": (try_match.score_or_minus_one, (QUESTION,)),
    "score_or_minus_one_parse_fails": (try_match.score_or_minus_one, ("b",)),
    "two_handlers_user_error": (try_match.two_handlers, ("zz",)),
    "two_handlers": (try_match.two_handlers, (QUESTION,)),
    "two_handlers_engine": (try_match.two_handlers, ("FAIL",)),
    "try_else_finally": (try_match.try_else_finally, (QUESTION, DOCS)),
    "try_else_finally_fails": (try_match.try_else_finally, ("FAIL", DOCS)),
    "retry_until_ok": (try_match.retry_until_ok, (["FAIL one", "two", "FAILFAIL three"],)),
    "error_name_unbound_after": (try_match.error_name_unbound_after, ("FAIL",)),
    "engine_error_message": (try_match.engine_error_message, ("FAIL",)),
    "finally_notes_what_happened": (try_match.finally_notes_what_happened, (QUESTION,)),
    "finally_notes_what_happened_fails": (try_match.finally_notes_what_happened, ("FAIL",)),
    "finally_without_handlers": (try_match.finally_without_handlers, (QUESTION,)),
    # match
    "route_by_intent": (try_match.route_by_intent, (QUESTION,)),
    "route_by_intent_other": (try_match.route_by_intent, ("what is a list",)),
    "route_by_intent_digit": (try_match.route_by_intent, ("what",)),
    "handle_request_summarize": (try_match.handle_request, ({"kind": "summarize", "text": DOCS[0]},)),
    "handle_request_translate": (
        try_match.handle_request,
        ({"kind": "translate", "text": "hi", "to": "fr"},),
    ),
    "handle_request_ticket": (try_match.handle_request, (try_match.Ticket(1, "server down"),)),
    "handle_request_queued": (try_match.handle_request, (try_match.Ticket(3, "typo"),)),
    "handle_request_list": (try_match.handle_request, (["a", "b", "c"],)),
    "handle_request_other": (try_match.handle_request, (42,)),
    # combinations
    "debate_until_agreement": (combined.debate_until_agreement, (["tabs", "spaces", "linters", "types"],)),
    "agent_with_flaky_tool": (combined.agent_with_flaky_tool, (QUESTION,)),
    "agent_with_flaky_tool_budget_2": (combined.agent_with_flaky_tool, (QUESTION, 2)),
    "triage": (combined.triage, (["spam:buy now", "urgent:server down", "hello", "a:b"],)),
    "per_doc_task_groups": (combined.per_doc_task_groups, (DOCS,)),
    "stop_on_outage": (combined.stop_on_outage, (["a", "FAIL b", "c"],)),
    "stop_on_outage_none": (combined.stop_on_outage, (["a", "c"],)),
    # return inside try (and its handlers and else)
    "return_in_try": (idioms.return_in_try, (QUESTION,)),
    "return_in_try_fails": (idioms.return_in_try, ("FAIL",)),
    "return_in_try_then_more": (idioms.return_in_try_then_more, (QUESTION,)),
    "return_in_try_then_more_fails": (idioms.return_in_try_then_more, ("FAIL",)),
    "return_in_try_else": (idioms.return_in_try_else, (QUESTION,)),
    "return_in_try_else_no_score": (idioms.return_in_try_else, ("zz",)),
    "return_in_finally_free_try": (idioms.return_in_finally_free_try, (QUESTION,)),
    "return_in_try_under_if": (idioms.return_in_try_under_if, (QUESTION, True)),
    "return_in_try_under_if_fails": (idioms.return_in_try_under_if, ("FAIL", True)),
    "return_in_try_under_if_plain": (idioms.return_in_try_under_if, (QUESTION, False)),
    "first_answer_that_works": (idioms.first_answer_that_works, (["FAIL a", "b", "c"],)),
    "first_answer_that_works_none": (idioms.first_answer_that_works, (["FAIL a", "FAIL b"],)),
    "first_answer_that_works_empty": (idioms.first_answer_that_works, ([],)),
    "first_score_that_parses": (idioms.first_score_that_parses, (["zz", "a", "b", "c", "d"],)),
    "first_score_that_parses_outage": (idioms.first_score_that_parses, (["FAIL x", "a"],)),
    "retry_while_failing": (idioms.retry_while_failing, ("FAILFAIL why", 3)),
    "retry_while_failing_gives_up": (idioms.retry_while_failing, ("FAILFAILFAIL why", 2)),
    # functools.partial of a primitive or helper
    "partial_llm": (idioms.partial_llm, (QUESTION,)),
    "partial_llm_in_gather": (idioms.partial_llm_in_gather, (QUESTION,)),
    "partial_helper_per_doc": (idioms.partial_helper_per_doc, (DOCS,)),
    # gather over map / a generator
    "gather_map_helper": (idioms.gather_map_helper, (DOCS,)),
    "gather_map_helper_empty": (idioms.gather_map_helper, ([],)),
    "gather_generator_helper": (idioms.gather_generator_helper, (DOCS,)),
    "gather_generator_filtered": (idioms.gather_generator_filtered, (QUESTION, ["", *DOCS, ""])),
    "gather_map_partial": (idioms.gather_map_partial, (DOCS,)),
    "gather_generator_then_loop": (idioms.gather_generator_then_loop, (QUESTION, DOCS)),
}


def engines(seed: int | None) -> list[Any]:
    """The differential test's scripted engines, with an LLM that fails prompts holding FAIL."""
    rnd = random.Random(seed)

    def lat() -> float:
        return 0.0 if seed is None else rnd.uniform(0, 0.002)

    return [
        ScriptedLLM(
            "llm",
            respond,
            decode_s_per_step=lat(),
            prefill_s_per_token=lat() / 50,
            fail=lambda prompt: "FAIL" in prompt,
        ),
        ScriptedEmbedder("embed"),
        corpus_store(),
        ScriptedReranker("rerank"),
    ]


async def run_modes(
    wf: Any, args: Sequence[Any], seed: int | None, pass_sets: Sequence[Sequence[Any]]
) -> list[tuple[str, Any]]:
    """``(mode, result)`` for eager, the in-order interpreter and the runtime under each pass set;
    an error counts as the result ``("raised", type, message)`` of its innermost cause."""
    results: list[tuple[str, Any]] = []

    async def in_runtime(label: str, fn: Callable[[Any], Any]) -> None:
        async with ayo.Runtime(engines=engines(seed), batching=False, retries=0) as rt:
            try:
                results.append((label, await fn(rt)))
            except Exception as e:
                while e.__cause__ is not None:
                    e = e.__cause__  # type: ignore[assignment]
                results.append((label, ("raised", type(e).__name__, str(e))))

    traced = wf.graph(*args)
    statics = [isinstance(a, bool | int | float | type(None)) for a in args]
    inputs = {
        n.attrs["name"]: a
        for n, a in zip(traced.inputs, [a for a, s in zip(args, statics, strict=True) if not s], strict=True)
    }
    await in_runtime("eager", lambda rt: wf.eager(*args))
    await in_runtime("in-order interpreter", lambda rt: interpret(rt, traced, inputs))
    for passes in pass_sets:
        graph = run_passes(traced, passes)
        graph.lint()
        names = "+".join(p.name for p in passes) or "traced"
        await in_runtime(names, lambda rt, g=graph: rt.run(g, inputs))
    return results


def breaks(graph: Graph) -> list[str]:
    return [f"%{n.name}: {n.attrs.get('reason')}" for n in graph.walk() if n.op == "break"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_traces_whole(name: str) -> None:
    wf, args = CASES[name]
    graph = wf.graph(*args)
    graph.lint()
    assert breaks(graph) == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_eager_equals_traced_under_every_pass_subset(name: str) -> None:
    wf, args = CASES[name]
    results = run_in_new_loop(run_modes, wf, args, 11, ALL_SUBSETS)
    assert len(results) == len(ALL_SUBSETS) + 2
    assert not any(isinstance(v, tuple) and v[:1] == ("raised",) for _, v in results[:1]), results[0]
    assert_all_equal(results)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=control_programs, seed=st.integers(0, 2**16), subset=st.sampled_from(ALL_SUBSETS))
def test_random_control_programs_trace_whole_and_equal_eager(
    spec: Any, seed: int, subset: list[Any], tmp_path: Path
) -> None:
    module = load(program_source(spec), tmp_path)
    assert breaks(module.program.graph(QUESTION, DOCS)) == []
    results = run_in_new_loop(
        run_modes, module.program, (QUESTION, DOCS), seed, [[], subset, list(DEFAULT_PASSES)]
    )
    assert_all_equal(results)
