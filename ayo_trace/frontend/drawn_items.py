"""Whether an awaiting comprehension's items may all be made before its first element runs.

A comprehension whose element awaits is a ``map`` over what its ``for`` clauses bind. With a tuple
target, an ``if`` filter or a second ``for``, a ``python`` node first makes the list of those items
(``ComprehensionMaps._comprehension_items``), and the map then runs the element once per item.
Python takes turns instead: it draws one item, runs the element, then draws the next. The two agree
only when drawing an item changes neither an item drawn before nor what the element reads. They
disagree for ``itertools.groupby``, whose groups are spent once it moves on, for a generator that
yields one buffer again, and for a generator that appends to a log the element reads.

``drawn_ahead`` is True only when every iterable of the clauses is one of these:

* a container or a view of one: a list, tuple, dict, set or string literal, a ``range``, a list,
  set or dict comprehension, ``d.items()``, ``x.split()``, ``sorted(...)``, ``list(...)``;
* a builtin or ``itertools`` iterator over such (``enumerate``, ``zip``, ``reversed``,
  ``islice``), or a generator expression over such that calls only pure builtins and string
  methods;
* a call of a plain function of the user's whose every ``return`` gives a container
  (``return sorted(docs)``, ``out = []`` ... ``return out``), or of a function of the standard
  library making a new list at every call (``re.findall``, a compiled pattern's ``findall``,
  ``glob.glob``, ``json.loads``, ``textwrap.wrap``, ``heapq.nlargest``);
* a value an engine returned, a loop's or map's item, or a workflow argument that is not an
  iterator.

Any other iterable makes it False: a generator function's generator, ``groupby``, ``tee``, an
iterator object, or a call of unknown result. The comprehension then runs as written, eagerly, as
a graph break.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import fnmatch
import glob
import heapq
import inspect
import itertools
import json
import os
import random
import re
import shlex
import sys
import textwrap
import types
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import libcst as cst

from ..ir.code import PyCode, parsed
from ..ir.graph import Node
from ..ir.mutation import PURE_STR_METHODS
from ..ir.spec import primitive_spec
from .user_code import read_attribute, weak_cache
from .values import Static, Traced
from .visiting import visit

if TYPE_CHECKING:
    from .builder import Builder

# Values that iterate afresh each time and that drawing does not change.
_CONTAINERS: tuple[type, ...] = (list, tuple, dict, set, frozenset, str, bytes, range, type({}.keys()), type({}.values()),
               type({}.items()))  # fmt: skip
# Callables whose value is a container, whatever they are given (``list(gen)`` draws it all at once).
_MADE_AT_ONCE = frozenset({list, tuple, dict, set, frozenset, sorted, str, bytes, range, len})
# Iterators that draw one item of each argument per item and keep nothing of it.
_OVER_ARGS = frozenset({enumerate, zip, reversed, iter})
_SPENT_TOGETHER = frozenset({itertools.groupby, itertools.tee})
_PURE_FUNCS = frozenset({int, float, str, bool, len, abs, round, repr, ord, chr})
# Methods whose value is a container or data of the object (not an iterator over it).
_CONTAINER_METHODS = PURE_STR_METHODS | {"items", "keys", "values", "copy", "get", "most_common"}
# Functions of the standard library whose value is a new list (or dict) at every call.
_LIBRARY_CONTAINERS = frozenset({re.findall, re.split, os.listdir, glob.glob, textwrap.wrap, shlex.split,
                                 json.loads, random.sample, heapq.nlargest, heapq.nsmallest,
                                 difflib.get_close_matches, fnmatch.filter})  # fmt: skip
# ... and the methods of a compiled pattern that are ``re``'s functions above.
_PATTERN_CONTAINERS = frozenset({"findall", "split"})
_UNKNOWN = object()
_MAX_DEPTH = 32


def drawn_ahead(body: Builder, e: cst.BaseComp) -> bool:
    """Whether the items of comprehension ``e`` may all be made before its element runs (see the
    module docstring): every ``for`` clause's iterable draws the same items, and changes nothing,
    whether it is drawn all at once or item by item."""
    own: set[str] = set()
    comp: cst.CompFor | None = e.for_in
    while comp is not None:
        try:
            tree = _expression(body.src.expr_code(comp.iter))
        except SyntaxError:
            return False
        if not _iterable(tree, _ClauseScope(body, frozenset(own)), 0):
            return False
        own |= _names(comp.target)
        comp = comp.inner_for_in
    return True


class _ClauseScope:
    """Names as the comprehension's clauses read them: its own, the body's, the module's."""

    def __init__(self, body: Builder, own: frozenset[str]) -> None:
        self.body = body
        self.own = own

    def iterable(self, name: str, depth: int) -> bool:
        if name in self.own:
            return True  # (an item of an outer clause: data)
        found, value = _peek(self.body, name)
        if isinstance(value, Traced):
            return _node_iterable(self.body, value.node, depth + 1)
        obj = value.value if isinstance(value, Static) else _UNKNOWN if found else _global(self.body, name)
        return isinstance(obj, _CONTAINERS)

    def obj(self, name: str) -> Any:
        if name in self.own:
            return _UNKNOWN
        found, value = _peek(self.body, name)
        if isinstance(value, Static):
            return value.value
        return _UNKNOWN if found else _global(self.body, name)


