"""Why a ``try`` that awaits runs as written: the reason its graph break gives, in place of the
construct's bare name. ``try_except.try_statement`` records the rule it stopped at (``refused``)
by the statement's place in the source (a ``try`` it cut in two stands where the written one
does), and the compiler reads it where it makes the break (``taken``). Each reason holds a phrase
``breaks._FIXES`` knows, whose fix says what to write instead."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import libcst as cst

from .visiting import visit

if TYPE_CHECKING:
    from .builder import Builder

BARE_RAISE = "try whose handler defines a function with a bare `raise` (it re-raises where it is called)"
FINALLY_RETURNS = "try with a `return` in its `finally`"
FINALLY_JUMPS = "try whose `finally` holds a `break` or `continue`"
KEEPS_PROGRESS = (
    "try around a loop that awaits, whose progress is read after it or by a handler, that could not be "
    "rewritten as the loop with the `try` inside it (taking its items or testing it may run code, "
    "or more than the loop is in the `try`)"
)
BOUND_EARLY = (
    "try whose body binds a name before its last await that may fail, read after the `try` or by a "
    "handler that does not bind it again"
)
CLASS_AT_RUN_TIME = "try whose handler's class is known only when the workflow runs"
FINALLY_NAMES = "try whose `finally` binds or changes a name, or reads one its body or handlers bind"
EXCEPT_STAR = "try with `except*` handlers"


def refused(comp: Builder, stmt: cst.CSTNode, why: str) -> bool:
    """Record why ``stmt`` stays a graph break; False (what ``try_statement`` returns then)."""
    at = comp.src.positions.get(stmt)
    if at is not None:
        comp.deps.try_reasons[at] = why
    return False


def taken(comp: Builder, stmt: cst.CSTNode) -> str | None:
    """The reason recorded for the ``try`` statement ``stmt`` (``except*``: always), else None."""
    if isinstance(stmt, cst.TryStar):
        return EXCEPT_STAR
    if not isinstance(stmt, cst.Try):
        return None
    return comp.deps.try_reasons.get(comp.src.positions.get(stmt))


def bare_raise_in_def(handlers: Sequence[cst.ExceptHandler]) -> bool:
    """A bare ``raise`` in a function defined in a handler (it re-raises what is being handled where
    the function is called, unknown to the graph; one in the handler itself: ``reraising``)."""
    found = False

    class V(cst.CSTVisitor):
        def __init__(self) -> None:
            super().__init__()
            self.depth = 0

        def visit_FunctionDef(self, n: cst.FunctionDef) -> None:
            self.depth += 1

        def leave_FunctionDef(self, n: cst.FunctionDef) -> None:
            self.depth -= 1

        def visit_Raise(self, n: cst.Raise) -> None:
            nonlocal found
            found = found or (n.exc is None and self.depth > 0)

    for h in handlers:
        visit(h, V())
    return found
