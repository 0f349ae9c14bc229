"""``with contextlib.suppress(...)`` around awaits, for ``test_suppress.py`` (the scripted LLM
fails a prompt holding FAIL): traced as the ``try``/``except ...: pass`` it stands for."""

from __future__ import annotations

import contextlib
from contextlib import suppress

import ayo_trace as ayo


@ayo.workflow
async def default_kept(question: str, docs: list[str]) -> str:
    answer = "no answer"
    with contextlib.suppress(ayo.EngineError):
        answer = await ayo.llm(question, max_tokens=3)
    return answer


@ayo.workflow
async def skips_failed_items(question: str, docs: list[str]) -> list[str]:
    out = []
    for d in docs:
        with suppress(ayo.EngineError, ValueError):
            out.append(await ayo.llm(f"{question} {d}", max_tokens=2))
    return out


@ayo.workflow
async def improves_if_it_can(question: str, docs: list[str]) -> list[str]:
    draft = await ayo.llm(question.replace("FAIL", ""), max_tokens=3)
    with suppress(ayo.EngineError):
        hits = await ayo.search(draft, collection="agent_docs", top_k=1)
        draft = await ayo.llm(f"Improve {draft} {docs[0] if docs else ''} {len(hits)}", max_tokens=3)
    return [draft, str(len(docs))]


@ayo.workflow
async def nested(question: str, docs: list[str]) -> str:
    r = "start"
    with suppress(KeyError):
        r = r + {"a": "!"}[docs[0] if docs else "a"]
    with suppress(KeyError):  # noqa: SIM117 (written nested on purpose)
        with suppress(ayo.EngineError):
            r = await ayo.llm(f"{question} {' '.join(docs)} {r}", max_tokens=2)
    with suppress(KeyError), contextlib.suppress(ValueError, ayo.EngineError):
        r = await ayo.llm(f"{r}?", max_tokens=2)
    return r


@ayo.workflow
async def not_suppressed(question: str, docs: list[str]) -> str:
    r = "start"
    with suppress(KeyError):  # an engine error is not a KeyError: it reaches the caller
        r = await ayo.llm(question, max_tokens=2)
    return r


CASES = [default_kept, skips_failed_items, improves_if_it_can, nested, not_suppressed]


@ayo.workflow
async def line_after(question: str, docs: list[str]) -> str:
    with suppress(ayo.EngineError):
        question = await ayo.llm(question, max_tokens=2)
    return question.upper()  # LINE_AFTER
