"""Objects handed to a helper as arguments: ``await run_with(agent, q)`` where ``run_with`` awaits
``agent.generate(q)``.

Whether a helper is traced is decided from its source before it is inlined (``helpers._awaits_ayo``:
does it await an ayo primitive, directly or through other helpers?), and its parameters are names
that source alone cannot resolve. This module tells that check what each argument of the call stands
for at trace time: a value known now (a module's ``BOT``), or the class of an object the workflow made
of a plain class (``agent = Agent(...)``, or ``Agent(...)`` written in the call), whose methods are
its source's as for ``agent.step(q)`` written in the workflow. Inlined, the helper's ``agent`` is the
workflow's object (``made_argument`` keeps the class of one made in the call), so its method calls
are traced as they are in the workflow; an argument that is none of these leaves the name unresolved,
and the helper, if nothing else in it awaits ayo, a graph break.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import SourceLoc
from . import made_fields, made_methods
from .builder import Expressions
from .source import FunctionSource
from .values import Traced, Value


def seen_arguments(comp: Expressions, src: FunctionSource, call: cst.Call, method: bool) -> dict[str, Any]:
    """What the parameters of the helper ``src`` (``method``: its first parameter is ``self``,
    bound already) stand for when ``call`` calls it, for the names that are known now."""
    params = src.node.params
    plain = [p.name.value for p in [*params.posonly_params, *params.params]][1 if method else 0 :]
    names = set(plain) | {p.name.value for p in params.kwonly_params}
    out: dict[str, Any] = {}
    position = 0
    for a in call.args:
        if a.star:
            return out  # (the rest is not known one by one here)
        if a.keyword is None:
            if position >= len(plain):
                return out
            pname, position = plain[position], position + 1
        elif a.keyword.value in names:
            pname = a.keyword.value
        else:
            continue
        seen = _seen(comp, a.value)
        if seen is not None:
            out[pname] = seen
    return out


def _seen(comp: Expressions, e: cst.BaseExpression) -> Any:
    """What the argument ``e`` stands for at trace time, or None where that is not known."""
    found = comp.try_static(e)
    if found is not None:
        return found.value
    if isinstance(e, cst.Call):  # `run_with(Agent("a"), q)`: its class
        cls = comp.callee(e)
        return cls if made_fields.plain_class(cls) else None
    if isinstance(e, cst.Name) and (known := _module_object(comp, e)) is not None:
        return type(known)  # (a module's `BOT`: its class, nothing of it read or run now)
    if isinstance(e, cst.Name):  # `agent = Agent(...)` earlier: its class and known fields
        try:
            value = comp.body.lookup_local(e.value, SourceLoc(comp.body.src.filename, 0))
        except TraceError:
            return None
        if isinstance(value, Traced) and value.cls is not None:
            return made_methods.view(value.cls, value.fields)
    return None


def _module_object(comp: Expressions, e: cst.Name) -> object | None:
    """The object of a plain class the name ``e``, not bound in the workflow, holds in its module
    (or its closure), recorded so that binding the name again traces the workflow again."""
    try:
        local, _ = comp.split_names(*comp.body.src.free_names(e))
    except KeyError:
        return None
    if local:
        return None
    closure = comp.body.closure_binding(e.value)
    namespace = comp.body.src.fn.__globals__
    if closure:
        found = closure.get(e.value)
    elif e.value in namespace:
        found = namespace[e.value]
        comp.body.deps.saw_global(namespace, e.value, contents=False)  # (a plain class's object)
    else:
        return None
    return found if made_fields.plain_class(type(found)) else None


def made_argument(
    comp: Expressions, e: cst.BaseExpression | Value, value: Value, src: FunctionSource, param: str
) -> Value:
    """The argument ``e`` of the helper ``src``'s parameter ``param``, compiled to ``value``; an
    object of a plain class that ``e`` makes (``Agent("a")`` written in the call) or names in the
    module (``BOT``, read when the graph runs since code may change it) keeps its class, as a name
    bound to one does (its methods are traced), and, where the helper only reads its attributes and
    calls its methods, its constant fields (``max_tokens=self.budget`` is then known)."""
    if not isinstance(e, cst.BaseExpression) or not isinstance(value, Traced) or value.cls is not None:
        return value
    known: object = None
    if isinstance(e, cst.Call):
        cls = comp.callee(e)
    elif isinstance(e, cst.Name) and (known := _module_object(comp, e)) is not None:
        cls = type(known)
    else:
        return value
    if not made_fields.plain_class(cls):
        return value
    fields: Any = None
    if made_fields.param_chains(src, param, getattr(comp.body.src.fn, "__module__", "") or "") is not None:
        fields = (
            made_fields.initial_fields(comp.body, None, e, cls)
            if known is None
            else made_fields.fields_of(comp.body, known)
        )
    return dataclasses.replace(value, cls=cls, fields=fields)


__all__ = ["made_argument", "seen_arguments"]
