"""A gather bound unawaited and awaited later (``jobs = asyncio.gather(...)``, then ``await
jobs``), as people write it to do something while the calls run (``test_gathered_futures.py``).
The gather's future starts its calls where it is made, as ``asyncio.create_task`` of the gather
would: traced as that task. Each takes ``(q, docs)``; a prompt holding ``FAIL`` fails its call."""

from __future__ import annotations

import asyncio
import asyncio as aio
from asyncio import gather

import ayo_trace as ayo


async def ask(p: str, n: int = 4) -> str:
    return await ayo.llm(p, max_tokens=n)


@ayo.workflow
async def g_later(q, docs):
    jobs = asyncio.gather(ask(f"a {q}"), ask(f"b {q}"))
    head = q.upper()
    x, y = await jobs
    return head, x, y


@ayo.workflow
async def g_embed(q, docs):
    jobs = asyncio.gather(ask(f"sum {q}"), ayo.embed(q))
    text, vec = await jobs
    return text, len(vec)


@ayo.workflow
async def g_try(q, docs):
    jobs = asyncio.gather(ask(f"t {q}"), *[ask(f"d {d}") for d in docs])
    note = f"{len(docs)} docs"
    try:
        got = await jobs
    except ayo.EngineError as e:
        got = ["E", type(e).__name__]
    return note, got


@ayo.workflow
async def g_return_exceptions(q, docs):
    jobs = asyncio.gather(*(ask(f"r {d}") for d in docs), return_exceptions=True)
    first = await ask(f"meanwhile {q}")
    rest = await jobs
    return first, [r if isinstance(r, str) else "E" for r in rest]


@ayo.workflow
async def g_meanwhile(q, docs):
    jobs = asyncio.gather(*[ask(f"m {d}") for d in docs])
    lead = await ask(f"lead {q}")
    return lead, await jobs


@ayo.workflow
async def g_two(q, docs):
    one = asyncio.gather(ask(f"x {q}"), ask(f"y {q}"))
    two = asyncio.gather(*[ask(f"z {d}") for d in docs])
    a = await one
    b = await two
    return a + b


@ayo.workflow
async def g_twice(q, docs):
    jobs = asyncio.gather(ask(f"w {q}"))
    first = await jobs
    again = await jobs
    return first == again, first, jobs.result()


@ayo.workflow
async def g_aliases(q, docs):
    j1 = aio.gather(ask(f"al {q}"), ask(f"bl {q}"))
    j2 = gather(*[ask(f"cl {d}") for d in docs])
    return await j1, await j2


@ayo.workflow
async def g_nested(q, docs):
    jobs = asyncio.gather(asyncio.gather(ask(f"n1 {q}"), ask(f"n2 {q}")), ask(f"n3 {q}"))
    (a, b), c = await jobs
    return [a, b, c]


@ayo.workflow
async def g_branch(q, docs):
    jobs = asyncio.gather(*[ask(f"br {d}") for d in docs])
    if len(q) > 10:
        out = await jobs
    else:
        out = list(reversed(await jobs))
    return out


async def helper(q, docs):
    jobs = asyncio.gather(ask(f"h {q}"), *[ask(f"hd {d}") for d in docs])
    tag = q[:3]
    return tag, await jobs


@ayo.workflow
async def g_in_helper(q, docs):
    tag, got = await helper(q, docs)
    return tag, got


@ayo.workflow
async def g_empty(q, docs):
    jobs = asyncio.gather()
    return await jobs, await ask(q)


@ayo.workflow
async def g_raise_between(q, docs):
    jobs = asyncio.gather(*[ask(f"rb {d}") for d in docs])
    if not docs:
        raise ValueError("no docs")
    return await jobs


@ayo.workflow
async def g_done(q, docs):
    jobs = asyncio.gather(*[ask(f"gd {d}") for d in docs])
    got = await jobs
    return jobs.done(), got


TRACED = [
    g_done,
    g_later,
    g_embed,
    g_try,
    g_return_exceptions,
    g_meanwhile,
    g_two,
    g_twice,
    g_aliases,
    g_nested,
    g_branch,
    g_in_helper,
    g_empty,
    g_raise_between,
]


# used other than by awaiting it: the statement runs as written (Python's gather), a graph break
@ayo.workflow
async def p_wait_for(q, docs):
    jobs = asyncio.gather(ask(f"wf {q}"), *[ask(f"wd {d}") for d in docs])
    return await asyncio.wait_for(jobs, 30)


@ayo.workflow
async def p_shield(q, docs):
    jobs = asyncio.gather(*[ask(f"sh {d}") for d in docs])
    return await asyncio.shield(jobs)


class Remote:
    """A client whose methods ``__getattr__`` makes: calls the tracer does not follow."""

    def __getattr__(self, name):
        async def call(x):
            await asyncio.sleep(0)
            return f"{name}:{x}"

        return call


remote = Remote()


@ayo.workflow
async def p_not_followed(q, docs):
    jobs = asyncio.gather(*[remote.fetch(d) for d in docs])
    lead = await ask(f"nf {q}")
    return lead, await jobs


AS_WRITTEN = [p_wait_for, p_shield, p_not_followed]
