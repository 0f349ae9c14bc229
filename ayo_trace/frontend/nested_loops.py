"""A loop nested in a traced loop's body that may leave that loop: its ``else`` jumps (``for ...:
... break`` then ``else: continue``, "skip this item unless the search succeeded") or a ``return``
stands in it (``returning.py``).

The nested loop's own ``break``/``continue`` are its own: it is compiled as any loop is (a
``loop`` node, or the statement as written in a ``python`` node when it awaits nothing and its
body cannot return), and it hands on whether it broke. What follows is then what
``if_with_jumps`` makes of an ``if`` that may jump (``control_flow.py``): on the path where it
broke, the rest of the outer body; on the other, its ``else`` and then the rest, so a
``break``/``continue`` of the ``else`` is the outer loop's, compiled as any of its jumps. A
``return`` in the nested loop's body sets the returned flag and value that it carries, and ends
the outer body (sets its ``BROKE``) on the path where it returned.

A nested loop whose jump passes through a statement that cannot carry it (a ``try`` that cannot
be traced with jumps, a ``with``: ``control_flow.NestedJump``) makes the loop around run as
written, a graph break: the workflow is traced again (``LoopAsWritten``, ``TraceDeps.as_written``),
as it ran when the nested loop's jumps were not seen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import libcst as cst

from ..ir.code import SourceLoc
from ..ir.graph import Node
from . import aliases
from .control_flow import (
    BROKE,
    RETURNED,
    NestedJump,
    _branch_stmts,
    _breaks,
    _has_return,
    bound_names,
    branch,
    compile_loop,
    jump_block,
)
from .returns import may_be_unbound, settle
from .state import contains_await
from .unroll import loop_key
from .values import Static, Traced

if TYPE_CHECKING:
    from .builder import Builder

INNER_BROKE = "__ayo_inner_broke"  # after a nested loop: whether it broke (its `else` did not run)


class LoopAsWritten(Exception):
    """Internal: trace again with the loop at ``where`` run as written, a graph break whose reason
    says why (``TraceDeps.as_written``)."""

    def __init__(self, where: Any, reason: str) -> None:
        super().__init__(reason)
        self.where = where
        self.reason = reason


def traced_loop(
    comp: Builder, stmt: cst.For | cst.While, loc: SourceLoc, *, orelse: bool = True
) -> Node | None:
    """``compile_loop``, unless a loop nested in ``stmt`` jumps out of it through a statement that
    cannot carry the jump: then ``LoopAsWritten``."""
    try:
        return compile_loop(comp, stmt, loc, orelse=orelse)
    except NestedJump as refusal:
        kind = "for" if isinstance(stmt, cst.For) else "while"
        reason = (
            f"{kind} loop whose body, or a loop nested in it, jumps through a statement that cannot carry "
            f"the jump ({refusal})"
        )
        raise LoopAsWritten(loop_key(comp, stmt), reason) from None


def as_written(comp: Builder, stmt: cst.For | cst.While, loc: SourceLoc) -> bool:
    """Whether ``stmt`` runs as written (``LoopAsWritten``): then its graph break is compiled."""
    reason = comp.deps.as_written.get(loop_key(comp, stmt))
    if reason is not None:
        comp.statement_break(stmt, loc, reason)
    return reason is not None


def nested_loop(
    comp: Builder, stmt: cst.For | cst.While, loc: SourceLoc, rest: list[cst.BaseStatement]
) -> bool:
    """Compile ``stmt``, a loop of a loop body that may jump out of it, and ``rest``, the body
    after it (see the module docstring). False for an ``async for``."""
    if isinstance(stmt, cst.For) and stmt.asynchronous is not None:
        return False
    returns = _has_return(stmt.body)  # (one in its `else` is compiled with the rest)
    if _has_return(stmt) and not comp.is_bound(RETURNED):
        raise NestedJump(  # (the loop around carries returns only when `returning_loop` says so)
            "a `return` inside a loop nested in a loop that awaits primitives cannot be traced here: "
            "move it after the nested loop (set a flag and `break`)",
            loc=loc,
            construct="loop",
        )
    if returns or contains_await(stmt):
        broke = compile_loop(comp, stmt, loc, orelse=False)
    else:
        broke = _as_written(comp, stmt, loc, flag=_breaks(stmt.body))
    else_stmts = _branch_stmts(stmt.orelse)
    names = bound_names(comp, [*else_stmts, *rest])
    if broke is not None:
        comp.env[INNER_BROKE] = Traced(broke)

    def went_on(c: Builder) -> None:
        """The nested loop did not return: its ``else`` unless it broke, then the rest."""
        if broke is None:
            return jump_block(c, [*else_stmts, *rest])
        flag = c.materialize(c.lookup_local(INNER_BROKE, loc), loc, "broke")
        branch(
            c,
            stmt,
            flag,
            lambda b: jump_block(b, rest),
            lambda b: jump_block(b, [*else_stmts, *rest]),
            names,
            loc,
        )

    def returned(c: Builder) -> None:
        c.env[BROKE] = Static(True)  # (the flag and the value are the nested loop's)

    if returns:
        pred = comp.materialize(comp.lookup_local(RETURNED, loc, raw=True), loc, "returned")
        branch(comp, stmt, pred, returned, went_on, names, loc)
    else:
        went_on(comp)
    comp.env.pop(INNER_BROKE, None)
    return True


def _as_written(comp: Builder, stmt: cst.For | cst.While, loc: SourceLoc, *, flag: bool) -> Node | None:
    """A loop that awaits nothing and cannot return, run as written but for its ``else``: a
    ``python`` node that also hands on whether it broke, when it may (``flag``)."""
    bare = stmt.with_changes(orelse=None)
    comp.src.stand_in(bare, stmt)  # (its `else` counts as read after it: the names it reads are handed on)
    changed = comp.mutated_locals(bare)
    names = list(dict.fromkeys([*comp.src.assigned_names(bare), *changed]))
    returns, keep, maybe = settle(comp, bare, names, loc)
    classes = aliases.classes_of(comp, changed, names)
    source = comp.src.code(bare).strip("\n")
    if flag:
        source = f"{INNER_BROKE} = True\n{source}\nelse:\n    {INNER_BROKE} = False"
        returns.append(INNER_BROKE)
    node = comp.python_node(bare, loc, returns, source=source, effect=True, keep=tuple(keep))
    comp.rebind(returns, node, loc)
    may_be_unbound(comp, maybe)
    aliases.restore_classes(comp, classes)
    broke = comp.env.pop(INNER_BROKE, None)
    return broke.node if isinstance(broke, Traced) else None
