"""Structured output on the real llama.cpp engine: the grammar built from a pydantic model makes
the shipped base model write valid instances of a nested model with a list field, for 20 different
inputs; the constrained output is the same eager and optimized; a grammar state never outlives its
session. (``bench/structured.py`` counts how many are valid without the constraint.)"""

from __future__ import annotations

from typing import Annotated

import anyio
import pytest
from pydantic import BaseModel, Field

import ayo_trace as ayo
from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine

pytestmark = [pytest.mark.real, pytest.mark.anyio]

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
async def test_constrained_output_is_a_valid_instance_for_20_inputs(llama_engine: LlamaCppEngine) -> None:
    results: list[object] = [None] * len(PLACES)
    async with ayo.Runtime([llama_engine]):  # batched: validity, not exact tokens, is checked

        async def one(i: int) -> None:
            city, country = PLACES[i]
            text = f"{city} is a large city in {country} with a famous old town."
            results[i] = await ayo.llm(PROMPT.format(text=text), parse=Facts, max_tokens=80)

        async with anyio.create_task_group() as tg:
            for i in range(len(PLACES)):
                tg.start_soon(one, i)
    assert all(isinstance(r, Facts) for r in results), results
    assert len({r.place.city for r in results if isinstance(r, Facts)}) > 1  # it read its input
    assert llama_engine.stats()["sessions"] == 0


async def test_constrained_output_is_the_same_eager_and_optimized(llama_engine: LlamaCppEngine) -> None:
    rt = ayo.Runtime([llama_engine], batching=False)
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


async def test_a_released_session_frees_its_grammar(llama_engine: LlamaCppEngine) -> None:
    from ayo_trace.backend.engines.base import DecodeRequest, PrefillRequest
    from ayo_trace.ir.params import SamplingParams

    params = SamplingParams(max_tokens=40, json_schema=output_schema())
    await llama_engine.prefill([PrefillRequest("grammar-1", "JSON:")])
    await llama_engine.decode([DecodeRequest("grammar-1", params)], 2)  # mid-way: the grammar is held
    session = llama_engine._sessions["grammar-1"]
    assert session.constraint is not None
    await llama_engine.release(["grammar-1"])
    assert session.constraint is None


def output_schema() -> str:
    import json

    return json.dumps(Facts.model_json_schema(), sort_keys=True)
