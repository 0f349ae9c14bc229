"""``*args``/``**kwargs`` at a call of a primitive or workflow, expanded at trace time.

``await ayo.llm(prompt, **params)`` is how users share sampling settings. The graph needs each
keyword by name, so the unpacked value must be known when the workflow is traced: a module constant
(``**PARAMS``), an expression of static values (``**dict(max_tokens=n)`` with ``n`` static), or a
local name assigned once from such an expression and read nowhere but in ``*``/``**`` unpacking (so
nothing can change it between its assignment and the call). Its items become the call's arguments,
written as literals. Anything else, unpacked into a primitive's call, makes the call a graph break
(``PrimitiveCalls.static_at_run_time``), as it does a helper's or a nested workflow's call
(``Expressions.await_break_reason`` names it); into another call, it is refused with the fix.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import SourceLoc
from .source import _names_in

if TYPE_CHECKING:
    from .builder import Builder


def expand(comp: Builder, call: cst.Call, loc: SourceLoc) -> list[cst.Arg]:
    """The call's arguments with each ``*xs``/``**kw`` replaced by the items it unpacks."""
    out: list[cst.Arg] = []
    for arg in call.args:
        if not arg.star:
            out.append(arg)
            continue
        value = known(comp, arg.value)
        what = "**" if arg.star == "**" else "*"
        if arg.star == "**" and isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
            out.extend(cst.Arg(_literal(v, arg, loc), keyword=cst.Name(k)) for k, v in value.items())
            continue
        if arg.star == "*" and isinstance(value, Sequence) and not isinstance(value, str):
            out.extend(cst.Arg(_literal(v, arg, loc)) for v in value)
            continue
        raise TraceError(
            f"`{what}{comp.src.code(arg.value).strip()}` in this call cannot be traced: the graph needs "
            "each argument by name when the workflow is traced, and this value is not known then; "
            "pass each argument by name, or unpack a module constant (or a local assigned once from "
            f"constants and used only in `{what}` unpacking)",
            loc=loc,
            construct="call",
        )
    return out


def known(comp: Builder, e: cst.BaseExpression) -> Any:
    """The value ``*e``/``**e`` unpacks, when it is known at trace time; else None."""
    static = comp.exprs.try_static(e)
    if static is not None:
        return static.value
    if not isinstance(e, cst.Name):
        return None
    rhs = only_assignment(comp, e.value)
    if rhs is None:
        return None
    static = comp.exprs.try_static(rhs)
    return None if static is None else static.value


def only_assignment(comp: Builder, name: str) -> cst.BaseExpression | None:
    """The right side of the one ``name = ...`` of the function, when every other mention of
    ``name`` is a ``*``/``**`` argument."""
    src = comp.src
    rhs: cst.BaseExpression | None = None
    for n in _names_in(src.node.body):
        if n.value != name:
            continue
        parent = src.parents.get(n)
        if isinstance(parent, cst.Arg) and parent.star and parent.value is n:
            continue
        target = src.parents.get(parent) if isinstance(parent, cst.AssignTarget) else None
        if isinstance(target, cst.Assign) and len(target.targets) == 1 and rhs is None:
            rhs = target.value
            continue
        return None
    return rhs


def _literal(value: Any, arg: cst.Arg, loc: SourceLoc) -> cst.BaseExpression:
    text = repr(value)
    try:
        same = ast.literal_eval(text) == value
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        same = False
    if not same:
        raise TraceError(
            f"the value {text[:60]} unpacked into this call is not a literal (str, number, bool, None "
            "or a list/tuple/dict of them), so the graph cannot hold it; pass it by name",
            loc=loc,
            construct="call",
        )
    return cst.parse_expression(text)
