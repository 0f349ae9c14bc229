"""Workflows calling functions of their module named as the compiler names its temporaries (the
keyword a value fills, ``prompt``/``query``/``passages``/``texts``, a helper's parameter, ``value``,
``result``, ``items``), for ``test_temp_names.py``: the temporary of ``await ayo.llm(prompt(q))``
was ``prompt = prompt(q)``, which raised ``UnboundLocalError`` in the graph."""

from __future__ import annotations

import ayo_trace as ayo


def prompt(q: str, n: int = 0) -> str:
    return f"{q} #{n}"


def query(q: str) -> str:
    return q.lower()


def passages(docs: list[str]) -> list[str]:
    return [d.strip() for d in docs] or ["none"]


def texts(docs: list[str]) -> list[str]:
    return [d.upper() for d in docs] or ["NONE"]


def context(docs: list[str]) -> str:
    return " | ".join(docs)


def value(x: str) -> str:
    return x[::-1]


def result(x: str) -> str:
    return f"<{x}>"


def items(docs: list[str]) -> list[str]:
    return sorted(docs)


async def answer(question: str, context: str) -> str:
    return await ayo.llm(f"{context}\nQ: {question}", max_tokens=4)


@ayo.workflow
async def llm_prompt(q: str, docs: list[str]) -> str:
    return await ayo.llm(prompt(q, len(docs)), max_tokens=4)


@ayo.workflow
async def search_query(q: str, docs: list[str]) -> list[str]:
    await ayo.ingest(passages(docs), collection="kb")
    hits = await ayo.search(query(q), collection="kb", top_k=2)
    return [h.text for h in hits]


@ayo.workflow
async def embed_texts(q: str, docs: list[str]) -> int:
    vectors = await ayo.embed(texts(docs))
    return len(vectors)


@ayo.workflow
async def helper_context(q: str, docs: list[str]) -> str:
    return await answer(value(q), context(docs))


@ayo.workflow
async def in_a_loop(q: str, docs: list[str]) -> list[str]:
    out = []
    for d in items(docs):
        out.append(await ayo.llm(prompt(d), max_tokens=3))
    return out


@ayo.workflow
async def in_a_comprehension(q: str, docs: list[str]) -> list[str]:
    return [await ayo.llm(prompt(d, i), max_tokens=3) for i, d in enumerate(items(docs))]


@ayo.workflow
async def in_a_branch(q: str, docs: list[str]) -> str:
    if docs:
        return result(await ayo.llm(prompt(q), max_tokens=3))
    return result(value(q))


SHAPES = [llm_prompt, search_query, embed_texts, helper_context, in_a_loop, in_a_comprehension, in_a_branch]
