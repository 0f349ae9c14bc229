"""Names bound by ``:=`` on some paths of a test only (right of ``and``/``or``): read where the test
held (``while queue and (item := queue.pop(0)):``), read after it, or never bound
(``test_walrus_tests.py``). Each takes ``(q, docs)``; ``FAIL`` fails a call."""

from __future__ import annotations

import ayo_trace as ayo


@ayo.workflow
async def w_while_and(q, docs):
    queue = list(docs)
    out = []
    while queue and (item := queue.pop(0)):
        out.append(await ayo.llm(item, max_tokens=2))
    return out


@ayo.workflow
async def w_if_and(q, docs):
    if docs and (head := docs[0]):
        return await ayo.llm(head, max_tokens=2)
    return "none"


@ayo.workflow
async def w_chain(q, docs):
    if len(docs) > 1 and (a := docs[0]) and (b := docs[1]):
        return await ayo.llm(f"{a} vs {b}", max_tokens=2)
    return "one or none"


@ayo.workflow
async def w_or_read_after(q, docs):
    if docs or (first := q):
        await ayo.llm(f"docs {len(docs)}", max_tokens=2)
    return first  # (unbound when there are docs: UnboundLocalError, as Python raises)


@ayo.workflow
async def w_kept_after_loop(q, docs):
    queue = list(docs)
    item = "start"
    while queue and (item := queue.pop(0)):
        await ayo.llm(item, max_tokens=2)
    return item


@ayo.workflow
async def w_read_after_loop(q, docs):
    queue = list(docs)
    while queue and (item := queue.pop()):
        await ayo.llm(item, max_tokens=2)
    return item  # (unbound with no docs)


SHAPES = [w_while_and, w_if_and, w_chain, w_or_read_after, w_kept_after_loop, w_read_after_loop]


async def ask(p: str) -> str:
    return await ayo.llm(p, max_tokens=2)


@ayo.workflow
async def w_awaited_in_if(q, docs):
    ans = "-"
    if docs and (ans := await ask(docs[0])):
        pass
    return ans


@ayo.workflow
async def w_awaited_in_while(q, docs):
    n = 0
    while n < len(docs) and (ans := await ask(docs[n])):
        n += 1
    return n, (ans if docs else None)


AWAITED = [w_awaited_in_if, w_awaited_in_while]  # (the test runs as written: a `cond` would lose `ans`)
