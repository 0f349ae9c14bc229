# ruff: noqa: UP032  (str.format on purpose: what some of these shapes are about)
"""Data-processing shapes found by writing workflows the way data code is written, for
``test_data_code_shapes.py``: strings formatted from objects changed in place later, objects held
in containers, views and copies, comprehension filters with effects, walrus targets of
comprehensions, ``match`` captures read after the ``match``, ``str.format`` numbered fields.
``TRACED`` must agree with eager (some as graph breaks); ``REFUSED`` are refused at trace time."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import ayo_trace as ayo


async def ask(p: str) -> str:
    return await ayo.llm(p, max_tokens=4)


def numbered(lines: list[str]):  # a user's generator: reads the list as it is consumed
    for i, line in enumerate(lines):
        yield f"{i}. {line}"


def lowered(items: list[str]) -> None:
    items[:] = [x.lower() for x in items]


def count_words(items: list[str]) -> int:
    return sum(len(x.split()) for x in items)


@dataclass
class Report:
    notes: list[str]


# --- a string formatted from an object the workflow changes in place later ----------------------


@ayo.workflow
async def fstring_then_sort(q: str, docs: list[str]) -> str:
    items = list(docs)
    p = f"Docs: {items}"
    items.sort()
    return await ask(p)


@ayo.workflow
async def format_then_extend(q: str, docs: list[str]) -> str:
    items = [q]
    p = "ctx={}; n={n}".format(items, n=len(items))
    items += docs
    return await ask(p) + str(len(items))


@ayo.workflow
async def chat_history_in_prompt(q: str, docs: list[str]) -> str:
    history: list[str] = []
    for turn in [q, *docs[:2]]:
        prompt = f"History: {history!r}\nUser: {turn}"
        history.append(turn)
        history.append(await ask(prompt))
    return history[-1]


@ayo.workflow
async def chat_history_prompt_sent_in_a_try(q: str, docs: list[str]) -> tuple[str, int]:
    history: list[str] = []
    for turn in [q, *docs[:2]]:
        prompt = f"History: {history}\nUser: {turn}"
        history.append(turn)
        try:
            reply = await ask(prompt)
        except ayo.EngineError:
            reply = "!"
        history.append(reply)
    return history[-1], len(history)


@ayo.workflow
async def sliding_window_prompt(q: str, docs: list[str]) -> list[str]:
    context: list[str] = []
    answers = []
    for d in docs:
        context.append(d)
        prompt = "Context: {}\nQ: {:>3}".format(context, q[:3])
        if len(context) > 1:
            context.pop(0)
        try:
            answers.append(await ask(prompt))
        except ayo.EngineError:
            answers.append("err")
    return answers


@ayo.workflow
async def prompt_reused_after_clear(q: str, docs: list[str]) -> list[str]:
    seen = {"q": q, "docs": list(docs)}
    p = f"A {seen['docs']} {seen}"
    first = await ask(p)
    seen["docs"].append(first)
    seen.clear()
    return [first, await ask(p)]


@ayo.workflow
async def changed_by_a_helper(q: str, docs: list[str]) -> str:
    items = [q, *docs]
    p = f"Items: {items:}"
    lowered(items)
    return await ask(p) + ",".join(items)


@ayo.workflow
async def handed_to_a_pure_helper(q: str, docs: list[str]) -> str:
    p = f"{q} has {count_words(docs)} words"  # (nothing changes `q` or `docs`: no node of its own)
    return await ask(p)


# --- objects held in containers, views, copies --------------------------------------------------


@ayo.workflow
async def dict_holds_list(q: str, docs: list[str]) -> int:
    hist = [q]
    cfg = {"hist": hist, "k": 2}
    hist.append(await ask(q))
    return len(cfg["hist"])


@ayo.workflow
async def dataclass_holds_list(q: str, docs: list[str]) -> list[str]:
    out: list[str] = []
    report = Report(out)
    for d in docs:
        out.append(await ask(d))
    return report.notes


@ayo.workflow
async def records_by_id(q: str, docs: list[str]) -> list[object]:
    records = [{"id": i, "text": d} for i, d in enumerate(docs)]
    by_id = {r["id"]: r for r in records}
    for r in records:
        r["summary"] = await ask(r["text"])
    return [by_id[k].get("summary") for k in sorted(by_id)]


@ayo.workflow
async def shallow_copy_sees_items(q: str, docs: list[str]) -> int:
    recs = [[q]]
    index = list(recs)
    recs[0].append(await ask(q))
    return len(index[0])


@ayo.workflow
async def comprehension_updates_its_items(q: str, docs: list[str]) -> list[object]:
    records = [{"text": d} for d in docs]
    index = list(records)
    [r.update(s=(await ask(r["text"]))[-2:]) for r in records if "FAIL" not in r["text"]]
    return [x.get("s") for x in index]


@ayo.workflow
async def dict_view_read_after(q: str, docs: list[str]) -> list[str]:
    scores: dict[str, str] = {}
    vals = scores.values()
    scores[q] = await ask(q)
    return list(vals)


@ayo.workflow
async def generator_over_list(q: str, docs: list[str]) -> str:
    ctx = list(docs)
    lines = numbered(ctx)
    ctx.append((await ask(q))[-3:])
    return "\n".join(lines)


# --- comprehensions ------------------------------------------------------------------------------


@ayo.workflow
async def filter_with_effect(q: str, docs: list[str]) -> list[str]:
    log: list[str] = []
    return [await ask(f"{len(log)} {d}") for d in docs if not log.append(d)]


@ayo.workflow
async def dedupe_in_comprehension(q: str, docs: list[str]) -> list[str]:
    seen: set[str] = set()
    return [seen.add(d) or await ask(d) for d in docs + docs if d not in seen]


async def cached(d: str, store: dict[str, str]) -> str:
    store[d] = await ask(d)
    return store[d]


@ayo.workflow
async def cache_helper_in_comprehension(q: str, docs: list[str]) -> int:
    store: dict[str, str] = {}
    return len([await cached(d, store) for d in docs + docs if d not in store])


@ayo.workflow
async def pure_filter_stays_a_map(q: str, docs: list[str]) -> list[str]:
    return [await ask(f"{q} {d}") for d in docs if d.strip() and len(d) > 2]


@ayo.workflow
async def walrus_total_in_plain_comprehension(q: str, docs: list[str]) -> int:
    total = 0
    [(total := total + len(d)) for d in docs]
    return total + len(await ask(q))


@ayo.workflow
async def walrus_in_filter_read_after(q: str, docs: list[str]) -> object:
    upper = [y for d in docs if (y := d.upper())]
    return upper, (y if docs else None), await ask(q)


@ayo.workflow
async def coroutines_made_then_list_changed(q: str, docs: list[str]) -> list[str]:
    notes = [q]
    coros = [ask(f"{d} {notes}") for d in docs]
    notes.append("added")
    return await asyncio.gather(*coros)


@ayo.workflow
async def async_for_over_an_awaiting_generator(q: str, docs: list[str]) -> list[str]:
    out = []
    async for r in (await ask(d) for d in docs):  # (an async generator used as one: as written)
        out.append(r)
    return out + [r async for r in (await ask(f"{q} {d}") for d in docs)]


# --- match, str.format ----------------------------------------------------------------------------


@ayo.workflow
async def capture_read_after_match(q: str, docs: list[str]) -> object:
    match q.split():
        case [w, *rest]:
            pass
        case _:
            w, rest = "", []
    return w, rest, await ask(w or "empty")


@ayo.workflow
async def mapping_capture_read_after(q: str, docs: list[str]) -> object:
    answer = await ask(q)
    match {"a": answer, "n": len(docs)}:
        case {"a": str(a), **others}:
            pass
    return a, others


@ayo.workflow
async def await_in_a_guard(q: str, docs: list[str]) -> str:
    out = "none"
    match q.split():
        case [w, *_] if "1" in await ask(w):
            out = w
        case _:
            out = await ask(q)
    return out


@ayo.workflow
async def numbered_format_fields(q: str, docs: list[str]) -> str:
    return await ask("{0} docs about {1}; {0}".format(len(docs), q.upper()))


TRACED = [
    chat_history_prompt_sent_in_a_try,
    sliding_window_prompt,
    fstring_then_sort,
    format_then_extend,
    chat_history_in_prompt,
    prompt_reused_after_clear,
    changed_by_a_helper,
    handed_to_a_pure_helper,
    dict_holds_list,
    dataclass_holds_list,
    records_by_id,
    shallow_copy_sees_items,
    dict_view_read_after,
    comprehension_updates_its_items,
    generator_over_list,
    filter_with_effect,
    dedupe_in_comprehension,
    cache_helper_in_comprehension,
    pure_filter_stays_a_map,
    walrus_total_in_plain_comprehension,
    walrus_in_filter_read_after,
    coroutines_made_then_list_changed,
    async_for_over_an_awaiting_generator,
    capture_read_after_match,
    mapping_capture_read_after,
    await_in_a_guard,
    numbered_format_fields,
]


@ayo.workflow
async def awaiting_generator_joined(q: str, docs: list[str]) -> str:
    return "".join(await ask(d) for d in docs)


@ayo.workflow
async def walrus_in_awaiting_comprehension(q: str, docs: list[str]) -> str:
    ctx = q
    [await ask(ctx := ctx + d) for d in docs]
    return ctx


@ayo.workflow
async def lazy_map_reads_later_value(q: str, docs: list[str]) -> list[str]:
    ctx = "a"
    ps = map(lambda d: ctx + d, docs)
    ctx = await ask(q)
    return list(ps)


@ayo.workflow
async def lazy_generator_reads_later_value(q: str, docs: list[str]) -> list[str]:
    ctx = "a"
    ps = (ctx + d for d in docs)
    ctx = (await ask(q))[-3:]
    return [await ask(p) for p in ps]


@ayo.workflow
async def format_from_locals(q: str, docs: list[str]) -> str:
    n = len(docs)
    return await ask("{q} has {n} docs".format(**locals()))


REFUSED = [
    awaiting_generator_joined,
    walrus_in_awaiting_comprehension,
    lazy_map_reads_later_value,
    lazy_generator_reads_later_value,
    format_from_locals,
]
