"""``finally`` clauses whose effects reach outside the workflow (a module's log, a budget given
back, an argument changed in place), reading or not what the ``try`` body bound, for
``test_finally_effects.py``: on a query whose call fails the ``finally`` still runs, as in Python."""

from __future__ import annotations

from dataclasses import dataclass, field

import ayo_trace as ayo

LOG: list[object] = []


@dataclass
class Budget:
    left: int = 10
    spent: list[int] = field(default_factory=list)


BUDGET = Budget()


def reset() -> None:
    LOG.clear()
    BUDGET.left, BUDGET.spent = 10, []


def state() -> tuple[list[object], int, list[int]]:
    return list(LOG), BUDGET.left, list(BUDGET.spent)


@ayo.workflow
async def flag_logged(q: str, docs: list[str]) -> str:
    ok = False
    try:
        r = await ayo.llm(f"f {q}", max_tokens=2)
        ok = True
    finally:
        LOG.append(ok)
    return r


@ayo.workflow
async def result_name_logged(q: str, docs: list[str]) -> str:
    r = "none"
    try:
        r = await ayo.llm(f"g {q}", max_tokens=2)
    finally:
        LOG.append(len(r))
    return r


@ayo.workflow
async def budget_refund_on_failure(q: str, docs: list[str]) -> str:
    cost = 3
    BUDGET.left -= cost
    ok = False
    try:
        r = await ayo.llm(f"b {q}", max_tokens=2)
        ok = True
    finally:
        if not ok:
            BUDGET.left += cost
    return f"{r} {BUDGET.left}"


@ayo.workflow
async def argument_marked_done(q: str, docs: list[str]) -> str:
    try:
        r = await ayo.llm(f"m {q}", max_tokens=2)
    finally:
        docs.append("done")
    return r


@ayo.workflow
async def spent_recorded_through_a_method(q: str, docs: list[str]) -> str:
    n = 0
    try:
        for d in docs:
            await ayo.llm(f"s {d} {q}", max_tokens=2)
            n += 1
    finally:
        BUDGET.spent.append(n)
    return str(n)


@ayo.workflow
async def local_notes_only(q: str, docs: list[str]) -> tuple[str, list[str]]:
    notes: list[str] = []
    try:
        r = await ayo.llm(f"n {q}", max_tokens=2)
        notes.append(r)
    finally:
        notes.append("end")
    return r, notes


SHAPES = [
    flag_logged,
    result_name_logged,
    budget_refund_on_failure,
    argument_marked_done,
    spent_recorded_through_a_method,
    local_notes_only,
]
