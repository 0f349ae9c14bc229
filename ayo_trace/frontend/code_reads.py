"""What code of the user's reads: the module names and the objects its functions reach.

``reads_of(values)``: for the user's code among ``values`` (functions, a class's or an object's
methods, a decorator's wrappers, what ``functools.partial`` wraps, a property's getter), the
global names its functions read (with their namespaces) and the objects they hold besides (their
closures' cells, their defaults, the object a method is bound to, a class's own state), followed
through the user's code those reach (``_DEPTH`` deep, at most ``_MOST`` values), read from the
compiled code as ``impure.calls_state_changing`` reads what it calls. ``module_reads`` checks them
against what the workflow changes; ``closures`` counts what a change through no name may reach.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Iterable
from typing import Any

from . import impure
from .user_code import user_function

_DEPTH = 4
_MOST = 256


def runs_users_code(value: Any) -> bool:
    """Whether using ``value`` runs code of the user's: a function of theirs, a method, a
    partial, a property, a class of theirs or an object of one."""
    if isinstance(value, functools.partial | types.MethodType | property):
        return True
    if user_function(value) is not None:
        return True
    cls: Any = value if isinstance(value, type) else type(value)
    return impure._users_class(cls) and not inspect.ismodule(value)


def reads_of(values: Iterable[Any]) -> tuple[list[tuple[dict[str, Any], str]], list[Any]]:
    """The module names (with their namespaces) and the objects the user's code among ``values``
    reads, followed through the code it reads."""
    names: list[tuple[dict[str, Any], str]] = []
    objects: list[Any] = []
    seen: set[int] = set()
    level = list(values)
    for _ in range(_DEPTH):
        below: list[Any] = []
        for v in level:
            if id(v) in seen or len(seen) > _MOST:
                continue
            seen.add(id(v))
            fns, held = _code(v)
            objects += held
            below += held
            for fn in fns:
                ns = fn.__globals__
                for n in dict.fromkeys(impure._names(fn.__code__)):
                    if n in ns:
                        names.append((ns, n))
                        below.append(ns[n])
        level = [v for v in below if runs_users_code(v)]
    return names, objects


def _code(value: Any) -> tuple[list[types.FunctionType], list[Any]]:
    """The user's functions running ``value`` may run, and the objects they hold besides their
    globals (their closures' cells, their defaults, the object a method is bound to, a partial's
    arguments)."""
    held: list[Any] = []
    if isinstance(value, property):
        fns = [value.fget] if isinstance(value.fget, types.FunctionType) else []
    elif isinstance(value, functools.partial):
        fns, inner = _code(value.func)
        return fns, [*value.args, *value.keywords.values(), *inner]
    else:
        if isinstance(value, types.MethodType):
            held.append(value.__self__)
        elif isinstance(value, type) and impure._users_class(value):
            held += [v for v in vars(value).values() if impure.stateful(v)]  # (a singleton's `_instance`)
        elif not isinstance(value, type | types.FunctionType) and impure._users_class(type(value)):
            held.append(value)  # (an object: its methods read its fields)
        fns = impure._code_of(value)[0]
    fns = [f for f in fns if user_function(f) is not None]
    for f in fns:
        for cell in f.__closure__ or ():
            try:
                held.append(cell.cell_contents)
            except ValueError:
                continue
        held += [*(f.__defaults__ or ()), *(f.__kwdefaults__ or {}).values()]
    return fns, held


def reached_objects(values: list[Any]) -> list[Any]:
    """The objects the user's code among ``values`` reads: module objects its functions name, the
    objects it holds (``reads_of``)."""
    code = [v for v in values if runs_users_code(v)]
    if not code:
        return []
    names, objects = reads_of(code)
    return [*objects, *(ns[n] for ns, n in names)]
