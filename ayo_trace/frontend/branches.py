"""``if`` statements: a test known at trace time picks its branch; one on a traced value whose
branches await becomes a ``cond`` node whose branches are bodies of their own."""

from __future__ import annotations

import asyncio
from typing import Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import UNBOUND, SourceLoc
from ..ir.graph import Node
from .asyncio_calls import only_arg, traceable
from .builder import Builder, cond_node
from .flow import flow
from .returns import UnboundRead, may_be_unbound
from .state import _in_scope, contains_await, leaves_loop, walk
from .values import Traced


def if_statement(comp: Builder, stmt: cst.If, loc: SourceLoc, *, top: bool) -> None:
    """An ``if``: the branch a static test picks, plain code when it awaits nothing, else a ``cond``."""
    static = comp.static_test(stmt.test)
    if static is not None:
        branch: Any = stmt.body if static.value else stmt.orelse
        if isinstance(branch, cst.Else):
            branch = branch.body
        if isinstance(branch, cst.If):
            return if_statement(comp, branch, comp.src.loc(branch), top=top)
        if branch is not None:
            comp.block(list(branch.body), top=top)
        return
    if not contains_await(stmt) and not _makes_task(comp, stmt):
        return comp.python_statement(stmt, loc, comp.src.assigned_names(stmt), effect=True)
    if leaves_loop(stmt, (cst.Break, cst.Continue)):  # (not a nested loop's own)
        return comp.statement_break(stmt, loc, "if with break/continue on a traced value")
    _cond(comp, stmt, loc)


def _makes_task(comp: Builder, stmt: cst.If) -> bool:
    """Whether a branch of ``stmt`` makes a task of a call the tracer traces (``t =
    asyncio.create_task(f(x))``, outside a task group): a ``cond``, so that the task is the graph's
    (``parallel``), as when its branch awaits, not one plain code starts."""
    for n in walk(stmt, _in_scope):
        if isinstance(n, cst.Assign) and isinstance(n.value, cst.Call):
            call = n.value
            coro = only_arg(call)
            if (
                comp.exprs.callee(call) in (asyncio.create_task, asyncio.ensure_future)
                and coro is not None
                and traceable(comp, coro)
            ):
                return True
    return False


def _cond(comp: Builder, stmt: cst.If, loc: SourceLoc) -> None:
    """A ``cond`` node whose branches bind every name either branch assigns."""
    pred = comp.materialize(comp.exprs.expr(stmt.test, loc, "test"), loc, "test")
    names = list(dict.fromkeys([*comp.src.assigned_names(stmt), *comp.mutated_locals(stmt)]))
    then_body = list(stmt.body.body)
    orelse: list[cst.BaseStatement] = []
    if isinstance(stmt.orelse, cst.Else):
        orelse = [s for s in stmt.orelse.body.body if isinstance(s, cst.BaseStatement)]
    elif isinstance(stmt.orelse, cst.If):
        orelse = [stmt.orelse]
    branches = []
    for body in (then_body, orelse):
        child = comp.nested("then" if body is then_body else "orelse")
        child.block(body, top=False)
        branches.append(child)
    captured: dict[str, Node] = {}
    for child in branches:
        for n, (outer, _) in child.captures.items():
            captured[n] = outer
    # Each branch outputs every name either branch assigns; a name a branch leaves alone
    # passes through the value it had before the if, or UNBOUND when it had none.
    bodies: list[list[Any]] = [list(then_body), list(orelse)]
    unbound: set[str] = set()
    maybe: set[str] = set()
    for child, stmts in zip(branches, bodies, strict=True):
        through = flow(stmts, comp.src.assigned_names).falls_through  # a branch that raises does not
        child.graph.add("output", branch_outputs(child, names, loc, through, unbound, maybe))
    node = cond_node(comp, pred, branches, loc, names[0] if len(names) == 1 else "cond", captured)
    if names:
        comp.rebind(names, node, loc)
    may_be_unbound(comp, maybe - unbound)
    for n in unbound:
        comp.leave_unbound(n, stmt, loc)


def branch_outputs(
    child: Builder, names: list[str], loc: SourceLoc, through: bool, unbound: set[str], maybe: set[str]
) -> list[Node]:
    """What a branch hands on for each of ``names``: its value (as it is, also one a path may have
    left unbound: ``maybe`` collects those), or ``UNBOUND`` when the branch leaves a name alone that
    had none before (``maybe`` too). A name the branch may delete goes to ``unbound`` (a later read
    is refused). ``through``: the branch falls through (what one that raises hands on is never read)."""
    outs = []
    for n in names:
        try:
            value = child.lookup_local(n, loc, raw=True)
        except UnboundRead:
            if through:
                unbound.add(n)
            outs.append(child.const(None, loc, n))
            continue
        except TraceError:
            if through:
                maybe.add(n)  # assigned on another branch only
            outs.append(child.const(UNBOUND if through else None, loc, n))
            continue
        if isinstance(value, Traced) and value.unbound:
            maybe.add(n)
        outs.append(child.materialize(value, loc, n))
    return outs or [child.const(None, loc)]
