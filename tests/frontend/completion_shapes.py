"""Loops over ``asyncio.as_completed(...)`` and ``asyncio.wait(tasks)``, for ``test_completion.py``:
the calls run as a gather would, each one's error kept and raised where the loop awaits it (the
scripted LLM fails a prompt holding FAIL). The bodies do not depend on the order the calls finish
in, which Python leaves to the engines (the graph's is the list's)."""

from __future__ import annotations

import asyncio

import ayo_trace as ayo


async def summarize(text: str) -> str:
    hits = await ayo.search(text, collection="agent_docs", top_k=1)
    return await ayo.llm(f"Sum {text}: {hits[0].text if hits else ''}", max_tokens=3)


@ayo.workflow
async def over_a_comprehension(question: str, docs: list[str]) -> list[str]:
    out = []
    for fut in asyncio.as_completed([ayo.llm(f"{question} {d}", max_tokens=2) for d in docs]):
        out.append(await fut)
    return sorted(out)


@ayo.workflow
async def over_a_generator_of_helpers(question: str, docs: list[str]) -> str:
    parts = []
    for fut in asyncio.as_completed([summarize(d) for d in docs if d]):
        part = await fut
        parts.append(part.upper())
    return await ayo.llm(f"{question}: {' | '.join(sorted(parts))}", max_tokens=3)


@ayo.workflow
async def over_a_list_built_before(question: str, docs: list[str]) -> list[str]:
    coros = [summarize(f"{question} {d}") for d in docs]
    done = [await f for f in asyncio.as_completed(coros)]
    return sorted(done)


@ayo.workflow
async def over_calls_and_a_spread(question: str, docs: list[str]) -> list[str]:
    calls = asyncio.as_completed(
        [
            ayo.llm(question, max_tokens=2),
            ayo.llm(f"{question}?", max_tokens=3),
            *(ayo.llm(d, max_tokens=2) for d in docs),
        ]
    )
    return sorted([await f for f in calls])


@ayo.workflow
async def over_tasks_made_before(question: str, docs: list[str]) -> list[str]:
    tasks = [asyncio.create_task(ayo.llm(f"{question} {d}", max_tokens=2)) for d in docs]
    total = []
    for fut in asyncio.as_completed(tasks):
        total.append(await fut)
    return sorted(total)


@ayo.workflow
async def tasks_awaited_in_a_try_in_the_loop(question: str, docs: list[str]) -> list[str]:
    tasks = [asyncio.create_task(ayo.llm(f"{question} {d}", max_tokens=2)) for d in docs]
    out = []
    for fut in asyncio.as_completed(tasks):  # (read only here: the tasks start here, each in a try)
        try:
            out.append(await fut)
        except ayo.EngineError:
            out.append("failed")
    return sorted(out)


@ayo.workflow
async def failures_caught_in_the_loop(question: str, docs: list[str]) -> list[str]:
    good, failed = [], 0
    for fut in asyncio.as_completed([ayo.llm(f"{question} {d}", max_tokens=2) for d in docs]):
        try:
            good.append(await fut)
        except ayo.EngineError:
            failed += 1
    return [*sorted(good), f"failed={failed}"]


@ayo.workflow
async def stops_at_a_good_one(question: str, docs: list[str]) -> str:
    answers = 0
    for fut in asyncio.as_completed([summarize(d) for d in docs]):
        try:
            answer = await fut
        except ayo.EngineError:
            continue
        answers += 1
        if answer:
            return f"found one after {answers}"
    return "none"


@ayo.workflow
async def counts_then_answers(question: str, docs: list[str]) -> str:
    lengths = []
    for fut in asyncio.as_completed(
        [ayo.llm(d, max_tokens=2) for d in docs] + [ayo.llm(question, max_tokens=2)]
    ):
        lengths.append(len(await fut))
    return await ayo.llm(f"{question} {sum(lengths)}", max_tokens=3)


async def gather_as_they_come(question: str, docs: list[str]) -> list[str]:
    return sorted([await f for f in asyncio.as_completed([summarize(f"{question} {d}") for d in docs])])


@ayo.workflow
async def in_a_helper(question: str, docs: list[str]) -> str:
    parts = await gather_as_they_come(question, docs)
    return await ayo.llm(" ".join(parts), max_tokens=3)


