"""The pass manager: order, copies, linting after every pass, errors naming the pass, explain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pytest

from ayo_trace.errors import PassError
from ayo_trace.ir import Graph
from ayo_trace.passes import (
    DEFAULT_PASSES,
    PASS_NAMES,
    DecomposeStages,
    EngineProfile,
    PassResult,
    explain,
    run_passes,
)

from . import shapes


@dataclass(frozen=True)
class Raises:
    name: ClassVar[str] = "raises"

    def __call__(self, graph: Graph) -> PassResult:
        raise ValueError("boom")


@dataclass(frozen=True)
class BreaksLint:
    """Marks an arg as streamed although its producer does not stream."""

    name: ClassVar[str] = "breaks_lint"

    def __call__(self, graph: Graph) -> PassResult:
        out = graph.output
        out.attrs["stream_args"] = (0,)
        return PassResult(graph, True)


@dataclass(frozen=True)
class ReturnsNothing:
    name: ClassVar[str] = "returns_nothing"

    def __call__(self, graph: Graph) -> PassResult:
        return None  # type: ignore[return-value]


def test_default_passes_follow_the_conventions_order() -> None:
    assert PASS_NAMES == (
        "lower",
        "prune_dependencies",
        "decompose_stages",
        "split_prefill",
        "pipeline_decode",
    )
    assert tuple(p.name for p in DEFAULT_PASSES) == PASS_NAMES


def test_no_passes_returns_an_equal_copy() -> None:
    graph = shapes.naive_rag()
    out = run_passes(graph, [])
    assert out is not graph
    assert str(out) == str(graph)
    assert all(a is not b for a, b in zip(out.nodes, graph.nodes, strict=True))


@pytest.mark.parametrize("shape", sorted(shapes.SHAPES))
def test_run_passes_does_not_mutate_its_input(shape: str) -> None:
    graph = shapes.SHAPES[shape]()
    text, as_json = str(graph), graph.to_json()
    run_passes(graph, DEFAULT_PASSES)
    assert str(graph) == text
    assert graph.to_json() == as_json


@pytest.mark.parametrize("shape", sorted(shapes.SHAPES))
def test_pipeline_is_idempotent(shape: str) -> None:
    once = run_passes(shapes.SHAPES[shape](), DEFAULT_PASSES)
    assert str(run_passes(once, DEFAULT_PASSES)) == str(once)
    for p in DEFAULT_PASSES:
        assert not p(once.copy()).changed, p.name


@pytest.mark.parametrize("shape", sorted(shapes.SHAPES))
def test_every_intermediate_graph_lints(shape: str) -> None:
    graph = shapes.SHAPES[shape]()
    for p in DEFAULT_PASSES:
        graph = p(graph).graph
        graph.lint()


def test_a_pass_that_raises_is_a_pass_error_naming_it() -> None:
    with pytest.raises(PassError, match="pass 'raises': raised ValueError: boom") as info:
        run_passes(shapes.single_llm(), [DEFAULT_PASSES[0], Raises()])
    assert info.value.pass_name == "raises"
    assert isinstance(info.value.__cause__, ValueError)


def test_a_pass_that_breaks_an_invariant_is_a_pass_error_naming_it() -> None:
    with pytest.raises(PassError, match="pass 'breaks_lint': produced a graph that does not lint") as info:
        run_passes(shapes.single_llm(), [BreaksLint(), *DEFAULT_PASSES])
    assert info.value.pass_name == "breaks_lint"
    assert "streams arg %answer, which does not stream" in str(info.value)


def test_a_pass_must_return_a_pass_result() -> None:
    with pytest.raises(PassError, match=r"returns_nothing.*not a PassResult"):
        run_passes(shapes.single_llm(), [ReturnsNothing()])


def test_run_passes_hands_its_profiles_to_passes_without_their_own() -> None:
    # no fixed cost per embedding call (the knee is 1) and a slow index (50 ms a row): chunking pays
    profiles = {
        "embedding": EngineProfile("embedding", per_item_s=0.004, per_token_s=0.0001),
        "vector_store": EngineProfile("vector_store", fixed_s=0.003, per_item_s=0.05),
    }
    default = run_passes(shapes.naive_rag(), DEFAULT_PASSES)
    tuned = run_passes(shapes.naive_rag(), DEFAULT_PASSES, profiles=profiles)
    assert "chunk=" not in str(default)
    assert "%ingest = db_insert(%docs, stream %ingest_embed, collection='docs', chunk=1)" in str(tuned)
    own = run_passes(shapes.naive_rag(), [DEFAULT_PASSES[0], DecomposeStages(chunk=2)], profiles=profiles)
    assert "%ingest_embed = embed(%docs, stream, chunk=2)" in str(own)


def test_explain_shows_each_changing_pass_and_the_critical_paths() -> None:
    graph = shapes.query_expansion()
    text = explain(graph, DEFAULT_PASSES)
    lines = text.splitlines()
    assert lines[0].startswith("estimated critical path before: ")
    assert lines[-1].startswith("estimated critical path after: ")
    for name in PASS_NAMES:
        assert f"== {name}" in text
    assert "== prune_dependencies: no change" in text
    assert (
        '-  %queries = llm(f"Write three search queries about: {%question}\\n", max_tokens=48, parse=lines)  # wf.py:2'
        in lines
    )
    assert "+  %results = map(stream %queries) {  # wf.py:3" in lines
    before = float(lines[0].split(": ")[1].split(" s")[0])
    after = float(lines[-1].split(": ")[1].split(" s")[0])
    assert after < before
    assert str(graph) == str(shapes.query_expansion())
