"""``return`` inside a loop or a ``match`` of the function body, traced instead of a graph break.

A loop whose body returns (``for d in docs: if good(d): return d``) becomes a ``loop`` node that
carries two more names: whether the body returned, and the value. A ``return`` in the body sets
both and leaves the loop as a ``break`` does. After the loop, a ``cond`` on the flag either returns
the value or runs the rest of the function. A ``match`` whose cases return runs, in each case's
branch, the case's statements followed by the rest of the function, as an ``if`` with a ``return``
does (``returns.py``): every path ends by returning, and the value is the function's result.

A ``return`` in the loop's ``else`` is taken too: the ``else`` runs, with the rest of the function
after it, when the loop neither returned nor broke. Only returns the loop's own body reaches through
``if``/``elif``/``else``, the parts of a ``try`` (``try_returns.py``) and the body and ``else`` of a
nested loop (``nested_loops.py``) are taken this way; one inside a ``with`` keeps the graph break.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import libcst as cst

from .builder import Returned
from .control_flow import RESULT, RETURNED, _branch_stmts, _has_return, branch, jumps
from .matching import SUBJECT, _cases
from .nested_loops import traced_loop
from .state import _has, contains_await
from .unroll import loop_key
from .values import Static, Traced, Value

if TYPE_CHECKING:
    from .builder import Builder

BROKE_AFTER = "__ayo_loop_broke"  # after a returning loop with an `else`: whether it broke


def returning_loop(stmt: cst.BaseStatement) -> bool:
    """Whether ``stmt`` is a loop that awaits and whose returns are all reached through ``if``s of
    its own body (not its ``else``)."""
    if not isinstance(stmt, cst.For | cst.While) or (isinstance(stmt, cst.For) and stmt.asynchronous):
        return False
    if not contains_await(stmt) or not _has_return(stmt):
        return False
    return _reachable(stmt.body.body, tries=True)


def _reachable(stmts: Sequence[cst.CSTNode], *, tries: bool = False) -> bool:
    """Whether every ``return`` in ``stmts`` is reached through ``if``s (and, with ``tries``, the
    parts of a ``try`` whose ``finally`` does not return: ``try_returns.py``, and the body and
    ``else`` of a nested loop, through theirs: ``nested_loops.py``)."""
    for s in stmts:
        if isinstance(s, cst.If):
            orelse = s.orelse
            more: list[cst.CSTNode] = []
            if isinstance(orelse, cst.If):
                more = [orelse]
            elif isinstance(orelse, cst.Else):
                more = list(orelse.body.body)
            if not _reachable([*s.body.body, *more], tries=tries):
                return False
        elif tries and isinstance(s, cst.Try) and _has_return(s):
            if s.finalbody is not None and (_has_return(s.finalbody) or jumps(s.finalbody)):
                return False
            parts = [s.body, *(h.body for h in s.handlers), *([s.orelse.body] if s.orelse else [])]
            if not all(_reachable(_branch_stmts(p)) for p in parts):
                return False
        elif tries and _nested_loop(s) and _has_return(s):  # (`nested_loops.py`)
            assert isinstance(s, cst.For | cst.While)
            if not _reachable([*s.body.body, *_branch_stmts(s.orelse)], tries=True):
                return False
        elif not isinstance(s, cst.SimpleStatementLine) and _has_return(s):
            return False
    return True


def _nested_loop(s: cst.CSTNode) -> bool:
    """A loop whose returns a loop node can carry out: a ``for``, or a ``while`` that awaits or
    returns only in its ``else`` (one that awaits nothing, run as a node, would stop after
    ``MAX_ITERATIONS`` turns, where Python goes on)."""
    if isinstance(s, cst.For):
        return s.asynchronous is None
    return isinstance(s, cst.While) and (contains_await(s) or not _has_return(s.body))


def compile_returning_loop(comp: Builder, stmt: cst.For | cst.While, rest: list[cst.BaseStatement]) -> Value:
    """The loop, then the rest of the function unless it returned; the function's result."""
    loc = comp.src.loc(stmt)
    if loop_key(comp, stmt) in comp.deps.as_written:  # a loop nested in it cannot jump out (nested_loops.py)
        comp.rest_break([stmt, *rest])
    comp.env[RETURNED] = Static(False)
    comp.env[RESULT] = Static(None)
    broke = traced_loop(comp, stmt, loc, orelse=False)
    pred = comp.materialize(comp.env[RETURNED], loc, "returned")
    else_stmts = _branch_stmts(stmt.orelse)
    if broke is not None:
        comp.env[BROKE_AFTER] = Traced(broke)

    def went_on(c: Builder) -> None:
        """The loop ended without returning: its ``else`` unless it broke, then the rest."""
        if broke is None:
            return run_rest(c, [*else_stmts, *rest])
        flag = c.materialize(c.lookup_local(BROKE_AFTER, loc), loc, "broke")
        branch(
            c,
            stmt,
            flag,
            lambda b: run_rest(b, rest),
            lambda b: run_rest(b, [*else_stmts, *rest]),
            [RESULT],
            loc,
        )

    branch(comp, stmt, pred, lambda c: None, went_on, [RESULT], loc)
    comp.env.pop(BROKE_AFTER, None)
    result = comp.env.pop(RESULT)
    comp.env.pop(RETURNED, None)
    return result


def run_rest(comp: Builder, stmts: list[cst.BaseStatement]) -> None:
    """Compile the rest of the function in ``comp``; what it returns is bound to ``RESULT``."""
    try:
        comp.block(stmts, top=True)
        comp.env[RESULT] = Static(None)
    except Returned as r:
        comp.env[RESULT] = r.value


def compile_returning_match(comp: Builder, stmt: cst.Match, rest: list[cst.BaseStatement]) -> Value:
    """A ``match`` with a ``return`` inside: each case runs its statements and the rest of the
    function; the function's result."""
    loc = comp.src.loc(stmt)
    subject = comp.materialize(comp.exprs.expr(stmt.subject, loc, "subject"), loc, "subject")
    comp.env[RESULT] = Static(None)
    comp.temps[SUBJECT] = Traced(subject)
    _cases(comp, stmt, 0, list(rest), [RESULT], run_rest, loc)
    comp.temps.pop(SUBJECT, None)
    return comp.env.pop(RESULT)


def needs_rest_break(comp: Builder, stmt: cst.BaseStatement) -> bool:
    """A compound statement with a ``return`` inside, whose control flow depends on traced values."""
    if isinstance(stmt, cst.SimpleStatementLine | cst.FunctionDef | cst.ClassDef):
        return False  # a nested def's return is its own
    if not _has(stmt, cst.Return):
        return False
    return not (isinstance(stmt, cst.If) and comp.static_test(stmt.test) is not None)
