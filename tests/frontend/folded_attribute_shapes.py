"""Attributes of module objects folded into the graph (``max_tokens=CFG.tokens``,
``collection=CFG.collection``) that a query sets for the next ones, by ``setattr`` in a handler,
in a function the workflow calls, or from outside between queries; for
``test_folded_attributes.py``."""

from __future__ import annotations

import ayo_trace as ayo


class Config:
    tokens = 4

    def __init__(self) -> None:
        self.collection = "kb"


CFG = Config()


def reset() -> None:
    vars(CFG).clear()
    CFG.collection = "kb"
    Config.tokens = 4


def shrink(n: int) -> None:
    setattr(CFG, "tokens", n)  # noqa: B010  (by name, as configuration code does)


@ayo.workflow
async def tokens_set_by_a_handler(q: str, docs: list[str]) -> str:
    try:
        r = await ayo.llm(f"t {q}", max_tokens=CFG.tokens)
    except ayo.EngineError:
        setattr(CFG, "tokens", 1)  # noqa: B010
        r = "err"
    return r


@ayo.workflow
async def tokens_set_by_a_function(q: str, docs: list[str]) -> str:
    r = await ayo.llm(f"t {q}", max_tokens=CFG.tokens) if "FAIL" not in q else "skipped"
    if "FAIL" in q:
        shrink(2)
    return r


@ayo.workflow
async def collection_read_from_an_object(q: str, docs: list[str]) -> list[str]:
    await ayo.ingest(docs or ["none"], collection=CFG.collection)
    return [h.text for h in await ayo.search(q, collection=CFG.collection, top_k=2)]


SHAPES = [tokens_set_by_a_handler, tokens_set_by_a_function]
