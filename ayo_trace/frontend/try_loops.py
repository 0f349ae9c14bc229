"""A ``try`` whose body holds a loop that awaits, as the loop with the ``try`` inside it::

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
the left one where the loop's names are read after it (a subgraph that fails gives no partial
results: ``try_except``), and traces the right one: a loop whose body is a ``try`` whose
handlers end by leaving the loop.

What else the ``try`` holds keeps its handlers. Statements before the loop that may raise what
they catch (``plan = await ayo.llm(...)``) stay in a ``try`` with a copy of the handlers, whose
``else`` holds the loop; statements after the loop go into a ``try`` with the handlers in the
loop's ``else`` (so they run only when no item failed, and not after a ``break`` of the loop's
own, which is then not rewritten). Where the handlers catch more than ayo's errors and the
loop's header may raise (``for w in q.split()`` under ``except Exception``: ``q`` may be
``None``), the items are taken first, in the first ``try`` (``ayo_items__ = q.split()``, then
``iter(ayo_items__)``), and the loop iterates them. Python raises, in both, what the same code
raises in the same order; each part catches what its part of the body raised.

Rewritten only where nothing the handlers catch can be raised outside those parts:

* the ``try`` has handlers (not ``except*``), no ``else``, no ``finally``; its body holds one
  loop that awaits (``for`` or ``while``, not ``async``, no ``else``), which binds or changes a
  name read after the ``try`` or by a handler (else the ``try`` traces as it stands);
* no handler holds a ``break`` or ``continue`` of a loop around the ``try``, nor a ``return``
  where the loop's body jumps (the loop would run as written with it: refused); a handler of
  the first ``try`` reads no name the loop binds, and neither the loop's body nor what follows
  it returns when there is one (the tracer would not take them there);
* the loop's header: a ``for`` target of names; if every class the handlers catch is one of
  ayo's errors (``except ayo.EngineError``), the header awaits nothing and calls nothing but
  builtins and methods that read (``range(len(docs))``, ``q.split()``, ``enumerate(pairs)``,
  ``while len(out) < 3``); else it can raise nothing (a display of constants, ``range`` of whole
  numbers, ``enumerate``/``zip``/``reversed`` of those, ``while True``) or it is a ``for`` into
  a name over such calls, whose items are taken first (above);
* statements before the loop that can raise nothing the handlers catch (the same calls for ayo's
  errors; names bound to constants, ``out = []``, for others) are moved before the loop
  instead.

The lines keep their numbers: the ``try:`` line becomes an empty line before the statements
moved out, a new ``try:`` stands for the line after it, each ``else:``, ``break`` and line
taking the items for the line before it, and each copy of a handler for the handler's lines
(``normalize.lines``).
"""

from __future__ import annotations

import builtins
import dataclasses
from typing import Any

import libcst as cst

from ..errors import AyoError
from ..ir.mutation import READ_ONLY_METHODS
from .state import _target_names, contains_await, leaves_loop, mutated_roots, target_leaves, walk

ITEMS = "ayo_items__"


@dataclasses.dataclass
class Lines:
    """The lines a rewrite adds, for ``normalize.lines``: ``added`` stand for the line before them,
    ``ahead`` for the line after them, and each of ``copies`` (a copy, then what it copies: a
    handler written again) for the lines of what it copies."""

    added: list[cst.CSTNode]
    ahead: list[cst.CSTNode]
    copies: list[tuple[cst.CSTNode, cst.CSTNode]] = dataclasses.field(default_factory=list)

    def copy(self, of: cst.ExceptHandler, made: cst.ExceptHandler) -> cst.ExceptHandler:
        """``made`` (``of`` changed) as a new copy of ``of``, standing for its lines."""
        fresh = made.deep_clone().with_changes(leading_lines=[])
        self.copies.append((fresh, of))
        return fresh


@dataclasses.dataclass(frozen=True)
class Survey:
    """What the rewrite reads of the whole function (``survey``): how many times each name stands
    in it, and for each ``try`` (by id) the names its function's top-level assignments before the
    statement holding it bind (``out = []`` first: bound wherever the ``try`` stands)."""

    reads: dict[str, int]
    bound: dict[int, frozenset[str]]


