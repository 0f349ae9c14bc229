"""``vllm_structured.structured_outputs``: what ``parse=`` asks of vLLM's structured outputs, as
plain data (vLLM itself runs only on a GPU: ``test_llm_vllm.py``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field

from ayo_trace.backend.engines.vllm_structured import structured_outputs
from ayo_trace.errors import InvalidParams
from ayo_trace.ir.params import SamplingParams
from ayo_trace.ir.parsers import SchemaParser, output_parser


class Step(BaseModel):
    name: str


class Plan(BaseModel):
    title: str
    steps: Annotated[list[Step], Field(max_length=3)]


SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}


@pytest.mark.parametrize("parse", [Plan, list[Step], SCHEMA], ids=["model", "list", "schema"])
def test_a_parse_gives_its_json_schema_to_vllm(parse: Any) -> None:
    parser = output_parser(parse)
    assert isinstance(parser, SchemaParser)
    fields = structured_outputs(parser.constrain(SamplingParams(max_tokens=32, stop=("\n",))))
    assert fields == {"json": json.loads(parser.schema), "disable_any_whitespace": True}


def test_the_schema_is_the_models_own() -> None:
    fields = structured_outputs(SamplingParams(json_schema=json.dumps(Plan.model_json_schema())))
    assert fields is not None and fields["json"] == Plan.model_json_schema()
    assert fields["json"]["properties"]["steps"]["maxItems"] == 3


@pytest.mark.parametrize("parse", [None, "lines", "json_list", "callable"])
def test_a_decode_without_a_schema_is_not_constrained(parse: str | None) -> None:
    import ayo_trace as ayo

    value = {"lines": ayo.lines, "json_list": ayo.json_list, "callable": str.upper}.get(parse or "")
    parser = output_parser(value)
    sampling = SamplingParams() if parser is None else parser.constrain(SamplingParams())
    assert structured_outputs(sampling) is None


@pytest.mark.parametrize("text", ["not json", "[1, 2]"])
def test_a_schema_that_is_not_a_json_object_is_refused(text: str) -> None:
    with pytest.raises(InvalidParams, match="json_schema"):
        structured_outputs(SamplingParams(json_schema=text))
