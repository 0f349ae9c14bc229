"""Names a loop's iteration may read before binding them itself: what an earlier iteration bound.

``for i, d in enumerate(docs): if i == 0: s = await f(d) else: s = await g(s, d)`` (a rolling
summary), ``x = x + "!"`` after a first iteration bound ``x``, a retry loop keeping its last error:
each iteration reads a name the iteration before bound, though none bound it before the loop. The
loop carries such a name from iteration to iteration (``UNBOUND`` before the first: a read there
raises Python's ``UnboundLocalError``), and its iterations cannot run at once (not a ``map``).

The reading is by statement, in order: a name counts as bound from the statement that surely binds
it on (a line assigning it; an ``if``/``match`` binding it on every branch; a ``with``'s body), and
a read of it by an earlier statement, or by the line binding it (``x = x + 1``), is a read of what an
earlier iteration left. Bindings inside a nested loop or a ``try`` count only inside them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from .state import walk

if TYPE_CHECKING:
    from .source import FunctionSource


def read_before_bound(src: FunctionSource, body: cst.BaseSuite, bound: set[str]) -> set[str]:
    """The names ``body`` binds that it may read before binding them in the same run (``bound``:
    the names bound when it starts, a ``for``'s targets)."""
    own = set(src.assigned_names(body))
    found: set[str] = set()
    _block(src, _statements(body), set(bound), own, found)
    return found


def _statements(suite: cst.BaseSuite) -> list[cst.BaseStatement]:
    if isinstance(suite, cst.IndentedBlock):
        return list(suite.body)
    return [cst.SimpleStatementLine(body=suite.body)] if isinstance(suite, cst.SimpleStatementSuite) else []


def _reads(src: FunctionSource, node: cst.CSTNode, bound: set[str], own: set[str], found: set[str]) -> None:
    try:
        read = src.free_names(node)[0]
    except KeyError:  # (a node the compiler made)
        return
    found.update(n for n in read if n in own and n not in bound)


def _block(
    src: FunctionSource, stmts: list[cst.BaseStatement], bound: set[str], own: set[str], found: set[str]
) -> set[str]:
    """Read ``stmts`` in order from ``bound``; the names bound for sure after them."""
    for s in stmts:
        bound = _statement(src, s, bound, own, found)
    return bound


def _statement(
    src: FunctionSource, s: cst.BaseStatement, bound: set[str], own: set[str], found: set[str]
) -> set[str]:
    if isinstance(s, cst.SimpleStatementLine):
        _reads(src, s, bound, own, found)
        return bound | set(src.assigned_names(s))
    if isinstance(s, cst.If):
        _reads(src, s.test, bound, own, found)
        then = _block(src, _statements(s.body), set(bound), own, found)
        orelse = s.orelse
        if isinstance(orelse, cst.If):
            other = _statement(src, orelse, set(bound), own, found)
        elif isinstance(orelse, cst.Else):
            other = _block(src, _statements(orelse.body), set(bound), own, found)
        else:
            other = bound
        return bound | (then & other)
    if isinstance(s, cst.With):
        for item in s.items:
            _reads(src, item, bound, own, found)
        named = {n for item in s.items if item.asname is not None for n in src.assigned_names(item.asname)}
        return _block(src, _statements(s.body), bound | named, own, found)
    if isinstance(s, cst.For):
        _reads(src, s.iter, bound, own, found)
        _block(src, _statements(s.body), bound | set(src.assigned_names(s.target)), own, found)
    elif isinstance(s, cst.While):
        _reads(src, s.test, bound, own, found)
        _block(src, _statements(s.body), set(bound), own, found)
    elif isinstance(s, cst.Try | cst.TryStar):
        after = _block(src, _statements(s.body), set(bound), own, found)
        for h in s.handlers:
            named = set(src.assigned_names(h.name)) if h.name is not None else set()  # (`as e`)
            _block(src, _statements(h.body), bound | named, own, found)
        if s.orelse is not None:
            _block(src, _statements(s.orelse.body), after, own, found)
        if s.finalbody is not None:
            _block(src, _statements(s.finalbody.body), set(bound), own, found)
    elif isinstance(s, cst.Match):
        _reads(src, s.subject, bound, own, found)
        for case in s.cases:
            _block(src, _statements(case.body), bound | set(src.assigned_names(case.pattern)), own, found)
    else:  # (a def or a class: what it reads is read when it is called)
        _reads(src, s, bound, own, found)
        return bound | set(src.assigned_names(s))
    if isinstance(s, cst.For | cst.While) and s.orelse is not None:
        _block(src, _statements(s.orelse.body), set(bound), own, found)
    return bound


def read_after(src: FunctionSource, stmt: cst.BaseStatement) -> set[str] | None:
    """The workflow's names that code running after ``stmt`` may read before binding them again
    (None where the tree cannot tell): the statements after it in its block, read in order, then
    those after each statement around it. A loop around it (which may run it again) and a ``try``
    (whose handlers may run from anywhere in it) are read again from their start, with nothing
    bound; a function, lambda or generator of the workflow reads its names whenever it runs."""
    own = set(src.free_names(src.node.body)[0])
    lazy = (cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.GeneratorExp)
    found = {x for n in walk(src.node.body) if isinstance(n, lazy) for x in src.free_names(n)[0] if x in own}
    bound: set[str] = set()
    node: cst.CSTNode = stmt
    while (parent := src.parents.get(node)) is not src.node:
        if parent is None or isinstance(parent, lazy):
            return None
        if isinstance(parent, cst.IndentedBlock):
            at = next((i for i, s in enumerate(parent.body) if s is node), None)
            if at is None:
                return None
            bound = _block(src, list(parent.body[at + 1 :]), bound, own, found)
        elif isinstance(parent, cst.Try | cst.TryStar) or (
            isinstance(parent, cst.For | cst.While) and node is not parent.orelse
        ):
            _statement(src, parent, set(), own, found)  # (again from its start, with nothing bound)
            bound = set()
        node = parent
    return found
