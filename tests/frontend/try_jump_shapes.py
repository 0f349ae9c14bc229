"""Workflows for test_try_jumps.py: a ``break`` or ``continue`` in an ``if`` (or ``match``, or an
inner ``try``) of a ``try`` part inside a loop body, the retry and filter loops people write."""

from __future__ import annotations

import ayo_trace as ayo


@ayo.workflow
async def body_skips_odd(q: str, docs: list[str]) -> list[str]:
    out = []
    for d in docs:
        try:
            r = await ayo.llm(f"{q} {d}", max_tokens=2)
            if len(r) % 2:
                continue
            out.append(r)
        except ayo.EngineError:
            out.append("err")
    return out


@ayo.workflow
async def body_stops_at_a_marked_doc(q: str, docs: list[str]) -> list[str]:
    out = []
    for d in docs:
        try:
            r = await ayo.llm(f"{q} {d}", max_tokens=2)
            if "stop" in d:
                break
            elif "skip" in d:
                continue
            out.append(r)
        except ayo.EngineError:
            break
    else:
        out.append("all seen")
    return out


@ayo.workflow
async def handler_skips_some(q: str, docs: list[str]) -> list[str]:
    out = []
    for d in docs:
        try:
            r = await ayo.llm(f"{q} {d}", max_tokens=2)
        except ayo.EngineError as e:
            if "skip" in d:
                continue
            r = f"err {type(e).__name__}"
        out.append(r)
    return out


@ayo.workflow
async def else_filters(q: str, docs: list[str]) -> list[str]:
    good = []
    for i, d in enumerate(docs):
        try:
            r = await ayo.llm(f"{q} {i} {d}", max_tokens=2)
        except ayo.EngineError:
            continue
        else:
            if len(r) % 3 == 0:
                break
            if not r.strip():
                continue
            good.append(r)
    return good


@ayo.workflow
async def inner_try_in_a_part(q: str, docs: list[str]) -> list[str]:
    out = []
    for d in docs:
        try:
            r = await ayo.llm(f"Number for {q} {d}", max_tokens=2)
            try:
                k = int(r.strip()[:1])
            except ValueError:
                if "skip" in d:
                    continue
                k = -1
            out.append(f"{k}:{r}")
        except ayo.EngineError:
            out.append("err")
    return out


@ayo.workflow
async def match_in_a_part(q: str, docs: list[str]) -> list[str]:
    out = []
    for d in docs:
        try:
            r = await ayo.llm(f"{q} {d}", max_tokens=2)
            match len(r) % 3:
                case 0:
                    continue
                case 1:
                    out.append(r.upper())
                case _:
                    out.append(r)
        except ayo.EngineError:
            continue
    return out


@ayo.workflow
async def while_retries(q: str) -> tuple[int, str]:
    tries, answer = 0, ""
    while tries < 4:
        tries += 1
        try:
            answer = await ayo.llm(f"{q} (try {tries})", max_tokens=2)
            if len(answer) % 2 == 0:
                break
        except ayo.EngineError:
            answer = "failed"
            if "FAIL" in q and tries > 1:
                break
            continue
        answer = answer.strip()
    return tries, answer


@ayo.workflow
async def returns_from_a_part(q: str, docs: list[str]) -> str:
    for d in docs:
        try:
            r = await ayo.llm(f"{q} {d}", max_tokens=2)
            if "stop" in d:
                return f"stopped at {d}: {r}"
            if len(r) % 2:
                continue
        except ayo.EngineError:
            if "skip" in d:
                continue
            return "failed"
    return "none"


@ayo.workflow
async def nested_loop_in_a_part(q: str, docs: list[str]) -> list[str]:
    out = []
    for d in docs:
        try:
            r = await ayo.llm(f"{q} {d}", max_tokens=2)
            if "skip" in d:
                continue
            for k in range(3):  # its `continue` and `break` are its own
                if k == 0:
                    continue
                if len(r) % 2 and k == 2:
                    break
                out.append(f"{k}{r}")
        except ayo.EngineError:
            continue
    return out


WORKFLOWS = [
    body_skips_odd,
    body_stops_at_a_marked_doc,
    handler_skips_some,
    else_filters,
    inner_try_in_a_part,
    match_in_a_part,
    while_retries,
    returns_from_a_part,
    nested_loop_in_a_part,
]
