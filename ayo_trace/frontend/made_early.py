"""A call of the workflow's own ``async def`` made now and run later reads the workflow's names then.

``t = asyncio.create_task(job(q))``, ``c = job(q)`` kept and awaited later, ``functools.partial(job,
n=2)(q)``, ``asyncio.wait_for(job(q), 5)``: Python runs ``job``'s body only later (a task at the
workflow's next wait, a coroutine when it is awaited), and the body reads the workflow's names
(``style``, a parameter ``q``) as they are bound then. The graph inlines a task's call where the
task is made, and a function object that reaches Python's own code (a kept coroutine, a partial, a
call it does not trace) holds the values the names had where ``job`` was defined. The two agree
unless the workflow binds one of those names after ``job`` is defined and before its call has
run: refused at the call, naming the name and the line binding it.

A call awaited where it is made (``await job(q)``, ``await asyncio.gather(job(a), *(job(d) for d
in docs))``) is inlined there and reads the names as bound there, as Python's does.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from ..errors import TraceError
from .source import FunctionSource, _is_load, _names_in

_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)


def check_made_early(src: FunctionSource, node: cst.FunctionDef, reads: set[str]) -> None:
    """Refuse a call of the workflow's ``async def`` ``node`` (reading ``reads`` of the workflow's
    names, through the functions it calls too) that is not awaited where it is made, when the
    workflow binds one of ``reads`` after ``node``'s definition and before the call is awaited."""
    name = node.name.value
    end = src.positions[node].end.line
    binds = _bindings(src, reads)
    if not binds:
        return
    for ref in _names_in(src.node.body):
        if ref.value != name or not _is_load(ref, src.parents) or _inner(src, ref) is not None:
            continue
        if _in_place(src, ref):
            continue
        stmt = _statement(src, ref)
        start = src.positions[stmt].start.line
        span = [stmt]
        if not _awaited_in(src, ref, stmt):  # (`await asyncio.wait_for(job(q), 5)`: run there)
            span += [s for s, _ in window(src, stmt, _holder(stmt), _group(src, ref))]
        late = [
            b
            for b in binds
            if end < src.positions[b].start.line <= start or any(_within(src, b, s) for s in span)
        ]
        if not late:
            continue
        b = min(late, key=lambda b: src.positions[b].start.line)
        call = src.parents.get(ref)
        made = (
            f"`{src.code(call).strip()[:60]}` is not awaited where it is made (a task, a coroutine kept)"
            if isinstance(call, cst.Call) and call.func is ref
            else f"`{name}` is handed on here (a partial, a table of functions)"
        )
        raise TraceError(
            f"{made}, so Python runs `{name}`'s body later, and `{name}` reads the workflow's "
            f"`{b.value}`, which line "
            f"{src.file_line(src.positions[b].start.line)} binds after `{name}` is defined and before "
            f"the call has run: Python's call reads `{b.value}` when it runs, the graph where the call "
            f"is made or `{name}` defined; pass `{b.value}` to `{name}` as an argument, or "
            f"`await {name}(...)` where it is called",
            loc=src.loc(ref),
            construct="closure",
        )


def _bindings(src: FunctionSource, names: set[str]) -> list[cst.Name]:
    """The workflow's bindings of ``names`` in its body (assignments, ``+=``, loop targets, ...)."""
    out = []
    for n in _names_in(src.node.body):
        if n.value not in names or src.scopes.get(n) is not src.fn_scope:
            continue
        parent = src.parents.get(n)
        if isinstance(parent, cst.FunctionDef | cst.ClassDef):
            continue  # (a definition's own name: not a value the function reads)
        aug = isinstance(parent, cst.AugAssign) and parent.target is n
        if aug or not _is_load(n, src.parents):
            out.append(n)
    return out


def _inner(src: FunctionSource, node: cst.CSTNode) -> cst.CSTNode | None:
    """The function, lambda or class of the workflow ``node`` stands in, or None."""
    p = src.parents.get(node)
    while p is not None and p is not src.node:
        if isinstance(p, _SCOPES):
            return p
        p = src.parents.get(p)
    return None


