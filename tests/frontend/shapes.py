"""Workflow shapes the frontend tests trace. Golden texts name lines of this file: edit with care."""

from __future__ import annotations

import ayo_trace as ayo

PREAMBLE = "You answer questions about Python."


def clean(text: str) -> str:
    return text.strip().rstrip(".")


def numbered(items: list[str]) -> str:
    return "\n".join(f"{i + 1}. {t}" for i, t in enumerate(items))


@ayo.workflow
async def answer(question: str, docs: list[str], top_k: int = 4) -> str:
    await ayo.ingest(docs, collection="kb")
    queries = await ayo.llm(f"Write three search queries for: {question}\n", parse=ayo.lines, max_tokens=48)
    hits = [await ayo.search(q, collection="kb", top_k=top_k) for q in queries]
    best = await ayo.rerank(question, [h for per_query in hits for h in per_query], top_k=3)
    context = "\n".join(f"- {h.text}" for h in best)
    return await ayo.llm(f"Context:\n{context}\nQuestion: {question}\nAnswer:", max_tokens=64)


@ayo.workflow
async def naive_rag(question: str, docs: list[str]) -> str:
    await ayo.ingest(docs, collection="naive")
    hits = await ayo.search(question, collection="naive", top_k=4)
    best = await ayo.rerank(question, hits, top_k=2)
    context = "\n".join(h.text for h in best)
    return await ayo.llm(f"{PREAMBLE}\nContext:\n{context}\nQuestion: {question}\nAnswer:", max_tokens=32)


@ayo.workflow
async def query_expansion(question: str) -> list[str]:
    queries = await ayo.llm(f"Rewrite as search queries:\n{question}\n", parse=ayo.lines, max_tokens=32)
    hits = [await ayo.search(q, collection="kb", top_k=2) for q in queries]
    return [h.text for per_query in hits for h in per_query]


@ayo.workflow
async def independent_branches(question: str) -> str:
    code_hits = await ayo.search(question, collection="code", top_k=2)
    doc_hits = await ayo.search(question, collection="docs", top_k=2)
    kind = await ayo.llm(f"Is this about code or prose? {question}\nAnswer:", max_tokens=2)
    context = " ".join(h.text for h in code_hits + doc_hits)
    return await ayo.llm(f"[{kind}] {context}\nQ: {question}\nA:", max_tokens=16)


@ayo.workflow
async def map_passages(passages: list[str]) -> str:
    summaries = [await ayo.llm(f"Summarize in one line: {p}\nSummary:", max_tokens=16) for p in passages]
    return await ayo.llm("Combine:\n" + "\n".join(summaries) + "\nOverall:", max_tokens=24)


@ayo.workflow
async def inner(query: str, k: int = 2) -> list[str]:
    hits = await ayo.search(query, collection="docs", top_k=k)
    return [h.text for h in hits]


@ayo.workflow
async def nested(query: str) -> list[str]:
    first = await inner(query, 3)
    second = await inner(query + " example")
    return first + second


@ayo.workflow
async def conditional(question: str) -> str:
    label = await ayo.llm(f"Label (math/other): {question}\nLabel:", max_tokens=3)
    if label.strip() == "math":
        reply = await ayo.llm(f"Solve step by step: {question}\n", max_tokens=16)
    else:
        reply = await ayo.llm(f"Answer briefly: {question}\n", max_tokens=16)
    return clean(reply)


@ayo.workflow
async def static_flags(question: str, top_k: int = 2, rerank: bool = True) -> list[str]:
    hits = await ayo.search(question, collection="kb", top_k=top_k * 2)
    if rerank:
        hits = await ayo.rerank(question, hits, top_k=top_k)
    return [h.text for h in hits]


@ayo.workflow
async def two_collections(question: str, papers: list[str], notes: list[str]) -> str:
    await ayo.ingest(papers, collection="papers")
    await ayo.ingest(notes, collection="notes")
    from_papers = await ayo.search(question, collection="papers", top_k=1)
    from_notes = await ayo.search(question, collection="notes", top_k=1)
    return from_papers[0].text + " / " + from_notes[0].text


@ayo.workflow
async def string_glue(topic: str, audience: str) -> str:
    header = f"Topic: {topic}\nAudience: {audience!r}\n"
    bullet = "- " + topic.title() + "\n"
    prompt = header + bullet + f"Write {3:d} points for {audience:>10}:\n"
    return await ayo.llm(prompt, max_tokens=24, stop="\n\n")


@ayo.workflow
async def helpers(question: str, docs: list[str]) -> str:
    hits = await ayo.rerank(question, docs, top_k=2)
    listing = numbered([h.text for h in hits])
    reply = await ayo.llm(f"{listing}\nWhich line answers: {question}?\n", max_tokens=8)
    return clean(reply)


def make_closure(collection: str, k: int):
    @ayo.workflow
    async def closure(question: str) -> str:
        hits = await ayo.search(question, collection=collection, top_k=k)
        return await ayo.llm(" | ".join([hits[0].text, question]) + " ->", max_tokens=4)

    return closure


class Assistant:
    def __init__(self, collection: str) -> None:
        self.collection = collection

    @ayo.workflow
    async def ask(self, question: str, *, top_k: int = 2) -> list[ayo.Hit]:
        hits = await ayo.search(question, collection=self.collection, top_k=top_k)
        return await ayo.rerank(question, hits, top_k=1)


@ayo.workflow
async def loop_append(queries: list[str]) -> list[str]:
    texts = []
    for q in queries:
        hits = await ayo.search(q, collection="kb", top_k=1)
        texts.append(hits[0].text)
    return texts


@ayo.workflow
async def expand_until_long(question: str) -> str:
    text = question
    while len(text) < 40:
        text = text + await ayo.llm(f"Continue: {text}", max_tokens=8)
    return text


@ayo.workflow
async def embed_similarity(a: str, b: str) -> float:
    """A docstring is not a step of the graph."""
    va = await ayo.embed(a)
    vb = await ayo.embed(b)
    return sum(x * y for x, y in zip(va, vb, strict=True))


@ayo.workflow(static=("style",))
async def marked_static(question: str, style: str = "short") -> str:
    instruction = "Answer in one word." if style == "short" else "Answer in detail."
    return await ayo.llm(f"{instruction}\nQ: {question}\nA:", max_tokens=8)


@ayo.workflow
async def early_return(question: str) -> str:
    label = await ayo.llm(f"Yes or no: {question}\n", max_tokens=2)
    if label.strip() == "yes":
        return "affirmative"
    return await ayo.llm(f"Explain why not: {question}\n", max_tokens=8)