class _CodeScope:
    """Names as a ``python`` node's statement reads them: its parameters (the node's args), its
    bindings, its module's globals."""

    def __init__(self, body: Builder, node: Node, code: PyCode) -> None:
        self.body = body
        self.node = node
        self.code = code

    def iterable(self, name: str, depth: int) -> bool:
        if name in self.code.params:
            return _node_iterable(self.body, self.node.args[self.code.params.index(name)], depth + 1)
        return isinstance(self.obj(name), _CONTAINERS)

    def obj(self, name: str) -> Any:
        if name in self.code.params:
            arg = self.node.args[self.code.params.index(name)]
            return arg.attrs.get("value", _UNKNOWN) if arg.op == "const" else _UNKNOWN
        if name in self.code.bindings:
            return self.code.bindings[name]
        mod = sys.modules.get(self.code.module)
        found = getattr(mod, name, _UNKNOWN) if mod is not None else _UNKNOWN
        return found if found is not _UNKNOWN else getattr(builtins, name, _UNKNOWN)


_Scope = _ClauseScope | _CodeScope


def _node_iterable(body: Builder, node: Node, depth: int) -> bool:
    """Whether the value of ``node`` may be drawn ahead (see ``drawn_ahead``)."""
    if depth > _MAX_DEPTH:
        return False
    if node.op == "const":
        return isinstance(node.attrs.get("value"), _CONTAINERS)
    if node.op == "input":
        outer = _captured(body, node)
        if outer is not None:
            return _node_iterable(body, outer, depth + 1)
        return not node.attrs.get("iterator", False)  # (an item or a carried value: data)
    if node.op == "getitem" and node.args[0].op in ("python", "break"):
        return not _makes_iterators(body, node.args[0])  # (`a, b = tee(xs)`)
    if primitive_spec(node.op) is not None or node.op in ("map", "getitem"):
        return True  # (an engine's value is data; a map's a list; a block's outputs are values)
    code = node.attrs.get("code")
    if node.op not in ("python", "break") or not isinstance(code, PyCode) or len(code.returns) != 1:
        return False
    try:
        stmt = parsed(textwrap.dedent(code.source)).body
    except SyntaxError:
        return False
    if len(stmt) != 1 or not isinstance(stmt[0], ast.Assign | ast.AnnAssign) or stmt[0].value is None:
        return False
    return _iterable(stmt[0].value, _CodeScope(body, node, code), depth)


def _makes_iterators(body: Builder, node: Node) -> bool:
    """Whether the statement of ``node`` (binding several names) may make a one-shot iterator: a
    generator expression, or a call of a generator function or an iterator class."""
    code = node.attrs.get("code")
    if not isinstance(code, PyCode):
        return True
    try:
        tree = parsed(textwrap.dedent(code.source))
    except SyntaxError:
        return True
    scope = _CodeScope(body, node, code)
    for e in ast.walk(tree):
        if isinstance(e, ast.GeneratorExp):
            return True
        if isinstance(e, ast.Call):
            f = _callee(e.func, scope)
            if inspect.isgeneratorfunction(f) or (isinstance(f, type) and issubclass(f, Iterator)):
                return True
    return False


