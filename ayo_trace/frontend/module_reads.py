"""Module state read by the user's code a statement runs, checked against what the workflow changes.

``closures.changed_globals`` names the module state the workflow changes in place (``CONFIG["style"]
= s``), and a statement reading one of those names runs as an effect, in program order with the
statements changing it. A statement may also read that state through code of the user's it calls:
``h = header()`` of ``def header(): return f"[{CONFIG['style']}]"``, a getter ``tone()``, a static
method, a property (``S.tone`` returning ``_STATE["tone"]``), a factory's closure. Read as a plain
statement, dependency pruning would let it run before the change it should see (it reads no value
the change hands on). ``reads_changed`` tells the compiler such a statement reads changed state, so
it keeps its place among the effects; ``value_reads_changed`` tells folding not to fold a property
whose getter reads it.

What code reads is found from its compiled form, as ``impure.calls_state_changing`` finds what it
calls: the global names of the user's functions (a class's or an object's methods, a decorator's
wrappers, what ``functools.partial`` wraps), their closure cells and defaults, and the objects
methods are bound to, followed through the user's functions and objects they read (``_DEPTH`` deep,
at most ``_MOST`` functions). A read counts when its object is among those the workflow changes
(``changed_ids``) or its name is one the workflow rebinds or changes (``changed_globals``).
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Iterable, Mapping
from typing import Any

from . import closures, impure
from .user_code import user_function

_DEPTH = 4
_MOST = 256


def reads_changed(body: Any, code: types.CodeType, names: Mapping[str, Any]) -> bool:
    """Whether compiled statement ``code`` (its global and free names resolved in ``names``)
    calls or reads code of the user's that reads module state the workflow, or a helper around
    ``body`` inlined in it, changes."""
    values = [names[n] for n in dict.fromkeys(impure._names(code)) if n in names]
    return _any_changed(body, values)


def value_reads_changed(body: Any, value: Any) -> bool:
    """Whether running ``value`` (a getter, a function) reads module state the workflow changes."""
    return _any_changed(body, [value])


def _any_changed(body: Any, values: list[Any]) -> bool:
    code = [v for v in values if _runs_users_code(v)]
    if not code:
        return False
    changed, ids = _changed(body)
    if not (changed or ids):
        return False
    globals_read, objects = _reads(code)
    if any(id(o) in ids for o in [*code, *objects]):
        return True
    return any((id(ns), n) in changed or id(ns.get(n)) in ids for ns, n in globals_read)


def _changed(body: Any) -> tuple[set[tuple[int, str]], frozenset[int]]:
    """The module names (by namespace) and the objects the workflow and the helpers around
    ``body`` change (``closures.changed_globals``)."""
    names: set[tuple[int, str]] = set()
    ids: set[int] = set()
    seen: set[int] = set()
    b = body
    while b is not None and id(b.src) not in seen:
        seen.add(id(b.src))
        ns = getattr(b.src.fn, "__globals__", {})
        names |= {(id(ns), n) for n in closures.changed_globals(b.src)}
        ids |= b.src.changed_ids
        while b.parent is not None:
            b = b.parent
        b = b.caller
    return names, frozenset(ids)


def _runs_users_code(value: Any) -> bool:
    if isinstance(value, functools.partial | types.MethodType | property):
        return True
    if user_function(value) is not None:
        return True
    cls: Any = value if isinstance(value, type) else type(value)
    return impure._users_class(cls) and not inspect.ismodule(value)


def _reads(values: Iterable[Any]) -> tuple[list[tuple[dict[str, Any], str]], list[Any]]:
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
        level = [v for v in below if _runs_users_code(v)]
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


def effect_in(body: Any, code: types.CodeType, names: Mapping[str, Any]) -> bool:
    """Whether compiled statement ``code`` must keep its place among the effects for the code of
    the user's it runs: code changing module state (``impure.calls_state_changing``) or reading
    what the workflow changes (``reads_changed``)."""
    if impure.calls_state_changing(code, names) or reads_changed(body, code, names):
        return True
    # (a function the workflow defines reads the module's names when it is called: `header()`)
    defs = closures.closures(body.src)
    used = [body.src.free_names(defs[n].node)[1] for n in code.co_varnames if n in defs]
    read = list(dict.fromkeys(n for found in used for n in found))
    return bool(read) and (
        closures.reads_changed(body, read) or _any_changed(body, [names[n] for n in read if n in names])
    )


def reached_objects(values: list[Any]) -> list[Any]:
    """The objects the user's code among ``values`` reads: module objects its functions name, the
    objects it holds (``_reads``)."""
    code = [v for v in values if _runs_users_code(v)]
    if not code:
        return []
    names, objects = _reads(code)
    return [*objects, *(ns[n] for ns, n in names)]
