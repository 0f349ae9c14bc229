"""Expressions written over several lines, as formatters and people lay out long prompts: strings
concatenated side by side over lines inside a call's parentheses, ``+`` chains broken inside
brackets, backslash continuations, comments between the lines. Compiled on its own (a python node's
code, a trace-time ``eval``), such an expression continues its lines only inside parentheses: it was
an ``IndentationError`` when the trace was built. Prompts written this way are templates (their
constant text is known before the query starts) like the one-line spellings."""

from __future__ import annotations

import ayo_trace as ayo

from . import case

# The layout over several lines is what these workflows test.
# fmt: off
DOCS = ["Tuples are immutable sequences.", "Lists are mutable sequences.", "Sets hold unique items."]
HEAD = "You answer questions about Python.\n"


@ayo.workflow
async def concatenated_over_lines(question: str) -> str:
    return await ayo.llm(
        "You answer questions about Python.\n"
        f"Question: {question}\n"
        "Answer:",
        max_tokens=8,
    )


@ayo.workflow
async def concatenated_with_comments(question: str, docs: list[str]) -> str:
    await ayo.ingest(docs, collection="kb")
    hits = await ayo.search(
        "python "  # a prefix the index was built for
        f"{question}",
        collection="kb",
        top_k=2,
    )
    context = "\n".join(h.text for h in hits)
    prompt = (
        HEAD
        + "Context:\n"  # retrieved passages
        + context
        + f"\nQuestion: {question}"
        "\nAnswer:"
    )
    return await ayo.llm(prompt, max_tokens=8)


@ayo.workflow
async def values_over_lines(question: str, docs: list[str]) -> tuple[str, int]:
    best = await ayo.rerank(
        question.strip()
        .lower(),
        [d for d in docs
         if d],
        top_k=2,
    )
    n = len(best) + \
        len(docs)
    label = ("first: "
             f"{best[0].text}"
             if best else "none")
    answer = await ayo.llm(
        f"{label}\n"
        f"Count: {n}\n"
        "Say it again:",
        max_tokens=6,
    )
    return answer, n


@ayo.workflow
async def static_over_lines(question: str) -> str:
    collection = ("k"
                  "b")
    await ayo.ingest(DOCS, collection=collection)
    hits = await ayo.search(question, collection=collection, top_k=(1 +
                                                                   1))
    return await ayo.llm(
        "Passages:\n" + "\n".join(h.text for h in hits) + "\n"
        "Question: " + question,
        max_tokens=8,
    )

# fmt: on

CASES = [
    case(concatenated_over_lines, "what is a tuple?"),
    case(concatenated_with_comments, "tuples", DOCS),
    case(values_over_lines, "Mutable?", DOCS),
    case(values_over_lines, "none", [], label="values_over_lines_empty"),
    case(static_over_lines, "sets"),
]
