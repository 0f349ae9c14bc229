"""A ``try`` whose body is a loop that awaits, as the loop with the ``try`` inside it::

    try:                                          for part in parts:
        for part in parts:                            try:
            out.append(await ask(part))     ->            out.append(await ask(part))
    except ayo.EngineError as e:                      except ayo.EngineError as e:
        out.append(f"failed: {e}")                        out.append(f"failed: {e}")
                                                          break

Python runs the items in order until one fails, keeps what the items before it did (``out``
holds their answers), runs the handler and goes on after the ``try``. The loop on the right does
the same: an item's error is caught where it is raised, the handler runs with every name as the
failing item left it, and the ``break`` goes on after the loop, which is after the ``try``. A
``break``, ``continue`` or ``return`` of the body means what it meant. The tracer cannot trace
the left one (a subgraph that fails gives no partial results: ``try_except``), and traces the
right one: a loop whose body is a ``try`` whose handlers end by leaving the loop.

The two differ only if something the ``try`` catches can be raised outside the loop's body: by
the statements before the loop in the ``try`` (moved before the loop), by the loop's header
(the iterable, taking its items, binding the target, a ``while``'s test), or by the handlers'
own jumps. So it is rewritten only where none can:

* the ``try`` has handlers (not ``except*``), no ``else``, no ``finally``; its body is plain
  statements, then the loop (``for`` or ``while``, not ``async``, no ``else``), last; the loop
  awaits, and binds or changes a name read outside it (else the ``try`` traces as it stands);
* no handler holds a ``break`` or ``continue`` of a loop around the ``try``;
* if every class the handlers catch is one of ayo's errors (``except ayo.EngineError``): the
  statements before the loop and the loop's header await nothing and call nothing but builtins
  and methods that read (``range(len(docs))``, ``q.split()``, ``enumerate(pairs)``): no ayo
  error can be raised there;
* else (``except Exception``, a bare ``except``, a class of the user's): nothing there can raise
  at all: the statements before the loop bind names to constants (``out = []``), the ``for``
  iterates a display of constants, ``range`` of whole numbers, or ``enumerate``/``zip``/
  ``reversed`` of those, into a name (or the tuple ``enumerate`` and ``zip`` make), or the loop
  is ``while True``.

The lines keep their numbers: the ``try:`` line becomes an empty line before the statements
moved out, the new ``try:`` stands for the line after it (the body's first), and each ``break``
added for the line before it (the handler's last).
"""

from __future__ import annotations

import builtins
from typing import Any

import libcst as cst

from ..errors import AyoError
from ..ir.mutation import READ_ONLY_METHODS
from .state import _target_names, contains_await, leaves_loop, mutated_roots, target_leaves, walk

# Methods of builtin types that only read (or make a new value) and never run a user's code on
# the builtin values they are meant for.
_READING = READ_ONLY_METHODS | {
    "append",
    "extend",
    "add",
    "update",
    "insert",
    "setdefault",
    "pop",
    "index",
    "count",
}


