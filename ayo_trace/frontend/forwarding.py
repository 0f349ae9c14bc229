"""A helper's ``*args``/``**kwargs`` passed on as they are: ``return await fn(*args, **kwargs)`` in
a decorator's wrapper (``functools.wraps``), ``await self.forward(*args, **kwargs)`` in a module's
``__call__``. The call gets the arguments the helper was called with, one by one (temporaries
bound in the helper's body, ``bind``), so the callee is traced with them as if called directly.

Only for the helper's own ``*``/``**`` parameter, never bound again nor changed in place in it
(``kwargs.setdefault("style", "formal")``, ``kwargs[k] = v``, ``del kwargs[k]``: the call then
gets the changed dict, as in Python); any other ``*xs`` of a value computed when the workflow runs
is left as it is (``unpacking`` expands those known at trace time; a call it cannot take runs
eagerly)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import libcst as cst

from ..ir.mutation import READ_ONLY_CALLS, READ_ONLY_METHODS
from .values import Value

if TYPE_CHECKING:
    from .builder import Builder
    from .source import FunctionSource

TEMP = "__ayo_fwd_"


def bind(child: Builder, name: str, values: list[Value], keys: list[str] | None) -> None:
    """Record that helper body ``child`` got ``values`` (``keys``: as ``**name``) in ``*name``."""
    temps = [f"{TEMP}{name}_{i}" for i in range(len(values))]
    for t, v in zip(temps, values, strict=True):
        child.temps[t] = v
    child.forwarded[name] = (tuple(temps), None if keys is None else tuple(keys))


def expand(comp: Builder, call: cst.Call) -> cst.Call | None:
    """``call`` with each ``*args``/``**kwargs`` of the helper's own parameters replaced by the
    arguments they hold; None when it has none, or another ``*``/``**``."""
    if not any(a.star for a in call.args):
        return None
    out: list[cst.Arg] = []
    for a in call.args:
        if not a.star:
            out.append(a)
            continue
        parts = _parts(comp, a.value)
        if parts is None:
            return None
        temps, keys = parts
        if a.star == "*" and keys is None:
            out.extend(cst.Arg(cst.Name(t)) for t in temps)
        elif a.star == "**" and keys is not None:
            out.extend(cst.Arg(cst.Name(t), keyword=cst.Name(k)) for t, k in zip(temps, keys, strict=True))
        else:
            return None
    return call.with_changes(args=out)


def _parts(comp: Builder, e: cst.BaseExpression) -> tuple[tuple[str, ...], tuple[str, ...] | None] | None:
    if not isinstance(e, cst.Name) or e not in comp.src.scopes:
        return None
    scope = comp.src.scopes[e]
    if scope is None:
        return None
    bindings = list(scope[e.value])
    if len(bindings) != 1 or not isinstance(getattr(bindings[0], "node", None), cst.Param):
        return None  # not the parameter, or bound again
    if not only_read(comp.src, e.value):
        return None  # (changed in place, or handed where it may be: pass on what Python passes)
    c: Any = comp
    while c is not None:
        if e.value in c.forwarded:
            return c.forwarded[e.value]
        c = c.parent
    return None


def only_read(src: FunctionSource, name: str) -> bool:
    """Whether every use of the helper's parameter ``name`` (a ``*``/``**`` one), nested functions
    and comprehensions included, leaves its tuple or dict as it is: spread into a call, read by a
    read-only method (``kwargs.get(k)``), an item read, ``k in kwargs``, handed to a builtin that
    only reads it (``len(args)``). Any other use (``kwargs.setdefault(k, v)``, ``kwargs[k] = v``,
    ``del kwargs[k]``, ``opts = kwargs``, ``fill(kwargs)``) may change what it holds."""
    uses = [a.node for b in src.fn_scope.assignments[name] for a in b.references]
    return all(_read(src.parents, n) for n in uses)


def _read(parents: Any, n: cst.CSTNode) -> bool:
    parent = parents.get(n)
    if isinstance(parent, cst.Arg) and parent.value is n:
        call = parents.get(parent)
        named = isinstance(call, cst.Call) and isinstance(call.func, cst.Name) and call.func.value
        return bool(parent.star) or named in READ_ONLY_CALLS
    if isinstance(parent, cst.Attribute) and parent.value is n:
        call = parents.get(parent)
        return isinstance(call, cst.Call) and call.func is parent and parent.attr.value in READ_ONLY_METHODS
    if isinstance(parent, cst.Subscript) and parent.value is n:
        holder = parents.get(parent)
        return not isinstance(holder, cst.AssignTarget | cst.Del | cst.AugAssign)
    return isinstance(parent, cst.ComparisonTarget) and parent.comparator is n
