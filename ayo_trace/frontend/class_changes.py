"""Whether a class's code changes what its objects or the class itself hold (``impure``'s view of
the user's classes): ``changes_self`` (a method changing its object: ``self.history.append(q)``)
and ``class_state_changes`` (code changing the class's own state: ``cls.names.append(x)``,
``type(self).count += 1``, a class-level list appended to through ``self``), read from source."""

from __future__ import annotations

import asyncio
import collections.abc
import inspect
import io
import logging
import queue
import types
from collections.abc import Iterator
from typing import Any

import libcst as cst

from ..ir.mutation import READ_ONLY_METHODS
from .state import change_root, changed_argument, mutated_roots, target_leaves, walk
from .user_code import parse_function, user_function, weak_cache

# containers, buffers, queues and iterators (``next(ids)`` of ``itertools.count()`` advances it):
# a method call or ``next`` changes them, whatever library made them
_MUTABLE = (
    list, dict, set, bytearray, collections.abc.MutableSequence, collections.abc.MutableMapping,
    collections.abc.MutableSet, collections.abc.Iterator, io.IOBase, queue.Queue, queue.SimpleQueue,
    asyncio.Queue,
)  # fmt: skip


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


@weak_cache
def class_state_changes(cls: type) -> bool:
    """Whether code of the user's class ``cls`` (or of a base) changes what the class itself holds,
    which all its objects share: a static or class method changing state in place
    (``cls.names.append(x)``, ``Reg.count += 1``), or a method changing the class through its
    object (``type(self).count += 1``, ``self.__class__.seen.add(x)``) or a container the class
    holds (``self.log.append(x)`` of a class-level ``log = []`` its ``__init__`` does not shadow)."""
    for member in vars_of(cls):
        fn = _function_of(member)
        fn = user_function(fn) if isinstance(fn, types.FunctionType) else None
        node = parse_function(fn) if fn is not None else None
        if fn is None or node is None:
            continue
        params = [p.name.value for p in (*node.params.posonly_params, *node.params.params)]
        if not isinstance(member, staticmethod) and params:
            if not isinstance(member, classmethod) and _changes_class_through(node, params[0], cls):
                return True
            if not isinstance(member, classmethod):
                continue  # (`self`'s own changes are the object's: ``changes_self``)
            params = params[1:]  # (`cls` is the class: its changes count)
        own = set(params) | _assigned_names(node.body)
        changed = (set(mutated_roots(node.body)) | attribute_roots(node.body)) - own
        if any(not inspect.ismodule(fn.__globals__.get(n)) for n in changed):
            return True  # (not a list of its own, nor `json.loads(text)`)
    return False


def vars_of(cls: type) -> list[Any]:
    """The members ``cls`` and its bases (but ``object``) define."""
    return [m for c in cls.__mro__[:-1] for m in vars(c).values()]


def _function_of(member: Any) -> Any:
    if isinstance(member, staticmethod | classmethod):
        return member.__func__
    return member.fget if isinstance(member, property) else member


def _changes_class_through(node: cst.FunctionDef, me: str, cls: type) -> bool:
    """Whether a method whose object is ``me`` changes its class through it: an attribute of
    ``type(me)`` or ``me.__class__``, or a class-level container read as ``me.x``."""
    shadowed = _set_in_init(cls)
    for e in _changed_expressions(node.body):
        chain: list[str] = []
        while isinstance(e, cst.Attribute | cst.Subscript):
            chain.insert(0, e.attr.value if isinstance(e, cst.Attribute) else "[]")
            e = e.value
        if (
            isinstance(e, cst.Call)
            and _is_name(e.func, "type")
            and [_is_name(a.value, me) for a in e.args] == [True]
        ):
            return True  # (`type(self).count += 1`)
        if not _is_name(e, me) or not chain:
            continue
        if chain[0] == "__class__":
            return True  # (`self.__class__.count += 1`)
        held = next((vars(c)[chain[0]] for c in cls.__mro__[:-1] if chain[0] in vars(c)), None)
        if chain[0] not in shadowed and (isinstance(held, _MUTABLE) or stateful(held)):
            return True  # (`self.log.append(x)` of the class's `log = []`)
    return False


def _is_name(e: cst.BaseExpression, name: str) -> bool:
    return isinstance(e, cst.Name) and e.value == name


