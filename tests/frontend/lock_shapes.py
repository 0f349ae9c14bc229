"""``async with`` a semaphore, a lock or a capacity limiter around awaits, for ``test_locks.py``:
the body is traced as if the statement were not there (it bounds concurrency; the engine
schedulers do that in the graph)."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio

import ayo_trace as ayo

SEM = asyncio.Semaphore(2)
LIMIT = anyio.CapacityLimiter(2)


async def bounded(x: str) -> str:
    async with SEM:
        return await ayo.llm(x, max_tokens=2)


@ayo.workflow
async def module_sem(q: str) -> list[str]:
    return await asyncio.gather(*(bounded(w) for w in q.split()))


@ayo.workflow
async def lock_in_loop(q: str) -> list[str]:
    lock = asyncio.Lock()
    out = []
    for w in q.split():
        async with lock:
            out.append(await ayo.llm(w, max_tokens=2))
    return out


@ayo.workflow
async def limiter(q: str) -> str:
    async with LIMIT:
        hits = await ayo.search(q, collection="kb0", top_k=1)
    return hits[0].text


class Client:
    def __init__(self) -> None:
        self.sem = asyncio.Semaphore(3)

    async def ask(self, p: str) -> str:
        async with self.sem:
            r = await ayo.llm(p, max_tokens=2)
        return r


CLIENT = Client()


@ayo.workflow
async def method_sem(q: str) -> list[str]:
    return await asyncio.gather(CLIENT.ask(q), CLIENT.ask(q + "!"))


@ayo.workflow
async def nested_with_return(q: str) -> str:
    sem = asyncio.Semaphore(1)
    if len(q) > 3:
        async with sem:
            return await ayo.llm(q, max_tokens=2)
    return "short"


@ayo.workflow
async def helper_bounded_in_the_workflow(q: str) -> list[str]:
    sem = asyncio.Semaphore(2)

    async def one(w: str) -> str:
        async with sem:
            return await ayo.llm(w, max_tokens=2)

    return await asyncio.gather(*[one(w) for w in q.split()])


async def limited(sem: Any, w: str) -> str:  # (the textbook fan-out: the semaphore passed in)
    async with sem:
        return await ayo.llm("Process " + w, max_tokens=2)


@ayo.workflow
async def semaphore_passed_to_a_helper(q: str) -> list[str]:
    sem = asyncio.Semaphore(2)
    return await asyncio.gather(*[limited(sem, w) for w in q.split()])


@ayo.workflow
async def limiter_passed_by_keyword_in_a_loop(q: str) -> list[str]:
    limit = anyio.CapacityLimiter(1)
    out = []
    for w in q.split():
        out.append(await limited(w=w, sem=limit))
    return out


@ayo.workflow
async def lock_passed_through_two_helpers(q: str) -> list[str]:
    lock = asyncio.Lock()

    async def outer(lk: Any, w: str) -> str:
        return await limited(lk, w.upper())

    return await asyncio.gather(*(outer(lock, w) for w in q.split()))


class Opened:  # any other context manager: its `async with` stays a graph break
    async def __aenter__(self) -> Opened:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


@ayo.workflow
async def other_context_manager(q: str) -> str:
    async with Opened():
        answer = await ayo.llm(q, max_tokens=2)
    return answer


CASES = [
    (module_sem, ("alpha beta",)),
    (lock_in_loop, ("alpha beta",)),
    (limiter, ("alpha beta",)),
    (method_sem, ("alpha beta",)),
    (nested_with_return, ("alpha beta",)),
    (nested_with_return, ("ab",)),
    (helper_bounded_in_the_workflow, ("alpha beta gamma",)),
    (semaphore_passed_to_a_helper, ("alpha beta gamma",)),
    (limiter_passed_by_keyword_in_a_loop, ("alpha beta",)),
    (lock_passed_through_two_helpers, ("alpha beta",)),
]
