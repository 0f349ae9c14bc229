"""A module that sets a field of an object held by another (``p.retriever.collection = ...``),
for ``test_nested_objects.py``: the held objects' fields are then not constants."""

from __future__ import annotations

import ayo_trace as ayo


class Finder:
    def __init__(self, collection: str) -> None:
        self.collection = collection

    async def find(self, q: str) -> list[ayo.Hit]:
        return await ayo.search(q, collection=self.collection, top_k=2)


class Holder:
    def __init__(self) -> None:
        self.finder = Finder("kb1")

    async def run(self, q: str) -> str:
        hits = await self.finder.find(q)
        return await ayo.llm(" ".join(h.text for h in hits), max_tokens=2)


@ayo.workflow
async def retargeted(q: str) -> str:
    h = Holder()
    h.finder.collection = "kb0"
    return await h.run(q)


class Logged:
    def __init__(self, collection: str) -> None:
        self.collection = collection
        self.log: list[str] = []

    async def find(self, q: str) -> list[ayo.Hit]:
        self.log.append(q)
        return await ayo.search(q, collection=self.collection, top_k=1)


LOGGED = Logged("kb1")


@ayo.workflow
async def module_object_retargetable(q: str) -> str:
    # `collection` is set again in this module (above), so after `self.log.append(q)` changed
    # the object, `self.collection` is read when the workflow runs
    hits = await LOGGED.find(q)
    return hits[0].text
