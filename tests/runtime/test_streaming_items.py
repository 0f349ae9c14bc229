"""Items of a parsed LLM output reach ``wf.stream`` (``Item`` events) and the map over them while
the output is still being decoded: a model's list fields (``parse=Plan``), a list of models
(``parse=list[Step]``, which decode pipelining streams into a map), and ``ayo.lines``. Scripted
engines, one token per decode round; what was open when is read from the engine's sessions, not
from a clock."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import BaseModel

import ayo_trace as ayo
from ayo_trace.backend import Runtime
from ayo_trace.backend.events import Item, NodeFinished, NodeStarted, Result, Token
from ayo_trace.errors import OutputError
from ayo_trace.testing import ScriptedLLM

pytestmark = pytest.mark.anyio


class Step(BaseModel):
    name: str
    minutes: int


class Plan(BaseModel):
    title: str
    steps: list[Step]
    tags: list[str]


STEPS = [
    Step(name="boil water", minutes=5),
    Step(name="steep the tea", minutes=3),
    Step(name="pour", minutes=1),
]
PLAN = Plan(title="Tea", steps=STEPS, tags=["hot", "drink"])
PLAN_JSON = (
    ' {"title": "Tea", "steps": '
    + json.dumps([s.model_dump() for s in STEPS])
    + ', "tags": ["hot", "drink"]}'
)
LIST_JSON = " Steps: " + json.dumps([s.model_dump() for s in STEPS]) + " done"


def respond(prompt: str) -> str:
    if prompt.startswith("Plan"):
        return PLAN_JSON
    if prompt.startswith("Steps"):
        return LIST_JSON
    if prompt.startswith("Lines"):
        return " first\n- second\n3. third\n"
    return f" did {prompt.split(': ', 1)[1].strip()}"


@ayo.workflow
async def plan(goal: str) -> Plan:
    return await ayo.llm(f"Plan for {goal}:", parse=Plan, max_tokens=200)


@ayo.workflow
async def do_steps(goal: str) -> list[str]:
    steps = await ayo.llm(f"Steps for {goal}:", parse=list[Step], max_tokens=200, stream=True)
    return [await ayo.llm(f"Do: {s.name}\n", max_tokens=8) for s in steps]


@ayo.workflow
async def lines(goal: str) -> list[str]:
    return await ayo.llm(f"Lines for {goal}:", parse=ayo.lines, max_tokens=64)


@pytest.fixture
async def setup() -> AsyncIterator[tuple[Runtime, ScriptedLLM]]:
    llm = ScriptedLLM("llm", respond)
    async with Runtime(engines=[llm], batching=False, decode_steps=1) as rt:
        yield rt, llm
    assert llm.sessions == {}, "every LLM session is released"


async def collect(stream: AsyncIterator[Any]) -> list[Any]:
    return [e async for e in stream]


@pytest.mark.parametrize("eager", [False, True])
async def test_a_models_list_fields_stream_their_items_while_it_is_decoded(
    setup: tuple[Runtime, ScriptedLLM], eager: bool
) -> None:
    if eager:
        with ayo.eager():
            events = await collect(plan.stream("tea"))
    else:
        events = await collect(plan.stream("tea"))
    items = [e for e in events if isinstance(e, Item)]
    assert [(i.field, i.index, i.value) for i in items] == [
        *(("steps", k, s) for k, s in enumerate(STEPS)),
        ("tags", 0, "hot"),
        ("tags", 1, "drink"),
    ]
    assert events[-1] == Result(PLAN)
    tokens = [i for i, e in enumerate(events) if isinstance(e, Token)]
    first_item = events.index(items[0])
    assert tokens[0] < first_item < tokens[-1], "the first step arrived while the rest was being decoded"
    # each item comes right after the token that closed it: the text so far holds the whole item
    for item in items:
        text = "".join(e.text for e in events[: events.index(item)] if isinstance(e, Token))
        assert json.dumps(item.value.model_dump() if item.field == "steps" else item.value) in text
    if not eager:
        finished = next(
            i for i, e in enumerate(events) if isinstance(e, NodeFinished) and e.op == "llm_decode"
        )
        assert events.index(items[-1]) < finished
        assert {i.node for i in items} == {events[finished].node}
    else:
        assert {i.node for i in items} == {None}


async def test_a_list_of_models_streams_each_item_into_the_map_before_the_decode_ends(
    setup: tuple[Runtime, ScriptedLLM],
) -> None:
    setup[1].decode_s_per_step = 0.002  # decode rounds take time, so the map's items can start meanwhile
    graph = do_steps.graph("tea", optimized=True)
    assert "map(stream %steps)" in str(graph) and "parse=list[Step], stream)" in str(graph)
    events = await collect(do_steps.stream("tea"))
    expected = [f" did {s.name}" for s in STEPS]
    assert events[-1] == Result(expected)
    assert [e.value for e in events if isinstance(e, Item)] == STEPS
    # the first step's body began as soon as the step was decoded, while the list still was
    decoded = next(i for i, e in enumerate(events) if isinstance(e, NodeFinished) and e.node == "steps")
    first_body = next(
        i
        for i, e in enumerate(events)
        if isinstance(e, NodeStarted) and e.op == "llm_prefill" and e.scope.endswith("[0]")
    )
    first_item = next(i for i, e in enumerate(events) if isinstance(e, Item))
    assert first_item < first_body < decoded
    with ayo.eager():
        assert await do_steps("tea") == expected


async def test_lines_stream_as_item_events(setup: tuple[Runtime, ScriptedLLM]) -> None:
    events = await collect(lines.stream("x"))
    assert [(e.field, e.index, e.value) for e in events if isinstance(e, Item)] == [
        (None, 0, "first"),
        (None, 1, "second"),
        (None, 2, "third"),
    ]
    assert events[-1] == Result(["first", "second", "third"])


async def test_a_call_that_is_not_an_answer_streams_no_items(setup: tuple[Runtime, ScriptedLLM]) -> None:
    @ayo.workflow
    async def count(goal: str) -> int:
        p = await ayo.llm(f"Plan for {goal}:", parse=Plan, max_tokens=200)
        return len(p.steps)

    events = await collect(count.stream("tea"))
    assert not any(isinstance(e, Item | Token) for e in events)
    assert events[-1] == Result(3)


async def test_an_item_that_is_not_valid_fails_the_call_naming_the_field(
    setup: tuple[Runtime, ScriptedLLM],
) -> None:
    rt, _ = setup

    class Strict(BaseModel):
        steps: list[int]

    params = ayo.SamplingParams(max_tokens=200)
    with pytest.raises(OutputError, match=r"not a valid Strict\.steps"):
        await rt.llm("Plan for x:", params, parse=ayo_parser(Strict))
    with pytest.raises(OutputError, match=r"not a valid item of list\[int\]"):
        await rt.llm("Steps for x:", params, parse=ayo_parser(list[int]))


def ayo_parser(model: Any) -> Any:
    from ayo_trace.ir.parsers import output_parser

    return output_parser(model)