def _iterable(e: ast.expr, scope: _Scope, depth: int) -> bool:
    """Whether the value of expression ``e`` may be drawn ahead (see ``drawn_ahead``)."""
    if isinstance(e, ast.Constant | ast.List | ast.Tuple | ast.Set | ast.Dict | ast.JoinedStr):
        return True
    if isinstance(e, ast.ListComp | ast.SetComp | ast.DictComp | ast.Await):
        return True  # (made at once; an awaited value is data)
    if isinstance(e, ast.Name):
        return scope.iterable(e.id, depth)
    if isinstance(e, ast.Attribute | ast.Subscript):
        return True  # (a part of a value: data)
    if isinstance(e, ast.BinOp):
        return _iterable(e.left, scope, depth) and _iterable(e.right, scope, depth)
    if isinstance(e, ast.IfExp):
        return _iterable(e.body, scope, depth) and _iterable(e.orelse, scope, depth)
    if isinstance(e, ast.BoolOp):
        return all(_iterable(v, scope, depth) for v in e.values)
    if isinstance(e, ast.GeneratorExp):
        own = {n.id for g in e.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
        pure = all(_pure_call(c, scope) for c in ast.walk(e) if isinstance(c, ast.Call))
        return pure and all(_iterable(g.iter, scope, depth) or _own(g.iter, own) for g in e.generators)
    if isinstance(e, ast.Call):
        return _call_iterable(e, scope, depth)
    return False


def _call_iterable(e: ast.Call, scope: _Scope, depth: int) -> bool:
    func = e.func
    f = _callee(func, scope)
    if inspect.ismethod(f):
        f = f.__func__  # (a method of the user's class: judged as its function)
    elif (
        isinstance(func, ast.Attribute)
        and func.attr in _CONTAINER_METHODS
        and (f is _UNKNOWN or not inspect.isfunction(f))
    ):
        return True  # (`d.items()`, `text.split()`)
    try:
        if f in _MADE_AT_ONCE or f in _LIBRARY_CONTAINERS:
            return True
        if (
            isinstance(f, types.BuiltinMethodType)
            and isinstance(f.__self__, re.Pattern)
            and f.__name__ in _PATTERN_CONTAINERS
        ):
            return True
        if f in _SPENT_TOGETHER:
            return False
        over_args = f in _OVER_ARGS or getattr(f, "__module__", None) == "itertools"
    except TypeError:  # (an unhashable callable)
        return False
    if over_args:
        return all(_iterable(a.value if isinstance(a, ast.Starred) else a, scope, depth) for a in e.args)
    if inspect.isfunction(f) and _returns_containers(inspect.unwrap(f)):
        return True  # (`def items(docs): return sorted(docs)`)
    if f in (map, filter):
        return (
            bool(e.args)
            and _pure_func(e.args[0], scope)
            and all(_iterable(a, scope, depth) for a in e.args[1:])
        )
    return False


def _expression(text: str) -> ast.expr:
    """The tree of expression ``text`` (parsed as ``parsed`` does: see there)."""
    stmt = parsed(f"(\n{text.strip()}\n)").body[0]
    assert isinstance(stmt, ast.Expr)
    return stmt.value


@weak_cache
def _returns_containers(fn: Any) -> bool:
    """Whether plain function ``fn`` (not a generator, not async) returns a container on every
    ``return``: a literal, a list, set or dict comprehension, ``sorted(...)``, ``x.split()``, or a
    local name every assignment of which is one (``out = []``)."""
    if inspect.isgeneratorfunction(fn) or inspect.iscoroutinefunction(fn) or not hasattr(fn, "__code__"):
        return False
    try:
        tree = parsed(textwrap.dedent(inspect.getsource(fn.__code__)))
    except (OSError, TypeError, SyntaxError):
        return False
    fn_def = next((n for n in tree.body if isinstance(n, ast.FunctionDef)), None)
    if fn_def is None:
        return False
    shadowed = set(getattr(fn, "__globals__", {}))
    assigned: dict[str, list[ast.expr | None]] = {}
    for n in ast.walk(fn_def):  # (`out += [...]` keeps a list a list: not counted)
        pairs: list[tuple[ast.expr, ast.expr | None]]
        if isinstance(n, ast.Assign):
            pairs = [(t, n.value) for t in n.targets]
        elif isinstance(n, ast.AnnAssign):
            pairs = [(n.target, n.value)]
        elif isinstance(n, ast.NamedExpr | ast.For | ast.AsyncFor | ast.comprehension):
            pairs = [(n.target, None)]
        elif isinstance(n, ast.withitem) and n.optional_vars is not None:
            pairs = [(n.optional_vars, None)]
        else:
            continue
        for t, v in pairs:
            for name in ast.walk(t):
                if isinstance(name, ast.Name):
                    assigned.setdefault(name.id, []).append(v if t is name else None)
    for a in ast.walk(fn_def.args):
        if isinstance(a, ast.arg):
            assigned.setdefault(a.arg, []).append(None)  # (the caller's value: not known here)

    def made(v: ast.expr | None, depth: int = 0) -> bool:
        if isinstance(
            v, ast.List | ast.Tuple | ast.Dict | ast.Set | ast.ListComp | ast.SetComp | ast.DictComp
        ):
            return True
        if isinstance(v, ast.Constant | ast.JoinedStr):
            return True
        if isinstance(v, ast.BinOp):
            return made(v.left, depth) and made(v.right, depth)
        if isinstance(v, ast.IfExp):
            return made(v.body, depth) and made(v.orelse, depth)
        if isinstance(v, ast.BoolOp):
            return all(made(x, depth) for x in v.values)
        if isinstance(v, ast.Subscript) and isinstance(v.slice, ast.Slice):
            return made(v.value, depth)  # (a slice of a container: `plan.split()[:2]`)
        if isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute):
            owner = v.func.value
            name = owner.id if isinstance(owner, ast.Name) else None
            module = getattr(fn, "__globals__", {}).get(name) if name and name not in assigned else None
            return v.func.attr in _CONTAINER_METHODS or (  # (`re.findall(...)`, `json.loads(...)`)
                inspect.ismodule(module) and getattr(module, v.func.attr, None) in _LIBRARY_CONTAINERS
            )
        if isinstance(v, ast.Call) and isinstance(v.func, ast.Name):
            f = getattr(builtins, v.func.id, None)
            return v.func.id not in shadowed and v.func.id not in assigned and f in _MADE_AT_ONCE
        if isinstance(v, ast.Name) and depth < 4:
            values = assigned.get(v.id, [])
            return bool(values) and all(made(x, depth + 1) for x in values)
        return False

    returns = [n.value for n in ast.walk(fn_def) if isinstance(n, ast.Return)]
    return bool(returns) and all(made(v) for v in returns)


