"""Shapes where two names of the workflow hold one object and one of them changes it, for
``test_alias_shapes.py``: a bound method kept in a name (``add = log.append``), a
``functools.partial`` over the object, a name for an item of it (``first = rows[0]``), a second
name for it (``view = log``), called or changed in the workflow or in a helper it defines (awaited
alone or gathered), read after through the other name. Each must agree with eager."""

from __future__ import annotations

import asyncio
import functools

import ayo_trace as ayo


@ayo.workflow
async def bound_method_called(q: str, docs: list[str]) -> list[str]:
    log: list[str] = []
    add = log.append
    a = await ayo.llm(q, max_tokens=2)
    add(a)
    return list(log)


@ayo.workflow
async def bound_extend_in_loop(q: str, docs: list[str]) -> int:
    notes: list[str] = []
    more = notes.extend
    for d in docs:
        r = await ayo.llm(f"Sum: {d}", max_tokens=2)
        more([d, r])
    return len(notes)


@ayo.workflow
async def partial_append(q: str, docs: list[str]) -> list[str]:
    log: list[str] = []
    put = functools.partial(list.append, log)
    a = await ayo.llm(q, max_tokens=2)
    put(a)
    return sorted(log)


@ayo.workflow
async def setitem_method(q: str, docs: list[str]) -> dict[str, str]:
    cache: dict[str, str] = {}
    put = cache.__setitem__
    for d in docs:
        put(d, await ayo.llm(d, max_tokens=2))
    return dict(cache)


@ayo.workflow
async def helper_calls_bound_method(q: str, docs: list[str]) -> list[str]:
    log: list[str] = []
    add = log.append

    async def one(p: str) -> None:
        r = await ayo.llm(p, max_tokens=2)
        add(r)

    await one(q)
    return list(log)


@ayo.workflow
async def gathered_helpers_call_bound_method(q: str, docs: list[str]) -> list[str]:
    log: list[str] = []
    add = log.append

    async def one(p: str) -> None:
        add(p)
        await ayo.llm(p, max_tokens=2)

    await asyncio.gather(one("x"), one(q))
    return list(log)


@ayo.workflow
async def helper_changes_item_alias(q: str, docs: list[str]) -> int:
    rows: list[list[str]] = [[]]
    first = rows[0]

    async def one(p: str) -> None:
        r = await ayo.llm(p, max_tokens=2)
        first.append(r)

    await one(q)
    return len(rows[0])


@ayo.workflow
async def gathered_helpers_change_view(q: str, docs: list[str]) -> list[str]:
    log: list[str] = []
    view = log

    async def one(p: str) -> None:
        view.append(p)
        await ayo.llm(p, max_tokens=2)

    await asyncio.gather(*(one(d) for d in docs))
    return list(log)


@ayo.workflow
async def helper_lambda_appends(q: str, docs: list[str]) -> list[str]:
    log: list[str] = []
    rec = lambda x: log.append(x)  # noqa: E731

    async def one(p: str) -> None:
        rec(p)
        await ayo.llm(p, max_tokens=2)

    await one(q)
    return list(log)


@ayo.workflow
async def dict_entry_alias_in_helper(q: str, docs: list[str]) -> dict[str, list[str]]:
    state: dict[str, list[str]] = {"seen": []}
    seen = state["seen"]

    async def mark(d: str) -> str:
        out = await ayo.llm(d, max_tokens=2)
        seen.append(d)
        return out

    for d in docs:
        await mark(d)
    return state


TRACED = [
    bound_method_called,
    bound_extend_in_loop,
    partial_append,
    setitem_method,
    helper_calls_bound_method,
    gathered_helpers_call_bound_method,
    helper_changes_item_alias,
    gathered_helpers_change_view,
    helper_lambda_appends,
    dict_entry_alias_in_helper,
]


# lazy iterators and functions keeping an object: they read it when consumed or called


@ayo.workflow
async def generator_made_before_append(q: str, docs: list[str]) -> list[str]:
    xs: list[str] = []
    g = (x.upper() for x in xs)
    xs.append(await ayo.llm(q, max_tokens=2))
    return list(g)


