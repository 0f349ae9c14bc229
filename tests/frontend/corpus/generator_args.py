"""A generator expression written as a call's only argument (``xs.extend(h.text for h in hits)``)
has no parentheses of its own: wherever the tracer compiles that argument on its own, it must still
be an expression (it was generated code with a ``SyntaxError`` when the trace was built)."""

from __future__ import annotations

import ayo_trace as ayo

from . import case

QUERIES = ["lazy values", "ordered values"]
DOCS = ["Generators yield values lazily.", "Lists hold values in order.", "Sets hold values once."]


@ayo.workflow
async def extend_from_generator(questions: list[str]) -> list[str]:
    await ayo.ingest(DOCS, collection="kb")
    passages = []
    for q in questions:
        hits = await ayo.search(q, collection="kb", top_k=2)
        passages.extend(h.text for h in hits)
    return passages


@ayo.workflow
async def generator_passed_to_a_primitive(question: str, docs: list[str]) -> list[str]:
    best = await ayo.rerank(question, (d.strip() for d in docs), top_k=2)
    return [h.text for h in best]


@ayo.workflow
async def extend_with_scores_and_texts(questions: list[str]) -> tuple[list[str], float]:
    await ayo.ingest(DOCS, collection="kb")
    texts: list[str] = []
    scores = []
    for q in questions:
        hits = await ayo.search(q, collection="kb", top_k=2)
        texts.extend(h.text.upper() for h in hits if h.text)
        scores.append(sum(h.score for h in hits))
    return texts, round(sum(scores), 6)


CASES = [
    case(extend_from_generator, QUERIES),
    case(generator_passed_to_a_primitive, "values", [" a ", " b ", " c "]),
    case(extend_with_scores_and_texts, QUERIES),
]
