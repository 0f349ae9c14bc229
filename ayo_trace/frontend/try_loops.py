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

What else the ``try`` holds keeps its handlers. Statements before the loop (but for names bound
to literals, ``out = []``, moved before it) stay in a ``try`` with a copy of the handlers, whose
``else`` holds the loop; statements after the loop go into a ``try`` with the handlers in the
loop's ``else`` (so they run only when no item failed, and not after a ``break`` of the loop's
own, which is then not rewritten). Where making the loop's iterable may raise what the handlers
catch (``for d in sorted(items)``, a user's ``__lt__`` raising; ``for w in q.split()`` under
``except Exception``, ``q`` may be ``None``), it is made first, in that first ``try``
(``ayo_items__ = sorted(items)``), and the loop iterates it. Python raises, in both, what the
same code raises in the same order; each part catches what its part of the body raised.

Rewritten only where taking the items and testing a ``while`` (outside every ``try`` then) can
raise nothing the handlers catch:

* the ``try`` stands in the function's own body (not in a function it defines, whose names are
  its own: ``seen`` is the function's); it has handlers (not ``except*``), no ``else`` (a
  ``finally`` stays around what the ``try`` becomes: the first ``try``'s, or one of its own
  with the ``try:`` line); its body holds one loop that awaits (``for`` or ``while``, not ``async``, no
  ``else``), which binds or changes a name read after the ``try`` or by a handler (else the
  ``try`` traces as it stands);
* no handler holds a ``break`` or ``continue`` of a loop around the ``try``, nor a ``return``
  where the loop's body jumps (the loop would run as written with it: refused), nor binds a
  name (``as e``) read outside the ``try``; a handler of the first ``try`` reads no name the
  loop binds that nothing bound before, and neither the loop's body nor what follows it returns
  when there is one (the tracer would not take them there);
* a ``for`` binds names, and iterates what taking the items of runs no code (``_sure_items``):
  a display, a comprehension, a string, ``list``/``tuple``/``sorted``/``range`` of anything,
  what ``.split()`` makes, ``enumerate``/``zip``/``reversed`` of those, a slice of one of those
  (``q.split()[:3]``), a name of the function's bound only to a list or tuple so made (not a
  generator, ``map``, a dict's view, nor a set or dict a body may grow), or, with handlers of
  ayo's errors only, a parameter (``for d in docs``: an input, whose items no code of the user's
  raising one of them takes); under handlers of more than ayo's errors, a tuple target only of
  ``enumerate`` and ``zip``, as wide;
* a ``while`` tests ``True``, or names, literals, ``not``/``and``/``or``, ``is``, and comparisons
  of names bound only to numbers and of ``len`` of such a list (any names, with handlers of
  ayo's errors only: no code of the user's raising one of them there).

