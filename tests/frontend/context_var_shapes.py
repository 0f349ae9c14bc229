"""Workflows keeping state in ``contextvars`` (``test_context_vars.py``): request ids and tracing
state set, read across awaits, reset with their token in a ``finally``, set in helpers and in code
the graph runs as written. Each takes ``(q, docs)``; ``FAIL`` in a prompt fails its call."""

from __future__ import annotations

import asyncio
import contextvars

import ayo_trace as ayo

REQUEST: contextvars.ContextVar[str] = contextvars.ContextVar("request", default="-")
DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("depth", default=0)


async def ask(p: str, n: int = 3) -> str:
    return await ayo.llm(f"[{REQUEST.get()}] {p}", max_tokens=n)


@ayo.workflow
async def v_token_reset(q, docs):
    token = REQUEST.set(f"req-{len(docs)}")
    try:
        return await ask(q), REQUEST.get()
    finally:
        REQUEST.reset(token)


@ayo.workflow
async def v_set_get_across_awaits(q, docs):
    REQUEST.set("mine")
    a = await ask(q)
    seen = REQUEST.get()
    REQUEST.set("-")
    return a, seen, REQUEST.get()


async def traced_step(d: str) -> str:
    DEPTH.set(DEPTH.get() + 1)
    return await ask(d)


@ayo.workflow
async def v_set_in_helper(q, docs):
    out = []
    for d in docs:
        out.append(await traced_step(d))
    return out, DEPTH.get()


@ayo.workflow
async def v_set_in_a_break(q, docs):
    REQUEST.set("outer")
    async with asyncio.timeout(30):  # (run as written: a graph break)
        REQUEST.set("inside")
        a = await ask(q)
    return a, REQUEST.get()


@ayo.workflow
async def v_nested_tokens(q, docs):
    outer = REQUEST.set("outer")
    answers = []
    for d in docs:
        inner = REQUEST.set(d)
        try:
            answers.append(await ask(d))
        except ayo.EngineError:
            answers.append("E")
        finally:
            REQUEST.reset(inner)
    REQUEST.reset(outer)
    return answers, REQUEST.get()


@ayo.workflow
async def v_gathered_helpers(q, docs):
    REQUEST.set(q[:5])
    return await asyncio.gather(*(ask(d) for d in docs))


SHAPES = [
    v_token_reset,
    v_set_get_across_awaits,
    v_set_in_helper,
    v_set_in_a_break,
    v_nested_tokens,
    v_gathered_helpers,
]


@ayo.workflow
async def v_task_copies_context(q, docs):
    REQUEST.set("first")
    t = asyncio.create_task(ask(q))  # (a task runs in a copy of the context it is made in)
    REQUEST.set("second")
    b = await ask(f"b {q}")
    return await t, b


CACHE: dict[str, str] = {}


async def cached_tag(p: str) -> str:
    return await ayo.llm(f"[{CACHE.get('k', '-')}] {p}", max_tokens=3)


@ayo.workflow
async def v_helper_reads_module_state(q, docs):
    CACHE["k"] = "first"  # (a helper reads it: each read keeps its place after the change)
    a = await cached_tag(q)
    CACHE["k"] = docs[0] if docs else "second"
    return a, await cached_tag(f"b {q}")


SHAPES += [v_task_copies_context, v_helper_reads_module_state]
