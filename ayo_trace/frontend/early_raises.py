"""Where a gathered helper may fail before it first waits.

``asyncio.gather`` runs every call up to its first wait before any goes on; a call that raises
there (``if not d: raise ValueError(d)``, an ``assert``) fails the gather before any call has come
back from its wait, so no call's change after its wait has happened when the failure is seen. The
graph runs the calls whole, one after another where they share an object, so an earlier call's
change after its wait would be seen (``parallel._started`` makes such a gather a graph break).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import libcst as cst

from . import interleaving
from .state import _in_scope, contains_await, walk

if TYPE_CHECKING:
    from .builder import Builder


def failing_early(
    comp: Builder, helpers: list[cst.Call], touches: list[tuple[str, Any]], seen: Callable[[str], bool]
) -> str | None:
    """Why a gather runs as written: a call of ``helpers`` may raise before its first wait while a
    call changes an object after its wait that is ``seen`` after the failure (``touches``: what
    each call touches, ``interleaving.touches_of``)."""
    raising = next(((c, line) for c in helpers if (line := raises_before_wait(comp, c)) is not None), None)
    if raising is None:
        return None
    for name, t in touches:
        x = next((x for x in t.entries if x.changes and x.lo > 0 and seen(x.key)), None)
        if x is not None:
            return (
                f"`{comp.src.code(raising[0].func).strip()}(...)` may raise before it first waits (line "
                f"{raising[1]}), which fails the gather before any call has come back from its wait, "
                f"where the graph runs each call whole: `{name}(...)` changes "
                f"`{interleaving.shown(x.key)}` after it waits (line {x.line})"
            )
    return None


def raises_before_wait(comp: Builder, call: cst.Call) -> int | None:
    """The line of a ``raise`` or ``assert`` that the helper ``call`` calls may run before its
    first wait (None: none, or not a helper of the user's)."""
    helper = comp.exprs.helper_of(cst.Await(expression=call))
    if helper is None:
        return None
    src = helper.src
    found = _first(helper.src.node.body)
    return None if found is None else src.file_line(src.positions[found].start.line)


def _first(block: cst.BaseSuite) -> cst.CSTNode | None:
    """The first ``raise``/``assert`` of ``block``'s statements before the first that waits, or in
    a compound statement that waits, before its wait on one of its paths."""
    if not isinstance(block, cst.IndentedBlock):
        return _raising(block)
    for stmt in block.body:
        if not contains_await(stmt):
            if (found := _raising(stmt)) is not None:
                return found
            continue
        for part in _blocks(stmt):
            if (found := _first(part)) is not None:
                return found
        return None
    return None


def _blocks(stmt: cst.BaseStatement) -> list[cst.BaseSuite]:
    """The blocks of a compound statement run before or instead of the rest of it."""
    if isinstance(stmt, cst.If):
        orelse = stmt.orelse
        rest: list[cst.BaseSuite] = []
        if isinstance(orelse, cst.If):
            rest = [*_blocks(orelse)]
        elif isinstance(orelse, cst.Else):
            rest = [orelse.body]
        return [stmt.body, *rest]
    if isinstance(stmt, cst.Try | cst.TryStar):
        return [stmt.body]
    if isinstance(stmt, cst.For | cst.While | cst.With):
        return [stmt.body]
    return []


def _raising(node: cst.CSTNode) -> cst.CSTNode | None:
    return next((n for n in walk(node, _in_scope) if isinstance(n, cst.Raise | cst.Assert)), None)
