"""Class-based pipelines: methods calling other methods of a static ``self`` inside a branch, a
comprehension, a loop, a ``gather``, a ``while`` and a ``try``, for ``test_method_bodies.py``.
Each traces whole (no graph break)."""

from __future__ import annotations

import asyncio

import ayo_trace as ayo


class Pipeline:
    def __init__(self, collection: str, max_tokens: int) -> None:
        self.collection = collection
        self.max_tokens = max_tokens

    async def summarize(self, text: str) -> str:
        return await ayo.llm(f"Summarize: {text}", max_tokens=self.max_tokens)

    async def retrieve(self, question: str) -> list[str]:
        hits = await ayo.search(question, collection=self.collection, top_k=2)
        return [h.text for h in hits]

    async def in_a_branch(self, question: str) -> str:
        if len(question) % 2:
            return await self.summarize(question)
        return (await self.summarize(question.upper())).strip()

    async def in_a_comprehension(self, docs: list[str]) -> list[str]:
        return [await self.summarize(d) for d in docs]

    async def in_a_loop(self, docs: list[str]) -> list[str]:
        out = []
        for d in docs:
            out.append(await self.summarize(d))
        return out

    async def in_a_carried_loop(self, docs: list[str]) -> str:
        notes = ""
        for d in docs:
            notes = await self.summarize(notes + d)
        return notes

    async def in_a_gather(self, question: str) -> list[str]:
        docs = await self.retrieve(question)
        return list(await asyncio.gather(*[self.summarize(d) for d in docs]))

    async def in_a_while(self, question: str) -> str:
        answer, rounds = question, 0
        while rounds < 2 and len(answer) < 200:
            answer = await self.summarize(answer)
            rounds += 1
        return answer

    async def in_a_try(self, question: str) -> list[str]:
        try:
            return await self.retrieve(question)
        except ayo.AyoError:
            return [await self.summarize(question)]

    @ayo.workflow
    async def answer(self, question: str) -> str:
        docs = await self.retrieve(question)
        parts = []
        for d in docs:
            if d:
                parts.append(await self.summarize(d))
        return await self.summarize(" ".join(parts) + question)


PIPELINE = Pipeline("kb", 5)


@ayo.workflow
async def in_a_branch(question: str) -> str:
    return await PIPELINE.in_a_branch(question)


@ayo.workflow
async def in_a_comprehension(docs: list[str]) -> list[str]:
    return await PIPELINE.in_a_comprehension(docs)


@ayo.workflow
async def in_a_loop(docs: list[str]) -> list[str]:
    return await PIPELINE.in_a_loop(docs)


@ayo.workflow
async def in_a_carried_loop(docs: list[str]) -> str:
    return await PIPELINE.in_a_carried_loop(docs)


@ayo.workflow
async def in_a_gather(question: str) -> list[str]:
    return await PIPELINE.in_a_gather(question)


@ayo.workflow
async def in_a_while(question: str) -> str:
    return await PIPELINE.in_a_while(question)


@ayo.workflow
async def in_a_try(question: str) -> list[str]:
    return await PIPELINE.in_a_try(question)
