"""``return`` inside a ``try`` of the function body (its body, a handler, its ``else``), traced
instead of a graph break.

The ``try`` becomes a ``try`` node that also outputs two names: whether a part returned, and the
value, as a loop whose body returns does (``returning.py``). A ``return`` in a part binds both and
ends the part (the statements after an ``if`` that may return move into its other branch); the
``else`` runs only when the body did not return; ``finally`` runs on every path, before the value
is handed back, as in Python. After the node, a ``cond`` on the flag either returns the value or
runs the rest of the function. Taken only where every ``return`` of the statement is reached
through ``if``s of a part (not inside a nested loop, ``try`` or ``with``) and ``finally`` does not
return; otherwise the rest of the function stays a graph break.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from .control_flow import RESULT, RETURNED, _has_return, branch
from .returning import _reachable, run_rest
from .try_except import try_statement
from .values import Static, Value

if TYPE_CHECKING:
    from .builder import Builder


def returning_try(stmt: cst.BaseStatement) -> bool:
    """Whether ``stmt`` is a ``try`` whose returns this module takes."""
    return isinstance(stmt, cst.Try) and _has_return(stmt) and _reachable([stmt], tries=True)


def compile_returning_try(comp: Builder, stmt: cst.Try, rest: list[cst.BaseStatement]) -> Value | None:
    """The ``try``, then the rest of the function unless a part returned; the function's result
    (None when the statement cannot be traced this way: the caller keeps the graph break)."""
    loc = comp.src.loc(stmt)
    comp.env[RETURNED] = Static(False)
    comp.env[RESULT] = Static(None)
    if not try_statement(comp, stmt, loc, returns=True):
        comp.env.pop(RETURNED)
        comp.env.pop(RESULT)
        return None
    pred = comp.materialize(comp.env[RETURNED], loc, "returned")
    branch(comp, stmt, pred, lambda c: None, lambda c: run_rest(c, rest), [RESULT], loc)
    result = comp.env.pop(RESULT)
    comp.env.pop(RETURNED, None)
    return result