def rewrite(
    old: cst.Try,
    stmt: cst.Try,
    names: dict[str, Any],
    reads: dict[str, int],
    added: list[cst.CSTNode],
    ahead: list[cst.CSTNode],
) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
    """``stmt`` (``old`` as the other rewrites left it) as its loop around a ``try`` (above), or
    itself. ``names``: the function's globals and closure; ``reads``: how many times each name
    stands in the whole function, as parsed (``old`` too); ``added`` and ``ahead``: where to put
    the new lines (``normalize.rewrite``)."""
    was = old.body.body[-1] if old.body.body else None
    if not isinstance(was, cst.For | cst.While) or not _changes_what_is_read(was, reads):
        return stmt
    body = list(stmt.body.body)
    if not body or stmt.orelse is not None or stmt.finalbody is not None or not stmt.handlers:
        return stmt
    loop, before = body[-1], body[:-1]
    if not isinstance(loop, cst.For | cst.While) or loop.orelse is not None:
        return stmt
    if isinstance(loop, cst.For) and loop.asynchronous is not None:
        return stmt
    if not contains_await(loop.body):
        return stmt
    if any(leaves_loop(h, (cst.Break, cst.Continue)) for h in stmt.handlers):
        return stmt
    if _returns(stmt) and (_returns(loop.body) or leaves_loop(loop.body, (cst.Break, cst.Continue))):
        return stmt  # (a `return` in a `try` of a loop that jumps: refused where the loop runs as written)
    lines = [s for s in before if isinstance(s, cst.SimpleStatementLine)]
    if len(lines) < len(before):
        return stmt
    if all(_catches_ayo_only(h, names) for h in stmt.handlers):
        header = [loop.iter] if isinstance(loop, cst.For) else [loop.test]
        if isinstance(loop, cst.For) and not _target_names(loop.target):
            return stmt  # (an item or attribute target runs a `__setitem__` or a setter)
        if not all(_runs_nothing(part, names) for part in [*lines, *header]):
            return stmt
    elif not (all(_binds_constants(s) for s in lines) and _never_raises(loop, names)):
        return stmt
    handlers = []
    if not all(isinstance(h.body, cst.IndentedBlock) for h in stmt.handlers):
        return stmt
    for h in stmt.handlers:
        assert isinstance(h.body, cst.IndentedBlock)
        last = h.body.body[-1]
        if isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[-1], cst.Return | cst.Raise):
            handlers.append(h)  # (it leaves already)
            continue
        leave = cst.SimpleStatementLine([cst.Break()])
        added.append(leave)
        handlers.append(h.with_changes(body=h.body.with_changes(body=[*h.body.body, leave])))
    assert isinstance(loop.body, cst.IndentedBlock)  # (`normalize` put every body on lines of its own)
    inner = cst.Try(body=loop.body.with_changes(header=cst.TrailingWhitespace()), handlers=handlers)
    ahead.append(inner)
    made = loop.with_changes(body=cst.IndentedBlock([inner], header=loop.body.header))
    # (the `try:` line, with its comment, stands empty before what is moved out of it)
    said = stmt.body.header.comment if isinstance(stmt.body, cst.IndentedBlock) else None
    lead = [*stmt.leading_lines, cst.EmptyLine(comment=said)]
    if lines:
        return cst.FlattenSentinel(
            [lines[0].with_changes(leading_lines=[*lead, *lines[0].leading_lines]), *lines[1:], made]
        )
    return made.with_changes(leading_lines=[*lead, *made.leading_lines])


def _returns(node: cst.CSTNode) -> bool:
    return any(
        isinstance(n, cst.Return) for n in walk(node, lambda n: isinstance(n, cst.FunctionDef | cst.Lambda))
    )


def _changes_what_is_read(loop: cst.For | cst.While, reads: dict[str, int]) -> bool:
    """Whether ``loop`` binds or changes a name that stands somewhere outside it."""
    changed = set(mutated_roots(loop))
    for n in walk(loop):
        if isinstance(n, cst.AssignTarget | cst.AugAssign):
            changed.update(t.value for t in target_leaves(n.target) if isinstance(t, cst.Name))
        elif isinstance(n, cst.For):
            changed.update(_target_names(n.target))
        elif isinstance(n, cst.NamedExpr) and isinstance(n.target, cst.Name):
            changed.add(n.target.value)
    inside: dict[str, int] = {}
    for n in walk(loop):
        if isinstance(n, cst.Name):
            inside[n.value] = inside.get(n.value, 0) + 1
    return any(reads.get(name, 0) > inside.get(name, 0) for name in changed)


def _catches_ayo_only(handler: cst.ExceptHandler, names: dict[str, Any]) -> bool:
    """Whether every class ``handler`` catches is one of ayo's errors."""
    if handler.type is None:
        return False
    kinds = (
        [e.value for e in handler.type.elements] if isinstance(handler.type, cst.Tuple) else [handler.type]
    )
    return all(isinstance(k := _resolve(e, names), type) and issubclass(k, AyoError) for e in kinds)


def _resolve(e: cst.BaseExpression, names: dict[str, Any]) -> Any:
    if isinstance(e, cst.Name):
        return names.get(e.value)
    if isinstance(e, cst.Attribute) and isinstance(base := _resolve(e.value, names), type(builtins)):
        return getattr(base, e.attr.value, None)  # (an attribute of a module only)
    return None