@ayo.workflow
async def waiting_for_all(question: str, docs: list[str]) -> list[str]:
    tasks = [asyncio.create_task(ayo.llm(f"{question} {d}", max_tokens=2)) for d in docs]
    done, pending = await asyncio.wait(tasks)
    return [*sorted(t.result() for t in done), f"pending={len(pending)}", f"done={len(done)}"]


@ayo.workflow
async def waiting_for_all_said(question: str, docs: list[str]) -> list[str]:
    tasks = [asyncio.create_task(summarize(d)) for d in docs]
    done, _ = await asyncio.wait(tasks, return_when=asyncio.ALL_COMPLETED, timeout=None)
    return sorted(t.result() for t in done)


@ayo.workflow
async def an_iterator_kept(question: str, docs: list[str]) -> list[int]:
    it = asyncio.as_completed([summarize(d) for d in docs])
    first = [await f for f in it]
    second = [await f for f in it]  # (Python's iterator is spent: nothing)
    return [len(first), len(second)]


@ayo.workflow
async def all_failures_caught_around(question: str, docs: list[str]) -> list[str]:
    try:
        parts = [await f for f in asyncio.as_completed([summarize(d) for d in docs])]
    except ayo.EngineError:
        parts = ["failed"]
    return sorted(parts)


@ayo.workflow
async def in_a_loop(question: str, docs: list[str]) -> list[str]:
    out = []
    for r in range(2):
        for fut in asyncio.as_completed([ayo.llm(f"{question} {d} {r}", max_tokens=2) for d in docs]):
            out.append(await fut)
    return sorted(out)


@ayo.workflow
async def waited_in_a_branch(question: str, docs: list[str]) -> list[str]:
    tasks = [asyncio.create_task(summarize(d)) for d in docs]
    if tasks:
        done, _ = await asyncio.wait(tasks)
        return sorted(t.result() for t in done)
    return []


CASES = [
    an_iterator_kept,
    all_failures_caught_around,
    in_a_loop,
    waited_in_a_branch,
    over_a_comprehension,
    over_a_generator_of_helpers,
    over_a_list_built_before,
    over_calls_and_a_spread,
    over_tasks_made_before,
    tasks_awaited_in_a_try_in_the_loop,
    failures_caught_in_the_loop,
    stops_at_a_good_one,
    counts_then_answers,
    in_a_helper,
    waiting_for_all,
    waiting_for_all_said,
]


@ayo.workflow
async def with_a_timeout(question: str, docs: list[str]) -> list[str]:
    out = []
    for fut in asyncio.as_completed([ayo.llm(d, max_tokens=2) for d in docs], timeout=60):
        out.append(await fut)
    return sorted(out)  # run as written: a graph break


@ayo.workflow
async def over_a_generator(question: str, docs: list[str]) -> list[str]:
    coros = (ayo.llm(d, max_tokens=2) for d in docs)
    return [await f for f in asyncio.as_completed(coros)]  # Python raises TypeError: as written


@ayo.workflow
async def over_a_list_appended_to(question: str, docs: list[str]) -> list[str]:
    coros = []
    for d in docs:
        coros.append(ayo.llm(d, max_tokens=2))
    return sorted([await f for f in asyncio.as_completed(coros)])  # as written


@ayo.workflow
async def first_completed(question: str, docs: list[str]) -> int:
    tasks = [asyncio.create_task(ayo.llm(d, max_tokens=2)) for d in docs]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for p in pending:
        p.cancel()
    return len(done)  # (Python's tasks: a graph break makes them)


@ayo.workflow
async def task_awaited_in_a_try_it_is_not_made_in(question: str, docs: list[str]) -> list[str]:
    tasks = [asyncio.create_task(ayo.llm(d, max_tokens=2)) for d in docs]
    out = [f"{len(tasks)} tasks"]  # (read here too: the tasks are not deferred to as_completed)
    for fut in asyncio.as_completed(tasks):
        try:
            out.append(await fut)
        except ayo.EngineError:
            out.append("failed")
    return [out[0], *sorted(out[1:])]  # (the tasks keep their errors until the loop awaits them)
