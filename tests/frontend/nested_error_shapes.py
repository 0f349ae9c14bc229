"""Nested workflows whose code raises, called from code the graph runs as written (a task group
with `except*`, `asyncio.wait_for`, `asyncio.shield`, a task used other than by awaiting it), for
``test_nested_workflow_errors.py``: that code catches the error its code raised, as eagerly (not
the ``UserCodeError`` a query's caller gets). Each takes ``(q, docs)``; ``FAIL`` fails a call."""

from __future__ import annotations

import asyncio

import ayo_trace as ayo


class AppError(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@ayo.workflow
async def sub_work(d: str) -> str:
    answer = await ayo.llm(d, max_tokens=2)
    if "bad" in d or not d:
        raise AppError(d)
    return answer


@ayo.workflow
async def group_except_star(q, docs):
    out = "none"
    try:
        async with asyncio.TaskGroup() as tg:
            for d in docs:
                tg.create_task(sub_work(d))
    except* AppError as eg:
        out = sorted(e.what for e in eg.exceptions)
    return out


@ayo.workflow
async def wait_for_except(q, docs):
    try:
        return await asyncio.wait_for(sub_work(docs[0] if docs else ""), 30)
    except AppError as e:
        return "caught " + e.what


@ayo.workflow
async def task_done_then_except(q, docs):
    t = asyncio.create_task(sub_work(q + " bad" if len(docs) > 1 else q))
    await asyncio.sleep(0)
    seen = t.done()
    try:
        return seen, await t
    except AppError as e:
        return "caught", e.what
    except ayo.EngineError:
        return "engine"


@ayo.workflow
async def shield_except(q, docs):
    try:
        return await asyncio.shield(sub_work(" ".join(docs) + " bad"))
    except ValueError:
        return "wrong handler"
    except AppError as e:
        return ("caught", e.what)


SHAPES = [group_except_star, wait_for_except, task_done_then_except, shield_except]
