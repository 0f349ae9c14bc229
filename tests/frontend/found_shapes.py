"""Workflows written the way people write them that the graph once answered differently from Python
or crashed on (``test_found_shapes.py``); each takes ``(q, docs)``.

* a loop accumulating into a list (or dict) inside an ``if``/``else``/``try``/``with`` body: the
  loop's items, named after the list, were extended into themselves (``out.extend(out)``);
* a loop inside a ``try`` whose handler swallows the error: Python keeps what the items before the
  failing one did, the loop's node fails whole (now a graph break);
* an LLM call whose value nothing reads: the optimized graph dropped it, and its error;
* a default of a ``lambda`` or ``def`` taken from a workflow variable: a NameError at run time;
* a ``functools.partial`` made at module level: the tracer crashed with AttributeError;
* a ``finally`` inside a ``try`` (or a helper's, inlined in one) skipped when the error it let
  through was caught;
* a name bound inside the last statement of a ``try`` body (an ``if`` branch, a walrus, a
  ``with``) before the call failing in it, seen by the handler as it was before;
* an attribute of a module-level object or class the workflow sets (``STATS.n = ...``,
  ``Counter.n += 1``, through a method), folded into the graph as the value it had when traced.
"""

from __future__ import annotations

import contextlib
import functools
import types

import ayo_trace as ayo


async def noted(text: str, notes: list[str]) -> str:
    notes.append(f"start {text}")
    reply = await ayo.llm(f"note: {text}", max_tokens=3)
    notes.append(f"done {text}")
    return reply


async def ask(text: str, n: int) -> str:
    return await ayo.llm(f"ask: {text}", max_tokens=n)


async def guarded(text: str, log: list[str]) -> str:
    try:
        return await ayo.llm(f"guarded: {text}", max_tokens=2)
    finally:
        log.append(text)


class Counted:
    n = 0

    def __init__(self) -> None:
        Counted.n += 1


class Holder:
    def __init__(self) -> None:
        self.v = 0

    def set(self, v: int) -> None:
        self.v = v


STATS = types.SimpleNamespace(calls=0, last="")
HOLDER = Holder()
short = functools.partial(ayo.llm, max_tokens=3)
brief = functools.partial(ask, n=2)


# --- a loop accumulating inside another body -----------------------------------------------


@ayo.workflow
async def loop_appends_in_an_if(q: str, docs: list[str]) -> list[str]:
    out: list[str] = []
    if q:
        for d in docs:
            out.append(await ayo.llm(d, max_tokens=2))
    return out


@ayo.workflow
async def loop_appends_in_an_else(q: str, docs: list[str]) -> list[str]:
    found: list[str] = []
    if q.startswith("stop"):
        found.append("stopped")
    else:
        for d in docs:
            reply = await ayo.llm(f"{q}: {d}", max_tokens=2)
            found.append(reply.strip())
    return found


@ayo.workflow
async def loop_sets_items_in_an_if(q: str, docs: list[str]) -> dict[str, str]:
    by_doc: dict[str, str] = {}
    if docs:
        for d in docs:
            by_doc[d] = await ayo.llm(f"label {d}", max_tokens=2)
    return by_doc


@ayo.workflow
async def loop_extends_in_a_try_finally(q: str, docs: list[str]) -> list[str]:
    out: list[str] = []
    try:
        for d in docs:
            out.extend([d, await ayo.llm(d, max_tokens=2)])
    finally:
        out.append("end")
    return out


@ayo.workflow
async def loop_in_a_loop_in_an_if(q: str, docs: list[str]) -> list[str]:
    out: list[str] = []
    if len(docs) > 1:
        for d in docs:
            if d:
                out.append(await ayo.llm(d, max_tokens=2))
    return out


# --- a loop inside a try whose handler swallows the error ----------------------------------


@ayo.workflow
async def loop_appends_in_a_try(q: str, docs: list[str]) -> list[str]:
    out: list[str] = []
    try:
        for d in docs:
            out.append(await ayo.llm(d, max_tokens=2))
    except ayo.EngineError:
        out.append("failed")
    return out


