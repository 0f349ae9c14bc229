"""Tasks awaited where their error is caught (``test_kept_tasks.py``): a task (one, a list's, a
dict's) awaited inside a ``try`` it was not made in, or gathered with ``return_exceptions=True``.
The graph runs each call where its task is made, as a ``try`` whose outcome is the task
(``Completed``, or ``Failed`` holding the error), and raises the error where the task is awaited,
as Python does. Each takes ``(q, docs)``; a doc or question with ``FAIL`` fails its call."""

from __future__ import annotations

import asyncio

import ayo_trace as ayo


async def ask(p: str, n: int = 4) -> str:
    return await ayo.llm(p, max_tokens=n)


@ayo.workflow
async def t_loop_try(q, docs):
    tasks = [asyncio.create_task(ask(f"n {d}")) for d in docs]
    out = []
    for t in tasks:
        try:
            out.append(await t)
        except ayo.EngineError:
            out.append("E")
    return out


@ayo.workflow
async def t_enum_try(q, docs):
    tasks = [asyncio.create_task(ask(f"n {i} {d}")) for i, d in enumerate(docs)]
    lines = []
    for i, t in enumerate(tasks):
        try:
            lines.append(f"{i}: {await t}")
        except ayo.EngineError as e:
            lines.append(f"{i}: ERR {type(e).__name__}")
    return "\n".join(lines)


@ayo.workflow
async def t_retexc(q, docs):
    ts = [asyncio.create_task(ayo.llm(d, max_tokens=2)) for d in docs]
    rs = await asyncio.gather(*ts, return_exceptions=True)
    return [r if isinstance(r, str) else type(r).__name__ for r in rs]


@ayo.workflow
async def t_meanwhile_retexc(q, docs):
    futs = [asyncio.ensure_future(ask(f"ef {d}")) for d in docs]
    first = await ask(f"meanwhile {q}")
    rest = await asyncio.gather(*futs, return_exceptions=True)
    return first, [isinstance(r, str) for r in rest]


@ayo.workflow
async def t_comp_try(q, docs):
    tasks = [asyncio.create_task(ask(f"c {d}")) for d in docs if d]
    try:
        return [await t for t in tasks]
    except ayo.EngineError:
        return "failed"


@ayo.workflow
async def t_try_gather(q, docs):
    tasks = [asyncio.create_task(ask(f"c {d}")) for d in docs]
    note = await ask(q)
    try:
        rs = await asyncio.gather(*tasks)
    except ayo.EngineError as e:
        rs = ["failed", str(e)[:5]]
    return note, rs


@ayo.workflow
async def t_try_then_more(q, docs):
    tasks = [asyncio.create_task(ask(f"c {d}")) for d in docs]
    got = []
    for t in tasks:
        try:
            got.append(await t)
        except ayo.EngineError:
            got.append(await ask("retry " + q))
    return got


@ayo.workflow
async def s_bg_try(q, docs):
    bg = asyncio.create_task(ask(f"background {q}"))
    parts = [await ask(f"doc {d}") for d in docs if "FAIL" not in d]
    try:
        summary = await bg
    except ayo.EngineError:
        summary = "none"
    return summary, parts


@ayo.workflow
async def s_two_try(q, docs):
    t1 = asyncio.create_task(ask(f"one {q}"))
    t2 = asyncio.create_task(ask(f"two {docs[0] if docs else q}"))
    out = []
    try:
        out.append(await t2)
    except ayo.EngineError:
        out.append("E2")
    try:
        out.append(await t1)
    except ayo.EngineError:
        out.append("E1")
    return out


@ayo.workflow
async def s_gather_retexc(q, docs):
    t = asyncio.create_task(ask(f"x {q}"))
    u = asyncio.create_task(ask(f"y {docs[-1] if docs else q}"))
    rs = await asyncio.gather(t, u, return_exceptions=True)
    return [r if isinstance(r, str) else "E" for r in rs]


