"""Map-reduce summarization of a long document: summarize its chunks in parallel, then combine the
summaries into one.

Written as a list comprehension over the chunks; the optimizer runs the chunk summaries at once
(and the engines batch them), and prefills each prompt's constant head before the chunks exist.

    python examples/map_reduce.py
"""

from __future__ import annotations

from typing import Any

import anyio

import ayo_trace as ayo
from ayo_trace.corpus import stdlib_passages
from ayo_trace.demo import show_graphs

SUMMARIZE = (
    "Text: The sun is a star at the centre of the solar system. It is a nearly perfect ball of hot "
    "plasma, heated to incandescence by nuclear fusion in its core.\n"
    "Summary: The sun is the hot, fusion-powered star at the centre of the solar system.\n\n"
)
COMBINE = (
    "Notes:\n- Cats sleep most of the day.\n- Cats hunt at dawn and dusk.\n"
    "Summary: Cats sleep by day and hunt at dawn and dusk.\n\n"
)


def split_words(text: str, size: int) -> list[str]:
    """``text`` in chunks of ``size`` words."""
    words = text.split()
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size)]


@ayo.workflow
async def summarize(document: str, words_per_chunk: int = 120) -> str:
    chunks = split_words(document, words_per_chunk)
    notes = [await ayo.llm(f"{SUMMARIZE}Text: {c}\nSummary:", max_tokens=24, stop="\n") for c in chunks]
    listing = "\n".join(f"- {n.strip()}" for n in notes)
    return await ayo.llm(f"{COMBINE}Notes:\n{listing}\nSummary:", max_tokens=32, stop="\n")


def module_docs(module: str, limit: int | None = None) -> str:
    """A long document: a standard-library module's docstrings, one after another."""
    return "\n".join(p.document for p in stdlib_passages(modules=[module], limit=limit))


INPUTS: dict[str, Any] = {"document": module_docs("json")}
SMALL_INPUTS: dict[str, Any] = {"document": module_docs("json", limit=3), "words_per_chunk": 80}


async def run(small: bool = False) -> str:
    inputs = SMALL_INPUTS if small else INPUTS
    show_graphs(summarize, **inputs)
    summary = await summarize(**inputs)
    words = len(inputs["document"].split())
    print(f"document: {words} words\nsummary: {summary.strip()}")
    return summary


def main() -> None:
    anyio.run(run)


if __name__ == "__main__":
    main()