def _pure_call(c: ast.Call, scope: _Scope) -> bool:
    if isinstance(c.func, ast.Attribute) and c.func.attr in PURE_STR_METHODS:
        return True
    return _pure_func(c.func, scope)


def _pure_func(func: ast.expr, scope: _Scope) -> bool:
    if isinstance(func, ast.Constant) and func.value is None:
        return True
    f = _callee(func, scope)
    try:
        return f in _PURE_FUNCS
    except TypeError:
        return False


def _callee(func: ast.expr, scope: _Scope) -> Any:
    """The object ``func`` names at trace time (``itertools.groupby``), or ``_UNKNOWN``."""
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return _UNKNOWN
    obj = scope.obj(func.id)
    for attr in reversed(parts):
        if obj is _UNKNOWN:
            return _UNKNOWN
        obj = read_attribute(obj, attr, _UNKNOWN)
    return obj


def _own(e: ast.expr, own: set[str]) -> bool:
    return isinstance(e, ast.Name) and e.id in own


def _names(target: cst.BaseExpression) -> set[str]:
    out: set[str] = set()

    class V(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            out.add(n.value)

    visit(target, V())
    return out


def _peek(body: Builder, name: str) -> tuple[bool, Any]:
    """Whether ``name`` is the workflow's, in ``body`` or a body around it (not a global, a
    builtin, a closure's), and what it holds there; read without capturing it."""
    b: Builder | None = body
    while b is not None:
        for names in (b.temps, b.env):
            if name in names:
                return True, names[name]
        b = b.parent if b.parent is not None else b.caller
    return False, None


def _global(body: Builder, name: str) -> Any:
    fn = body.src.fn
    code = getattr(fn, "__code__", None)
    if code is not None and name in code.co_freevars and fn.__closure__:
        try:
            return fn.__closure__[code.co_freevars.index(name)].cell_contents
        except ValueError:  # (an empty cell)
            return _UNKNOWN
    found = getattr(fn, "__globals__", {}).get(name, _UNKNOWN)
    return found if found is not _UNKNOWN else getattr(builtins, name, _UNKNOWN)


def _captured(body: Builder, node: Node) -> Node | None:
    """The node of a body around ``body`` that input ``node`` captures, if it is a capture."""
    b: Builder | None = body
    while b is not None:
        for outer, inp in b.captures.values():
            if inp is node:
                return outer
        b = b.parent if b.parent is not None else b.caller
    return None


__all__ = ["drawn_ahead"]
