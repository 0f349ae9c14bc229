"""A loop over a list field of a structured output (``for step in plan.steps`` after
``plan = await ayo.llm(..., parse=Plan)``) is a map whose items start as each item is parsed from
the stream, as with ``parse=list[X]``: a for loop, a comprehension and a gather; nested fields
(``plan.section.items``); several fields each feeding their own loop. Eager ≡ traced ≡ optimized.
A read of a field that is not a list (``plan.title``) waits for the whole parse, and so does a field
whose streamed items could differ from the validated value's. Scripted engines, one token per decode
round; what started when is read from the order of the run's events, not from a clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, field_validator

import ayo_trace as ayo
from ayo_trace.backend import CacheConfig, Runtime
from ayo_trace.backend.events import Item, NodeFinished, NodeStarted, Result
from ayo_trace.backend.graph_scheduler import STREAM_BUFFER
from ayo_trace.backend.interpreter import run_in_order
from ayo_trace.errors import OutputError
from ayo_trace.ir.field_streams import field_read, streamed_field
from ayo_trace.testing import ScriptedLLM
from tests.util import run_in_new_loop

pytestmark = pytest.mark.anyio


class Step(BaseModel):
    name: str
    minutes: int


class Section(BaseModel):
    items: list[str]


class Plan(BaseModel):
    title: str
    steps: list[Step]
    tags: list[str]
    section: Section


PLAN = Plan(
    title="Tea",
    steps=[Step(name="boil", minutes=5), Step(name="steep", minutes=3), Step(name="pour", minutes=1)],
    tags=["hot", "drink"],
    section=Section(items=["cup", "pot", "leaves"]),
)
# more items than a stream edge buffers (STREAM_BUFFER): a stream nobody reads yet blocks the decode
LONG = Plan(
    title="Long",
    steps=[Step(name=f"s{i}", minutes=i) for i in range(STREAM_BUFFER + 6)],
    tags=[f"t{i}" for i in range(STREAM_BUFFER + 6)],
    section=Section(items=[]),
)


def respond(prompt: str) -> str:
    if prompt.startswith("Plan"):
        return " " + json.dumps(PLAN.model_dump())
    if prompt.startswith("Twice plan"):  # json.loads would keep the second, empty, list
        return ' {"title": "T", "steps": [{"name": "a", "minutes": 1}], "steps": [], "tags": [], "section": {"items": []}}'
    if prompt.startswith("Tidy plan"):
        return ' {"title": "T", "tags": [" HOT ", "Tea Time"], "steps": [{"name": " A ", "minutes": 1}]}'
    if prompt.startswith("Long plan"):
        return " " + json.dumps(LONG.model_dump())
    if prompt.startswith("Bad plan"):  # the second step is not a Step
        return ' {"title": "T", "steps": [{"name": "a", "minutes": 1}, {"name": 2}], "tags": [], "section": {"items": []}}'
    return " did " + prompt.split(": ", 1)[1].strip()


@ayo.workflow
async def for_loop(goal: str) -> list[str]:
    plan = await ayo.llm(f"Plan for {goal}:", parse=Plan, max_tokens=300)
    done = []
    for step in plan.steps:
        done.append(await ayo.llm(f"Do: {step.name}\n", max_tokens=8))
    return done


@ayo.workflow
async def comprehension(goal: str) -> list[str]:
    plan = await ayo.llm(f"Plan for {goal}:", parse=Plan, max_tokens=300)
    return [await ayo.llm(f"Do: {step.name}\n", max_tokens=8) for step in plan.steps]


@ayo.workflow
async def gathered(goal: str) -> list[str]:
    plan = await ayo.llm(f"Plan for {goal}:", parse=Plan, max_tokens=300)
    return list(await asyncio.gather(*[ayo.llm(f"Do: {s.name}\n", max_tokens=8) for s in plan.steps]))


@ayo.workflow
async def nested(goal: str) -> list[str]:
    plan = await ayo.llm(f"Plan for {goal}:", parse=Plan, max_tokens=300)
    return [await ayo.llm(f"Fetch: {thing}\n", max_tokens=8) for thing in plan.section.items]


@ayo.workflow
async def bound_first(goal: str) -> list[str]:
    plan = await ayo.llm(f"Plan for {goal}:", parse=Plan, max_tokens=300)
    steps = plan.steps
    return [await ayo.llm(f"Do: {s.name}\n", max_tokens=8) for s in steps]


@ayo.workflow
async def every_field(goal: str) -> tuple[list[str], list[str], list[str], str]:
    plan = await ayo.llm(f"Plan for {goal}:", parse=Plan, max_tokens=300)
    steps = [await ayo.llm(f"Do: {s.name}\n", max_tokens=8) for s in plan.steps]
    tags = [await ayo.llm(f"Tag: {t}\n", max_tokens=8) for t in plan.tags]
    things = [await ayo.llm(f"Fetch: {t}\n", max_tokens=8) for t in plan.section.items]
    title = await ayo.llm(f"Title: {plan.title}\n", max_tokens=8)
    return steps, tags, things, title


LOOPS = {
    for_loop: ("plan.steps", "Do: "),
    comprehension: ("plan.steps", "Do: "),
    gathered: ("plan.steps", "Do: "),
    nested: ("plan.section.items", "Fetch: "),
    bound_first: ("plan.steps", "Do: "),
}


def expected(wf: Any) -> list[str]:
    path, _ = LOOPS[wf]
    items = PLAN.steps if path == "plan.steps" else PLAN.section.items
    return [f" did {getattr(i, 'name', i)}" for i in items]


@pytest.fixture
async def rt() -> AsyncIterator[tuple[Runtime, ScriptedLLM]]:
    llm = ScriptedLLM("llm", respond, decode_s_per_step=0.002)
    async with Runtime(engines=[llm], batching=False, decode_steps=1) as runtime:
        yield runtime, llm
    assert llm.sessions == {}, "every LLM session is released"


async def events_of(stream: AsyncIterator[Any]) -> list[Any]:
    return [e async for e in stream]


def streams(graph: Any) -> bool:
    return any(n.attrs.get("stream") or n.attrs.get("stream_args") for n in graph.walk())


def first_body_prefill(events: list[Any], map_name: str) -> int:
    return next(
        i
        for i, e in enumerate(events)
        if isinstance(e, NodeStarted) and e.op == "llm_prefill" and e.scope.endswith(f"/{map_name}[0]")
    )


def decode_end(events: list[Any], name: str) -> int:
    return next(
        i
        for i, e in enumerate(events)
        if isinstance(e, NodeFinished) and e.node == name and "/" not in e.scope
    )


@pytest.mark.parametrize("wf", list(LOOPS), ids=lambda wf: wf.__name__)
async def test_a_loop_over_a_list_field_starts_each_item_before_the_decode_ends(
    rt: tuple[Runtime, ScriptedLLM], wf: Any
) -> None:
    graph = wf.graph("tea", optimized=True)
    loop = next(n for n in graph.nodes if n.op == "map")
    read, decode = loop.args[0], loop.args[0].args[0]
    assert loop.attrs["stream_args"] == (0,) and decode.op == "llm_decode" and decode.attrs["stream"]
    assert read.attrs["stream"] and read.attrs["stream_field"] == LOOPS[wf][0].removeprefix("plan.")
    assert f"map(stream %{read.name})" in str(graph)
    events = await events_of(wf.stream("tea"))
    assert events[-1] == Result(expected(wf))
    assert first_body_prefill(events, loop.name) < decode_end(events, decode.name)


@pytest.mark.parametrize("wf", list(LOOPS), ids=lambda wf: wf.__name__)
async def test_eager_traced_and_optimized_agree(rt: tuple[Runtime, ScriptedLLM], wf: Any) -> None:
    runtime, _ = rt
    with ayo.eager():
        eager = await wf("tea")
    traced = wf.graph("tea")
    assert not streams(traced)
    assert await run_in_order(runtime, traced, {"goal": "tea"}) == eager
    assert await runtime.run(traced, {"goal": "tea"}) == eager
    assert await wf("tea") == eager == expected(wf)


async def test_several_list_fields_each_feed_their_own_loop_and_the_title_waits(
    rt: tuple[Runtime, ScriptedLLM],
) -> None:
    graph = every_field.graph("tea", optimized=True)
    loops = {n.name: n for n in graph.nodes if n.op == "map"}
    fields = {name: n.args[0].attrs.get("stream_field") for name, n in loops.items()}
    assert sorted(fields.values()) == ["section.items", "steps", "tags"]
    title = next(n for n in graph.nodes if n.op == "python" and "plan.title" in n.attrs["code"].source)
    assert not title.attrs.get("stream") and "stream_field" not in title.attrs
    events = await events_of(every_field.stream("tea"))
    steps = [f" did {s.name}" for s in PLAN.steps]
    assert events[-1] == Result(
        (steps, [f" did {t}" for t in PLAN.tags], [f" did {t}" for t in PLAN.section.items], " did Tea")
    )
    end = decode_end(events, "plan")
    for name in loops:
        assert first_body_prefill(events, name) < end, f"{fields[name]} streamed into its loop"
    title_read = next(
        i
        for i, e in enumerate(events)
        if isinstance(e, NodeStarted) and e.node == title.name and "/" not in e.scope
    )
    assert title_read > end, "plan.title is read once the whole output is parsed"
    with ayo.eager():
        assert await every_field("tea") == events[-1].value


async def test_nested_list_fields_stream_as_item_events_by_their_key_path(
    rt: tuple[Runtime, ScriptedLLM],
) -> None:
    @ayo.workflow
    async def plan_only(goal: str) -> Plan:
        return await ayo.llm(f"Plan for {goal}:", parse=Plan, max_tokens=300)

    events = await events_of(plan_only.stream("tea"))
    items = [(e.field, e.index, e.value) for e in events if isinstance(e, Item)]
    assert [i for i in items if i[0] == "section.items"] == [
        ("section.items", k, v) for k, v in enumerate(PLAN.section.items)
    ]


async def test_a_loop_that_also_needs_the_whole_output_gets_it_whole(rt: tuple[Runtime, ScriptedLLM]) -> None:
    """The body reads ``plan.title`` too: the map needs the whole output anyway, so it gets the
    whole value (streaming it would fill the bounded stream while the map waits: a deadlock)."""

    @ayo.workflow
    async def titled(goal: str) -> list[str]:
        plan = await ayo.llm(f"Long plan for {goal}:", parse=Plan, max_tokens=3000)
        return [await ayo.llm(f"Do: {plan.title} {s.name}\n", max_tokens=8) for s in plan.steps]

    with anyio.fail_after(60):
        assert await titled("tea") == [f" did Long {s.name}" for s in LONG.steps]


async def test_a_loop_after_another_loop_over_the_same_output_does_not_deadlock(
    rt: tuple[Runtime, ScriptedLLM],
) -> None:
    """The tags loop waits for the steps loop, which waits for the whole decode: the tags' edge
    carries the whole value (the decode must not block on a stream nobody reads yet)."""

    @ayo.workflow
    async def chained(goal: str) -> list[str]:
        plan = await ayo.llm(f"Long plan for {goal}:", parse=Plan, max_tokens=3000)
        done = [await ayo.llm(f"Do: {s.name}\n", max_tokens=8) for s in plan.steps]
        return [await ayo.llm(f"Tag: {len(done)} {t}\n", max_tokens=8) for t in plan.tags]

    with anyio.fail_after(60):
        assert await chained("tea") == [f" did {len(LONG.steps)} {t}" for t in LONG.tags]


async def test_one_field_read_feeds_two_loops_and_a_plain_user(rt: tuple[Runtime, ScriptedLLM]) -> None:
    @ayo.workflow
    async def twice(goal: str) -> tuple[list[str], list[str], int]:
        plan = await ayo.llm(f"Plan for {goal}:", parse=Plan, max_tokens=300)
        steps = plan.steps
        done = [await ayo.llm(f"Do: {s.name}\n", max_tokens=8) for s in steps]
        timed = [await ayo.llm(f"Time: {s.minutes}\n", max_tokens=8) for s in steps]
        return done, timed, len(steps)

    graph = twice.graph("tea", optimized=True)
    loops = [n for n in graph.nodes if n.op == "map"]
    assert len(loops) == 2 and all(n.attrs["stream_args"] == (0,) for n in loops)
    events = await events_of(twice.stream("tea"))
    end = decode_end(events, "plan")
    assert all(first_body_prefill(events, n.name) < end for n in loops)
    expected = ([f" did {s.name}" for s in PLAN.steps], [f" did {s.minutes}" for s in PLAN.steps], 3)
    assert events[-1] == Result(expected)
    with ayo.eager():
        assert await twice("tea") == expected


class Checked(BaseModel):
    steps: list[Step]

    @field_validator("steps")
    @classmethod
    def _first_two(cls, v: list[Step]) -> list[Step]:
        return v[:2]


class Defaulted(BaseModel):
    steps: list[Step] = Field(default_factory=lambda: [Step(name="rest", minutes=1)])


class Maybe(BaseModel):
    section: Section | None = None


@ayo.workflow
async def validated(goal: str) -> list[str]:
    out = await ayo.llm(f"Plan for {goal}:", parse=Checked, max_tokens=300)
    return [await ayo.llm(f"Do: {s.name}", max_tokens=8) for s in out.steps]


@ayo.workflow
async def defaulted(goal: str) -> list[str]:
    out = await ayo.llm(f"Plan for {goal}:", parse=Defaulted, max_tokens=300)
    return [await ayo.llm(f"Do: {s.name}", max_tokens=8) for s in out.steps]


@ayo.workflow
async def optional(goal: str) -> list[str]:
    out = await ayo.llm(f"Plan for {goal}:", parse=Maybe, max_tokens=300)
    assert out.section is not None
    return [await ayo.llm(f"Do: {s}", max_tokens=8) for s in out.section.items]


@ayo.workflow
async def letters(goal: str) -> list[str]:
    out = await ayo.llm(f"Plan for {goal}:", parse=Plan, max_tokens=300)
    return [await ayo.llm(f"Do: {c}", max_tokens=8) for c in out.title]


@pytest.mark.parametrize(
    "wf",
    [validated, defaulted, optional, letters],
    ids=["validator", "non-empty default", "optional model", "not a list"],
)
async def test_a_field_whose_items_could_differ_from_its_value_is_not_streamed(wf: Any) -> None:
    assert not streams(wf.graph("tea", optimized=True))


async def test_a_list_key_that_repeats_fails_the_query_instead_of_streaming_the_wrong_items(
    rt: tuple[Runtime, ScriptedLLM],
) -> None:
    """``json.loads`` keeps the last of two equal keys, so the first list's items, already streamed
    into the loop, are not the value's: the decode fails when the second key is read."""

    @ayo.workflow
    async def repeated(goal: str) -> list[str]:
        plan = await ayo.llm(f"Twice plan for {goal}:", parse=Plan, max_tokens=300)
        return [await ayo.llm(f"Do: {s.name}\n", max_tokens=8) for s in plan.steps]

    assert "map(stream" in str(repeated.graph("x", optimized=True))
    with pytest.raises(OutputError, match="holds the key 'steps' twice"):
        await repeated("x")
    with pytest.raises(OutputError, match="holds the key 'steps' twice"), ayo.eager():
        await repeated("x")


