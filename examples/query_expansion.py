"""Advanced RAG with query expansion: the LLM writes several search queries for the question, each
is searched, the hits are merged and reranked, and the LLM answers from the best ones.

The searches depend on the LLM's list of queries. Written as a plain loop over that list; the
optimizer runs the searches at once and starts each as soon as its line of the list is decoded.

    python examples/query_expansion.py
"""

from __future__ import annotations

from typing import Any

import anyio

import ayo_trace as ayo
from ayo_trace.corpus import stdlib_passages
from ayo_trace.demo import show_graphs

COLLECTION = "example_query_expansion"
EXPAND = (
    "Write search queries for the question, one per line.\n"
    "Question: How do I read a CSV file?\n"
    "- csv reader\n- read rows from a file\n- parse comma separated values\n\n"
)
EXAMPLE = "Question: How do I capitalize every word in a string?\nAnswer: Use string.capwords(s).\n\n"


def merge(hits_per_query: list[list[ayo.Hit]]) -> list[str]:
    """Every query's hits, each passage once, in the order first found."""
    return list(dict.fromkeys(h.text for hits in hits_per_query for h in hits))


@ayo.workflow
async def expand_and_answer(question: str) -> str:
    queries = await ayo.llm(f"{EXPAND}Question: {question}\n", parse=ayo.lines, max_tokens=24, stop="\n\n")
    hits = [await ayo.search(q, collection=COLLECTION, top_k=2) for q in queries]
    best = await ayo.rerank(question, merge(hits), top_k=2)
    context = "\n".join(h.text for h in best)
    prompt = f"{EXAMPLE}Python documentation:\n{context}\n\nQuestion: {question}\nAnswer:"
    return await ayo.llm(prompt, max_tokens=24, stop="\n")


# The collection it searches: the docstrings of a few standard-library modules.
CORPUS = ("csv", "json", "pathlib")
SMALL_CORPUS = ("fnmatch", "secrets")
INPUTS: dict[str, Any] = {"question": "How do I turn a dictionary into a JSON string?"}
SMALL_INPUTS: dict[str, Any] = {"question": "How do I make a random token for a password reset link?"}


async def prepare(small: bool = False) -> None:
    """Store the corpus in the collection (idempotent: a second run adds nothing)."""
    passages = stdlib_passages(modules=SMALL_CORPUS if small else CORPUS)
    await ayo.ingest([p.document for p in passages], collection=COLLECTION)


async def run(small: bool = False) -> str:
    inputs = SMALL_INPUTS if small else INPUTS
    await prepare(small)
    show_graphs(expand_and_answer, **inputs)
    answer = await expand_and_answer(**inputs)
    print(f"question: {inputs['question']}\nanswer: {answer.strip()}")
    return answer


def main() -> None:
    anyio.run(run)


if __name__ == "__main__":
    main()
