"""Objects handed bare to a function that may change them in place (``normalize(items)``,
``bump(STATS)``): what a function of the user's code does to its parameters, read from its source;
any function not found at trace time may change what it is handed; builtins that leave their
arguments alone (``len``, ``sorted``), read-only library functions and ayo's primitives do not.
"""

from __future__ import annotations

import builtins
import collections
import copy
import json
import logging
import random
import textwrap
import types
from typing import Any

import libcst as cst

from ..ir.mutation import READ_ONLY_CALLS, READ_ONLY_METHODS
from . import primitives
from .source import FunctionSource
from .state import mutated_roots, walk
from .user_code import parse_function, read_attribute, user_function


def handed_changed(src: FunctionSource, call: cst.Call) -> list[str]:
    """The workflow's names ``call`` is handed bare (``f(items)``, ``f(x=items)``) that it may change
    in place: a function of the user's code that changes that parameter (a method or item set on
    it, ``+=``) or hands it bare to another function that may (one call deep, then any); any
    function not found at trace time (a method of a workflow's object, a library's:
    ``random.shuffle(items)``); not a builtin that leaves its arguments alone (``len``,
    ``sorted``) nor one of ayo's primitives."""
    local = set(src.free_names(call.func)[0]) if isinstance(call.func, cst.Name) else set()
    return handed(getattr(src.fn, "__globals__", {}), local, call, depth=1)


def handed(names: dict[str, Any], local: set[str], call: cst.Call, depth: int) -> list[str]:
    """The names ``call`` is handed bare (``f(items)``, ``f(x=items)``) that it may change in place:
    a function of the user's code that changes that parameter (a method or item set on it, ``+=``)
    or hands it bare to another function that may (``depth`` calls deep, then any); any function
    not found at trace time. ``names``: the globals the call's function is looked up in; ``local``:
    the calling function's own names, which are not."""
    bare = [
        (i, a)
        for i, a in enumerate(call.args)
        if isinstance(a.value, cst.Name)
        and not (a.star and a.value.value not in local and _flat(names.get(a.value.value)))
    ]
    if not bare or (isinstance(call.func, cst.Attribute) and call.func.attr.value in READ_ONLY_METHODS):
        return []  # (`cache.get(question)`: a read)
    table = _table(names, local, call.func)
    if table is not None:  # (`TOOLS[name](items)`: whichever of a module table's functions)
        return list(dict.fromkeys(n for fn in table for n in _handed_to(fn, call, bare, depth)))
    return _handed_to(resolve(names, local, call.func), call, bare, depth)


def _flat(value: Any) -> bool:
    """Whether ``value`` is a list, tuple or dict of strings and numbers: spread into a call
    (``f(**DEFAULTS)``, ``f(*PARTS)``), the callee gets a new container of values nothing changes."""
    if isinstance(value, dict):
        items: Any = value.values()
    elif isinstance(value, list | tuple):
        items = value
    else:
        return False
    return all(v is None or isinstance(v, str | bytes | int | float | bool) for v in items)


def _handed_to(fn: Any, call: cst.Call, bare: list[tuple[int, cst.Arg]], depth: int) -> list[str]:
    """The names of ``bare`` (``call``'s bare arguments) that ``fn``, called so, may change."""
    if read_only(fn) or stores_only(fn) or getattr(fn, "__module__", "") == primitives.__name__:
        return []
    user = user_function(fn) if fn is not UNKNOWN and depth >= 0 else None
    node = parse_function(user) if user is not None else None
    if node is None:
        return [a.value.value for _, a in bare]  # type: ignore[attr-defined]
    params = [p.name.value for p in (*node.params.posonly_params, *node.params.params)]
    changed = set(mutated_roots(node.body))
    for n in walk(node.body):
        if isinstance(n, cst.AugAssign) and isinstance(n.target, cst.Name):
            changed.add(n.target.value)
        elif isinstance(n, cst.Call):
            changed.update(handed(user.__globals__, set(params), n, depth - 1))  # type: ignore[union-attr]
    out = []
    for i, a in bare:
        param = (
            a.keyword.value
            if a.keyword is not None
            else params[i]
            if i < len(params) and not a.star
            else None
        )
        if param is None or param in changed or a.star:
            out.append(a.value.value)  # type: ignore[attr-defined]
    return out


