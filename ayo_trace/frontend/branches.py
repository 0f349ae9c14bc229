"""``if`` statements: a test known at trace time picks its branch; one on a traced value whose
branches await becomes a ``cond`` node whose branches are bodies of their own."""

from __future__ import annotations

from typing import Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import SourceLoc
from ..ir.graph import Node
from .builder import Builder, cond_node
from .flow import flow
from .state import _has, contains_await


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
    if not contains_await(stmt):
        return comp.python_statement(stmt, loc, comp.src.assigned_names(stmt), effect=True)
    if _has(stmt, cst.Break | cst.Continue):
        return comp.statement_break(stmt, loc, "if with break/continue on a traced value")
    _cond(comp, stmt, loc)


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
    # passes through the value it had before the if.
    unbound: set[str] = set()
    bodies: list[list[Any]] = [list(then_body), list(orelse)]
    for child, stmts in zip(branches, bodies, strict=True):
        through = flow(stmts, comp.src.assigned_names).falls_through  # a branch that raises does not
        outs = []
        for n in names:
            try:
                outs.append(child.materialize(child.lookup_local(n, loc), loc, n))
            except TraceError:
                if through:
                    unbound.add(n)  # assigned on the other branch only
                outs.append(child.const(None, loc, n))
        child.graph.add("output", outs or [child.const(None, loc)])
    node = cond_node(comp, pred, branches, loc, names[0] if len(names) == 1 else "cond", captured)
    if names:
        comp.rebind(names, node, loc)
    for n in unbound:
        comp.leave_unbound(n, stmt, loc)