@ayo.workflow
async def loop_counts_in_a_try(q: str, docs: list[str]) -> int:
    done = 0
    try:
        for d in docs:
            await ayo.llm(d, max_tokens=2)
            done += 1
    except Exception:
        pass
    return done


@ayo.workflow
async def loop_keeps_the_last_in_a_try(q: str, docs: list[str]) -> str | None:
    last = None
    try:
        for d in docs:
            last = await ayo.llm(d, max_tokens=2)
    except Exception:
        pass
    return last


@ayo.workflow
async def loop_in_suppress(q: str, docs: list[str]) -> list[str]:
    out: list[str] = []
    with contextlib.suppress(ayo.EngineError):
        for d in docs:
            out.append(await ayo.llm(d, max_tokens=2))
    return out


# --- a call whose value nothing reads ----------------------------------------------------------


@ayo.workflow
async def unread_call(q: str, docs: list[str]) -> str:
    await ayo.llm(f"check {q}", max_tokens=2)
    return "ok"


@ayo.workflow
async def unread_call_in_a_try(q: str, docs: list[str]) -> str:
    try:
        await ayo.llm(f"check {q}", max_tokens=2)
    except ayo.EngineError:
        return "failed"
    return "ok"


@ayo.workflow
async def helper_reply_dropped(q: str, docs: list[str]) -> list[str]:
    notes: list[str] = []
    for d in docs:
        await noted(d, notes)  # (its reply is not read; its notes are)
    return notes


@ayo.workflow
async def unread_calls_in_a_map(q: str, docs: list[str]) -> int:
    for d in docs:
        await ayo.llm(f"warm {d}", max_tokens=1)
    return len(docs)


# --- defaults and partials ---------------------------------------------------------------------


@ayo.workflow
async def lambda_default_from_a_variable(q: str, docs: list[str]) -> list[str]:
    weight = 3
    score = lambda t, w=weight: len(t) * w  # noqa: E731
    replies = [await ayo.llm(d, max_tokens=2) for d in docs]
    return sorted(replies, key=score)


@ayo.workflow
async def def_default_from_an_answer(q: str, docs: list[str]) -> str:
    sep = " | "
    head = await ayo.llm(q, max_tokens=2)

    def fmt(xs: list[str], *, s: str = sep, first: str = head) -> str:
        return first + s + s.join(xs)

    return fmt(docs)


@ayo.workflow
async def module_partial_of_a_primitive(q: str, docs: list[str]) -> tuple[str, list[str]]:
    import asyncio

    return await short(f"Short: {q}"), list(await asyncio.gather(*(short(d) for d in docs)))


@ayo.workflow
async def module_partial_of_a_helper(q: str, docs: list[str]) -> tuple[str, str]:
    import asyncio

    task = asyncio.create_task(brief(q))
    first = await task
    return first, await brief(q + "!")


# --- try/finally and names bound in a try's last statement ------------------------------------


@ayo.workflow
async def finally_inside_a_try(q: str, docs: list[str]) -> list[str]:
    log: list[str] = []
    try:
        try:
            await ayo.llm(q, max_tokens=2)
        finally:
            log.append("cleanup")
    except ayo.EngineError:
        log.append("caught")
    return log


@ayo.workflow
async def helper_finally_inside_a_try(q: str, docs: list[str]) -> tuple[str | None, list[str]]:
    log: list[str] = []
    try:
        r: str | None = await guarded(q, log)
    except ayo.EngineError:
        r = None
    return r, log


@ayo.workflow
async def stage_set_in_an_if_of_a_try(q: str, docs: list[str]) -> str:
    stage = "start"
    try:
        if docs:
            stage = "asking"
            await ayo.llm(f"{q} {docs[-1]}", max_tokens=2)
            stage = "done"
    except ayo.EngineError:
        pass
    return stage


@ayo.workflow
async def stage_set_by_a_walrus_in_a_try(q: str, docs: list[str]) -> int:
    stage = 0
    try:  # noqa: SIM105 (as people write it)
        await ayo.llm((stage := 1) and q, max_tokens=2)
    except ayo.EngineError:
        pass
    return stage


