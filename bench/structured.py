"""Structured output on the shipped model: how many of N different inputs give a valid instance of a
nested pydantic model with a list field, with the llama.cpp grammar constraint and without it.

    python bench/structured.py            # 20 inputs, both ways (about a minute on 2 idle cores)
    python bench/structured.py --n 3      # a smoke run

Both ways use the same few-shot, completion-style prompt (the shipped Gemma 3 270M is a base model)
and greedy decoding; "without" decodes the same prompt unconstrained and validates the text with the
same parser. The schema bounds its strings and its list, so a constrained output always ends.
"""

from __future__ import annotations

import argparse
import time
from typing import Annotated

import anyio
from pydantic import BaseModel, Field

import ayo_trace as ayo
from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine
from ayo_trace.ir.parsers import output_parser

Short = Annotated[str, Field(max_length=24)]


class Place(BaseModel):
    city: Short
    country: Short


class Facts(BaseModel):
    place: Place
    landmarks: list[Short] = Field(min_length=1, max_length=3)


CITIES = [
    ("Paris", "France", "the Eiffel Tower"),
    ("Berlin", "Germany", "the Brandenburg Gate"),
    ("Madrid", "Spain", "the Prado"),
    ("Lisbon", "Portugal", "the Belem Tower"),
    ("Vienna", "Austria", "the Hofburg"),
    ("Prague", "Czechia", "the Charles Bridge"),
    ("Athens", "Greece", "the Acropolis"),
    ("Cairo", "Egypt", "the pyramids of Giza"),
    ("Tokyo", "Japan", "the Senso-ji temple"),
    ("Beijing", "China", "the Forbidden City"),
    ("Delhi", "India", "the Red Fort"),
    ("Moscow", "Russia", "the Kremlin"),
    ("London", "the United Kingdom", "Big Ben"),
    ("Dublin", "Ireland", "Trinity College"),
    ("Oslo", "Norway", "the Opera House"),
    ("Ottawa", "Canada", "Parliament Hill"),
    ("Lima", "Peru", "the Plaza Mayor"),
    ("Nairobi", "Kenya", "the national park"),
    ("Istanbul", "Turkey", "the Hagia Sophia"),
    ("Sydney", "Australia", "the Opera House"),
]

PROMPT = (
    "Extract the place and its landmarks as JSON.\n"
    "Text: Rome, the capital of Italy, is known for the Colosseum and the Pantheon.\n"
    'JSON: {{"place": {{"city": "Rome", "country": "Italy"}}, "landmarks": ["Colosseum", "Pantheon"]}}\n'
    "Text: {text}\n"
    "JSON:"
)


def inputs(n: int) -> list[str]:
    out = []
    for i in range(n):
        city, country, landmark = CITIES[i % len(CITIES)]
        out.append(f"{city} is a large city in {country}; visitors go to see {landmark}.")
    return out


async def run(n: int, max_tokens: int) -> tuple[int, int]:
    parser = output_parser(Facts)
    assert parser is not None
    engine = LlamaCppEngine(n_ctx=512, n_seq_max=8)
    async with ayo.Runtime([engine], own_engines=True):
        texts = inputs(n)
        constrained: list[object] = [None] * n
        unconstrained: list[str] = [""] * n

        async def one(i: int) -> None:
            prompt = PROMPT.format(text=texts[i])
            try:
                constrained[i] = await ayo.llm(prompt, parse=Facts, max_tokens=max_tokens)
            except ayo.OutputError as exc:
                constrained[i] = exc
            unconstrained[i] = await ayo.llm(prompt, max_tokens=max_tokens, stop="\nText:")

        async with anyio.create_task_group() as tg:
            for i in range(n):
                tg.start_soon(one, i)
    valid_with = sum(isinstance(v, Facts) for v in constrained)
    valid_without = 0
    for text in unconstrained:
        try:
            parser.result(text, [])
            valid_without += 1
        except ayo.OutputError:
            pass
    return valid_with, valid_without


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20, help="inputs (default 20)")
    ap.add_argument("--max-tokens", type=int, default=80)
    args = ap.parse_args()
    start = time.perf_counter()
    valid_with, valid_without = anyio.run(run, args.n, args.max_tokens)
    print(f"valid with the grammar constraint:    {valid_with}/{args.n}")
    print(f"valid without it (same prompt):       {valid_without}/{args.n}")
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