@ayo.workflow
async def lines_of_scores_filled_later(q: str, docs: list[str]) -> str:
    scores: dict[str, str] = {}
    lines = (f"{k}: {v}" for k, v in scores.items())
    for d in docs:
        scores[d] = await ayo.llm(f"Rate: {d}", max_tokens=2)
    return "\n".join(lines)


@ayo.workflow
async def map_lambda_reads_dict_set_later(q: str, docs: list[str]) -> list[str]:
    cfg = {"sep": "-"}
    m = map(lambda d: cfg["sep"] + d, docs)
    cfg["sep"] = await ayo.llm(q, max_tokens=2)
    return list(m)


@ayo.workflow
async def generator_function_of_the_workflow(q: str, docs: list[str]) -> list[str]:
    xs: list[str] = []

    def gen():  # type: ignore[no-untyped-def]
        yield from xs

    g = gen()
    xs.append(await ayo.llm(q, max_tokens=2))
    return list(g)


@ayo.workflow
async def default_holds_set(q: str, docs: list[str]) -> str:
    seen: set[str] = set()

    def mark(x: str, s: set[str] = seen) -> None:
        s.add(x)

    prompt = f"Seen: {sorted(seen)}"
    mark(q)
    return await ayo.llm(prompt, max_tokens=4) + str(len(seen))


@ayo.workflow
async def lambda_default_holds_list(q: str, docs: list[str]) -> str:
    buf: list[str] = []
    add = lambda x, s=buf: s.append(x)  # noqa: E731
    prompt = f"Buf: {buf}"
    add(q)
    return await ayo.llm(prompt, max_tokens=4) + str(buf)


TRACED += [
    generator_made_before_append,
    lines_of_scores_filled_later,
    map_lambda_reads_dict_set_later,
    generator_function_of_the_workflow,
    default_holds_set,
    lambda_default_holds_list,
]


# a generator expression awaiting in its first iterable only: Python evaluates that where the
# expression stands, so it is a plain generator, traced


@ayo.workflow
async def join_of_awaited_hits(q: str, docs: list[str]) -> str:
    await ayo.ingest(docs or ["none"], collection="alias_kb")
    return "\n".join(h.text for h in await ayo.search(q, collection="alias_kb", top_k=2))


@ayo.workflow
async def any_over_awaited_lines(q: str, docs: list[str]) -> tuple[bool, int]:
    found = any("yes" in line for line in await ayo.llm(q, max_tokens=6, parse=ayo.lines))
    longest = max((len(w) for w in await ayo.llm(f"Words: {q}", max_tokens=6, parse=ayo.lines)), default=0)
    return found, longest


@ayo.workflow
async def sorted_over_reranked(q: str, docs: list[str]) -> list[str]:
    return sorted(r.text for r in await ayo.rerank(q, docs, top_k=3))


TRACED += [join_of_awaited_hits, any_over_awaited_lines, sorted_over_reranked]


@ayo.workflow
async def filtered_join_of_awaited_hits(q: str, docs: list[str]) -> str:
    await ayo.ingest(docs or ["none"], collection="alias_kb2")
    hits = await ayo.search(q, collection="alias_kb2", top_k=3)
    return "|".join(h.text for h in hits if h.text) + ",".join(
        t for t in await ayo.llm(q, max_tokens=6, parse=ayo.lines) if t.strip()
    )


TRACED += [filtered_join_of_awaited_hits]


@ayo.workflow
async def generator_returned_by_a_function(q: str, docs: list[str]) -> list[str]:
    xs: list[str] = []

    def view():  # type: ignore[no-untyped-def]
        return (x.strip() for x in xs)

    v = view()
    xs.append(await ayo.llm(q, max_tokens=2))
    return list(v)


@ayo.workflow
async def bound_method_handed_to_map(q: str, docs: list[str]) -> tuple[str, int]:
    buf: list[str] = []
    prompt = f"Buffer: {buf!r} for {q}"
    list(map(buf.append, docs))
    return await ayo.llm(prompt, max_tokens=4), len(buf)


TRACED += [generator_returned_by_a_function, bound_method_handed_to_map]
