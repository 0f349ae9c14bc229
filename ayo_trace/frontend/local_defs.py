"""The ``async def``s a workflow defines in its body, found where they are called (``helpers``).

By its name (``await expand(items)`` where ``expand`` still holds the workflow's ``async def
expand``: ``named``), or through another name that holds the same function (``handed``): a
parameter of a helper the workflow handed it to (``async def apply(f, xs): return [await f(x) for
x in xs]``, ``await apply(local, docs)``), or a name it was bound to (``f = local``). A value is
the function when its node is the ``def``'s own (the same node is the same object): such a call
is inlined as the function's own call is, reading the workflow's variables as they are at the
call, where a helper handed a module-level function was inlined already and one handed the
workflow's own was a graph break.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import libcst as cst

from .source import FunctionSource
from .state import walk
from .values import Traced


def named(body: Any, name: str) -> tuple[Any, cst.FunctionDef] | None:
    """``(the body defining it, its def)`` of the ``async def name`` of the workflow body (or a
    body around ``body``), if ``name`` still holds it at ``body``."""
    c = body
    while c is not None:
        if name in c.local_defs and c.env.get(name) is c.local_defs[name][1]:
            return c, c.local_defs[name][0]
        if name in c.env and name not in c.captures:
            return None  # rebound to something else
        c = c.parent if c.parent is not None else c.enclosing
    return None


def handed(body: Any, name: str) -> tuple[Any, cst.FunctionDef] | None:
    """``(the body defining it, its def)`` of the workflow's own ``async def`` that ``name``
    holds at ``body`` under another name (see the module's doc)."""
    c = body
    while c is not None and (name in c.captures or name not in c.env):
        c = c.parent if c.parent is not None else c.enclosing  # (captured, or to be, from around)
    value = c.env.get(name) if c is not None else None
    if not isinstance(value, Traced):
        return None
    d = body
    while d is not None:  # the bodies around, and those of the calls inlining them
        for stmt, held in d.local_defs.values():
            if isinstance(held, Traced) and held.node is value.node and isinstance(stmt, cst.FunctionDef):
                return (d, stmt) if stmt.asynchronous is not None else None
        d = d.parent or d.enclosing or d.caller
    return None


def source(src: FunctionSource, node: cst.FunctionDef) -> FunctionSource:
    """The source of the function ``node`` defined in ``src``'s function, read as a helper's."""
    return dataclasses.replace(
        src,
        node=node,
        fn_scope=src.scopes[node.body],
        _free_cache={},
        _assigned_cache={},
        closures=None,
        local_qualname=f"{src.qualname}.<locals>.{node.name.value}",
        # what it found of the workflow's names is not the helper's (its `h = o.log`)
        aliases=None,
        strict_aliases=None,
        changed_anywhere=None,
        immutable=None,
    )


def scope_at_call(body: Any, defining: Any) -> Any:
    """The body whose names a function defined in ``defining`` (a body of the workflow, or of a
    helper inlined in it) reads when it is called at ``body``: its own function's body active at
    the call, as Python's closure reads that frame's variables then. That is ``body`` when the
    call is in ``defining`` or a body inside it (a loop's, a branch's: the names as they are
    there), else the body of the call that inlined the function the call is in, and so on
    outwards (``wrap(x)`` calling ``local(y)``: ``local`` reads the workflow's ``x``, not
    ``wrap``'s). None for a module's function."""
    if defining is None:
        return None
    c = body
    while c is not None:
        d = c
        while d is not None:  # `c` and the bodies around it in its own function
            if d is defining:
                return c
            d = d.parent
        while c.parent is not None:
            c = c.parent
        c = c.caller  # (the body that inlined the function `c` is a body of)
    return defining


def shadowed(body: Any, defining: Any, node: cst.FunctionDef) -> bool:
    """Whether a body of another function between ``body`` and ``defining`` (outwards by the bodies
    around, then those a helper defined in the workflow reads) binds, as a name of its own, a name
    the function ``node`` reads but does not bind: read through that body, the name would be that
    function's, not the one ``node``'s closure reads (``wrap(x)``'s ``x`` for ``local``'s). (A
    body of ``node``'s own function, its recursion, binds only names ``node`` binds too.)"""
    own = {a.name for a in defining.src.scopes[node.body].assignments}
    reads = {n.value for n in walk(node.body) if isinstance(n, cst.Name)} - own
    c = body
    while c is not None and c is not defining:
        if c.src.node is not defining.src.node and reads & {a.name for a in c.src.fn_scope.assignments}:
            return True
        c = c.parent if c.parent is not None else c.enclosing
    return False