def survey(module: cst.Module) -> Survey:
    """The ``Survey`` of the function ``module`` defines (the first ``def`` in it)."""
    reads: dict[str, int] = {}
    for n in walk(module):
        if isinstance(n, cst.Name):
            reads[n.value] = reads.get(n.value, 0) + 1
    bound: dict[int, frozenset[str]] = {}
    fn = next((s for s in module.body if isinstance(s, cst.FunctionDef)), None)
    if fn is not None and isinstance(fn.body, cst.IndentedBlock):
        so_far: set[str] = set()
        for top in fn.body.body:
            for n in walk(top, lambda n: isinstance(n, cst.FunctionDef | cst.Lambda | cst.ClassDef)):
                if isinstance(n, cst.Try):
                    bound[id(n)] = frozenset(so_far)
            if isinstance(top, cst.SimpleStatementLine):
                for small in top.body:
                    if isinstance(small, cst.Assign):
                        so_far.update(t.target.value for t in small.targets if isinstance(t.target, cst.Name))
    return Survey(reads, bound)


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
    seen: Survey,
    lines: Lines,
) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
    """``stmt`` (``old`` as the other rewrites left it) as its loop around a ``try`` (above), or
    itself. ``names``: the function's globals and closure; ``seen``: the function as parsed, of
    which ``old`` is part; ``lines``: where to put the new lines and the copies
    (``normalize.rewrite``)."""
    at = _loop_at(old, seen.reads)
    if not isinstance(stmt.body, cst.IndentedBlock) or stmt.orelse or stmt.finalbody:
        return stmt
    written: list[cst.BaseStatement] = list(stmt.body.body)
    if at is None or len(written) != len(old.body.body):
        return stmt
    loop, before, after = written[at], written[:at], written[at + 1 :]
    if not isinstance(loop, cst.For | cst.While) or loop.orelse is not None or not stmt.handlers:
        return stmt
    if (isinstance(loop, cst.For) and loop.asynchronous is not None) or not contains_await(loop.body):
        return stmt
    if not all(isinstance(h.body, cst.IndentedBlock) for h in stmt.handlers):
        return stmt
    if any(leaves_loop(h, (cst.Break, cst.Continue)) for h in stmt.handlers):
        return stmt
    stops = leaves_loop(loop.body, (cst.Break,))
    if after and stops:
        return stmt  # (`after` runs after the loop's own `break` too, where a `for` `else` would not)
    if _returns(stmt) and (_returns(loop.body) or stops or leaves_loop(loop.body, (cst.Continue,))):
        return stmt  # (a `return` in a `try` of a loop that jumps: refused where the loop runs as written)
    ayo_only = all(_catches_ayo_only(h, names) for h in stmt.handlers)
    header: list[cst.CSTNode] = [loop.iter] if isinstance(loop, cst.For) else [loop.test]
    if isinstance(loop, cst.For) and not all(isinstance(t, cst.Name) for t in target_leaves(loop.target)):
        return stmt  # (an item or attribute target runs a `__setitem__` or a setter)
    guard = not (ayo_only and all(_runs_nothing(h, names) for h in header)) and not _never_raises(loop, names)
    if guard and not (isinstance(loop, cst.For) and _runs_nothing(loop.iter, names) and _unpacks(loop)):
        return stmt
    handlers = list(stmt.handlers)
    guarded = guard or not all(_plain(s, names, ayo_only) for s in before)
    if guarded:  # (what comes before the loop may raise: in a `try` of its own)
        read = {n.value for h in handlers for n in walk(h) if isinstance(n, cst.Name)}
        unbound = _changed(loop, bound=True) - seen.bound.get(id(old), frozenset())
        if _returns(loop.body) or _returns(cst.IndentedBlock(after)) or read & unbound:
            return stmt  # (a `return` it would hold in its `else`; a handler reading the loop's names,
            # which may be unbound in the first `try`'s: Python raises there, the tracer refuses)
    if guard:  # (its items taken first, where the handlers catch what that raises: `for w in ITEMS`)
        assert isinstance(loop, cst.For)
        taken = cst.parse_statement(f"{ITEMS} = {cst.Module([]).code_for_node(loop.iter)}")
        checked = cst.parse_statement(f"iter({ITEMS})")
        lines.added.extend([taken, checked])
        before = [*before, taken, checked]
        loop = loop.with_changes(iter=cst.Name(ITEMS))
    last = not after  # (the loop's handlers are the written ones when nothing follows the loop)
    looped = [_leaving(h, lines if last else None) for h in handlers]
    if not last:
        looped = [lines.copy(h, c) for h, c in zip(handlers, looped, strict=True)]
    assert isinstance(loop.body, cst.IndentedBlock)  # (`normalize` put every body on lines of its own)
    inner = cst.Try(body=loop.body.with_changes(header=cst.TrailingWhitespace()), handlers=looped)
    lines.ahead.append(inner)
    made: cst.BaseStatement = loop.with_changes(body=cst.IndentedBlock([inner], header=loop.body.header))
    if after:  # (in a `try` of its own, whose handlers are the written ones, standing last)
        rest = stmt.with_changes(body=cst.IndentedBlock(after), leading_lines=[])
        lines.ahead.append(rest)
        otherwise = cst.Else(body=cst.IndentedBlock([rest]))
        lines.added.append(otherwise)
        assert isinstance(made, cst.For | cst.While)
        made = made.with_changes(orelse=otherwise)
    if guarded:
        standing = looped if last else handlers  # (the written ones, where they stand now)
        copied = [lines.copy(w, h) for w, h in zip(standing, handlers, strict=True)]
        otherwise = cst.Else(body=cst.IndentedBlock([made]))
        lines.added.append(otherwise)
        return stmt.with_changes(body=stmt.body.with_changes(body=before), handlers=copied, orelse=otherwise)
    # (the `try:` line, with its comment, stands empty before what is moved out of it)
    lead = [*stmt.leading_lines, cst.EmptyLine(comment=stmt.body.header.comment)]
    first = [*before, made][0]
    assert isinstance(first, cst.SimpleStatementLine | cst.BaseCompoundStatement)
    first = first.with_changes(leading_lines=[*lead, *first.leading_lines])
    return cst.FlattenSentinel([first, *before[1:], made]) if before else first


