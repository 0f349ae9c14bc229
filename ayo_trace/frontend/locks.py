"""``async with sem:`` around awaits, where ``sem`` is an asyncio or anyio semaphore, lock or
capacity limiter (a module constant, an attribute of an object known at trace time, or a name
bound once to a new one: ``sem = asyncio.Semaphore(4)``, also read from a helper the workflow
defines): its body is traced as if the statement were not there.

Such a statement changes when the body runs, not what it computes: it bounds how many tasks run
it at once (the rate limit of a fan-out) or runs them one at a time. In the graph, the engine
schedulers bound the work in flight across every query (batching, ``Runtime(max_active=...)``)
and effects keep program order, so the answers are the eager ones. Without this the statement was
a graph break, which made a helper using it (``async with sem: return await ayo.llm(...)``) run
eagerly whole. Other context managers around awaits stay graph breaks."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import anyio
import libcst as cst

if TYPE_CHECKING:
    from .builder import Builder

LOCKS: tuple[type, ...] = (
    asyncio.Semaphore,
    asyncio.Lock,
    anyio.Semaphore,
    anyio.Lock,
    anyio.CapacityLimiter,
)


def unwrapped(comp: Builder, stmts: list[Any]) -> list[Any]:
    """``stmts`` with each ``async with`` of locks replaced by its body's statements."""
    out: list[Any] = []
    for stmt in stmts:
        if isinstance(stmt, cst.With) and stmt.asynchronous is not None and _only_locks(comp, stmt):
            out.extend(unwrapped(comp, [s for s in stmt.body.body if isinstance(s, cst.BaseStatement)]))
        else:
            out.append(stmt)
    return out


def _only_locks(comp: Builder, stmt: cst.With) -> bool:
    return all(item.asname is None and _is_lock(comp, item.item) for item in stmt.items)


def _is_lock(comp: Builder, e: cst.BaseExpression) -> bool:
    static = comp.exprs.try_static(e)
    if static is not None:
        return isinstance(static.value, LOCKS)
    if not isinstance(e, cst.Name) or e not in comp.src.scopes:
        return False
    scope = comp.src.scopes[e]
    if scope is None:
        return False
    assignments = list(scope[e.value])  # (found in the function around a helper it defines, too)
    if len(assignments) != 1:
        return False
    target = getattr(assignments[0], "node", None)
    stmt = comp.src.parents.get(comp.src.parents.get(target))
    if not (isinstance(stmt, cst.Assign) and len(stmt.targets) == 1 and stmt.targets[0].target is target):
        return False
    made = stmt.value
    if not isinstance(made, cst.Call):
        return False
    cls = comp.exprs.callee(made)
    return isinstance(cls, type) and issubclass(cls, LOCKS)
