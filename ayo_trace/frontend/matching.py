"""``match`` on a traced value, traced as a chain of ``cond`` nodes instead of a graph break.

Python itself matches each case: a ``python`` node runs the case's pattern and guard on the subject
and returns whether it matched and the names the pattern captures; the case's body (and, in a loop
body, the rest of the body after the ``match``) runs in the ``then`` branch, the next cases in the
``orelse``. A ``case _:`` or ``case name:`` needs no test. Literal, capture, value, or, class,
mapping and sequence patterns and guards all work this way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import libcst as cst

from ..errors import TraceError
from ..ir.code import UNBOUND, SourceLoc
from .control_flow import _branch_stmts, bound_names, branch, in_loop, jump_block
from .state import _has, contains_await, pattern_captures
from .values import Traced

if TYPE_CHECKING:
    from .builder import Builder

SUBJECT = "__ayo_subject"


def traced(stmt: cst.Match) -> bool:
    """Whether ``stmt`` is traced as ``cond`` nodes: it awaits, and no guard does (a guard is tested
    by Python with the pattern, in a ``python`` node; one that awaits runs as written)."""
    return contains_await(stmt) and not _guard_awaits(stmt)


def returning_match(stmt: cst.CSTNode) -> bool:
    """Whether ``stmt`` is a ``match`` with a ``return`` in it traced as ``cond`` nodes: awaiting or
    not (a ``python`` node cannot return from the workflow), no guard awaiting."""
    return isinstance(stmt, cst.Match) and _has(stmt, cst.Return) and not _guard_awaits(stmt)


def _guard_awaits(stmt: cst.Match) -> bool:
    return any(c.guard is not None and contains_await(c.guard) for c in stmt.cases)


def match_statement(
    comp: Builder, stmt: cst.Match, loc: SourceLoc, rest: Sequence[cst.BaseStatement] = ()
) -> None:
    """``match`` as a chain of ``cond`` nodes; ``rest`` (the loop body after it) runs after each case."""
    if _guard_awaits(stmt):  # (a loop body's `match` that may jump)
        raise TraceError(
            "a `case` guard that awaits cannot be traced in a `match` whose cases `break`/`continue`: "
            "await the value before the `match` and test it in the guard",
            loc=loc,
            construct="match",
        )
    subject = comp.materialize(comp.exprs.expr(stmt.subject, loc, "subject"), loc, "subject")
    names = bound_names(comp, [stmt, *rest])
    run: Callable[[Builder, list[cst.BaseStatement]], None] = (
        jump_block if in_loop(comp) else (lambda c, s: c.block(s, top=False))
    )
    comp.temps[SUBJECT] = Traced(subject)
    _cases(comp, stmt, 0, list(rest), names, run, loc)
    comp.temps.pop(SUBJECT, None)


def _cases(
    comp: Builder,
    stmt: cst.Match,
    k: int,
    rest: list[cst.BaseStatement],
    names: list[str],
    run: Callable[[Builder, list[cst.BaseStatement]], None],
    loc: SourceLoc,
) -> None:
    if k == len(stmt.cases):  # no case matched: what the cases bind is unbound here, read or not
        for n in comp.src.assigned_names(stmt):
            if not comp.is_bound(n) and n not in comp.temps:
                comp.env[n] = Traced(comp.const(UNBOUND, loc, n), unbound=True)
        run(comp, rest)
        return
    case = stmt.cases[k]
    caught = pattern_captures(case.pattern)
    case_loc = comp.src.loc(case)
    pattern = comp.src.code(case.pattern).strip()
    guard = f" if {comp.src.code(case.guard).strip()}" if case.guard is not None else ""
    hit = f"(True, {''.join(c + ', ' for c in caught)})"
    miss = f"(False, {'None, ' * len(caught)})"
    var = f"case_{k}"
    if isinstance(case.pattern, cst.MatchAs) and case.pattern.pattern is None and not guard:
        # `case _:` / `case name:` always match (and end the match): no test, no cond
        for n in caught:
            comp.env[n] = comp.lookup_local(SUBJECT, case_loc)
        run(comp, [*_branch_stmts(case.body), *rest])
        return
    source = (
        f"match {SUBJECT}:\n    case {pattern}{guard}:\n        {var} = {hit}\n"
        f"    case _:\n        {var} = {miss}"
    )
    reads = [SUBJECT]
    for part in (case.pattern, case.guard):
        if part is not None:
            reads.extend(n for n in comp.src.free_names(part)[0] if n not in caught and n not in reads)
    comp.temps[SUBJECT] = comp.lookup_local(SUBJECT, case_loc)
    matched = comp.python_node(case, case_loc, [var], source=source, reads=reads, name=var)
    comp.temps[var] = Traced(matched)
    pred = comp.graph.add("getitem", (matched,), {"index": 0}, loc=case_loc, name=f"{var}_hit")

    def then(c: Builder) -> None:
        got = c.lookup_local(var, case_loc)
        assert isinstance(got, Traced)
        for i, n in enumerate(caught, start=1):
            c.env[n] = Traced(c.graph.add("getitem", (got.node,), {"index": i}, loc=case_loc, name=n))
        run(c, [*_branch_stmts(case.body), *rest])

    def orelse(c: Builder) -> None:
        if k + 1 < len(stmt.cases):
            c.temps[SUBJECT] = c.lookup_local(SUBJECT, case_loc)
        _cases(c, stmt, k + 1, rest, names, run, loc)

    branch(comp, stmt, pred, then, orelse, names, case_loc)
    comp.temps.pop(var, None)
