"""Workflows declaring module names ``global``, as people write them: a counter of queries, the last
answer kept for the next query, a running log rebuilt, a cache swapped, a name deleted, and
functions the workflow defines that declare ``global`` themselves (``test_global_names.py``).
Each takes ``(q, docs)``; ``state()`` is what they leave in the module, ``reset()`` clears it."""

from __future__ import annotations

import asyncio

import ayo_trace as ayo

QUERIES = 0
TOKENS = 0
LAST: str | None = None
LOG: list[str] = []
SEEN: tuple[str, ...] = ()
LIMIT = 3


def reset() -> None:
    global QUERIES, TOKENS, LAST, LOG, SEEN, LIMIT
    QUERIES, TOKENS, LAST, LOG, SEEN, LIMIT = 0, 0, None, [], (), 3
    globals().pop("SCRATCH", None)


def state() -> tuple[object, ...]:
    return QUERIES, TOKENS, LAST, list(LOG), SEEN, LIMIT, globals().get("SCRATCH", "<unset>")


def words(text: str) -> int:
    return len(text.split())


def last_or(default: str) -> str:
    return LAST if LAST is not None else default


async def counted_ask(prompt: str) -> str:
    """A module helper declaring ``global``, inlined (it was refused)."""
    global TOKENS
    TOKENS += 1
    reply = await ayo.llm(f"{TOKENS}: {prompt}", max_tokens=3)
    TOKENS += words(reply)
    return reply


@ayo.workflow
async def calls_a_helper_declaring_it(q: str, docs: list[str]) -> tuple[list[str], int]:
    outs = [await counted_ask(q)]
    for d in docs:
        outs.append(await counted_ask(d))
    return outs, TOKENS


def set_pair(tokens: int, last: str) -> None:
    global TOKENS, LAST
    TOKENS, LAST = tokens, last  # (a tuple target binds them too)


@ayo.workflow
async def helpers_bind_it_by_tuple_and_loop(q: str, docs: list[str]) -> tuple[str, str, int, str | None]:
    """Functions declaring ``global`` that bind the names by a tuple target and a loop's: the
    workflow's reads of them were folded at their trace-time values."""

    def count_docs() -> None:
        global TOKENS
        for TOKENS in range(len(docs) + 1):  # noqa: B007
            pass

    set_pair(1, q)
    first = await ayo.llm(f"{TOKENS} {LAST} {q}", max_tokens=3)
    count_docs()
    second = await ayo.llm(f"{TOKENS} {LAST} {q}", max_tokens=3)
    return first, second, TOKENS, LAST


@ayo.workflow
async def counts_queries(q: str, docs: list[str]) -> tuple[str, int]:
    global QUERIES
    QUERIES += 1
    answer = await ayo.llm(f"Query {QUERIES}: {q}", max_tokens=3)
    return answer, QUERIES


@ayo.workflow
async def keeps_the_last_answer(q: str, docs: list[str]) -> str:
    """The previous query's answer (through a module helper too) goes into this one's prompt."""
    global LAST
    before = last_or("none")
    LAST = await ayo.llm(f"Given {before} and {LAST}, answer {q}", max_tokens=3)
    return LAST


@ayo.workflow
async def totals_in_a_loop(q: str, docs: list[str]) -> tuple[list[str], int]:
    global TOKENS
    outs = []
    for d in docs:
        out = await ayo.llm(f"{TOKENS} so far; summarize {d}", max_tokens=3)
        TOKENS += words(out)
        outs.append(out)
    return outs, TOKENS


@ayo.workflow
async def rebinds_a_log(q: str, docs: list[str]) -> list[str]:
    global LOG
    LOG = LOG + [f"start {q}"]  # noqa: RUF005  (a new list, bound to the module's name)
    plan = await ayo.llm(f"Plan: {q}", max_tokens=3)
    LOG += [plan]
    LOG.append("done")
    return LOG