The lines keep their numbers: the ``try:`` line becomes an empty line before the statements
moved out, a new ``try:`` stands for the line after it (that of the first statement after the
loop, its comments above it), each ``else:``, ``break`` and line taking the items for the line
before it, and each copy of a handler for the handler's lines (``normalize.lines``).
"""

from __future__ import annotations

import builtins
import dataclasses
from typing import Any

import libcst as cst

from ..errors import AyoError
from . import primitives
from .state import _target_names, contains_await, has_return, leaves_loop, mutated_roots, target_leaves, walk

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
    # each name the function binds in its own scope: the values assigned to it (an augmented
    # assignment's node for `+=`), None for any other binding (a parameter, a loop's target)
    bindings: dict[str, list[cst.CSTNode | None]]
    params: frozenset[str] = frozenset()  # (those of them that are the function's parameters)


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
    if fn is None:
        return Survey(reads, bound, {})
    params = fn.params
    named = (*params.params, *params.kwonly_params, *params.posonly_params)
    return Survey(reads, bound, _bindings(fn), frozenset(p.name.value for p in named))


def _bindings(fn: cst.FunctionDef) -> dict[str, list[cst.CSTNode | None]]:
    out: dict[str, list[cst.CSTNode | None]] = {}

    def bind(name: str, value: cst.CSTNode | None) -> None:
        out.setdefault(name, []).append(value)

    for p in (*fn.params.params, *fn.params.kwonly_params, *fn.params.posonly_params):
        bind(p.name.value, None)
    for star in (fn.params.star_arg, fn.params.star_kwarg):
        if isinstance(star, cst.Param):
            bind(star.name.value, None)
    scopes = (
        cst.FunctionDef,
        cst.Lambda,
        cst.ClassDef,
        cst.ListComp,
        cst.SetComp,
        cst.DictComp,
        cst.GeneratorExp,
    )
    for n in walk(fn.body, lambda n: isinstance(n, scopes)):
        if isinstance(n, cst.Assign):
            for t in n.targets:
                one = isinstance(t.target, cst.Name)
                for leaf in target_leaves(t.target):
                    if isinstance(leaf, cst.Name):
                        bind(leaf.value, n.value if one else None)
        elif isinstance(n, cst.AugAssign) and isinstance(n.target, cst.Name):
            bind(n.target.value, n)
        elif isinstance(n, cst.For | cst.AsName | cst.NamedExpr):
            for name in _target_names(n.target if not isinstance(n, cst.AsName) else n.name):
                bind(name, None)
        elif isinstance(n, cst.FunctionDef | cst.ClassDef):
            bind(n.name.value, None)
        elif isinstance(n, cst.Global | cst.Nonlocal):
            for item in n.names:
                bind(item.name.value, None)
        elif isinstance(n, cst.AnnAssign) and isinstance(n.target, cst.Name):
            bind(n.target.value, n.value)
        elif isinstance(n, cst.Del):
            for name in _target_names(n.target):
                bind(name, None)
        elif isinstance(n, cst.ImportAlias) and n.asname is None:
            bind(cst.Module([]).code_for_node(n.name).split(".")[0], None)
        elif isinstance(n, cst.MatchAs | cst.MatchStar) and isinstance(n.name, cst.Name):
            bind(n.name.value, None)
    return out


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
    if not isinstance(stmt.body, cst.IndentedBlock) or stmt.orelse:
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
    caught = {h.name.name.value for h in old.handlers if h.name and isinstance(h.name.name, cst.Name)}
    if caught and any(seen.reads.get(c, 0) > _count(old, c) for c in caught):
        return stmt  # (`except E as e` with `e` read elsewhere: deleted where the loop would go on)
    stops = leaves_loop(loop.body, (cst.Break,))
    if after and stops:
        return stmt  # (`after` runs after the loop's own `break` too, where a `for` `else` would not)
    if has_return(stmt) and (has_return(loop.body) or stops or leaves_loop(loop.body, (cst.Continue,))):
        return stmt  # (a `return` in a `try` of a loop that jumps: refused where the loop runs as written)
    ayo_only = all(_catches_ayo_only(h, names) for h in stmt.handlers)
    shadowed = {*names, *seen.bindings}  # (a builtin's name bound by the module or the function)
    guard = False  # (whether the loop's items are taken first, in a `try` with the handlers)
    if isinstance(loop, cst.For):
        if not all(isinstance(t, cst.Name) for t in target_leaves(loop.target)):
            return stmt  # (an item or attribute target runs a `__setitem__` or a setter)
        if not (
            _sure_items(loop.iter, seen, shadowed, names=names) or (ayo_only and _input(loop.iter, seen))
        ):
            return stmt  # (taking an item of a generator, a map, a dict's view runs code)
        if (
            not ayo_only
            and not isinstance(loop.target, cst.Name)
            and _width(loop.iter) != _arity(loop.target)
        ):
            return stmt  # (unpacking an item may raise)
        guard = not _fixed(loop.iter, shadowed) and not (ayo_only and _plain_read(loop.iter, shadowed))
    elif not _steady_test(loop.test, seen, ayo_only):
        return stmt
    handlers = list(stmt.handlers)
    guarded = guard or not all(_binds_constants(s) for s in before)
    if guarded:  # (what comes before the loop may raise: in a `try` of its own)
        read = {n.value for h in handlers for n in walk(h) if isinstance(n, cst.Name)}
        unbound = _changed(loop, bound=True) - seen.bound.get(id(old), frozenset())
        if has_return(loop.body) or has_return(cst.IndentedBlock(after)) or read & unbound:
            return stmt  # (a `return` it would hold in its `else`; a handler reading the loop's names,
            # which may be unbound in the first `try`'s: Python raises there, the tracer refuses)
    if guard:  # (its items taken first, where the handlers catch what that raises: `for w in ITEMS`)
        assert isinstance(loop, cst.For)
        taken = cst.parse_statement(f"{ITEMS} = {cst.Module([]).code_for_node(loop.iter)}")
        lines.added.append(taken)
        before = [*before, taken]
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
        head = after[0]
        assert isinstance(head, cst.SimpleStatementLine | cst.BaseCompoundStatement)
        lead = head.leading_lines  # (its comments before the `try:`, which stands for its line)
        after = [head.with_changes(leading_lines=[]), *after[1:]]
        rest = stmt.with_changes(body=cst.IndentedBlock(after), leading_lines=lead)
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
    if stmt.finalbody is not None:  # (what the `try` became, in a `try` with its `finally`)
        return stmt.with_changes(body=stmt.body.with_changes(body=[*before, made]), handlers=[])
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


def _count(node: cst.CSTNode, name: str) -> int:
    return sum(1 for n in walk(node) if isinstance(n, cst.Name) and n.value == name)


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
    return all(isinstance(k := resolve(e, names), type) and issubclass(k, AyoError) for e in kinds)


def resolve(e: cst.BaseExpression, names: dict[str, Any]) -> Any:
    """The object a name or a dotted name of modules stands for in ``names`` (a function's globals
    and closure), read without running code (a module's ``__getattr__``); None when unknown."""
    if isinstance(e, cst.Name):
        return names.get(e.value)
    if isinstance(e, cst.Attribute) and isinstance(base := resolve(e.value, names), type(builtins)):
        return vars(base).get(e.attr.value)  # (an attribute of a module only)
    return None


def _literal(e: cst.BaseExpression, *, hashable: bool = False) -> bool:
    """A literal, or a display of literals (``[]``, ``{"a": 1}``, ``("x", 2)``): it evaluates
    without raising (``hashable``: and is hashable, a set's element or a dict's key)."""
    if isinstance(e, cst.SimpleString | cst.Integer | cst.Float | cst.Imaginary):
        return True
    if isinstance(e, cst.ConcatenatedString):
        return _literal(e.left) and _literal(e.right)
    if isinstance(e, cst.Name):
        return e.value in ("True", "False", "None")
    if isinstance(e, cst.UnaryOperation) and isinstance(e.operator, cst.Minus):
        return isinstance(e.expression, cst.Integer | cst.Float)
    if isinstance(e, cst.Tuple):
        return all(isinstance(el, cst.Element) and _literal(el.value, hashable=hashable) for el in e.elements)
    if hashable:
        return False
    if isinstance(e, cst.List | cst.Set):
        kept = isinstance(e, cst.Set)
        return all(isinstance(el, cst.Element) and _literal(el.value, hashable=kept) for el in e.elements)
    if isinstance(e, cst.Dict):
        return all(
            isinstance(el, cst.DictElement) and _literal(el.key, hashable=True) and _literal(el.value)
            for el in e.elements
        )
    return False


def _binds_constants(stmt: cst.BaseStatement) -> bool:
    """Whether ``stmt`` only binds names to literals (``out = []``, ``a = b = 0``)."""
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, cst.Assign)
        and all(isinstance(t.target, cst.Name) for t in s.targets)
        and _literal(s.value)
        for s in stmt.body
    )


