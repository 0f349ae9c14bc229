# ruff: noqa: B023, F811  (the late binding these shapes are about, on purpose)
"""Functions made in a loop that awaits (``test_loop_closures.py``): ``REFUSED`` read a name the
loop binds and are kept past their turn (Python reads the name when they are called: the last
turn's value); ``TRACED`` are called in their own turn or bind the value where they are made.
Each takes ``(q, docs)``."""

from __future__ import annotations

import ayo_trace as ayo


async def ask(text: str) -> str:
    return await ayo.llm(f"ask: {text}", max_tokens=2)


@ayo.workflow
async def lambdas_kept_in_a_list(q: str, docs: list[str]) -> list[str]:
    fs = []
    for d in docs:
        await ask(q)
        fs.append(lambda: d)
    return [f() for f in fs]


@ayo.workflow
async def def_read_after_the_loop(q: str, docs: list[str]) -> str:
    def last() -> str:
        return ""

    for d in docs:
        reply = await ask(d)

        def last() -> str:
            return reply

    return last()


@ayo.workflow
async def callbacks_by_name(q: str, docs: list[str]) -> dict[str, str]:
    table = {}
    for d in docs:
        reply = await ask(d)
        table[d] = lambda: reply.strip()
    return {k: f() for k, f in table.items()}


@ayo.workflow
async def default_binds_the_turn(q: str, docs: list[str]) -> list[str]:
    fs = []
    for d in docs:
        reply = await ask(d)
        fs.append(lambda reply=reply: reply.upper())
    return [f() for f in fs]


@ayo.workflow
async def key_used_in_its_turn(q: str, docs: list[str]) -> list[str]:
    out = []
    for d in docs:
        reply = await ask(d)
        out.append(max([reply, d, q], key=lambda s: (len(s) + len(d)) % 7))
    return out


@ayo.workflow
async def named_and_called_in_its_turn(q: str, docs: list[str]) -> list[str]:
    out = []
    for d in docs:
        reply = await ask(d)

        def tag(x: str) -> str:
            return f"{d}: {x}"

        out.append(tag(reply))
    return out


REFUSED = [lambdas_kept_in_a_list, def_read_after_the_loop, callbacks_by_name]
TRACED = [default_binds_the_turn, key_used_in_its_turn, named_and_called_in_its_turn]
