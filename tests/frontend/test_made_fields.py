"""The constant fields of an object the workflow makes (``rag = RAG("kb1", k=3)``, a frozen
dataclass of settings) are graph constants of the calls that read them (``collection=
self.collection``, ``max_tokens=s.tokens``): traced, where they were a graph break, and eager ≡
traced ≡ optimized. A field set again anywhere in the module, made of run-time values, or by an
``__init__`` calling a function, stays a graph break that answers as eager."""

from __future__ import annotations

from typing import Any

import pytest

from . import made_field_shapes as m
from .test_run_time_constants import three_ways

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("wf", m.CASES, ids=[wf.fn.__name__ for wf in m.CASES])
@pytest.mark.parametrize("question", ["what is q", "q1"])
async def test_constant_fields_of_a_made_object_are_graph_constants(wf: Any, question: str) -> None:
    graph = wf.graph(question)
    assert [n.attrs["reason"] for n in graph.walk() if n.op == "break"] == []
    eager, plain, optimized = await three_ways(wf, (question,))
    assert eager == plain == optimized


def test_the_constants_are_the_fields_values() -> None:
    graph = m.rag_made_here.graph("q")
    search = next(n for n in graph.walk() if n.op == "search")
    llm = next(n for n in graph.walk() if n.op == "llm")
    assert (search.attrs["params"].collection, search.attrs["params"].top_k) == ("kb1", 3)
    assert llm.attrs["sampling"].max_tokens == 4


@pytest.mark.parametrize("wf", m.AS_WRITTEN, ids=[wf.fn.__name__ for wf in m.AS_WRITTEN])
@pytest.mark.parametrize("question", ["what is q", "q1"])
async def test_fields_not_known_at_trace_time_run_as_written(wf: Any, question: str) -> None:
    graph = wf.graph(question)
    assert [n for n in graph.walk() if n.op == "break"]  # the call reading the field
    eager, plain, optimized = await three_ways(wf, (question,))
    assert eager == plain == optimized
