"""Workflows whose ``ayo.llm`` takes ``parse=`` a schema or a custom callable, in the shapes users write."""

from __future__ import annotations

import functools
import json
import operator
from typing import Annotated, Any

from pydantic import BaseModel, Field

import ayo_trace as ayo


class City(BaseModel):
    name: str
    country: str


class Answer(BaseModel):
    city: City
    facts: list[Annotated[str, Field(max_length=40)]] = Field(max_length=3)


ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
    "required": ["name", "tags"],
}


def first_word(text: str) -> str:
    return text.split()[0] if text.split() else ""


def split_on(sep: str, text: str) -> list[str]:
    return [p.strip() for p in text.split(sep)]


class Counter:
    def __init__(self, word: str) -> None:
        self.word = word

    def __call__(self, text: str) -> int:
        return text.count(self.word)

    def count(self, text: str) -> int:
        return text.count(self.word)


COUNT_A = Counter("a")


@ayo.workflow
async def pydantic_model(q: str) -> Answer:
    return await ayo.llm(f"Q: {q}\nJSON:", parse=Answer, max_tokens=64)


@ayo.workflow
async def schema_dict(q: str) -> Any:
    return await ayo.llm(f"Q: {q}\nJSON:", parse=ANSWER_SCHEMA, max_tokens=64)


@ayo.workflow
async def model_then_code(q: str) -> str:
    answer = await ayo.llm(f"Q: {q}\nJSON:", parse=Answer, max_tokens=64)
    return f"{answer.city.name} ({answer.city.country}): {len(answer.facts)} facts"


@ayo.workflow
async def named_function(q: str) -> str:
    return await ayo.llm(f"Q: {q}\nA:", parse=first_word, max_tokens=64)


@ayo.workflow
async def a_lambda(q: str) -> str:
    return await ayo.llm(f"Q: {q}\nA:", parse=lambda t: t.strip().upper(), max_tokens=64)


@ayo.workflow
async def a_partial(q: str) -> list[str]:
    return await ayo.llm(f"Q: {q}\nA:", parse=functools.partial(split_on, ","), max_tokens=64)


@ayo.workflow
async def a_builtin(q: str) -> int:
    return await ayo.llm(f"Q: {q}\nA:", parse=len, max_tokens=64)


@ayo.workflow
async def a_callable_object(q: str) -> int:
    return await ayo.llm(f"Q: {q}\nA:", parse=COUNT_A, max_tokens=64)


@ayo.workflow
async def a_bound_method(q: str) -> int:
    return await ayo.llm(f"Q: {q}\nA:", parse=COUNT_A.count, max_tokens=64)


@ayo.workflow
async def json_loads(q: str) -> Any:
    return await ayo.llm(f"Q: {q}\nA:", parse=json.loads, max_tokens=64)


@ayo.workflow
async def an_operator(q: str) -> Any:
    return await ayo.llm(f"Q: {q}\nA:", parse=operator.methodcaller("split"), max_tokens=64)


@ayo.workflow
async def parser_from_a_parameter(q: str, parse: Any) -> Any:
    return await ayo.llm(f"Q: {q}\nA:", parse=parse, max_tokens=64)


@ayo.workflow
async def not_a_parser(q: str) -> Any:
    return await ayo.llm(f"Q: {q}\nA:", parse="lines", max_tokens=64)  # type: ignore[arg-type]  # refused


def explode(text: str) -> str:
    raise ValueError(f"cannot read {text[:5]!r}")


@ayo.workflow
async def parser_raises(q: str) -> str:
    return await ayo.llm(f"Q: {q}\nA:", parse=explode, max_tokens=64)  # raises


@ayo.workflow
async def invalid_output(q: str) -> Answer:
    return await ayo.llm(f"Q: {q}\nJSON:", parse=Answer, max_tokens=64)  # invalid


@ayo.workflow
async def map_over_a_custom_list(q: str) -> list[str]:
    parts = await ayo.llm(f"Q: {q}\nA:", parse=functools.partial(split_on, ","), max_tokens=64)
    return [await ayo.llm(f"More on {p}:", max_tokens=4) for p in parts]


@ayo.workflow
async def not_a_schema(q: str) -> Any:
    return await ayo.llm(f"Q: {q}\nA:", parse={"type": 3}, max_tokens=64)  # refused schema
