"""Tasks made in one branch of a conditional expression (``test_conditional_tasks.py``):
``bg = asyncio.create_task(f(q)) if docs else None`` is the ``if`` statement it stands for
(``frontend/normalize``); so is ``a, b = create_task(f()), create_task(g())`` one assignment per
name. Each takes ``(q, docs)``; a doc or question with ``FAIL`` fails its call."""

from __future__ import annotations

import asyncio

import ayo_trace as ayo


async def ask(p: str, n: int = 4) -> str:
    return await ayo.llm(p, max_tokens=n)


async def is_long(q: str) -> bool:
    return len(await ask(f"len {q}", 2)) > 3


@ayo.workflow
async def c_none_else(q, docs):
    bg = asyncio.create_task(ask(f"bg {q}")) if docs else None
    a = await ask(f"main {q}")
    b = await bg if bg is not None else "none"
    return a, b


@ayo.workflow
async def c_none_first(q, docs):
    bg = None if not docs else asyncio.ensure_future(ask(f"ctx {docs[0]}"))
    head = await ask(f"head {q}")
    if bg is None:
        return head
    return head + " | " + await bg


@ayo.workflow
async def c_two_tasks(q, docs):
    t = (
        asyncio.create_task(ask(f"long {q}", 6))
        if len(docs) > 1
        else asyncio.create_task(ask(f"short {q}", 2))
    )
    docs_text = ", ".join(docs)
    return docs_text, await t


@ayo.workflow
async def c_elif_chain(q, docs):
    t = (
        asyncio.create_task(ask(f"many {q}"))
        if len(docs) > 2
        else asyncio.create_task(ask(f"one {docs[0]}"))
        if docs
        else None
    )
    out = [await ask(f"w {d}", 2) for d in docs[:1]]
    if t:
        out.append(await t)
    return out


@ayo.workflow
async def c_task_list(q, docs):
    tasks = [asyncio.create_task(ask(f"s {d}")) for d in docs] if q.startswith("a") else []
    first = await ask(f"first {q}")
    return first, await asyncio.gather(*tasks)


@ayo.workflow
async def c_awaited_condition(q, docs):
    t = asyncio.create_task(ask(f"deep {q}", 6)) if await is_long(q) else None
    quick = await ask(f"quick {q}", 2)
    return quick if t is None else (quick, await t)


@ayo.workflow
async def c_in_try(q, docs):
    bg = asyncio.create_task(ask(f"bg {q}")) if docs else None
    notes = [d.upper() for d in docs]
    try:
        extra = await bg if bg else ""
    except ayo.EngineError:
        extra = "E"
    return notes, extra


@ayo.workflow
async def c_tuple_target(q, docs):
    s, t = (asyncio.create_task(ask(f"s {q}")), asyncio.create_task(ask(f"t {q}"))) if docs else (None, None)
    if s is None or t is None:
        return "none"
    return await s, await t


@ayo.workflow
async def c_in_loop(q, docs):
    out = []
    for d in docs:
        t = asyncio.create_task(ask(f"x {d}")) if "a" in d else None
        label = d.title()
        out.append((label, await t) if t else (label, None))
    return out


@ayo.workflow
async def c_dict_item(q, docs):
    pending = {}
    for d in docs:
        pending[d] = asyncio.create_task(ask(f"k {d}")) if len(d) > 3 else None
    return {k: (await v if v else "short") for k, v in pending.items()}


@ayo.workflow
async def c_tuple_of_tasks(q, docs):
    draft, title = asyncio.create_task(ask(f"draft {q}")), asyncio.create_task(ask(f"title {q}", 2))
    notes = [d.lower() for d in docs]
    try:
        return await draft, await title, notes
    except ayo.EngineError:
        return "E", notes


SHAPES = [
    c_tuple_of_tasks,
    c_none_else,
    c_none_first,
    c_two_tasks,
    c_elif_chain,
    c_task_list,
    c_awaited_condition,
    c_in_try,
    c_tuple_target,
    c_in_loop,
    c_dict_item,
]
