"""On the real llama.cpp engine (the shipped base model, constrained by the grammar of the schema):
the items of a structured answer's list stream out while it is decoded, as ``item`` events of
``wf.stream``, equal to the items of the validated result; with ``parse=list[...]``, and with a
model whose list field a loop reads (``for p in facts.landmarks``), the loop starts each item's body
as soon as the item is decoded, before the list's decode ends. Batching off (exact outputs)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field

import ayo_trace as ayo
from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine
from ayo_trace.backend.events import Item, NodeFinished, NodeStarted, Result, Token

pytestmark = [pytest.mark.real, pytest.mark.anyio]

Short = Annotated[str, Field(max_length=16)]
Landmarks = Annotated[list[Short], Field(min_length=2, max_length=3)]


class Facts(BaseModel):
    city: Short
    landmarks: Landmarks


FEW_SHOT = (
    "Text: Rome, the capital of Italy, is known for the Colosseum and the Pantheon.\n"
    'JSON: {"city": "Rome", "landmarks": ["Colosseum", "Pantheon"]}\n'
)
LIST_SHOT = (
    "Text: Rome, the capital of Italy, is known for the Colosseum and the Pantheon.\n"
    'Landmarks: ["Colosseum", "Pantheon"]\n'
)
TEXT = "Paris, the capital of France, is known for the Eiffel Tower and the Louvre."


@ayo.workflow
async def facts(text: str) -> Facts:
    return await ayo.llm(f"{FEW_SHOT}Text: {text}\nJSON:", parse=Facts, max_tokens=60)


@ayo.workflow
async def visit(text: str) -> list[str]:
    places = await ayo.llm(
        f"{LIST_SHOT}Text: {text}\nLandmarks:", parse=Landmarks, max_tokens=40, stream=True
    )
    return [await ayo.llm(f"Q: Where is the {p}?\nA: In", max_tokens=3, stop="\n") for p in places]


@ayo.workflow
async def visit_facts(text: str) -> list[str]:
    found = await ayo.llm(f"{FEW_SHOT}Text: {text}\nJSON:", parse=Facts, max_tokens=60)
    return [await ayo.llm(f"Q: Where is the {p}?\nA: In", max_tokens=3, stop="\n") for p in found.landmarks]


@pytest.fixture
async def rt(llama_engine: LlamaCppEngine) -> AsyncIterator[ayo.Runtime]:
    async with ayo.Runtime([llama_engine], batching=False, decode_steps=1) as runtime:
        yield runtime
    assert llama_engine.stats()["sessions"] == 0


async def events_of(stream: AsyncIterator[Any]) -> list[Any]:
    return [e async for e in stream]


async def test_a_models_list_field_streams_its_items_during_the_decode(rt: ayo.Runtime) -> None:
    events = await events_of(facts.stream(TEXT))
    result = events[-1]
    assert isinstance(result, Result) and isinstance(result.value, Facts)
    items = [e for e in events if isinstance(e, Item)]
    assert [(i.field, i.value) for i in items] == [("landmarks", v) for v in result.value.landmarks]
    last_token = max(i for i, e in enumerate(events) if isinstance(e, Token))
    assert events.index(items[0]) < last_token, "the first landmark came while the rest was decoded"
    with ayo.eager():
        assert await facts(TEXT) == result.value


async def test_a_list_streams_each_item_into_the_loop_before_its_decode_ends(rt: ayo.Runtime) -> None:
    events = await events_of(visit.stream(TEXT))
    result = events[-1]
    assert isinstance(result, Result) and len(result.value) >= 2
    items = [e.value for e in events if isinstance(e, Item)]
    assert 2 <= len(items) <= 3 and all(isinstance(v, str) and v for v in items)
    decoded = next(i for i, e in enumerate(events) if isinstance(e, NodeFinished) and e.node == "places")
    first_body = next(
        i
        for i, e in enumerate(events)
        if isinstance(e, NodeStarted) and e.op == "llm_prefill" and e.scope.endswith("[0]")
    )
    first_item = next(i for i, e in enumerate(events) if isinstance(e, Item))
    # the first item's body began as soon as the item was decoded (its prefill then queues at the
    # engine, behind the list's decode, which is on the critical path)
    assert first_item < first_body < decoded
    with ayo.eager():
        assert await visit(TEXT) == result.value


async def test_a_loop_over_a_models_list_field_starts_each_item_before_its_decode_ends(
    rt: ayo.Runtime,
) -> None:
    graph = visit_facts.graph(TEXT, optimized=True)
    assert "stream_field='landmarks'" in str(graph)
    events = await events_of(visit_facts.stream(TEXT))
    result = events[-1]
    assert isinstance(result, Result) and len(result.value) >= 2
    decoded = next(
        i
        for i, e in enumerate(events)
        if isinstance(e, NodeFinished) and e.node == "found" and "/" not in e.scope
    )
    first_body = next(
        i
        for i, e in enumerate(events)
        if isinstance(e, NodeStarted) and e.op == "llm_prefill" and e.scope.endswith("[0]")
    )
    assert first_body < decoded, "the first landmark's question began while the rest was decoded"
    with ayo.eager():
        assert await visit_facts(TEXT) == result.value
