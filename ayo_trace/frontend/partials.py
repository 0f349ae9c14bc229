"""``functools.partial`` of a primitive, a workflow or a traced helper, bound to a name and awaited
later (``short = functools.partial(ayo.llm, max_tokens=4)`` … ``await short(prompt)``).

When every argument the partial fixes is known at trace time, the name holds the partial itself
(a static value), and a call of it is traced as the call it stands for: the partial's positional
arguments first, then the call's, and the call's keywords over the partial's (Python's rule). The
fixed arguments are passed as temporaries of the compiler holding their trace-time values, so
they are the values the partial captured when it was made, whatever the names they were written
with hold later. A partial with a traced argument stays a plain value (its call is a graph break).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import libcst as cst

from .builder import Builder
from .values import Static

PREFIX = "__ayo_partial_"


def bind(comp: Builder, value: cst.BaseExpression) -> Static | None:
    """The partial ``value`` makes, when it is ``functools.partial(f, ...)`` of something the tracer
    traces with only static arguments; else None."""
    if not isinstance(value, cst.Call) or comp.exprs.callee(value) is not functools.partial:
        return None
    if not value.args or any(a.star for a in value.args) or value.args[0].keyword is not None:
        return None
    target = comp.exprs.try_static_callable(value.args[0].value)
    if target is None or not traceable(target.value):
        return None
    found = comp.exprs.static_arguments(value.args[1:])
    if found is None:
        return None
    args, keywords = found
    fn: Any = target.value
    return Static(functools.partial(fn, *args, **keywords))


def traceable(fn: Any) -> bool:
    inner = fn.func if isinstance(fn, functools.partial) else fn
    return bool(
        getattr(inner, "__ayo_primitive__", None)
        or getattr(inner, "__ayo_workflow__", False)
        or inspect.iscoroutinefunction(inner)
    )


def expand(comp: Builder, call: cst.BaseExpression) -> tuple[cst.Call, dict[str, Static]] | None:
    """``(the call it stands for, the temporaries it reads)`` when ``call`` calls a name holding a
    static partial; else None. The caller binds the temporaries in ``comp.temps`` while it compiles
    the call, and removes them after."""
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Name):
        return None
    p = _partial_named(comp, call.func.value)
    if p is None and not _bound_here(comp, call.func.value):
        outer = comp.exprs.callee(call)  # a partial the module (or a closure) holds
        p = outer if isinstance(outer, functools.partial) and traceable(outer) else None
    if p is None:
        return None
    temps: dict[str, Static] = {}

    def temp(value: Any) -> cst.Name:  # a name of this call's own (a nested expansion has others)
        name = f"{PREFIX}{id(call)}_{len(temps)}"
        temps[name] = Static(value)
        return cst.Name(name)

    func = temp(p.func)
    given = {a.keyword.value for a in call.args if a.keyword is not None}
    args = [cst.Arg(temp(v)) for v in p.args]
    args += [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in call.args]
    args += [
        cst.Arg(temp(v), keyword=cst.Name(k), equal=cst.AssignEqual())
        for k, v in p.keywords.items()
        if k not in given
    ]
    # keywords last: a positional argument may not follow one, and a `*`/`**` of the call stays put
    args.sort(key=lambda a: a.keyword is not None or a.star == "**")
    return cst.Call(func=func, args=args), temps


def _bound_here(comp: Builder, name: str) -> bool:
    """Whether ``name`` is a name of the workflow (or a body of it) rather than the module's."""
    c: Any = comp
    while c is not None:
        if name in c.temps or name in c.env:
            return True
        c = c.parent if c.parent is not None else getattr(c, "enclosing", None)
    return False


def _partial_named(comp: Builder, name: str) -> functools.partial[Any] | None:
    """The static partial ``name`` holds in this body or a body around it (nothing captured)."""
    c: Any = comp
    while c is not None:
        value = c.temps.get(name) if name in c.temps else c.env.get(name)
        if value is not None:
            if isinstance(value, Static) and isinstance(value.value, functools.partial):
                return value.value if traceable(value.value) else None
            return None
        c = c.parent if c.parent is not None else getattr(c, "enclosing", None)
    return None
