"""``async with sem:`` around awaits, where ``sem`` is an asyncio or anyio semaphore, lock or
capacity limiter (a module constant, an attribute of an object known at trace time, or a name
bound once to a new one: ``sem = asyncio.Semaphore(4)``, also read from a helper the workflow
defines or passed to a helper: ``async def limited(sem, d): async with sem: return await ...``):
its body is traced as if the statement were not there.

Such a statement changes when the body runs, not what it computes: it bounds how many tasks run
it at once (the rate limit of a fan-out) or runs them one at a time. In the graph, the engine
schedulers bound the work in flight across every query (batching, ``Runtime(max_active=...)``)
and effects keep program order, so the answers are the eager ones. Without this the statement was
a graph break, which made a helper using it (``async with sem: return await ayo.llm(...)``) run
eagerly whole. Other context managers around awaits stay graph breaks."""

from __future__ import annotations

import ast
import asyncio
import sys
from typing import TYPE_CHECKING, Any

import anyio
import libcst as cst

from ..ir.code import parsed

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
    if _made_lock(comp, e.value):
        return True
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


def _made_lock(comp: Builder, name: str) -> bool:
    """Whether ``name`` holds what a statement ``x = asyncio.Semaphore(n)`` of the workflow made
    (a helper's parameter it is passed to: ``async def limited(sem, d): async with sem: ...``)."""
    node = _origin(comp, getattr(comp.env.get(name), "node", None))
    code = node.attrs.get("code") if node is not None and node.op == "python" else None
    if code is None:
        return False
    try:
        tree = parsed(code.source)
    except SyntaxError:
        return False
    stmt = tree.body[0] if len(tree.body) == 1 else None
    if not (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call) and len(code.returns) == 1):
        return False
    func, path = stmt.value.func, []
    while isinstance(func, ast.Attribute):
        path.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return False
    found = {**(vars(sys.modules[code.module]) if code.module in sys.modules else {}), **code.bindings}.get(
        func.id
    )
    for attr in reversed(path):
        found = getattr(found, attr, None)
    return isinstance(found, type) and issubclass(found, LOCKS)


def _origin(comp: Any, node: Any) -> Any:
    """The node of a body around ``comp`` (a body it is in, or inlined into) that an input of a
    map's or branch's body stands for."""
    bodies, seen = [comp], set()
    while bodies and node is not None and node.op == "input":
        b = bodies.pop(0)
        if b is None or id(b) in seen:
            continue
        seen.add(id(b))
        outer = next((o for o, i in getattr(b, "captures", {}).values() if i is node), None)
        if outer is not None:  # (a node of the body around `b`: look from there)
            node, bodies, seen = outer, [], set()
        bodies += [getattr(b, "parent", None), getattr(b, "caller", None)]
    return node
