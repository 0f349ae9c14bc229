"""Structured output on the real engines: the constraint built from a pydantic model (llama.cpp's
grammar; lm-format-enforcer's schema parser on transformers) makes the shipped base model write valid
instances of a nested model with a list field, for 20 different inputs; the constrained output is the
same eager and optimized; a constraint never outlives its session. (``bench/structured.py`` counts how
many are valid without the constraint.)"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
import pytest
from pydantic import BaseModel, Field

import ayo_trace as ayo
from ayo_trace.backend.engines.base import LLMEngine

pytestmark = [pytest.mark.real, pytest.mark.anyio, pytest.mark.in_process]  # llama.cpp, transformers

Short = Annotated[str, Field(max_length=24)]


class Place(BaseModel):
    city: Short
    country: Short


class Facts(BaseModel):
    place: Place
    landmarks: list[Short] = Field(min_length=1, max_length=3)


PROMPT = (
    "Extract the place and its landmarks as JSON.\n"
    "Text: Rome, the capital of Italy, is known for the Colosseum and the Pantheon.\n"
    'JSON: {{"place": {{"city": "Rome", "country": "Italy"}}, "landmarks": ["Colosseum", "Pantheon"]}}\n'
    "Text: {text}\n"
    "JSON:"
)
FEW_SHOT = PROMPT.split("Text: {text}")[0].replace("{{", "{").replace("}}", "}")
PLACES = [
    ("Paris", "France"), ("Berlin", "Germany"), ("Madrid", "Spain"), ("Lisbon", "Portugal"),
    ("Vienna", "Austria"), ("Prague", "Czechia"), ("Athens", "Greece"), ("Cairo", "Egypt"),
    ("Tokyo", "Japan"), ("Beijing", "China"), ("Delhi", "India"), ("Moscow", "Russia"),
    ("London", "England"), ("Dublin", "Ireland"), ("Oslo", "Norway"), ("Ottawa", "Canada"),
    ("Lima", "Peru"), ("Nairobi", "Kenya"), ("Istanbul", "Turkey"), ("Sydney", "Australia"),
]  # fmt: skip


@ayo.workflow
async def extract(text: str) -> Facts:
    return await ayo.llm(f"{FEW_SHOT}Text: {text}\nJSON:", parse=Facts, max_tokens=80)


@pytest.mark.timeout(1200)
async def test_constrained_output_is_a_valid_instance_for_20_inputs(engine: LLMEngine) -> None:
    llm = engine
    results: list[object] = [None] * len(PLACES)
    async with ayo.Runtime([llm]):  # batched: validity, not exact tokens, is checked

        async def one(i: int) -> None:
            city, country = PLACES[i]
            text = f"{city} is a large city in {country} with a famous old town."
            results[i] = await ayo.llm(PROMPT.format(text=text), parse=Facts, max_tokens=80)

        async with anyio.create_task_group() as tg:
            for i in range(len(PLACES)):
                tg.start_soon(one, i)
    assert all(isinstance(r, Facts) for r in results), results
    assert len({r.place.city for r in results if isinstance(r, Facts)}) > 1  # it read its input
    assert llm.stats()["sessions"] == 0


async def test_constrained_output_is_the_same_eager_and_optimized(engine: LLMEngine) -> None:
    llm = engine
    rt = ayo.Runtime([llm], batching=False)
    await rt.start()
    previous = ayo.Runtime.set_default(rt)
    try:
        text = "Vienna is the capital of Austria; people visit the Hofburg."
        eager = await extract.eager(text)
        optimized = await extract(text)
    finally:
        ayo.Runtime.set_default(previous)
        await rt.aclose()
    assert isinstance(eager, Facts) and optimized == eager


async def test_a_released_session_frees_its_constraint(engine: LLMEngine) -> None:
    from ayo_trace.backend.engines.base import DecodeRequest, PrefillRequest
    from ayo_trace.ir.params import SamplingParams

    llm: Any = engine
    params = SamplingParams(max_tokens=40, json_schema=output_schema())
    await llm.prefill([PrefillRequest("grammar-1", "JSON:")])
    await llm.decode([DecodeRequest("grammar-1", params)], 2)  # mid-way: the constraint is held
    session = llm._sessions["grammar-1"]
    assert session.constraint is not None
    await llm.release(["grammar-1"])
    assert session.constraint is None


def output_schema() -> str:
    import json

    return json.dumps(Facts.model_json_schema(), sort_keys=True)
