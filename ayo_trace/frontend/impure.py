"""Module-level functions a workflow calls that change module state (``SEEN.add(x)`` in a helper).

The graph runs a workflow's plain statements in the order their data needs, not in program order;
statements with an *effect* keep their program order among themselves. A statement that calls a
plain function of the user's code which changes a module-level list, dict or set in place (or
rebinds a name it declares ``global``) has an effect the statement's own text does not show::

    SEEN = set()

    def novel(x):
        if x in SEEN:
            return False
        SEEN.add(x)
        return True

    @ayo.workflow
    async def answer_new(docs):
        SEEN.clear()
        return [await ayo.llm(d) for d in docs if novel(d)]

Without knowing what ``novel`` does, the graph could compute the filter before ``SEEN.clear()``.
``changes_module_state(fn)`` reads the function's source (and, transitively, of the module-level
functions it calls by name) and returns the module names it changes; a statement that calls such a
function runs as an effect (``Compiler.python_node``), and the names join the workflow's
``changed_globals`` (``closures.py``), so statements reading them directly keep their place too.

Only the user's own code is read: functions whose source file is outside the standard library and
the installed packages (their module state is theirs to manage, and reading it all would make every
statement an effect). A function whose source cannot be read is taken as pure, as before.
"""

from __future__ import annotations

import collections
import contextvars
import functools
import inspect
import logging
import random
import sys
import sysconfig
import types
from collections.abc import Iterator, Mapping
from typing import Any

import libcst as cst

from ..ir.code import dedented
from ..ir.mutation import READ_ONLY_METHODS
from .state import mutated_roots, target_leaves, walk

_MUTABLE = (list, dict, set, bytearray, collections.deque)
_MAX_DEPTH = 8


@functools.cache
def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple({paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths})


def behind_library_decorator(fn: Any) -> bool:
    """Whether ``fn`` is a decorator's wrapper (``functools.wraps``) whose own code is the standard
    library's or an installed package's (tenacity's retrying, a tracing span)."""
    code = getattr(fn, "__code__", None)
    return hasattr(fn, "__wrapped__") and code is not None and code.co_filename.startswith(_library_dirs())


def _user_function(value: Any) -> types.FunctionType | None:
    if isinstance(value, type) and isinstance(vars(value).get("__init__"), types.FunctionType):
        value = vars(value)["__init__"]  # (making an object runs its class's `__init__`)
    try:
        fn = inspect.unwrap(value) if callable(value) else None
    except ValueError:  # a cycle of __wrapped__
        return None
    if not isinstance(fn, types.FunctionType):
        return None
    filename = fn.__code__.co_filename
    if filename.startswith("<") or filename.startswith(_library_dirs()):
        return None
    return fn


def stateful(value: Any) -> bool:
    """A container, or an object of the user's holding state in its attributes (a module-level
    agent, a ``SimpleNamespace`` of counters): not a module, a function, a class, a logger or a
    constant."""
    if isinstance(value, _MUTABLE):
        return True
    if value is None or inspect.ismodule(value) or inspect.isroutine(value) or isinstance(value, type):
        return False
    if isinstance(value, str | bytes | int | float | complex | tuple | frozenset | range):
        return False
    if isinstance(value, logging.Logger | logging.LoggerAdapter):
        return False
    return hasattr(value, "__dict__")


def changed_object(value: Any, name: str, assigned: set[str]) -> bool:
    """Whether code changing ``name`` (calling a method of it, setting an item or attribute of it:
    ``mutated_roots``), which holds ``value``, changes state: a container; a class or an object
    whose attributes it sets (``assigned``); an object of the user's whose class's methods change
    their object (``changes_self``: not ``TEMPLATE.render(q)``); a ``ContextVar`` (``V.set(x)``)
    or a ``random.Random`` (each draw changes it)."""
    if isinstance(value, (*_MUTABLE, contextvars.ContextVar, random.Random)):
        return True
    if isinstance(value, tuple):  # (`PAIR[0].append(q)`: a list the tuple holds)
        return any(isinstance(v, _MUTABLE) or stateful(v) for v in value)
    if isinstance(value, type):  # (`Reg.names.append(q)`, `Reg.add(q)` of a static method changing it)
        return name in assigned or _class_methods_change(value)
    if inspect.isroutine(value):
        return name in assigned  # (`helper.calls += 1`)
    if not stateful(value):
        return False
    if name in assigned:
        return True
    cls: Any = type(value)
    module = sys.modules.get(cls.__module__)
    file = getattr(module, "__file__", None) or ""
    return bool(file) and not file.startswith(_library_dirs()) and changes_self(cls)


