"""Workflows whose graph constants (sampling parameters, ``collection=``, ``stop=``) are computed
when the workflow runs, each call marked ``# break: <why>`` at its line, and ones whose constants
are known when traced (``# traced``), for ``test_run_time_constants.py``. The loops here run over
items known only when the workflow runs (over constants, they are unrolled: ``unroll_shapes.py``)."""

from __future__ import annotations

import asyncio
from typing import Any

import ayo_trace as ayo


@ayo.workflow
async def self_consistency(question: str) -> str:
    p = f"Q: {question}\nA:"
    n = 2 + len(question) % 3
    answers = await asyncio.gather(*[ayo.llm(p, temperature=0.8, seed=i) for i in range(n)])  # break: seeds
    return max(answers, key=answers.count)


@ayo.workflow
async def coroutines_then_gather(question: str) -> list[str]:
    calls = [ayo.llm(f"Q: {question}", seed=len(w), max_tokens=6) for w in question.split()]
    return list(await asyncio.gather(*calls))  # break: coroutines


@ayo.workflow
async def seeds_in_a_loop(question: str) -> list[str]:
    out = []
    for i in range(len(question) % 2 + 2):
        out.append(await ayo.llm(f"Q: {question}\nA:", seed=i, max_tokens=8))  # break: seed loop
    return out


@ayo.workflow
async def temperatures(question: str) -> list[str]:
    temps = [0.0, 0.5]
    temps.append(1.0)  # a list changed after it is made: its items are known when it runs
    return [await ayo.llm(f"Q: {question}", temperature=t, max_tokens=8) for t in temps]  # break: temps


@ayo.workflow
async def retry_warmer(question: str) -> str:
    attempt = 0
    answer = ""
    while attempt < 3:
        answer = await ayo.llm(f"Answer: {question}", temperature=0.3 * attempt, max_tokens=8)  # break: retry
        if "t=0.6" in answer:
            break
        attempt += 1
    return answer


@ayo.workflow
async def budget_from_hits(question: str) -> str:
    hits = await ayo.search(question, collection="kb0", top_k=2)  # traced
    context = "\n".join(h.text for h in hits)
    summary = await ayo.llm(f"Summarize: {context}", max_tokens=4 + 2 * len(hits))  # break: budget
    return await ayo.llm(f"Title for: {summary}", max_tokens=6)  # traced


@ayo.workflow
async def stop_from_an_answer(question: str) -> str:
    mark = await ayo.llm(f"A delimiter for {question}:", max_tokens=4)  # traced
    return await ayo.llm(f"List: {question}", stop=[mark.strip()[-1:] or "x"], max_tokens=8)  # break: stop


@ayo.workflow
async def sharded(question: str) -> list[ayo.Hit]:
    hits: list[ayo.Hit] = []
    for i in range(len(question)):
        hits += await ayo.search(question, collection=f"kb{i % 2}", top_k=2)  # break: shard
    return hits


def route(lang: str) -> str:
    return {"en": "kb0"}.get(lang, "kb1")


@ayo.workflow
async def routed(question: str, lang: str) -> list[ayo.Hit]:
    name = route(lang)
    return await ayo.search(question, collection=name, top_k=2)  # break: routed


@ayo.workflow
async def in_an_expression(question: str, words: list[str]) -> str:
    return (await ayo.llm(f"Echo {question}", max_tokens=1 + len(words))).upper()  # break: expression


@ayo.workflow
async def settings_per_query(question: str) -> str:
    opts = {"max_tokens": 4 if len(question) < 5 else 8, "temperature": 0.2}
    return await ayo.llm(f"Answer: {question}", **opts)  # break: opts


@ayo.workflow
async def settings_parameter(question: str, params: dict[str, Any]) -> list[str]:
    first = await ayo.llm(f"Answer: {question}", max_tokens=4)  # traced
    return [first, await ayo.llm(f"Again: {question}", **params)]  # break: params


@ayo.workflow
async def parameters_specialize(question: str, seed: int, cfg: dict[str, Any]) -> str:
    temperature = 0.25
    hits = await ayo.search(question, collection=cfg["collection"], top_k=2)  # traced
    context = " ".join(h.text for h in hits)
    return await ayo.llm(f"{context}\n{question}", seed=seed, temperature=temperature, max_tokens=8)  # traced


# A helper defined in the workflow reads the workflow's variable as a constant of its call: the
# workflow's value decides, as for its own calls (a closure's name set from data, a parameter's
# field the workflow changed, a dict of settings built per query).


class Settings:
    def __init__(self, max_tokens: int = 16) -> None:
        self.max_tokens = max_tokens


@ayo.workflow
async def closure_budget(question: str, words: list[str]) -> list[str]:
    budget = 2 + len(words)

    async def gen(text: str) -> str:
        return await ayo.llm(f"Say {text}", max_tokens=budget)  # break: closure

    return await asyncio.gather(*(gen(w) for w in words))


@ayo.workflow
async def changed_setting_in_helper(question: str, cfg: Settings) -> str:
    async def gen(text: str) -> str:
        return await ayo.llm(f"Say {text}", max_tokens=cfg.max_tokens)  # break: changed field

    cfg.max_tokens = 3
    return await gen(question)


@ayo.workflow
async def closure_settings(question: str) -> str:
    opts = {"seed": len(question)}

    async def gen(text: str) -> str:
        return await ayo.llm(f"Say {text}", seed=opts["seed"], max_tokens=4)  # break: opts

    first = await ayo.llm(f"First {question}", max_tokens=4)  # traced
    return first + await gen(question)


@ayo.workflow
async def closure_parameter(question: str, seed: int, cfg: Settings) -> list[str]:
    async def gen(text: str) -> str:
        return await ayo.llm(f"Say {text}", seed=seed, max_tokens=cfg.max_tokens)  # traced

    return await asyncio.gather(gen(question), gen(question + "?"))


DEFAULTS = {"max_tokens": 6, "temperature": 0.0}


@ayo.workflow
async def spread_defaults(question: str) -> list[str]:
    cfg = {**DEFAULTS, "stop": ["\n"]}
    short = await ayo.llm(f"Say {question}", **{**DEFAULTS, "max_tokens": 2})  # traced
    return [short, await ayo.llm(f"Again {question}", **cfg)]  # traced
