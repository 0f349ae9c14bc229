"""The IR's graph in two layers (issue 16: no import cycle in the IR): ``structure.BaseGraph`` holds
the nodes and the methods that change them; ``graph.Graph`` adds lint, the text and the exports.
Every graph a node holds is of its graph's class, however it was made (traced, copied, read back)."""

from __future__ import annotations

import pytest

import ayo_trace as ayo
from ayo_trace.errors import GraphError
from ayo_trace.ir import Graph
from ayo_trace.ir.blocks import named_bodies
from ayo_trace.ir.export import from_json, to_json
from ayo_trace.ir.structure import BaseGraph


@ayo.workflow
async def per_item(questions: list[str]) -> list[str]:
    answers = []
    for q in questions:
        if len(q) > 3:
            answers.append(await ayo.llm(f"Q: {q}\nA:", max_tokens=4))
        else:
            answers.append(q)
    return answers


def _bodies(graph: BaseGraph) -> list[BaseGraph]:
    return [body for n in graph.walk() for _, body in named_bodies(n)]


def test_a_traced_graph_s_bodies_are_graphs() -> None:
    graph = per_item.graph(["a question"])
    assert len(_bodies(graph)) == 3  # the loop's body, the branch's two sides
    assert all(type(b) is Graph for b in _bodies(graph))


@pytest.mark.parametrize("how", ["copy", "json"])
def test_a_copied_or_read_back_graph_and_its_bodies_are_graphs(how: str) -> None:
    graph = per_item.graph(["a question"])
    again = graph.copy() if how == "copy" else Graph.from_json(graph.to_json(), trusted=True)
    assert type(again) is Graph and all(type(b) is Graph for b in _bodies(again))
    assert str(again) == str(graph)
    again.lint()


def test_the_exporter_reads_back_graphs_of_the_class_it_is_given() -> None:
    text = to_json(per_item.graph(["a question"]))
    base = from_json(text, BaseGraph, trusted=True)
    assert type(base) is BaseGraph and all(type(b) is BaseGraph for b in _bodies(base))
    assert not hasattr(base, "lint")  # what reads a whole graph is Graph's


def test_lint_prints_the_whole_graph_in_its_error() -> None:
    g = Graph("broken")
    x = g.add("input", attrs={"name": "x"}, name="x")
    g.add("python", [x], {}, name="v")  # no output node
    with pytest.raises(GraphError, match=r"(?s)expected exactly one output node.*graph broken\(x\):"):
        g.lint()


def test_an_unknown_op_is_refused_by_the_structure() -> None:
    with pytest.raises(GraphError, match="unknown op 'nope'"):
        BaseGraph("g").add("nope")