async def test_an_invalid_item_fails_the_query_and_cancels_the_loop(rt: tuple[Runtime, ScriptedLLM]) -> None:
    @ayo.workflow
    async def bad(goal: str) -> list[str]:
        plan = await ayo.llm(f"Bad plan for {goal}:", parse=Plan, max_tokens=300)
        return [await ayo.llm(f"Do: {s.name}\n", max_tokens=8) for s in plan.steps]

    assert "map(stream" in str(bad.graph("x", optimized=True))
    with pytest.raises(OutputError, match=r"not a valid Plan\.steps"):
        await bad("x")


class Aliased(BaseModel):
    steps: list[Step] = Field(alias="the-steps")
    empty: list[str] = []
    section: Section


class ByName(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    steps: list[Step] = Field(alias="the-steps")
    tags: list[str]


@pytest.mark.parametrize(
    "model, attrs, key",
    [
        (Plan, ("steps",), "steps"),
        (Plan, ("section", "items"), "section.items"),
        (Aliased, ("steps",), "the-steps"),  # the key the JSON has
        (Aliased, ("empty",), "empty"),  # absent, it is empty: no items either way
        (Aliased, ("section", "items"), "section.items"),
        (Plan, ("title",), None),
        (Plan, ("section",), None),
        (Plan, ("missing",), None),
        (Plan, ("steps", "name"), None),
        (Checked, ("steps",), None),
        (Defaulted, ("steps",), None),
        (Maybe, ("section", "items"), None),
        (ByName, ("steps",), None),  # "the-steps" or "steps": either may hold it
        (ByName, ("tags",), "tags"),
    ],
)
def test_which_fields_stream_exactly(model: Any, attrs: tuple[str, ...], key: str | None) -> None:
    assert streamed_field(model, attrs) == key


@pytest.mark.parametrize(
    "wf, reads",
    [(for_loop, [("steps",)]), (nested, [("section", "items")]), (letters, [("title",)])],
    ids=lambda x: getattr(x, "__name__", ""),
)
def test_a_field_read_is_a_python_node_that_only_reads_attributes(wf: Any, reads: list[Any]) -> None:
    graph = wf.graph("tea")
    assert [r for n in graph.nodes if (r := field_read(n)) is not None] == reads


def test_other_python_nodes_are_not_field_reads() -> None:
    @ayo.workflow
    async def others(goal: str) -> list[str]:
        plan = await ayo.llm(f"Plan for {goal}:", parse=Plan, max_tokens=300)
        first = plan.steps[0]
        names = sorted(plan.tags)
        return [await ayo.llm(f"Do: {first.name} {n}", max_tokens=8) for n in names]

    graph = others.graph("tea", optimized=True)
    assert all(field_read(n) in (None, ("name",)) for n in graph.walk())
    assert not streams(graph)


WORDS = st.text(alphabet="abc xy", min_size=1, max_size=6).map(str.strip).filter(bool)


@settings(max_examples=25, deadline=None)
@given(
    plan=st.builds(
        Plan,
        title=WORDS,
        steps=st.lists(st.builds(Step, name=WORDS, minutes=st.integers(0, 99)), max_size=4),
        tags=st.lists(WORDS, max_size=4),
        section=st.builds(Section, items=st.lists(WORDS, max_size=4)),
    ),
    decode_steps=st.integers(1, 5),
    indent=st.sampled_from([None, 1]),
)
def test_every_field_streams_into_its_loop_whatever_the_lists_and_the_decode_split(
    plan: Plan, decode_steps: int, indent: int | None
) -> None:
    """Optimized ≡ eager for any list lengths (empty ones too), tokens per decode call and layout."""
    text = " " + json.dumps(plan.model_dump(), indent=indent)

    def answer(prompt: str) -> str:
        return text if prompt.startswith("Plan") else " did " + prompt.split(": ", 1)[1].strip()

    async def both() -> tuple[Any, Any]:
        async with Runtime(engines=[ScriptedLLM("llm", answer)], batching=False, decode_steps=decode_steps):
            optimized = await every_field("tea")
            with ayo.eager():
                return optimized, await every_field("tea")

    optimized, eager = run_in_new_loop(both)
    did = [f" did {s.name}" for s in plan.steps]
    things = [f" did {t}" for t in plan.section.items]
    assert optimized == eager == (did, [f" did {t}" for t in plan.tags], things, f" did {plan.title}")


class Tidy(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, str_to_lower=True)

    title: str
    tags: list[str]
    steps: list[Step]


@ayo.workflow
async def tidy_tags(goal: str) -> list[str]:
    out = await ayo.llm(f"Tidy plan for {goal}:", parse=Tidy, max_tokens=300)
    return [await ayo.llm(f"Tag: {t}", max_tokens=8) for t in out.tags]


async def test_items_are_validated_under_their_models_config_as_the_whole_value_is(
    rt: tuple[Runtime, ScriptedLLM],
) -> None:
    """The model's config (here: strip and lower-case strings) applies to its list's items: the
    streamed ``" HOT "`` is ``"hot"``, as in the validated model."""
    assert "map(stream" in str(tidy_tags.graph("x", optimized=True))
    events = await events_of(tidy_tags.stream("x"))
    assert events[-1] == Result([" did hot", " did tea time"])
    with ayo.eager():
        assert await tidy_tags("x") == events[-1].value


async def test_a_cached_output_still_feeds_its_items_to_the_loop() -> None:
    """With the response cache, a repeated plan is not decoded again: its cached text goes through
    the parser at once, so the loop over its list field gets every item."""
    llm = ScriptedLLM("llm", respond)
    async with Runtime(engines=[llm], batching=False, cache=CacheConfig()) as runtime:
        first = await every_field("tea")
        decodes = llm.calls["decode"]
        assert await every_field("tea") == first
        assert llm.calls["decode"] == decodes, "the second run decoded nothing"
        assert runtime.stats()["cache"]["saved"]["llm_decodes"] > 0