_CONTAINERS = frozenset({"list", "tuple", "sorted", "set", "frozenset", "dict"})
_SPLITS = frozenset({"split", "rsplit", "splitlines"})


def _builtin(e: cst.BaseExpression, shadowed: set[str]) -> str | None:
    """The name of the builtin ``e`` calls (not one the module or the function binds again)."""
    if isinstance(e, cst.Call) and isinstance(e.func, cst.Name) and e.func.value not in shadowed:
        return e.func.value if hasattr(builtins, e.func.value) else None
    return None


def _sure_items(
    e: cst.BaseExpression,
    seen: Survey,
    shadowed: set[str],
    *,
    named: bool = False,
    names: dict[str, Any] | None = None,
) -> bool:
    """Whether taking the items of ``e``'s value runs no code, once it is made: a display, a
    list, set or dict comprehension, a string, a builtin container made of anything (``sorted(xs)``,
    ``list(gen)``), ``range``, what ``str.split`` makes (``q.split()``: a list; a method of that
    name is taken as the string's), ``enumerate``/``zip``/``reversed`` of such, a slice of one
    (``q.split()[:3]``: making it may raise, taking its items not), or a name of the
    function's bound only to such values (not a parameter: it may hold a generator; not a set or
    dict, which raises when the loop's body changes its size: ``named``), or the list an awaited
    ``ayo.search`` or ``ayo.rerank`` hands back (``names``: the function's globals and closure)."""
    if isinstance(e, cst.List | cst.Tuple | cst.ListComp | cst.SimpleString | cst.ConcatenatedString):
        return True
    if isinstance(e, cst.Await) and isinstance(e.expression, cst.Call) and names is not None:
        return any(resolve(e.expression.func, names) is f for f in (primitives.search, primitives.rerank))
    if isinstance(e, cst.Set | cst.SetComp | cst.DictComp):
        return not named
    if (sliced := _sliced(e)) is not None:  # (`q.split()[:3]`: a list, tuple, string, range: one too)
        return _sure_items(sliced[0], seen, shadowed, named=named, names=names)
    if isinstance(e, cst.Call) and isinstance(e.func, cst.Attribute):
        return e.func.attr.value in _SPLITS
    called = _builtin(e, shadowed)
    if called is not None:
        assert isinstance(e, cst.Call)
        args = [a.value for a in e.args if a.keyword is None]
        if called in _CONTAINERS or called == "range":
            return not named or called in ("list", "tuple", "sorted", "frozenset", "range")
        if any(a.star for a in e.args):
            return False
        if called == "enumerate" and len(args) == 1:
            return _sure_items(args[0], seen, shadowed, names=names)
        if called == "zip" and args and len(args) == len(e.args):
            return all(_sure_items(a, seen, shadowed, names=names) for a in args)
        if called == "reversed" and len(args) == 1 and len(e.args) == 1:
            a = args[0]
            return isinstance(a, cst.List | cst.Tuple | cst.ListComp) or _builtin(a, shadowed) in (
                "list",
                "tuple",
                "sorted",
                "range",
            )
        return False
    if isinstance(e, cst.Name) and e.value in seen.bindings:
        return all(
            isinstance(v, cst.AugAssign)
            or (
                isinstance(v, cst.BaseExpression)
                and _sure_items(v, seen, shadowed - {e.value}, named=True, names=names)
            )
            for v in seen.bindings[e.value]
        )
    return False