@ayo.workflow
async def status_per_doc_in_a_loop(q: str, docs: list[str]) -> list[str]:
    out: list[str] = []
    for d in docs:
        status = "new"
        try:
            if d:
                status = "asked"
                await ayo.llm(d, max_tokens=2)
                status = "ok"
        except ayo.EngineError:
            pass
        out.append(status)
    return out


# --- module-level state the workflow changes -------------------------------------------------


@ayo.workflow
async def module_namespace_counter(q: str, docs: list[str]) -> tuple[int, str]:
    STATS.calls = 0
    for d in docs:
        STATS.last = await ayo.llm(d, max_tokens=2)
        STATS.calls += 1
    return STATS.calls, STATS.last


@ayo.workflow
async def class_counter(q: str, docs: list[str]) -> tuple[int, str]:
    Counted.n = 0
    made = [Counted() for _ in docs]
    reply = await ayo.llm(f"{q} {len(made)}", max_tokens=2)
    return Counted.n, reply


@ayo.workflow
async def module_object_set_by_a_method(q: str, docs: list[str]) -> str:
    HOLDER.set(len(docs))
    return await ayo.llm(f"n={HOLDER.v} {q}", max_tokens=2)


SHAPES = [
    loop_appends_in_an_if,
    loop_appends_in_an_else,
    loop_sets_items_in_an_if,
    loop_extends_in_a_try_finally,
    loop_in_a_loop_in_an_if,
    loop_appends_in_a_try,
    loop_counts_in_a_try,
    loop_keeps_the_last_in_a_try,
    loop_in_suppress,
    unread_call,
    unread_call_in_a_try,
    helper_reply_dropped,
    unread_calls_in_a_map,
    lambda_default_from_a_variable,
    def_default_from_an_answer,
    module_partial_of_a_primitive,
    module_partial_of_a_helper,
    finally_inside_a_try,
    helper_finally_inside_a_try,
    stage_set_in_an_if_of_a_try,
    stage_set_by_a_walrus_in_a_try,
    status_per_doc_in_a_loop,
    module_namespace_counter,
    class_counter,
    module_object_set_by_a_method,
]


# --- a module-level object whose methods change it (appended: the lines above stay put) -------


class Chat:
    def __init__(self) -> None:
        self.history: list[str] = []

    async def ask(self, q: str) -> str:
        reply = await ayo.llm(f"{len(self.history)} turns before: {q}", max_tokens=2)
        self.history.append(q)
        return reply


class Memo:
    def __init__(self) -> None:
        self.cache: dict[str, str] = {}

    async def ask(self, q: str) -> str:
        if q in self.cache:
            return "hit " + self.cache[q]
        reply = await ayo.llm(q, max_tokens=2)
        self.cache[q] = reply
        return reply


BOT = Chat()
MEMO = Memo()


@ayo.workflow
async def module_chat_with_history(q: str, docs: list[str]) -> list[str]:
    BOT.history.clear()
    return [await BOT.ask(d) for d in [q, *docs]]


@ayo.workflow
async def module_memo_cleared_then_asked(q: str, docs: list[str]) -> tuple[str, str]:
    MEMO.cache.clear()
    first = await MEMO.ask(q)
    return first, await MEMO.ask(q)


SHAPES += [module_chat_with_history, module_memo_cleared_then_asked]


class Tally:
    n = 0


def tally() -> None:
    Tally.n += 1


class Made:
    count = 0

    def __init__(self) -> None:
        Made.count += 1


@ayo.workflow
async def class_counter_bumped_by_a_function(q: str, docs: list[str]) -> tuple[int, str]:
    start = Tally.n
    tally()
    reply = await ayo.llm(q, max_tokens=2)
    return Tally.n - start, reply


@ayo.workflow
async def objects_counted_by_their_class(q: str, docs: list[str]) -> tuple[int, str]:
    start = Made.count
    made = [Made() for _ in docs]
    reply = await ayo.llm(f"{q} {len(made)}", max_tokens=2)
    return Made.count - start, reply


SHAPES += [class_counter_bumped_by_a_function, objects_counted_by_their_class]
