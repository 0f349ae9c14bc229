"""Lists of coroutines built statement by statement, then gathered (``coroutine_lists.py``), for
``test_coroutine_lists.py``: ``TRACED`` are traced whole, ``BREAKS`` keep their gather a graph
break (a name the calls read changes before the gather; ``return_exceptions=``; another use)."""

from __future__ import annotations

import asyncio

import ayo_trace as ayo


async def summarize(text: str) -> str:
    return await ayo.llm(f"Summarize: {text}", max_tokens=4)


@ayo.workflow
async def literal_list(q: str) -> list[str]:
    coros = [ayo.llm(f"Pros of {q}", max_tokens=3), ayo.llm(f"Cons of {q}", max_tokens=3)]
    return list(await asyncio.gather(*coros))


@ayo.workflow
async def appended_in_a_loop(q: str) -> list[str]:
    hits = await ayo.search(q, collection="kb0", top_k=3)
    tasks = []
    for h in hits:
        tasks.append(summarize(h.text))
    results = await asyncio.gather(*tasks)
    return list(results)


@ayo.workflow
async def tuple_target_loop(q: str) -> list[str]:
    hits = await ayo.search(q, collection="kb1", top_k=2)
    jobs = []
    for i, h in enumerate(hits):
        jobs.append(ayo.llm(f"{i}. {h.text} -> {q}", max_tokens=3))
    return list(await asyncio.gather(*jobs))


@ayo.workflow
async def optional_call(q: str, deep: bool = False) -> str:
    coros = [ayo.llm(f"Quick: {q}", max_tokens=2)]
    if deep:
        coros.append(ayo.llm(f"Deep: {q}", max_tokens=5))
    return " / ".join(await asyncio.gather(*coros))


@ayo.workflow
async def every_way_of_growing(q: str) -> list[str]:
    words = q.split()
    coros = []
    coros.append(ayo.llm(f"All of {q}", max_tokens=2))
    for w in words:
        coros.append(ayo.llm(f"Word {w}", max_tokens=3))
    coros.extend(summarize(w.upper()) for w in words)
    return list(await asyncio.gather(*coros))


@ayo.workflow
async def gathered_in_a_try(q: str) -> list[str]:
    coros = []
    for w in q.split():
        coros.append(ayo.llm(w, max_tokens=2))
    try:
        return list(await asyncio.gather(*coros))
    except ayo.AyoError:
        return []


@ayo.workflow
async def made_in_a_loop(q: str) -> list[str]:
    out: list[str] = []
    for k in range(2):
        coros = [ayo.llm(f"{q} {k}", max_tokens=2)]
        coros.append(ayo.llm(f"{q} {k} again", max_tokens=2))
        out += await asyncio.gather(*coros)
    return out


@ayo.workflow
async def ingest_before_the_gather(q: str) -> list[list[str]]:
    coros = [ayo.search(q, collection="fresh", top_k=3)]
    await ayo.ingest([f"{q} is new"], collection="fresh")  # the search runs at the gather: it sees it
    found = await asyncio.gather(*coros)
    return [[h.text for h in hits] for hits in found]


@ayo.workflow
async def gathered_as_a_comprehensions_items(q: str) -> list[list[str]]:
    coros = [ayo.search(q, collection="kb0", top_k=2), ayo.search(q, collection="kb1", top_k=1)]
    return [[h.text for h in hits] for hits in await asyncio.gather(*coros)]  # evaluated once


async def brief(text: str) -> str:
    return await ayo.llm(f"Brief: {text}", max_tokens=2)


TOOLS = {"summarize": summarize, "brief": brief}


@ayo.workflow
async def then_a_tool_from_a_table(q: str) -> tuple[list[str], str, str]:
    """The question is handed to a tool looked up in a module table afterwards: none of the
    table's functions changes what it is handed, so nothing the calls read changes."""
    coros = [ayo.llm(f"Head {q}", max_tokens=2)]
    coros.append(summarize(q))
    heads = list(await asyncio.gather(*coros))
    tool = "brief" if len(q) % 2 else "summarize"
    return heads, await TOOLS[tool](q), await TOOLS.get(tool, brief)(q)


TRACED = [
    (literal_list, ("tea",)),
    (then_a_tool_from_a_table, ("tea",)),
    (then_a_tool_from_a_table, ("teas",)),
    (appended_in_a_loop, ("passage",)),
    (tuple_target_loop, ("passage",)),
    (optional_call, ("q", True)),
    (optional_call, ("q", False)),
    (every_way_of_growing, ("two words",)),
    (every_way_of_growing, ("",)),
    (gathered_in_a_try, ("a b",)),
    (made_in_a_loop, ("q",)),
    (ingest_before_the_gather, ("zeta",)),
    (gathered_as_a_comprehensions_items, ("passage",)),
]


@ayo.workflow
async def returning_exceptions(q: str) -> list[str]:
    coros = []
    for w in q.split():
        coros.append(ayo.llm(w, max_tokens=2))
    return [str(r) for r in await asyncio.gather(*coros, return_exceptions=True)]


@ayo.workflow
async def comprehension_returning_exceptions(q: str) -> list[str]:
    coros = [ayo.llm(w, max_tokens=2) for w in q.split()]
    return [str(r) for r in await asyncio.gather(*coros, return_exceptions=True)]


@ayo.workflow
async def name_bound_again(q: str) -> list[str]:
    coros = []
    x = q
    coros.append(ayo.llm(x, max_tokens=2))
    x = q + "!"
    coros.append(ayo.llm(x, max_tokens=2))
    return list(await asyncio.gather(*coros))


@ayo.workflow
async def list_changed_in_place(q: str) -> list[str]:
    parts = [q]
    coros = [ayo.llm(" ".join(parts), max_tokens=2)]
    parts.append("more")
    coros.append(ayo.llm(" ".join(parts), max_tokens=2))
    return list(await asyncio.gather(*coros))


@ayo.workflow
async def counted(q: str) -> list[str]:
    coros = [ayo.llm(q, max_tokens=2)]
    coros.append(ayo.llm(q + "?", max_tokens=2))
    n = len(coros)
    return [f"{n}", *await asyncio.gather(*coros)]


@ayo.workflow
async def traced_condition(q: str) -> list[str]:
    coros = [ayo.llm(q, max_tokens=2)]
    if len(q) > 3:
        coros.append(ayo.llm(q + " long", max_tokens=2))
    return list(await asyncio.gather(*coros))


async def noted(parts: list[str]) -> str:
    parts.append("noted")
    return await ayo.llm(" ".join(parts), max_tokens=2)


NOTERS = {"noted": noted, "brief": brief}


@ayo.workflow
async def a_table_tool_changes_what_the_calls_read(q: str) -> list[str]:
    """One of the table's functions changes the list it is handed, which the first call's prompt
    was made from: made where they stand, the calls read it before."""
    parts = [q]
    coros = [ayo.llm(" ".join(parts), max_tokens=2)]
    tool = "noted" if q else "brief"
    first = await NOTERS[tool](parts)
    return [first, *await asyncio.gather(*coros)]


# (a comprehension's list spread with `return_exceptions=True`: a graph break until 2026-12-06)
TRACED.append((comprehension_returning_exceptions, ("a b",)))
# (the loop growing the list right after `coros = []` is the comprehension it stands for:
# `frontend/group_loops`)
TRACED.append((returning_exceptions, ("a b",)))

BREAKS = [
    (a_table_tool_changes_what_the_calls_read, ("q",)),
    (name_bound_again, ("q",)),
    (list_changed_in_place, ("q",)),
    (counted, ("q",)),
    (traced_condition, ("long one",)),
]
