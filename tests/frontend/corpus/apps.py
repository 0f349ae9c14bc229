"""Whole applications as users write them, mixing the constructs of the other corpus modules:
helpers, comprehensions with helper calls in f-string holes, early returns, static-by-need
parameters and dynamic top_k. None has a graph break."""

from __future__ import annotations

import json
from dataclasses import dataclass

import ayo_trace as ayo

from . import case

DOCS = [
    "Generators yield values lazily.",
    "Lists hold values in order.",
    "Coroutines await other coroutines.",
    "Dictionaries map keys to values.",
]


def cite(i: int, text: str) -> str:
    return f"[{i}] {text}"


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


async def expand(question: str, n: int = 2) -> list[str]:
    queries = await ayo.llm(f"Write {n} search queries for: {question}\n", parse=ayo.lines, max_tokens=12)
    return queries[:n] or [question]


async def retrieve(queries: list[str], collection: str, k: int) -> list[ayo.Hit]:
    per_query = [await ayo.search(q, collection=collection, top_k=k) for q in queries]
    return [h for hits in per_query for h in hits]


@ayo.workflow
async def multi_query_rag(question: str, docs: list[str], *, collection: str = "apps_rag") -> str:
    if not question.strip():
        return "ask something"
    await ayo.ingest(docs, collection=collection)
    queries = await expand(question)
    hits = await retrieve(queries, collection, 2)
    best = await ayo.rerank(question, hits, top_k=min(3, len(hits)) or 1)
    context = "\n".join(cite(i + 1, h.text) for i, h in enumerate(best))
    return await ayo.llm(f"Context:\n{context}\nQuestion: {question}\nAnswer:", max_tokens=8, stop="\n\n")


@ayo.workflow
async def router(question: str) -> str:
    route = first_line(await ayo.llm(f"Route (code/docs/chat): {question}\nRoute:", max_tokens=2))
    if route.endswith("a"):
        return await ayo.llm(f"Write code for: {question}\n", max_tokens=6)
    if route.endswith("s"):
        hits = await ayo.search(question, collection="router_docs", top_k=1)
        return hits[0].text if hits else "no docs"
    return await ayo.llm(f"Chat: {question}\n", max_tokens=4)


@dataclass(frozen=True)
class Budget:
    passages: int
    words: int


@ayo.workflow
async def budgeted_summaries(docs: list[str], budget: Budget) -> dict[str, str]:
    await ayo.ingest(docs, collection="budgeted")
    picked = await ayo.rerank("what matters most", docs, top_k=budget.passages)
    return {
        h.text[:12]: await ayo.llm(f"Summarize in {budget.words} words: {first_line(h.text)}", max_tokens=4)
        for h in picked
    }


@ayo.workflow
async def extract_then_answer(question: str, docs: list[str]) -> str:
    async def facts_of(text: str) -> list[str]:
        return await ayo.llm(f"Facts in: {text}\n", parse=ayo.lines, max_tokens=8)

    per_doc = [await facts_of(d) for d in docs]
    facts = [f for fs in per_doc for f in fs if f.strip()]
    verdict = await ayo.llm(f"Enough facts for {question}? {len(facts)}\n", max_tokens=1)
    answer = (
        await ayo.llm(f"Answer {question} from: {'; '.join(facts[:3])}", max_tokens=5)
        if verdict.strip()
        else "not enough"
    )
    return json.dumps({"answer": answer, "facts": len(facts)})


@ayo.workflow
async def translate_all(texts: dict[str, str], language: str) -> dict[str, str]:
    return {
        key: await ayo.llm(f"Translate to {language.title()}: {value.strip()}\n", max_tokens=4, engine="llm")
        for key, value in sorted(texts.items())
    }


CASES = [
    case(multi_query_rag, "how do generators produce values", DOCS),
    case(multi_query_rag, "   ", DOCS, label="multi_query_rag_empty"),
    case(router, "sort a list"),
    case(budgeted_summaries, DOCS, Budget(passages=2, words=3)),
    case(extract_then_answer, "what holds values", DOCS[:2]),
    case(translate_all, {"b": "lists hold values", "a": "generators yield"}, "french"),
]