@ayo.workflow
async def s_try_else(q, docs):
    t = asyncio.create_task(ayo.llm(q, max_tokens=3))
    notes = [d.upper() for d in docs]
    try:
        a = await t
    except ayo.EngineError:
        return "failed", notes
    else:
        b = await ayo.llm(a + " more", max_tokens=3)
    return a + b, notes


@ayo.workflow
async def s_awaited_twice(q, docs):
    t = asyncio.create_task(ask(f"z {q}"))
    try:
        a = await t
    except ayo.EngineError:
        a = "E"
    try:
        b = await t
    except ayo.EngineError:
        b = "E again"
    return a, b


@ayo.workflow
async def d_items_try(q, docs):
    tasks = {d: asyncio.create_task(ask(f"k {d}")) for d in docs}
    out = {}
    for d, t in tasks.items():
        try:
            out[d] = await t
        except ayo.EngineError:
            out[d] = None
    return out


@ayo.workflow
async def d_key_try(q, docs):
    tasks = {i: asyncio.create_task(ask(f"k {d}")) for i, d in enumerate(docs)}
    out = []
    for i in range(len(docs)):
        try:
            out.append(await tasks[i])
        except ayo.EngineError as e:
            out.append(type(e).__name__)
    return out


@ayo.workflow
async def d_retexc(q, docs):
    tasks = {d: asyncio.create_task(ask(f"k {d}")) for d in docs}
    rs = await asyncio.gather(*tasks.values(), return_exceptions=True)
    return {d: (r if isinstance(r, str) else "E") for d, r in zip(tasks, rs, strict=True)}


@ayo.workflow
async def d_try_gather(q, docs):
    tasks = {d: asyncio.create_task(ask(f"k {d}")) for d in docs}
    try:
        rs = await asyncio.gather(*tasks.values())
    except ayo.EngineError:
        return "failed"
    return dict(zip(tasks, rs, strict=True))


KEPT = [
    t_loop_try,
    t_enum_try,
    t_retexc,
    t_meanwhile_retexc,
    t_comp_try,
    t_try_gather,
    t_try_then_more,
    s_bg_try,
    s_two_try,
    s_gather_retexc,
    s_try_else,
    s_awaited_twice,
    d_items_try,
    d_key_try,
    d_retexc,
    d_try_gather,
]


# a failed task's error is raised only where it is awaited: a path that never awaits it never sees it,
# the statements between making and awaiting it run, another call failing first raises its own error
@ayo.workflow
async def s_never_awaited_on_a_path(q, docs):
    t = asyncio.create_task(ayo.llm(q, max_tokens=2))
    if not docs:
        return "early"
    return await t


@ayo.workflow
async def s_statements_between(q, docs):
    log = []
    try:
        t = asyncio.create_task(ayo.llm(q, max_tokens=2))
        log.append("between")
        n = len(docs[0])
        r = await t
    except ayo.EngineError:
        r, n = None, -1
    except IndexError:
        r, n = "no docs", 0
    return r, n, log


@ayo.workflow
async def s_another_call_fails_first(q, docs):
    t = asyncio.create_task(ask(q))
    hits = await ayo.search(q, collection="never_ingested", top_k=2)
    return [h.text for h in hits], await t


KEPT += [s_never_awaited_on_a_path, s_another_call_fails_first]


# awaited in reverse: each `await t` runs as written (a graph break taking the finished task's value)
@ayo.workflow
async def t_reversed(q, docs):
    ts = [asyncio.create_task(ask(d)) for d in docs]
    return [await t for t in reversed(ts)]


@ayo.workflow
async def t_reversed_try(q, docs):
    tasks = [asyncio.create_task(ask(f"r {d}")) for d in docs]
    out = []
    for t in reversed(tasks):
        try:
            out.append(await t)
        except ayo.EngineError:
            out.append("E")
    return out


# (and a `try` binding names before its last statement, which runs as written)
REVERSED = [t_reversed, t_reversed_try, s_statements_between]
