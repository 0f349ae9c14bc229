"""Map-reduce summarization of a long document: summarize its chunks in parallel, then combine the
summaries into one.

Written as a list comprehension over the chunks; the optimizer runs the chunk summaries at once
(and the engines batch them).

    python examples/map_reduce.py
"""

from __future__ import annotations

from typing import Any

import anyio

import ayo_trace as ayo
from ayo_trace.corpus import stdlib_passages
from ayo_trace.demo import show_graphs

# A base model summarizes when the text is followed by "TL;DR:", the way it saw summaries online.


def split_words(text: str, size: int) -> list[str]:
    """``text`` in chunks of ``size`` words."""
    words = text.split()
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size)]


@ayo.workflow
async def summarize(document: str, words_per_chunk: int = 120) -> str:
    chunks = split_words(document, words_per_chunk)
    notes = [await ayo.llm(f"{c}\n\nTL;DR:", max_tokens=24, stop="\n") for c in chunks]
    listing = "\n".join(f"- {n.strip()}" for n in notes)
    return await ayo.llm(f"Notes:\n{listing}\n\nTL;DR:", max_tokens=32, stop="\n")


def module_docs(module: str, limit: int | None = None) -> str:
    """A long document: a standard-library module's docstrings, one after another."""
    return "\n".join(p.document for p in stdlib_passages(modules=[module], limit=limit))


INPUTS: dict[str, Any] = {"document": module_docs("json")}
SMALL_INPUTS: dict[str, Any] = {"document": module_docs("glob"), "words_per_chunk": 70}


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