def _changed_expressions(body: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    """The expressions whose objects ``body`` changes in place: ``x`` of ``x.append(v)``,
    ``x[k] = v``, ``x.a = v``, ``setattr(x, ...)``; and ``x.a`` of ``x.a += v`` (a list's ``+=``)."""
    for n in walk(body):
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute):
            if n.func.attr.value not in READ_ONLY_METHODS:
                yield n.func.value
        elif isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.args:
            if n.func.value in ("setattr", "delattr"):
                yield n.args[0].value
        elif isinstance(n, cst.AssignTarget | cst.AugAssign | cst.Del):
            for t in target_leaves(n.target):
                if isinstance(t, cst.Attribute | cst.Subscript):
                    yield t.value
                    if isinstance(n, cst.AugAssign):
                        yield t


@weak_cache
def _set_in_init(cls: type) -> frozenset[str]:
    """The attributes ``cls``'s ``__init__`` sets on its object in its own statements (``self.log =
    []``): they shadow the class's, so changing them changes the object."""
    init = next((vars(c)["__init__"] for c in cls.__mro__[:-1] if "__init__" in vars(c)), None)
    fn = user_function(init) if isinstance(init, types.FunctionType) else None
    node = parse_function(fn) if fn is not None else None
    if node is None or not node.params.params or not isinstance(node.body, cst.IndentedBlock):
        return frozenset()
    me = node.params.params[0].name.value
    out: set[str] = set()
    for stmt in node.body.body:
        for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else []
            if isinstance(small, cst.AnnAssign):
                targets = [small.target]
            for t in (leaf for target in targets for leaf in target_leaves(target)):
                if isinstance(t, cst.Attribute) and _is_name(t.value, me):
                    out.add(t.attr.value)
    return frozenset(out)


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
    """``X`` of ``X.a``, ``X.a[i].b``, ``vars(X)``: an attribute of a name, at any depth (not ``X``
    itself)."""
    seen_attribute = False
    while True:
        if isinstance(e, cst.Attribute | cst.Subscript):
            seen_attribute = seen_attribute or isinstance(e, cst.Attribute)
            e = e.value
        elif isinstance(e, cst.Call) and _is_name(e.func, "vars") and len(e.args) == 1:
            seen_attribute, e = True, e.args[0].value  # (`vars(fn)["calls"] += 1`: an attribute)
        else:
            return [e.value] if isinstance(e, cst.Name) and seen_attribute else []


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


@weak_cache
def changes_self(cls: Any) -> bool:
    """Whether a method of ``cls`` (or of a base of it; not ``__init__`` nor another special
    method but ``__call__``) changes its object: sets an attribute of ``self`` or an item of one,
    or changes a container it holds (``self.history.append(q)``). Its objects then keep state from
    call to call, which a module-level one keeps from query to query."""
    for c in cls.__mro__[:-1]:
        for name, member in vars(c).items():
            fn = member.__func__ if isinstance(member, classmethod) else _getter(member) or member
            special = name.startswith("__") and name.endswith("__") and name != "__call__"
            if not special and isinstance(fn, types.FunctionType) and _changes_its_object(fn):
                return True
    return False


@weak_cache
def getters_change_self(cls: Any) -> bool:
    """Whether reading a property of ``cls`` (or a ``cached_property``) runs a getter changing its
    object (``self.n += 1; return self.n``): a read of such an attribute is a change."""
    return any(
        isinstance(fn := _getter(m), types.FunctionType) and _changes_its_object(fn) for m in vars_of(cls)
    )


def _getter(member: Any) -> Any:
    return getattr(member, "fget", None) or getattr(member, "func", None) if not callable(member) else None


def _changes_its_object(fn: types.FunctionType) -> bool:
    node = parse_function(fn)
    params = node.params.params if node is not None else ()
    return bool(params) and _changes(node.body, params[0].name.value)  # type: ignore[union-attr]


def _changes(body: cst.CSTNode, me: str) -> bool:
    """Whether ``body`` sets an attribute of ``me`` (or an item of one; ``setattr(me, ...)``,
    ``vars(me)[k] = v``) or changes a container held in one with a list, dict, set or deque
    method."""

    def of_me(e: cst.BaseExpression) -> bool:
        root = None if isinstance(e, cst.Name) else change_root(e)
        return root is not None and root.value == me

    for n in walk(body):
        if isinstance(n, cst.AssignTarget | cst.AugAssign | cst.Del) and any(
            of_me(t) for t in target_leaves(n.target)
        ):
            return True
        if isinstance(n, cst.Call) and (arg := changed_argument(n)) is not None and _is_name(arg, me):
            return True  # (`setattr(self, "calls", ...)`)
        if (
            isinstance(n, cst.Call)
            and isinstance(n.func, cst.Attribute)
            and n.func.attr.value in _CHANGING
            and of_me(n.func.value)
        ):
            return True
    return False