def _class_methods_change(cls: type) -> bool:
    """Whether a static or class method of the user's class ``cls`` changes state in place (an
    attribute it sets, a container it changes: ``cls.names.append(x)``, ``Reg.count += 1``)."""
    for c in cls.__mro__[:-1]:
        for member in vars(c).values():
            if not isinstance(member, staticmethod | classmethod):
                continue
            fn = _user_function(member.__func__)
            node = _parse(fn) if fn is not None else None
            if node is None:
                continue
            params = [p.name.value for p in node.params.params]
            if isinstance(member, classmethod) and params:  # (`cls` is the class: its changes count)
                params = params[1:]
            own = set(params) | _assigned_names(node.body)
            changed = (set(mutated_roots(node.body)) | attribute_roots(node.body)) - own
            if any(not inspect.ismodule(fn.__globals__.get(n)) for n in changed):  # type: ignore[union-attr]
                return True  # (not a list of its own, nor `json.loads(text)`)
    return False


def _assigned_names(body: cst.CSTNode) -> set[str]:
    """Names a function's body binds by an assignment, a ``for`` or a ``with ... as``: its locals."""
    out: set[str] = set()
    for n in walk(body):
        targets = [t.target for t in n.targets] if isinstance(n, cst.Assign) else []
        if isinstance(n, cst.AnnAssign | cst.For):
            targets = [n.target]
        out.update(t.value for target in targets for t in target_leaves(target) if isinstance(t, cst.Name))
    return out


def attribute_roots(body: cst.CSTNode) -> set[str]:
    """Names whose attributes ``body`` assigns (``C.count += 1``, ``C.last = x``) or changes in
    place (``STATE.items.append(q)``, ``STATE.cache[k] = v``), or sets by ``setattr(C, ...)``
    (``delattr``)."""
    out: set[str] = set()
    for n in walk(body):
        if (
            isinstance(n, cst.Call)
            and isinstance(n.func, cst.Attribute)
            and n.func.attr.value not in READ_ONLY_METHODS
        ):
            out.update(_member_root(n.func.value))
        if (
            isinstance(n, cst.Call)
            and isinstance(n.func, cst.Name)
            and n.func.value in ("setattr", "delattr")
            and n.args
            and isinstance(n.args[0].value, cst.Name)
        ):
            out.add(n.args[0].value.value)
        if not isinstance(n, cst.AssignTarget | cst.AugAssign):
            continue
        for target in target_leaves(n.target):
            if isinstance(target, cst.Subscript):
                out.update(_member_root(target.value))
            elif isinstance(target, cst.Attribute):
                while isinstance(target, cst.Attribute | cst.Subscript):
                    target = target.value
                if isinstance(target, cst.Name):
                    out.add(target.value)
    return out


def _member_root(e: cst.BaseExpression) -> list[str]:
    """``X`` of ``X.a``, ``X.a[i].b``: an attribute of a name, at any depth (not ``X`` itself)."""
    if not isinstance(e, cst.Attribute | cst.Subscript):
        return []
    seen_attribute = False
    while isinstance(e, cst.Attribute | cst.Subscript):
        seen_attribute = seen_attribute or isinstance(e, cst.Attribute)
        e = e.value
    return [e.value] if isinstance(e, cst.Name) and seen_attribute else []


def changes_module_state(value: Any) -> frozenset[str]:
    """Names of its module that ``value`` (a plain function of the user's code) changes when called:
    containers it changes in place and names it declares ``global`` and assigns; plus the names of
    the module-level functions it calls that change state themselves (their changes are in their
    own modules). Empty for anything else; nonempty means calling it has an effect."""
    fn = _user_function(value)
    return frozenset() if fn is None else _changed_by(fn)


@functools.cache
def _changed_by(fn: types.FunctionType) -> frozenset[str]:
    return _changed(fn, 0, frozenset())