def _runs_nothing(node: cst.CSTNode, names: dict[str, Any]) -> bool:
    """Whether ``node`` awaits nothing, defines nothing and calls only builtins (not shadowed by a
    global of the function's) and reading methods."""
    for n in walk(node):
        if isinstance(n, cst.Await | cst.Lambda | cst.FunctionDef | cst.ClassDef | cst.Yield):
            return False
        if isinstance(n, cst.Call):
            f = n.func
            if isinstance(f, cst.Name):
                if f.value in names or not hasattr(builtins, f.value):
                    return False
            elif not (isinstance(f, cst.Attribute) and f.attr.value in _READING):
                return False
    return True


def _constant(e: cst.BaseExpression) -> bool:
    """A literal, or a display of literals (``[]``, ``{"a": 1}``, ``("x", 2)``)."""
    if isinstance(e, cst.SimpleString | cst.Integer | cst.Float | cst.Imaginary):
        return True
    if isinstance(e, cst.ConcatenatedString):
        return _constant(e.left) and _constant(e.right)
    if isinstance(e, cst.Name):
        return e.value in ("True", "False", "None")
    if isinstance(e, cst.UnaryOperation) and isinstance(e.operator, cst.Minus):
        return isinstance(e.expression, cst.Integer | cst.Float)
    if isinstance(e, cst.List | cst.Tuple | cst.Set):
        return all(isinstance(el, cst.Element) and _constant(el.value) for el in e.elements)
    if isinstance(e, cst.Dict):
        return all(
            isinstance(el, cst.DictElement) and _constant(el.key) and _constant(el.value) for el in e.elements
        )
    return False


def _binds_constants(stmt: cst.BaseStatement) -> bool:
    """Whether ``stmt`` only binds names to constants (``out = []``, ``a = b = 0``)."""
    assert isinstance(stmt, cst.SimpleStatementLine)
    return all(
        isinstance(s, cst.Assign)
        and all(isinstance(t.target, cst.Name) for t in s.targets)
        and _constant(s.value)
        for s in stmt.body
    )


def _never_raises(loop: cst.For | cst.While, names: dict[str, Any]) -> bool:
    """Whether the loop's header can raise nothing: ``while True``, or a ``for`` over a sure
    iterable (``_items``) into a name or the tuple its items are."""
    if isinstance(loop, cst.While):
        return isinstance(loop.test, cst.Name) and loop.test.value == "True"
    width = _items(loop.iter, names)
    if width is None:
        return False
    if isinstance(loop.target, cst.Name):
        return True
    return (
        width > 0
        and isinstance(loop.target, cst.Tuple)
        and len(loop.target.elements) == width
        and all(isinstance(e, cst.Element) and isinstance(e.value, cst.Name) for e in loop.target.elements)
    )


def _items(e: cst.BaseExpression, names: dict[str, Any]) -> int | None:
    """For an iterable that can raise nothing, the length of the tuples it yields (0: not tuples);
    None for anything else."""
    if isinstance(e, cst.List | cst.Tuple | cst.Set | cst.SimpleString) and _constant(e):
        return 0
    if not (isinstance(e, cst.Call) and isinstance(e.func, cst.Name)) or any(
        a.keyword or a.star for a in e.args
    ):
        return None
    if e.func.value in names:
        return None  # (a global of the function's shadowing the builtin)
    args = [a.value for a in e.args]
    if e.func.value == "range":
        ok = 1 <= len(args) <= 3 and all(isinstance(a, cst.Integer) for a in args)
        return 0 if ok and all(_int(a) != 0 for a in args[2:]) else None
    inner = [_items(a, names) for a in args]
    if any(i is None for i in inner):
        return None
    if e.func.value == "enumerate" and len(args) == 1:
        return 2
    if e.func.value == "zip" and args:
        return len(args)
    if e.func.value == "reversed" and len(args) == 1:
        a = args[0]
        ranged = isinstance(a, cst.Call) and isinstance(a.func, cst.Name) and a.func.value == "range"
        return inner[0] if ranged or isinstance(a, cst.List | cst.Tuple) else None
    return None


def _int(e: cst.BaseExpression) -> int:
    assert isinstance(e, cst.Integer)
    return int(e.value, 0)
