"""Point 3: undecorated ``async def`` helpers that await primitives are traced into the graph
(module-level, local to the workflow, methods), recursively; none of these has a graph break."""

from __future__ import annotations

from dataclasses import dataclass

import ayo_trace as ayo

from . import case

DOCS = [
    "Generators yield values lazily.",
    "Lists hold values in order.",
    "Coroutines await other coroutines.",
]


async def summarize(text: str, words: int = 3) -> str:
    reply = await ayo.llm(f"Summarize in {words} words: {text}\nSummary:", max_tokens=words)
    return reply.strip()


async def retrieve(question: str, docs: list[str], k: int = 2) -> list[str]:
    await ayo.ingest(docs, collection="helpers")
    hits = await ayo.search(question, collection="helpers", top_k=k)
    best = await ayo.rerank(question, hits, top_k=1)
    return [h.text for h in best]


async def answer_from(question: str, passages: list[str]) -> str:
    context = await summarize(" ".join(passages), words=4)
    return await ayo.llm(f"Context: {context}\nQ: {question}\nA:", max_tokens=5)


async def refine(text: str, rounds: int) -> str:
    if rounds == 0:
        return text
    better = await ayo.llm(f"Improve: {text}", max_tokens=3)
    return await refine(text + " |" + better, rounds - 1)


async def classify(question: str) -> str:
    label = await ayo.llm(f"Label (code/prose): {question}\n", max_tokens=1)
    if "a" in label:
        return "code"
    return (await ayo.llm(f"Second opinion: {question}", max_tokens=1)).strip() or "prose"


@ayo.workflow
async def module_helper(question: str, docs: list[str]) -> str:
    gist = await summarize(docs[0])
    return await ayo.llm(f"{gist}\nQ: {question}\nA:", max_tokens=4)


@ayo.workflow
async def helpers_calling_helpers(question: str, docs: list[str]) -> str:
    passages = await retrieve(question, docs)
    return await answer_from(question, passages)


@ayo.workflow
async def helper_per_item(docs: list[str]) -> list[str]:
    return [await summarize(d, words=2) for d in docs]


@ayo.workflow
async def recursive_helper(question: str) -> str:
    return await refine(question, 3)


@ayo.workflow
async def helper_with_early_return(question: str) -> str:
    kind = await classify(question)
    return await ayo.llm(f"[{kind}] {question}", max_tokens=3)


@ayo.workflow
async def local_async_helper(question: str, docs: list[str]) -> str:
    prefix = "Answer briefly."

    async def ask(text: str) -> str:
        return await ayo.llm(f"{prefix}\n{text}\nA:", max_tokens=3)

    first = await ask(question)
    notes = [await ask(d) for d in docs]
    return first + " / " + " / ".join(notes)


@dataclass(frozen=True)
class Retriever:
    collection: str
    k: int = 2

    async def index(self, docs: list[str]) -> int:
        return await ayo.ingest(docs, collection=self.collection)

    async def top(self, question: str) -> list[str]:
        hits = await ayo.search(question, collection=self.collection, top_k=self.k)
        return [h.text for h in hits]


class Assistant:
    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever

    async def context(self, question: str) -> str:
        return "\n".join(await self.retriever.top(question))

    @ayo.workflow
    async def answer(self, question: str, docs: list[str]) -> str:
        await self.retriever.index(docs)
        context = await self.context(question)
        return await ayo.llm(f"{context}\nQ: {question}\nA:", max_tokens=4)


ASSISTANT = Assistant(Retriever("methods"))


@ayo.workflow
async def method_of_a_module_object(question: str, docs: list[str]) -> list[str]:
    await RETRIEVER.index(docs)
    return await RETRIEVER.top(question)


RETRIEVER = Retriever("module_object", k=1)


@ayo.workflow
async def helper_inside_a_branch(question: str, detailed: str) -> str:
    if detailed == "yes":
        reply = await summarize(question, words=6)
    else:
        reply = await summarize(question)
    return reply


@ayo.workflow
async def local_helper_reading_a_traced_variable(question: str, docs: list[str]) -> list[str]:
    async def ask(text: str) -> str:
        return await ayo.llm(f"{question}: {text}", max_tokens=2)

    return [await ask(d) for d in docs]


@ayo.workflow
async def local_helper_under_a_shadowing_comprehension(question: str, docs: list[str]) -> list[str]:
    async def ask(text: str) -> str:
        return await ayo.llm(f"{question} / {text}", max_tokens=2)

    return [await ask(question + d) for question in docs for d in question.split()[:1]]


CASES = [
    case(module_helper, "what yields", DOCS),
    case(helpers_calling_helpers, "how do lists work", DOCS),
    case(helper_per_item, DOCS),
    case(recursive_helper, "generators"),
    case(helper_with_early_return, "what is a coroutine"),
    case(local_async_helper, "what yields", DOCS),
    case(ASSISTANT.answer, "what holds values", DOCS, label="method_workflow_with_method_helpers"),
    case(method_of_a_module_object, "what awaits", DOCS),
    case(helper_inside_a_branch, "lists", "yes"),
    case(local_helper_reading_a_traced_variable, "what yields", DOCS),
    case(local_helper_under_a_shadowing_comprehension, "what yields", DOCS),
]
