"""Point 6: static by need, with guards. A ``str`` parameter used as ``collection=``/``engine=``
specializes the trace on its value (a guard), a ``top_k`` computed from data is an input of the node;
none of these is refused or has a graph break."""

from __future__ import annotations

from dataclasses import dataclass

import ayo_trace as ayo

from . import case

DOCS = [
    "Generators yield values lazily.",
    "Lists hold values in order.",
    "Coroutines await other coroutines.",
]


@dataclass(frozen=True)
class Settings:
    top_k: int
    label: str


@ayo.workflow
async def collection_parameter(
    question: str, docs: list[str], *, collection: str = "kb_default"
) -> list[str]:
    await ayo.ingest(docs, collection=collection)
    hits = await ayo.search(question, collection=collection, top_k=2)
    return [h.text for h in hits]


@ayo.workflow
async def engine_parameter(question: str, engine: str) -> str:
    return await ayo.llm(f"Q: {question}\nA:", max_tokens=4, engine=engine)


@ayo.workflow
async def top_k_from_a_dataclass_field(question: str, docs: list[str], settings: Settings) -> list[str]:
    await ayo.ingest(docs, collection="settings")
    hits = await ayo.search(question, collection="settings", top_k=settings.top_k)
    return [f"{settings.label}: {h.text}" for h in hits]


@ayo.workflow
async def top_k_from_data(question: str, docs: list[str]) -> list[str]:
    hits = await ayo.rerank(question, docs, top_k=max(1, len(docs) // 2))
    return [h.text for h in hits]


@ayo.workflow
async def top_k_from_a_model_answer(question: str, docs: list[str]) -> list[str]:
    await ayo.ingest(docs, collection="answer_k")
    reply = await ayo.llm(f"How many passages for: {question}?\n", max_tokens=1)
    k = 1 + len(reply) % 3
    hits = await ayo.search(question, collection="answer_k", top_k=k)
    best = await ayo.rerank(question, hits, top_k=k)
    return [h.text for h in best]


@ayo.workflow
async def search_into(question: str, collection: str) -> list[str]:
    hits = await ayo.search(question, collection=collection, top_k=1)
    return [h.text for h in hits]


@ayo.workflow
async def collection_through_a_nested_workflow(question: str, docs: list[str], space: str) -> list[str]:
    await ayo.ingest(docs, collection=space)
    return await search_into(question, space)


async def index_and_search(question: str, docs: list[str], collection: str) -> list[str]:
    await ayo.ingest(docs, collection=collection)
    return [h.text for h in await ayo.search(question, collection=collection, top_k=1)]


@ayo.workflow
async def collection_through_a_helper(question: str, docs: list[str], name: str) -> list[str]:
    return await index_and_search(question, docs, name)


@ayo.workflow
async def collection_in_a_map_body(questions: list[str], docs: list[str], collection: str) -> list[list[str]]:
    await ayo.ingest(docs, collection=collection)
    found = [await ayo.search(q, collection=collection, top_k=1) for q in questions]
    return [[h.text for h in hits] for hits in found]


CASES = [
    case(collection_parameter, "what yields", DOCS),
    case(
        collection_parameter, "what yields", DOCS, collection="kb_other", label="collection_parameter_other"
    ),
    case(engine_parameter, "what is a list", "llm"),
    case(top_k_from_a_dataclass_field, "what holds", DOCS, Settings(top_k=2, label="hit")),
    case(top_k_from_data, "what awaits", DOCS),
    case(top_k_from_a_model_answer, "what yields", DOCS),
    case(collection_through_a_nested_workflow, "what yields", DOCS, "nested_space"),
    case(collection_through_a_helper, "what holds", DOCS, "helper_space"),
    case(collection_in_a_map_body, ["what yields", "what holds"], DOCS, "mapped"),
]


@ayo.workflow
async def top_k_that_is_zero_at_run_time(question: str, docs: list[str]) -> list[str]:
    await ayo.ingest(docs, collection="zero_k")
    hits = await ayo.search(question, collection="zero_k", top_k=len(question) - len(question))
    return [h.text for h in hits]


@ayo.workflow
async def rerank_top_k_of_zero(question: str, docs: list[str]) -> list[str]:
    best = await ayo.rerank(question, docs, top_k=len(docs) - len(docs))
    return [h.text for h in best]


RAISING = [  # (a rerank's top_k under 1 is refused as a search's is, eagerly and in the graph)
    case(top_k_that_is_zero_at_run_time, "what yields", DOCS),
    case(rerank_top_k_of_zero, "what holds", DOCS),
]
