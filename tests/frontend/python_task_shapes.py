"""Tasks used other than by awaiting them (``test_python_tasks.py``): ``asyncio.wait_for(t, 30)``,
``asyncio.shield(t)``, ``t.cancel()``, ``asyncio.wait(tasks, timeout=...)``, a list of tasks handed
to a helper. The graph would run a task's call where the task is made, so these uses would see it
finished; the statement making the task runs as written instead (a graph break), so the task is
Python's and its call runs eagerly. Each takes ``(q, docs)``; ``FAIL`` in a prompt fails its call."""

from __future__ import annotations

import asyncio

import ayo_trace as ayo


async def ask(p: str, n: int = 4) -> str:
    return await ayo.llm(p, max_tokens=n)


@ayo.workflow
async def p_wait_for(q, docs):
    t = asyncio.create_task(ask(f"a {q}"))
    b = await ask(f"b {q}")
    a = await asyncio.wait_for(t, timeout=30)
    return a, b


@ayo.workflow
async def p_wait_for_in_try(q, docs):
    t = asyncio.ensure_future(ask(f"slow {q}", 6))
    notes = [await ask(f"n {d}", 2) for d in docs[:2]]
    try:
        extra = await asyncio.wait_for(t, 30)
    except (TimeoutError, ayo.EngineError) as e:
        extra = type(e).__name__
    return notes, extra


@ayo.workflow
async def p_shield(q, docs):
    t = asyncio.create_task(ask(f"a {q}"))
    return await asyncio.shield(t)


@ayo.workflow
async def p_cancel(q, docs):
    t = asyncio.create_task(ask(f"ctx {q}"))
    b = await ask(f"b {q}")
    if len(docs) > 1:
        t.cancel()
        return b
    return b, await t


@ayo.workflow
async def p_wait_timeout(q, docs):
    tasks = [asyncio.create_task(ask(f"x {d}")) for d in docs]
    if not tasks:
        return []
    done, _ = await asyncio.wait(tasks, timeout=30)
    return sorted(t.result() if not t.exception() else "E" for t in done)


async def collect(tasks):
    out = []
    for t in tasks:
        try:
            out.append(await t)
        except ayo.EngineError:
            out.append("E")
    return out


@ayo.workflow
async def p_to_helper(q, docs):
    tasks = [asyncio.create_task(ask(f"x {d}")) for d in docs]
    head = await ask(f"head {q}")
    return head, await collect(tasks)


@ayo.workflow
async def p_cancel_rest(q, docs):
    tasks = [asyncio.create_task(ask(f"y {d}", 2)) for d in docs]
    out = []
    for t in tasks:
        try:
            out.append(await t)
        except ayo.EngineError:
            for other in tasks:
                other.cancel()
            break
    return out


SHAPES = [p_wait_for, p_wait_for_in_try, p_shield, p_cancel, p_wait_timeout, p_to_helper, p_cancel_rest]


@ayo.workflow
async def p_dict_of_tasks(q, docs):
    tasks = {"answer": asyncio.create_task(ask(f"a {q}")), "title": asyncio.create_task(ask(f"t {q}", 2))}
    out = {}
    for key, t in tasks.items():
        try:
            out[key] = await t
        except ayo.EngineError:
            out[key] = "E"
    return out


@ayo.workflow
async def p_set_of_futures(q, docs):
    pending = {asyncio.ensure_future(ask(d)) for d in docs}
    if not pending:
        return []
    done, _ = await asyncio.wait(pending)
    return sorted(t.result() if not t.exception() else "E" for t in done)


DISPLAYS = [p_dict_of_tasks, p_set_of_futures]


@ayo.workflow
async def p_cancel_then_await(q, docs):
    t = asyncio.create_task(ask(f"slow {q}"))
    if docs:
        t.cancel()
    try:
        return await t
    except asyncio.CancelledError:  # (Python's task's own cancellation: a user error the try catches)
        return "cancelled"


SHAPES.append(p_cancel_then_await)


@ayo.workflow
async def p_task_in_an_item(q, docs):
    state = {"bg": None}
    state["bg"] = asyncio.create_task(ask(f"bg {q}")) if docs else None
    head = await ask(f"head {q}")
    return head, (await state["bg"] if state["bg"] is not None else "none")


@ayo.workflow
async def p_task_or_none_per_item(q, docs):
    tasks = [asyncio.create_task(ask(f"long {d}")) if len(d) > 3 else None for d in docs]
    out = []
    for d, t in zip(docs, tasks, strict=True):
        try:
            out.append(await t if t is not None else d)
        except ayo.EngineError:
            out.append("E")
    return out


DISPLAYS += [p_task_in_an_item, p_task_or_none_per_item]