@ayo.workflow
async def swaps_a_tuple(q: str, docs: list[str]) -> tuple[str, ...]:
    global SEEN, LIMIT
    if q in SEEN:
        LIMIT -= 1
    SEEN += (q,)
    outs = await asyncio.gather(*[ayo.llm(f"{LIMIT}: {d}", max_tokens=2) for d in docs[:LIMIT]])
    return (*outs, *SEEN)


@ayo.workflow
async def sets_then_deletes(q: str, docs: list[str]) -> str:
    global SCRATCH
    SCRATCH = await ayo.llm(f"Draft: {q}", max_tokens=3)
    final = await ayo.llm(f"Improve: {SCRATCH}", max_tokens=3)
    del SCRATCH
    return final


@ayo.workflow
async def reads_before_binding(q: str, docs: list[str]) -> str:
    """``SCRATCH`` does not exist until the workflow binds it: Python raises NameError first."""
    global SCRATCH
    seen = SCRATCH
    SCRATCH = await ayo.llm(f"Draft: {q} {seen}", max_tokens=3)
    return SCRATCH


@ayo.workflow
async def in_a_try(q: str, docs: list[str]) -> tuple[str, int]:
    global QUERIES, LAST
    QUERIES += 1
    try:
        LAST = await ayo.llm(f"Answer: {q}", max_tokens=3)
    except ayo.EngineError:
        QUERIES -= 1
        LAST = "failed"
    return LAST, QUERIES


@ayo.workflow
async def helpers_read_it(q: str, docs: list[str]) -> list[str]:
    """Functions of the workflow and of the module read the name it binds, gathered."""
    global LAST
    LAST = q.upper()

    async def tag(d: str) -> str:
        return await ayo.llm(f"{LAST} / {last_or('-')}: {d}", max_tokens=2)

    outs = await asyncio.gather(*(tag(d) for d in docs))
    LAST = None
    return [*outs, str(LAST)]


@ayo.workflow
async def local_function_declares_it(q: str, docs: list[str]) -> tuple[str, int]:
    """No ``global`` in the workflow: a function it defines declares one (read by the workflow)."""

    def bump(n: int) -> None:
        global QUERIES
        QUERIES += n

    bump(1)
    answer = await ayo.llm(f"{QUERIES} {q}", max_tokens=3)
    bump(len(docs))
    return answer, QUERIES


@ayo.workflow
async def declared_twice(q: str, docs: list[str]) -> tuple[int, str | None]:
    global TOKENS
    global TOKENS, LAST  # (Python allows the same declaration again)
    TOKENS = 0
    for d in docs:
        LAST = d
        TOKENS += words(await ayo.llm(f"Count {d}", max_tokens=3))
    return TOKENS, LAST


WORKFLOWS = [
    calls_a_helper_declaring_it,
    helpers_bind_it_by_tuple_and_loop,
    counts_queries,
    keeps_the_last_answer,
    totals_in_a_loop,
    rebinds_a_log,
    swaps_a_tuple,
    sets_then_deletes,
    reads_before_binding,
    in_a_try,
    helpers_read_it,
    local_function_declares_it,
    declared_twice,
]


@ayo.workflow
async def declared_in_a_branch(q: str, docs: list[str]) -> str:
    if docs:
        global LAST
        LAST = docs[0]
    return await ayo.llm(f"{q} {LAST}", max_tokens=2)


@ayo.workflow
async def loop_target(q: str, docs: list[str]) -> str:
    global LAST
    for LAST in docs:  # noqa: B007
        pass
    return await ayo.llm(f"{q} {LAST}", max_tokens=2)


@ayo.workflow
async def tuple_target(q: str, docs: list[str]) -> str:
    global LAST, QUERIES
    LAST, QUERIES = q, 1
    return await ayo.llm(f"{q} {LAST} {QUERIES}", max_tokens=2)


REFUSED = [declared_in_a_branch, loop_target, tuple_target]