def _loop_at(old: cst.Try, reads: dict[str, int]) -> int | None:
    """Where in ``old``'s body the one loop stands that awaits and changes a name read outside the
    body (after the ``try``, by a handler); None when there is not exactly one loop awaiting."""
    body = old.body.body
    loops = [i for i, s in enumerate(body) if isinstance(s, cst.For | cst.While) and contains_await(s)]
    if len(loops) != 1:
        return None
    at = loops[0]
    loop = body[at]
    assert isinstance(loop, cst.For | cst.While)
    return at if _changes_what_is_read(loop, old.body, reads) else None


def _leaving(h: cst.ExceptHandler, lines: Lines | None) -> cst.ExceptHandler:
    """``h`` ending with a ``break``, unless it ends with a ``return`` or ``raise``."""
    assert isinstance(h.body, cst.IndentedBlock)
    last = h.body.body[-1]
    if isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[-1], cst.Return | cst.Raise):
        return h
    leave = cst.SimpleStatementLine([cst.Break()])
    if lines is not None:
        lines.added.append(leave)
    return h.with_changes(body=h.body.with_changes(body=[*h.body.body, leave]))


def _plain(stmt: cst.CSTNode, names: dict[str, Any], ayo_only: bool) -> bool:
    """Whether ``stmt`` can raise nothing the handlers catch (``ayo_only``: of ayo's errors)."""
    if not isinstance(stmt, cst.SimpleStatementLine):
        return False
    return _runs_nothing(stmt, names) if ayo_only else _binds_constants(stmt)


def _unpacks(loop: cst.For) -> bool:
    """Whether binding the loop's target cannot fail: a name."""
    return isinstance(loop.target, cst.Name)


def _returns(node: cst.CSTNode) -> bool:
    return any(
        isinstance(n, cst.Return) for n in walk(node, lambda n: isinstance(n, cst.FunctionDef | cst.Lambda))
    )


def _changes_what_is_read(loop: cst.For | cst.While, body: cst.CSTNode, reads: dict[str, int]) -> bool:
    """Whether ``loop`` binds or changes a name that stands somewhere outside ``body``."""
    changed = _changed(loop)
    inside: dict[str, int] = {}
    for n in walk(body):
        if isinstance(n, cst.Name):
            inside[n.value] = inside.get(n.value, 0) + 1
    return any(reads.get(name, 0) > inside.get(name, 0) for name in changed)


def _changed(loop: cst.For | cst.While, *, bound: bool = False) -> set[str]:
    """The names ``loop`` binds or changes in place (``bound``: binds)."""
    changed = set() if bound else set(mutated_roots(loop))
    for n in walk(loop):
        if isinstance(n, cst.AssignTarget | cst.AugAssign):
            changed.update(t.value for t in target_leaves(n.target) if isinstance(t, cst.Name))
        elif isinstance(n, cst.For):
            changed.update(_target_names(n.target))
        elif isinstance(n, cst.NamedExpr) and isinstance(n.target, cst.Name):
            changed.add(n.target.value)
    return changed


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


def _binds_constants(stmt: cst.SimpleStatementLine) -> bool:
    """Whether ``stmt`` only binds names to constants (``out = []``, ``a = b = 0``)."""
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