def _input(e: cst.BaseExpression, seen: Survey) -> bool:
    """A parameter nothing binds again (``for d in docs``): what the caller hands in, whose items
    no code of the user's raising one of ayo's errors takes (a list of documents)."""
    return isinstance(e, cst.Name) and e.value in seen.params and seen.bindings.get(e.value) == [None]


def _fixed(e: cst.BaseExpression, shadowed: set[str]) -> bool:
    """Whether making ``e``'s value can raise nothing: a display of literals, ``range`` of whole
    numbers, ``enumerate``/``zip``/``reversed`` of those."""
    if isinstance(e, cst.List | cst.Tuple | cst.Set | cst.SimpleString):
        return _literal(e)
    called = _builtin(e, shadowed)
    if called is None:
        return False
    assert isinstance(e, cst.Call)
    if any(a.keyword or a.star for a in e.args):
        return False
    args = [a.value for a in e.args]
    if called == "range":
        numbers = 1 <= len(args) <= 3 and all(isinstance(a, cst.Integer) for a in args)
        return numbers and all(_int(a) != 0 for a in args[2:])
    if called in ("enumerate", "reversed") and len(args) == 1:
        return _fixed(args[0], shadowed) and (called == "enumerate" or not isinstance(args[0], cst.Set))
    return called == "zip" and bool(args) and all(_fixed(a, shadowed) for a in args)


def _width(e: cst.BaseExpression) -> int | None:
    """How many values each item of ``e`` holds, where it is sure: 2 for ``enumerate(...)``, the
    number of its arguments for ``zip(...)``."""
    if isinstance(e, cst.Call) and isinstance(e.func, cst.Name):
        if e.func.value == "enumerate":
            return 2
        if e.func.value == "zip":
            return len(e.args)
    return None


def _arity(target: cst.BaseExpression) -> int | None:
    if isinstance(target, cst.Tuple | cst.List) and all(isinstance(e, cst.Element) for e in target.elements):
        return len(target.elements)
    return None