def _in_place(src: FunctionSource, ref: cst.Name) -> bool:
    """Whether ``ref`` is called and awaited where it stands: ``await job(...)``, or a call gathered
    by an awaited ``gather`` (an argument, or the element of a spread comprehension)."""
    call = src.parents.get(ref)
    if not (isinstance(call, cst.Call) and call.func is ref):
        return False
    up = src.parents.get(call)
    if isinstance(up, cst.Await):
        return True
    if isinstance(up, cst.GeneratorExp | cst.ListComp) and up.elt is call:
        spread = src.parents.get(up)
        if not (isinstance(spread, cst.Arg) and spread.star == "*"):
            return False
        up = spread
    elif not (isinstance(up, cst.Arg) and up.star == "" and up.keyword is None):
        return False
    gather = src.parents.get(up)
    return (
        isinstance(gather, cst.Call)
        and src.code(gather.func).strip().split(".")[-1] == "gather"
        and isinstance(src.parents.get(gather), cst.Await)
    )


def _awaited_in(src: FunctionSource, ref: cst.Name, stmt: cst.CSTNode) -> bool:
    """Whether an ``await`` of ``stmt`` encloses ``ref`` (its call has run when ``stmt`` ends)."""
    p: Any = src.parents.get(ref)
    while p is not None and p is not stmt:
        if isinstance(p, cst.Await):
            return True
        p = src.parents.get(p)
    return False


def _statement(src: FunctionSource, node: cst.CSTNode) -> cst.CSTNode:
    """The small statement, or the compound statement's header, ``node`` stands in."""
    p: Any = src.parents.get(node)
    while not isinstance(p, cst.BaseSmallStatement | cst.BaseCompoundStatement):
        p = src.parents.get(p)
    return p


def _holder(stmt: cst.CSTNode) -> str | None:
    """The name holding what ``stmt`` makes (``t = ...``, ``tasks.append(...)``, ``tasks[d] = ...``)."""
    target: Any = None
    if isinstance(stmt, cst.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0].target
    elif isinstance(stmt, cst.AnnAssign):
        target = stmt.target
    elif isinstance(stmt, cst.Expr) and isinstance(stmt.value, cst.Call):
        target = stmt.value.func
    while isinstance(target, cst.Attribute | cst.Subscript):
        target = target.value
    return target.value if isinstance(target, cst.Name) else None


def _group(src: FunctionSource, ref: cst.Name) -> cst.With | None:
    """The ``async with ... as tg`` around ``tg.create_task(job(...))`` (the group awaits it)."""
    arg = src.parents.get(src.parents.get(ref))
    call = src.parents.get(arg)
    func = call.func if isinstance(call, cst.Call) else None
    if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
        return None
    p = src.parents.get(call)
    while p is not None and p is not src.node:
        if isinstance(p, cst.With) and any(
            isinstance(i.asname, cst.AsName)
            and isinstance(i.asname.name, cst.Name)
            and i.asname.name.value == func.value.value
            for i in p.items
        ):
            return p
        p = src.parents.get(p)
    return None


def _within(src: FunctionSource, node: cst.CSTNode, stmt: cst.CSTNode) -> bool:
    p: Any = node
    while p is not None:
        if p is stmt:
            return True
        p = src.parents.get(p)
    return False


def window(
    src: FunctionSource, made: cst.CSTNode, name: str | None, group: cst.With | None
) -> list[tuple[cst.CSTNode, int | None]]:
    """The statements Python may run after ``made`` and before the tasks it made have finished:
    those following it up to the first one reading ``name`` (the one awaiting them, included),
    from its own block outwards (a loop around it whole: its next turns), or to the end of
    ``group``'s body; each with its line when it is a small statement of a line."""
    out: list[tuple[cst.CSTNode, int | None]] = []
    node: cst.CSTNode = made
    line = src.parents.get(made)
    if isinstance(line, cst.SimpleStatementLine):
        at = src.file_line(src.positions[line].start.line) if line in src.positions else None
        smalls: list[cst.CSTNode] = list(line.body)
        rest = smalls[smalls.index(made) + 1 :] if made in smalls else []
        for small in rest:
            out.append((small, at))
            if name is not None and name in _names(small):
                return out
        node = line
    while True:
        block = src.parents.get(node)
        if block is None or node is src.node.body:
            return out
        body = getattr(block, "body", None)
        if isinstance(block, cst.IndentedBlock | cst.Module) and isinstance(body, tuple | list):
            siblings = list(body)
            for stmt in siblings[siblings.index(src.in_tree(node)) + 1 :]:
                out.append((stmt, None))
                if name is not None and name in _names(stmt):
                    return out
        if block is group:
            return out  # (the group awaits its tasks at its end)
        if isinstance(block, cst.For | cst.While) and block.body is node:
            out.append((block, None))  # (its next turns, before the task is awaited)
        node = block


def _names(stmt: cst.CSTNode) -> set[str]:
    return {n.value for n in _names_in(stmt)}