def _changed(fn: types.FunctionType, depth: int, seen: frozenset[types.FunctionType]) -> frozenset[str]:
    node = _parse(fn)
    if node is None:
        return frozenset()
    local = set(fn.__code__.co_varnames) | set(fn.__code__.co_cellvars)
    declared = {n.value for g in _globals_of(node) for n in (a.name for a in g.names)}
    g = fn.__globals__
    out = {n for n in declared if _assigned(node, n)}
    out |= {
        n
        for n in mutated_roots(node.body)
        if (n not in local or n in declared) and changed_object(g.get(n), n, attribute_roots(node.body))
    }
    if depth < _MAX_DEPTH:
        for name in fn.__code__.co_names:
            callee = _user_function(g.get(name))
            if callee is None or callee in seen or callee is fn:
                continue
            if _changed(callee, depth + 1, seen | {fn}):
                out.add(name)  # calling it changes state: the caller's statement is an effect
    return frozenset(out)


_CHANGING = frozenset(
    {
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "clear",
        "update",
        "setdefault",
        "popitem",
        "add",
        "discard",
        "sort",
        "reverse",
        "appendleft",
        "extendleft",
        "popleft",
        "rotate",
    }
)


@functools.cache
def changes_self(cls: Any) -> bool:
    """Whether a method of ``cls`` (or of a base of it; not ``__init__`` nor another special
    method but ``__call__``) changes its object: sets an attribute of ``self`` or an item of one,
    or changes a container it holds (``self.history.append(q)``). Its objects then keep state from
    call to call, which a module-level one keeps from query to query."""
    for c in cls.__mro__[:-1]:
        for name, member in vars(c).items():
            fn = member.__func__ if isinstance(member, classmethod) else member
            special = name.startswith("__") and name.endswith("__") and name != "__call__"
            if special or not isinstance(fn, types.FunctionType):
                continue
            node = _parse(fn)
            params = node.params.params if node is not None else ()
            if params and _changes(node.body, params[0].name.value):  # type: ignore[union-attr]
                return True
    return False


def _changes(body: cst.CSTNode, me: str) -> bool:
    """Whether ``body`` sets an attribute of ``me`` (or an item of one) or changes a container held
    in one with a list, dict, set or deque method."""

    def of_me(e: cst.BaseExpression) -> bool:
        if not isinstance(e, cst.Attribute | cst.Subscript):
            return False
        while isinstance(e, cst.Attribute | cst.Subscript):
            e = e.value
        return isinstance(e, cst.Name) and e.value == me

    for n in walk(body):
        if isinstance(n, cst.AssignTarget | cst.AugAssign | cst.Del) and any(
            of_me(t) for t in target_leaves(n.target)
        ):
            return True
        if (
            isinstance(n, cst.Call)
            and isinstance(n.func, cst.Attribute)
            and n.func.attr.value in _CHANGING
            and of_me(n.func.value)
        ):
            return True
    return False


@functools.cache
def _parse(fn: types.FunctionType) -> cst.FunctionDef | None:
    try:
        source = dedented(inspect.getsource(fn))
        module = cst.parse_module(source)
    except (OSError, TypeError, cst.ParserSyntaxError):
        return None
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef):
            return stmt
    return None


def _globals_of(node: cst.FunctionDef) -> Iterator[cst.Global]:
    for n in walk(node.body):
        if isinstance(n, cst.Global):
            yield n


def _assigned(node: cst.FunctionDef, name: str) -> bool:
    for n in walk(node.body):
        if isinstance(n, cst.AssignTarget | cst.AugAssign | cst.AnnAssign | cst.Del):
            target = n.target
            if isinstance(target, cst.Name) and target.value == name:
                return True
    return False


def calls_state_changing(code: types.CodeType, names: Mapping[str, Any]) -> bool:
    """Whether compiled ``code`` (or a function, lambda or comprehension nested in it) reads, by a
    global or free name resolved in ``names``, a function that changes module state when called."""
    return any(changes_module_state(names.get(n)) for n in dict.fromkeys(_names(code)))


def _names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    yield from code.co_freevars
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


user_function = _user_function  # (for ``handed.handed_changed``)
parse_function = _parse
