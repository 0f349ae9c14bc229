"""Early returns and what a statement leaves bound.

An ``if`` on a traced value with a ``return`` inside (``if not hits: return "none"``, followed by
more code) becomes a ``cond`` whose branches are the rest of the function: each branch is the
branch's own statements followed, when they fall through, by the statements after the ``if``. Both
branches end by returning, so the ``cond``'s value is the function's result, and names assigned
after the ``if`` are never "maybe unassigned" because of it.

``settle`` applies Python's definite-assignment rules (``flow.py``) to a statement that runs as one
node: it returns the names the node hands back, reads first the names it may leave as they were, and
marks the names it may leave unbound so that a later read is refused where Python could raise
``UnboundLocalError``.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from ..ir.code import SourceLoc
from ..ir.graph import Graph
from .flow import flow
from .state import CompilerState
from .values import Static, Traced, Value


class Unbound(Static):
    """The value of a name a statement may leave unbound: reading it is refused (``why`` says where)."""

    why: str

    def __init__(self, why: str) -> None:
        super().__init__(None)
        object.__setattr__(self, "why", why)


class Returns(CompilerState):
    def returning_if(self, stmt: cst.If, rest: list[cst.BaseStatement], loc: SourceLoc) -> Value:
        """Compile ``stmt`` followed by ``rest`` as a ``cond`` whose branches both return; the value
        is what the function returns."""
        from .compiler import Compiler, _align_inputs, _Returned

        pred = self.materialize(self.expr(stmt.test, loc, "test"), loc, "test")
        then_body: list[Any] = list(stmt.body.body)
        orelse: list[Any] = []
        if isinstance(stmt.orelse, cst.Else):
            orelse = list(stmt.orelse.body.body)
        elif isinstance(stmt.orelse, cst.If):
            orelse = [stmt.orelse]
        branches = []
        for label, body in (("then", then_body), ("orelse", orelse)):
            if flow(body, self.src.assigned_names).falls_through:
                body = body + rest
            child = Compiler(self.src, Graph(label), {}, self.deps, parent=self)  # type: ignore[arg-type]
            try:
                child.block(body, top=True)
                value: Value = Static(None)
            except _Returned as r:
                value = r.value
            child.graph.add("output", [child.materialize(value, loc, "result")])
            branches.append(child)
        order = list(dict.fromkeys(n for c in branches for n in c.captures))
        captured = {n: c.captures[n][0] for c in branches for n in c.captures}
        for child in branches:
            for n in order:
                child.capture(n, captured[n])
            _align_inputs(child, order)
        node = self.emit(
            "cond",
            [pred, *(captured[n] for n in order)],
            {"then": branches[0].graph, "orelse": branches[1].graph},
            loc,
            "result",
        )
        return Traced(node)

    def settle(self, stmt: cst.CSTNode, names: list[str], loc: SourceLoc) -> tuple[list[str], list[str]]:
        """``(returns, keep)`` for a node running ``stmt`` that may bind ``names``: the names it hands
        back, and among them those it must read first because some path leaves them as they were.
        A name some path leaves unbound, and that was not bound before, is marked ``Unbound``."""
        stmts = list(stmt.body) if isinstance(stmt, cst.IndentedBlock) else [stmt]
        f = flow(stmts, self.src.assigned_names)
        returns: list[str] = []
        keep: list[str] = []
        for n in names:
            if n in f.killed:
                self.env[n] = Unbound(f"the statement at {loc} may delete it (`except ... as {n}` or `del`)")
            elif n in f.definite or not f.falls_through:
                returns.append(n)
            elif self.is_bound(n):
                returns.append(n)
                keep.append(n)
            else:
                self.env[n] = Unbound(f"the statement at {loc} assigns it on some paths only")
        return returns, keep