_MAX_TABLE = 16


def _table(names: dict[str, Any], local: set[str], func: cst.BaseExpression) -> list[Any] | None:
    """The functions a call's callee may be when it is looked up in a module's table (a ``dict`` of
    at most ``_MAX_TABLE`` entries) by a key known only when the workflow runs: ``TOOLS[name]``,
    ``TOOLS.get(name, default)`` (the default too; a missing key raises before any call)."""
    default: list[Any] = []
    if isinstance(func, cst.Subscript):
        owner = func.value
    elif (
        isinstance(func, cst.Call)
        and isinstance(func.func, cst.Attribute)
        and func.func.attr.value == "get"
        and 1 <= len(func.args) <= 2
        and not any(a.star or a.keyword for a in func.args)
    ):
        owner = func.func.value
        default = [resolve(names, local, func.args[1].value)] if len(func.args) == 2 else []
    else:
        return None
    table = resolve(names, local, owner)
    if type(table) is not dict or len(table) > _MAX_TABLE:
        return None
    return [*table.values(), *default]


UNKNOWN = object()
READ_ONLY_BUILTINS = frozenset(getattr(builtins, n) for n in READ_ONLY_CALLS if hasattr(builtins, n))


_LOGS = ("debug", "info", "warning", "error", "exception", "critical", "log")  # (and below: no change)
READ_ONLY_LIBRARY = frozenset(
    [json.dumps, copy.copy, copy.deepcopy, random.Random.choice, random.Random.choices, random.Random.sample,
     textwrap.dedent, textwrap.indent, textwrap.shorten, textwrap.fill, textwrap.wrap]
    + [getattr(logging.Logger, n) for n in _LOGS] + [getattr(logging, n) for n in _LOGS]
)  # fmt: skip


def read_only(fn: Any) -> bool:
    try:
        return fn in READ_ONLY_BUILTINS or getattr(fn, "__func__", fn) in READ_ONLY_LIBRARY
    except TypeError:  # (an object that cannot be hashed: a callable dataclass's instance)
        return False


_STORING = frozenset({"append", "appendleft", "add", "insert", "remove", "discard", "index", "count", "get"})


def stores_only(fn: Any) -> bool:
    """Whether ``fn`` is a method of a built-in list, set, dict or deque that keeps, drops or looks
    up its arguments without changing them (``SEEN.add(text)``, ``LOG.append(x)``): not
    ``extend`` or ``update``, which use up an iterator handed to them."""
    owner = fn.__self__ if isinstance(fn, types.BuiltinMethodType) else None  # (no `__getattr__` run)
    return (
        isinstance(fn, types.BuiltinMethodType)
        and type(owner) in (list, set, dict, collections.deque)
        and fn.__name__ in _STORING
    )


def resolve(names: dict[str, Any], local: set[str], e: cst.BaseExpression) -> Any:
    """The object ``e`` names at trace time among ``names`` (a module's globals; ``local``: names of
    the function, which are not), attributes of one (a module's function); ``UNKNOWN`` for
    anything else (a workflow variable's method)."""
    if isinstance(e, cst.Attribute):
        owner = resolve(names, local, e.value)
        if owner is UNKNOWN:
            return UNKNOWN
        if not isinstance(owner, types.ModuleType | type):  # (a module's logger's `info`: read-only)
            bound = read_attribute(owner, e.attr.value, UNKNOWN)
            return bound if read_only(bound) or stores_only(bound) else UNKNOWN
        return read_attribute(owner, e.attr.value, UNKNOWN)
    if not isinstance(e, cst.Name) or e.value in local:
        return UNKNOWN
    if e.value in names:
        return names[e.value]
    return getattr(builtins, e.value, UNKNOWN)
