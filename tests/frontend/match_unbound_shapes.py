"""``match`` statements after which a name some case binds is read, where no case may match (no
``case _``): Python raises ``UnboundLocalError`` at that read, on that path only; for
``test_match_unbound.py``."""

from __future__ import annotations

import ayo_trace as ayo


@ayo.workflow
async def a_case_returns_another_binds(q: str, docs: list[str]) -> object:
    a = await ayo.llm(q, max_tokens=3)
    match a[-1]:
        case "0" | "2" | "4":
            return await ayo.llm(a, max_tokens=2)
        case "1" | "3" | "5" | "7" | "9":
            others = 1
    return others  # (unbound when no case matched, as in Python)


@ayo.workflow
async def captures_read_after(q: str, docs: list[str]) -> int:
    words = (await ayo.llm(q, max_tokens=4)).split()
    match words:
        case [first, *rest] if len(first) > 3:
            pass
        case []:
            return 0
    return len(rest) + len(first)


@ayo.workflow
async def in_a_loop_body(q: str, docs: list[str]) -> list[str]:
    out = []
    for d in docs:
        r = await ayo.llm(d, max_tokens=3)
        match r[-1]:
            case "0" | "1" | "2":
                label = "low"
            case "a" | "b":
                continue
        out.append(label)
    return out


SHAPES = [a_case_returns_another_binds, captures_read_after, in_a_loop_body]
