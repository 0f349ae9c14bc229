"""The central oracle: eager ≡ traced ≡ optimized, on random programs and on every named shape.

Programs run on scripted engines (deterministic outputs, here with random latencies so the
concurrent runtime really interleaves) with cross-request batching off. Each mode gets fresh engines,
so one run's inserts never leak into another's searches.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ayo_trace as ayo
from ayo_trace.backend.interpreter import interpret
from ayo_trace.passes import DEFAULT_PASSES, run_passes
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore
from tests.util import run_in_new_loop

from . import shapes
from .programs import load, program_source, programs

QUESTION = "how do generators work"
DOCS = ["generators yield values lazily", "lists hold values", "coroutines await other coroutines"]


def respond(prompt: str) -> str:
    h = hashlib.sha1(prompt.encode()).hexdigest()
    return f" {h[:4]} yields\n- {h[4:8]} lists\n{h[8:12]} await\n"


# Every collection the corpus searches, there (empty) from the start: a search of a collection never
# created raises UnknownCollection, and the corpus's programs search some before (or without) ingesting.
CORPUS_COLLECTIONS = (
    "agent_docs",
    "agent_kb",
    "answer_k",
    "audit",
    "budgeted",
    "dataflow",
    "early",
    "growing",
    "guard",
    "helpers",
    "kb",
    "kb_other",
    "log",
    "loop_kb",
    "notes",
    "rounds_kb",
    "router_docs",
    "settings",
    "zero_k",
)


def corpus_store() -> ScriptedStore:
    store = ScriptedStore("store")
    for name in CORPUS_COLLECTIONS:
        store.collections[name] = []
    return store


def engines(seed: int | None) -> list[Any]:
    rnd = random.Random(seed)

    def lat() -> float:
        return 0.0 if seed is None else rnd.uniform(0, 0.002)

    return [
        ScriptedLLM("llm", respond, decode_s_per_step=lat(), prefill_s_per_token=lat() / 50),
        ScriptedEmbedder("embed"),
        corpus_store(),
        ScriptedReranker("rerank"),
    ]


async def run_modes(
    wf: Any, args: Sequence[Any], seed: int | None, pass_sets: Sequence[Sequence[Any]]
) -> list[tuple[str, Any]]:
    traced = wf.graph(*args)
    inputs = {
        n.attrs["name"]: a for n, a in zip(traced.inputs, [a for a in args if not _static(a)], strict=True)
    }
    return await run_every_mode(lambda: wf.eager(*args), traced, inputs, seed, pass_sets)


async def run_every_mode(
    eager: Callable[[], Any],
    traced: Any,
    inputs: dict[str, Any],
    seed: int | None,
    pass_sets: Sequence[Sequence[Any]],
) -> list[tuple[str, Any]]:
    """The result (or the user error) of ``eager()``, of the traced graph in the in-order interpreter,
    and of the graph after each of ``pass_sets``, each on fresh scripted engines, unbatched."""
    results: list[tuple[str, Any]] = []

    async def in_runtime(label: str, fn: Callable[[Any], Any]) -> None:
        async with ayo.Runtime(engines=engines(seed), batching=False) as rt:
            try:
                results.append((label, await fn(rt)))
            except Exception as e:  # the same user error must surface in every mode
                while e.__cause__ is not None:
                    e = e.__cause__  # type: ignore[assignment]
                results.append((label, ("raised", type(e).__name__, str(e))))

    await in_runtime("eager", lambda rt: eager())
    await in_runtime("in-order interpreter", lambda rt: interpret(rt, traced, inputs))
    for passes in pass_sets:
        graph = run_passes(traced, passes)
        names = "+".join(p.name for p in passes) or "traced"
        await in_runtime(names, lambda rt, g=graph: rt.run(g, inputs))
    return results


def _static(value: Any) -> bool:
    return isinstance(value, bool | int | float | type(None))


def assert_all_equal(results: list[tuple[str, Any]]) -> None:
    reference_label, reference = results[0]
    for label, value in results[1:]:
        assert value == reference, f"{label} differs from {reference_label}:\n{value!r}\n!=\n{reference!r}"


ALL_SUBSETS = [
    list(c) for r in range(len(DEFAULT_PASSES) + 1) for c in itertools.combinations(DEFAULT_PASSES, r)
]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=programs, seed=st.integers(0, 2**16), subset=st.sampled_from(ALL_SUBSETS))
def test_random_programs_traced_equals_eager(spec: Any, seed: int, subset: list[Any], tmp_path: Path) -> None:
    module = load(program_source(spec), tmp_path)
    graph = module.program.graph(QUESTION, DOCS)
    assert [n.attrs.get("reason") for n in graph.walk() if n.op == "break"] == []  # every kind traces whole
    results = run_in_new_loop(
        run_modes, module.program, (QUESTION, DOCS), seed, [[], subset, list(DEFAULT_PASSES)]
    )
    assert_all_equal(results)


SHAPES = {
    "answer": (shapes.answer, (QUESTION, DOCS)),
    "naive_rag": (shapes.naive_rag, (QUESTION, DOCS)),
    "query_expansion": (shapes.query_expansion, (QUESTION,)),
    "independent_branches": (shapes.independent_branches, (QUESTION,)),
    "map_passages": (shapes.map_passages, (DOCS,)),
    "nested": (shapes.nested, (QUESTION,)),
    "conditional": (shapes.conditional, (QUESTION,)),
    "static_flags": (shapes.static_flags, (QUESTION, 1, False)),
    "two_collections": (shapes.two_collections, (QUESTION, DOCS[:2], DOCS[2:])),
    "string_glue": (shapes.string_glue, ("generators", "beginners")),
    "helpers": (shapes.helpers, (QUESTION, DOCS)),
    "loop_append": (shapes.loop_append, (DOCS,)),
    "expand_until_long": (shapes.expand_until_long, ("short",)),
    "embed_similarity": (shapes.embed_similarity, ("a cat", "a dog")),
    "marked_static": (shapes.marked_static, (QUESTION,)),
    "early_return": (shapes.early_return, (QUESTION,)),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_shape_under_every_pass_subset(name: str) -> None:
    wf, args = SHAPES[name]
    results = run_in_new_loop(run_modes, wf, args, 7, ALL_SUBSETS)
    assert_all_equal(results)


@pytest.mark.parametrize("pick", range(8))
def test_a_loop_reading_the_list_it_appends_to_is_not_a_map(pick: int, tmp_path: Path) -> None:
    """Each iteration sees what the earlier ones appended (a chat history in the prompt, ``len(acc)``,
    through a closure or a name sharing the list, in the append's own argument): the loop carries the
    list from iteration to iteration instead of running its items as independent ``map`` items."""
    module = load(program_source([("reads_acc_loop", pick, 0)]), tmp_path)
    graph = module.program.graph(QUESTION, DOCS)
    assert [n.op for n in graph.walk() if n.op in ("map", "loop", "break")] == ["loop"]
    results = run_in_new_loop(run_modes, module.program, (QUESTION, DOCS), pick, [[], list(DEFAULT_PASSES)])
    assert_all_equal(results)


def test_a_loop_that_only_appends_stays_a_map(tmp_path: Path) -> None:
    module = load(program_source([("loop", 0, 0)]), tmp_path)
    assert [n.op for n in module.program.graph(QUESTION, DOCS).walk() if n.op in ("map", "loop")] == ["map"]


@pytest.mark.parametrize("pick", range(3))
def test_module_state_changed_by_the_workflow_or_its_helpers_keeps_program_order(
    pick: int, tmp_path: Path
) -> None:
    """``SEEN.clear()`` then a filter calling a helper that adds to ``SEEN``; a loop appending to a
    module-level list (directly or through a helper) and reading its length: the graph must run these
    in program order, as Python does."""
    module = load(program_source([("global_helper", pick, 0)]), tmp_path)
    results = run_in_new_loop(run_modes, module.program, (QUESTION, DOCS), pick, ALL_SUBSETS)
    assert_all_equal(results)
    # the run above may keep the order by luck: every graph must order the reset before the use
    reset, use = ("SEEN.clear()", "novel(") if pick % 3 == 0 else ("NOTES.clear()", "len(NOTES)")
    for passes in ALL_SUBSETS:
        nodes = list(run_passes(module.program.graph(QUESTION, DOCS), passes).nodes)
        first = next(n for n in nodes if reset in _code(n))
        later = [n for n in nodes if use in _code(n) or (n.op in ("map", "loop") and use in _body_code(n))]
        assert later and all(_reaches(first, n) for n in later), [p.name for p in passes]


def _code(node: Any) -> str:
    code = node.attrs.get("code")
    return code.source if code is not None else ""


def _body_code(node: Any) -> str:
    return "\n".join(_code(n) for n in node.attrs["body"].walk())


def _reaches(src: Any, dst: Any) -> bool:
    """Whether ``dst`` runs after ``src``: a path of data or order edges from ``src`` to it."""
    todo, seen = [dst], set()
    while todo:
        n = todo.pop()
        if n is src:
            return True
        if id(n) in seen:
            continue
        seen.add(id(n))
        todo += [*n.args, *n.after]
    return False
