"""``with``/``async with`` of context managers that swallow an error their body raises part-way
(``__exit__`` returning true: an error boundary, a span recorder), around awaits and around plain
code, with names bound before and inside; for ``test_swallowing_with.py``. What the body bound
before the error stays, what it would have bound after is not, as in Python."""

from __future__ import annotations

from typing import Any

import ayo_trace as ayo


class Boundary:
    """Records what happened and swallows any error (``return True``)."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def __enter__(self) -> Boundary:
        self.events.append("enter")
        return self

    def __exit__(self, kind: Any, error: Any, tb: Any) -> bool:
        self.events.append("exit:" + (kind.__name__ if kind else "ok"))
        return True

    async def __aenter__(self) -> Boundary:
        return self.__enter__()

    async def __aexit__(self, kind: Any, error: Any, tb: Any) -> bool:
        return self.__exit__(kind, error, tb)


@ayo.workflow
async def async_boundary_around_a_call(q: str, docs: list[str]) -> tuple[str, list[str]]:
    b = Boundary()
    r = "unset"
    async with b:
        r = await ayo.llm(q, max_tokens=4)
    return r, b.events


@ayo.workflow
async def sync_boundary_around_parsing(q: str, docs: list[str]) -> tuple[str, int, list[str]]:
    raw = await ayo.llm(q, max_tokens=4)
    n = -1
    b = Boundary()
    with b:
        first = raw.split()[0]
        n = int(first)
    return raw, n, b.events


@ayo.workflow
async def boundary_in_a_loop(q: str, docs: list[str]) -> list[str]:
    out = []
    for d in docs:
        r = "skipped"
        async with Boundary():
            r = await ayo.llm(f"Sum: {d}", max_tokens=3)
        out.append(r)
    return out


SHAPES = [async_boundary_around_a_call, sync_boundary_around_parsing, boundary_in_a_loop]
