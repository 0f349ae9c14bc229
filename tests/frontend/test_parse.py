"""``parse=``: a pydantic model or a JSON schema gives a validated value (the schema goes to the
engine as a constraint), any other callable is applied to the whole text; the same eager, traced
and optimized; what is refused, and the errors that name the node and the line."""

from __future__ import annotations

import functools
import inspect
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ayo_trace as ayo
from ayo_trace.ir.parsers import CallParser, SchemaParser, output_parser
from ayo_trace.testing import ScriptedLLM

from . import parse_shapes as p

pytestmark = pytest.mark.anyio

GOOD = '{"city": {"name": "Paris", "country": "France"}, "facts": ["old", "big"], "name": "x", "tags": ["a"]}'


def runtime(reply: str = GOOD) -> tuple[ayo.Runtime, ScriptedLLM]:
    llm = ScriptedLLM("llm", lambda prompt: f" {reply}\n")
    return ayo.Runtime([llm], batching=False), llm


def line_of(text: str) -> int:
    for i, line in enumerate(inspect.getsource(p).splitlines(), start=1):
        if text in line:
            return i
    raise AssertionError(text)


SHAPES = [
    (p.pydantic_model, ("q",), p.Answer(city=p.City(name="Paris", country="France"), facts=["old", "big"])),
    (p.schema_dict, ("q",), json.loads(GOOD)),
    (p.model_then_code, ("q",), "Paris (France): 2 facts"),
    (p.named_function, ("q",), '{"city":'),
    (p.a_lambda, ("q",), f" {GOOD}\n".strip().upper()),
    (p.a_partial, ("q",), p.split_on(",", f" {GOOD}\n")),
    (p.a_builtin, ("q",), len(f" {GOOD}\n")),
    (p.a_callable_object, ("q",), f" {GOOD}\n".count("a")),
    (p.a_bound_method, ("q",), f" {GOOD}\n".count("a")),
    (p.json_loads, ("q",), json.loads(GOOD)),
    (p.an_operator, ("q",), f" {GOOD}\n".split()),
    (p.parser_from_a_parameter, ("q", str.split), f" {GOOD}\n".split()),
]


@pytest.mark.parametrize(("wf", "args", "expected"), SHAPES, ids=[s[0].fn.__name__ for s in SHAPES])
async def test_each_parser_gives_the_same_value_eager_traced_and_optimized(wf, args, expected) -> None:
    rt, _ = runtime()
    async with rt:
        eager = await wf.eager(*args)
        traced = await ayo.workflow(wf.fn, passes=[])(*args)
        optimized = await wf(*args)
    assert eager == traced == optimized == expected


async def test_a_schema_reaches_the_engine_as_a_constraint() -> None:
    rt, _ = runtime()
    async with rt:
        (node,) = [n for n in p.pydantic_model.graph("q").nodes if n.op == "llm"]
    assert node.attrs["sampling"].json_schema == json.dumps(p.Answer.model_json_schema(), sort_keys=True)
    assert isinstance(node.attrs["parse"], SchemaParser) and node.attrs["parse"].name == "Answer"


@pytest.mark.parametrize(
    ("wf", "marker", "match"),
    [
        (p.invalid_output, "# invalid", "is not a valid Answer"),
        (p.parser_raises, "# raises", "parse=explode raised ValueError: cannot read"),
    ],
    ids=["invalid", "raises"],
)
async def test_a_rejected_output_is_an_output_error_naming_the_node_and_line(wf, marker, match) -> None:
    rt, _ = runtime('{"city": {"name": "Paris"}, "facts": []}')
    async with rt:
        with pytest.raises(ayo.OutputError, match=match) as info:
            await wf("q")
        assert info.value.loc.line == line_of(marker)
        assert info.value.node is not None
        assert "city" in info.value.text
        with pytest.raises(ayo.OutputError, match=match):
            await wf.eager("q")


async def test_an_output_that_is_not_json_says_so() -> None:
    rt, _ = runtime("I do not know.")
    async with rt:
        with pytest.raises(ayo.OutputError, match="not JSON for parse=Answer"):
            await p.pydantic_model("q")
        with pytest.raises(ayo.OutputError, match="not JSON for parse=schema"):
            await p.schema_dict.eager("q")


async def test_a_dict_output_invalid_for_its_schema_is_refused() -> None:
    rt, _ = runtime('{"name": 3, "tags": []}')
    async with rt:
        with pytest.raises(ayo.OutputError, match="not valid for the schema"):
            await p.schema_dict("q")


@pytest.mark.parametrize(
    ("wf", "marker", "match"),
    [
        (p.not_a_parser, "# type: ignore[arg-type]  # refused", "parse= takes ayo.lines"),
        (p.not_a_schema, "# refused schema", "invalid JSON schema"),
    ],
    ids=["a_string", "bad_schema"],
)
async def test_what_is_not_a_parser_is_refused_at_its_line_and_when_eager(wf, marker, match) -> None:
    rt, _ = runtime()
    async with rt:
        with pytest.raises(ayo.TraceError, match=match) as info:
            wf.graph("q")
        assert info.value.loc.line == line_of(marker)
        with pytest.raises(ayo.InvalidParams, match=match):
            await wf.eager("q")


async def test_a_custom_parser_is_not_streamed_into_a_map() -> None:
    rt, _ = runtime("a, b")
    async with rt:
        graph = p.map_over_a_custom_list.graph("q", optimized=True)
        assert not any(n.attrs.get("stream") for n in graph.walk())
        assert await p.map_over_a_custom_list("q") == await p.map_over_a_custom_list.eager("q")


def test_the_parser_of_each_parse_value() -> None:
    assert output_parser(None) is None
    assert output_parser(ayo.lines) is ayo.lines
    assert isinstance(output_parser(p.Answer), SchemaParser)
    assert output_parser(len) == CallParser("len", len)
    part = functools.partial(p.split_on, ",")
    assert output_parser(part) == CallParser("partial", part)
    for bad in ("lines", 3, p.Answer(city=p.City(name="a", country="b"), facts=[])):
        with pytest.raises(ayo.InvalidParams):
            output_parser(bad)


@settings(max_examples=50)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_a_callable_parser_is_the_callable_of_the_whole_text(text: str) -> None:
    seen: list[str] = []

    def fn(t: str) -> Any:
        seen.append(t)
        return t[::-1]

    assert CallParser("fn", fn).result(text, []) == text[::-1]
    assert seen == [text]