def _plain_read(e: cst.BaseExpression, shadowed: set[str]) -> bool:
    """A name, ``x.split(...)`` of a name, ``range`` of names, ``enumerate``/``zip`` of such, a
    slice of one of those (``q.split()[:n]``), with arguments and bounds of names and literals:
    making it runs no code of the user's, so raises none of ayo's errors."""
    if isinstance(e, cst.Name):
        return True
    if (sliced := _sliced(e)) is not None:
        value, bounds = sliced
        return all(isinstance(b, cst.Name) or _literal(b) for b in bounds) and _plain_read(value, shadowed)
    if not isinstance(e, cst.Call) or any(a.keyword is not None or a.star for a in e.args):
        return False
    if isinstance(e.func, cst.Attribute):
        plain = all(_literal(a.value) for a in e.args)
        return e.func.attr.value in _SPLITS and isinstance(e.func.value, cst.Name) and plain
    called = _builtin(e, shadowed)
    if called == "range":
        return all(isinstance(a.value, cst.Name) or _literal(a.value) for a in e.args)
    return called in ("enumerate", "zip") and all(_plain_read(a.value, shadowed) for a in e.args)


def _sliced(e: cst.BaseExpression) -> tuple[cst.BaseExpression, list[cst.BaseExpression]] | None:
    """The value ``e`` slices and the bounds written, where it is one slice (``xs[1:]``,
    ``xs[::-1]``), else None: the items of a slice of a list, tuple, string or range are taken as
    the value's are."""
    if not (isinstance(e, cst.Subscript) and len(e.slice) == 1 and isinstance(e.slice[0].slice, cst.Slice)):
        return None
    part = e.slice[0].slice
    return e.value, [b for b in (part.lower, part.upper, part.step) if b is not None]


def _steady_test(test: cst.BaseExpression, seen: Survey, ayo_only: bool) -> bool:
    """Whether a ``while`` loop's test can raise nothing the handlers catch (it is evaluated
    outside them): ``True``; names, literals, ``not``/``and``/``or``, ``is`` comparisons; others
    of names bound only to literals (``attempts < 3``); ``len`` of a list the function made.
    With handlers of ayo's errors only, any name may be compared (no code of the user's raising
    one of them)."""
    if isinstance(test, cst.Name) and test.value in ("True", "False", "None"):
        return True
    if _literal(test, hashable=True):
        return True
    if isinstance(test, cst.Name):
        return ayo_only or _literal_name(test.value, seen) or _sure_items(test, seen, set())
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _steady_test(test.expression, seen, ayo_only)
    if isinstance(test, cst.BooleanOperation):
        return _steady_test(test.left, seen, ayo_only) and _steady_test(test.right, seen, ayo_only)
    if isinstance(test, cst.Call):
        return (
            isinstance(test.func, cst.Name)
            and test.func.value == "len"
            and test.func.value not in seen.bindings
            and len(test.args) == 1
            and isinstance(arg := test.args[0].value, cst.Name)
            and _sure_items(arg, seen, set())
        )
    if isinstance(test, cst.Comparison):
        parts = [test.left, *(c.comparator for c in test.comparisons)]
        if all(isinstance(c.operator, cst.Is | cst.IsNot) for c in test.comparisons):
            return all(isinstance(p, cst.Name) or _literal(p) for p in parts)
        if ayo_only:
            return all(_steady_test(p, seen, ayo_only) for p in parts)
        numbers = all(
            isinstance(p, cst.Integer | cst.Float)
            or (isinstance(p, cst.Name) and _literal_name(p.value, seen))
            or (isinstance(p, cst.Call) and _steady_test(p, seen, ayo_only))
            for p in parts
        )
        return numbers and not any(isinstance(c.operator, cst.In | cst.NotIn) for c in test.comparisons)
    return False


def _literal_name(name: str, seen: Survey) -> bool:
    """Whether the function binds ``name`` only to numbers (``attempts = 0``, ``attempts += 1``)."""
    values = seen.bindings.get(name, [None])
    return all(
        isinstance(v, cst.Integer | cst.Float)
        or (isinstance(v, cst.AugAssign) and isinstance(v.value, cst.Integer | cst.Float))
        for v in values
    )


def _int(e: cst.BaseExpression) -> int:
    assert isinstance(e, cst.Integer)
    return int(e.value, 0)
