"""A primitive added by one spec entry and one engine method (issue 16): a ``classify`` op (text →
a label from a fixed set) served by an engine of a new kind. Registered here, it traces, lowers,
costs, schedules (batched across concurrent calls), runs eagerly, in order and optimized with the
same results, and prints."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import anyio
import anyio.lowlevel
import pytest

import ayo_trace as ayo
from ayo_trace.backend import Runtime
from ayo_trace.backend.engines.base import Engine
from ayo_trace.backend.interpreter import interpret
from ayo_trace.errors import InvalidParams, TraceError
from ayo_trace.ir import Graph, Node, Param, PrimitiveSpec, primitive_spec, unregister_primitive
from ayo_trace.passes import DEFAULT_PASSES, run_passes
from ayo_trace.testing import scripted_engines

pytestmark = pytest.mark.anyio

LABELS = ("praise", "complaint")
CLASSIFY_S = 0.25  # the cost hook's estimate of one batch


def _labels(value: Any) -> tuple[str, ...]:
    labels = tuple(value)
    if not labels or not all(isinstance(x, str) and x for x in labels):
        raise ValueError(f"labels must be a non-empty list of non-empty strings, got {value!r}")
    return labels


CLASSIFY = PrimitiveSpec(
    name="classify",
    params=(Param("text", "data"), Param("labels", "static"), Param("engine", "static", None)),
    engine_kind="classifier",
    engine_method="classify",
    attrs=lambda st: {**st, "labels": _labels(st["labels"])},
    cost=lambda model, node, fanout: CLASSIFY_S,
)

classify = ayo.register_primitive(CLASSIFY)


@pytest.fixture(scope="module", autouse=True)
def _unregister_at_the_end() -> Iterator[None]:
    yield
    unregister_primitive("classify")


class Classifier(Engine):
    """The one engine method: a batch of requests (each a mapping of the spec's arguments) to one
    label each."""

    kind = "classifier"

    def __init__(self, name: str = "classify") -> None:
        super().__init__(name)
        self.batches: list[int] = []

    async def classify(self, batch: Sequence[Mapping[str, Any]]) -> list[str]:
        self.batches.append(len(batch))
        await anyio.lowlevel.checkpoint()
        return [r["labels"][0] if "love" in r["text"] else r["labels"][1] for r in batch]


@ayo.workflow
async def triage(review: str) -> str:
    label = await classify(review, labels=LABELS)
    return await ayo.llm(f"Review ({label}): {review}\nReply:", max_tokens=8)


@ayo.workflow
async def triage_all(reviews: list[str]) -> list[str]:
    return [await classify(r, labels=LABELS) for r in reviews]


REVIEWS = ["I love it", "it broke", "love the colour", "late and broken", "love love love"]


@pytest.fixture
async def rt() -> Any:
    classifier = Classifier()
    async with Runtime(engines=[*scripted_engines(), classifier]) as runtime:
        runtime.classifier = classifier  # type: ignore[attr-defined]
        yield runtime


def test_the_spec_is_registered_and_the_graph_knows_its_op() -> None:
    assert primitive_spec("classify") is CLASSIFY
    g = Graph("g")
    x = g.add("input", (), {"name": "x"})
    node = g.add("classify", (x,), {"labels": LABELS, "engine": None})
    g.add("output", (node,))
    g.lint()


def test_it_traces_to_a_node_that_prints_with_its_line() -> None:
    graph = triage.graph("I love it")
    (node,) = [n for n in graph.nodes if n.op == "classify"]
    assert node.attrs["labels"] == LABELS
    assert [a.op for a in node.args] == ["input"]
    assert f"%label = classify(%review, labels={LABELS!r})  # test_new_primitive.py:" in str(graph)


def test_a_bad_static_argument_is_a_trace_error_at_the_users_line() -> None:
    @ayo.workflow
    async def bad(review: str) -> str:
        return await classify(review, labels=[])

    with pytest.raises(TraceError, match="labels must be a non-empty list") as info:
        bad.graph("x")
    assert info.value.loc is not None and info.value.loc.line > 0


def test_lowering_keeps_it_and_the_cost_model_reads_its_hook() -> None:
    graph = run_passes(triage.graph("I love it"), DEFAULT_PASSES)
    node = graph.find("label")
    assert node.op == "classify"  # its spec lowers it to nothing: it runs as it is
    assert node.meta["cost"] == pytest.approx(CLASSIFY_S)
    after = max(u.meta["remaining"] for u in node.users)  # the prompt part that reads the label
    assert {u.op for u in node.users} == {"llm_prefill"}
    assert node.meta["remaining"] == pytest.approx(CLASSIFY_S + after)
    assert graph.find("review").meta["remaining"] == pytest.approx(node.meta["remaining"])


def _node(graph: Graph, op: str) -> Node:
    return next(n for n in graph.walk() if n.op == op)


async def test_eager_in_order_and_optimized_compute_the_same(rt: Runtime) -> None:
    for review in REVIEWS[:2]:
        eager = await triage.eager(review)
        optimized = await triage(review)
        in_order = await interpret(rt, triage.graph(review), {"review": review})
        assert eager == optimized == in_order
    assert await classify("I love it", labels=LABELS) == "praise"
    assert await triage_all.eager(REVIEWS) == await triage_all(REVIEWS)
    assert await triage_all(REVIEWS) == ["praise", "complaint", "praise", "complaint", "praise"]


async def test_its_requests_go_through_the_engine_scheduler_and_are_batched(rt: Runtime) -> None:
    classifier: Classifier = rt.classifier  # type: ignore[attr-defined]
    optimized = triage_all.graph(REVIEWS, optimized=True)
    assert _node(optimized, "map").attrs.get("concurrency") is None  # items run at once
    await triage_all(REVIEWS)
    assert sum(classifier.batches) == len(REVIEWS)
    assert max(classifier.batches) > 1  # concurrent items share engine calls
    stats = rt.stats()["engines"]["classify"]
    assert stats["kind"] == "classifier"
    assert stats["requests"] == {"classify": len(REVIEWS)}
    assert stats["batches"]["classify"] == len(classifier.batches)


async def test_an_eager_call_checks_its_static_arguments_as_the_tracer_does(rt: Runtime) -> None:
    with pytest.raises(InvalidParams, match="labels must be a non-empty list"):
        await classify("I love it", labels=[])
    assert rt.classifier.batches == []  # type: ignore[attr-defined]  # refused before any request


def test_a_graph_with_it_round_trips_through_json() -> None:
    graph = triage.graph("I love it")
    assert str(Graph.from_json(graph.to_json(), trusted=True)) == str(graph)
