"""The statements of a ``try`` body after its last await, where its handlers catch ayo's errors only.

A ``try`` node fails whole: the names its body bound before a failure are not handed out, so a
name bound before the await that may fail and read after the ``try`` or by a handler keeps the
``try`` from being traced (``try_except``). Where every handler catches ayo's errors only
(``except ayo.EngineError:``), only an await can fail as the handlers catch: the statements after
the body's last await, when they raise no ayo error themselves, fail nothing a handler sees. So a
retry loop recording its attempt after the call and returning on a good answer::

    for seed in range(3):
        try:
            r = await ayo.llm(q, seed=seed)
            attempts.append(seed)
            if good(r):
                return r, attempts
        except ayo.EngineError:
            attempts.append(-seed)

binds nothing before a failing await (it was refused). Those statements must raise no ayo error:
no ``raise``, no function defined, and calls only of builtins, of string methods (``r.strip()``,
``c.isdigit()``), and of the methods of a list, dict or set the workflow makes (a name bound only
to displays and comprehensions: ``attempts.append(seed)``); anything else keeps them.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import libcst as cst

from ..errors import AyoError
from ..ir.mutation import PURE_STR_METHODS, READ_ONLY_METHODS
from .state import contains_await, walk

if TYPE_CHECKING:
    from .builder import Builder

# (methods of lists, dicts, sets and deques that change them: with the read-only ones, what the
# statements after the last await may call)
_CHANGING_METHODS = frozenset(
    {"append", "appendleft", "extend", "add", "update", "insert", "pop", "setdefault", "remove", "discard"}
)


def before_last_await(
    comp: Builder, stmts: list[cst.BaseStatement], handlers: Sequence[cst.ExceptHandler]
) -> list[cst.BaseStatement]:
    """``stmts`` up to the last that awaits, where every handler catches ayo's errors only and the
    statements after it can raise none; else ``stmts``."""
    last = max((i for i, s in enumerate(stmts) if contains_await(s)), default=-1)
    tail = stmts[last + 1 :]
    if not tail or not handlers or not all(_catches_ayo_only(comp, h) for h in handlers):
        return stmts
    if not all(_raises_no_ayo_error(comp, s) for s in tail):
        return stmts
    return stmts[: last + 1]


def _catches_ayo_only(comp: Builder, handler: cst.ExceptHandler) -> bool:
    if handler.type is None:
        return False
    static = comp.exprs.try_static(handler.type)
    if static is None:
        return False
    kinds: Any = static.value if isinstance(static.value, tuple) else (static.value,)
    return all(isinstance(k, type) and issubclass(k, AyoError) for k in kinds)


def _container(comp: Builder, e: cst.BaseExpression) -> bool:
    """A name the workflow binds only to list, dict or set displays or comprehensions (``attempts =
    []``): its methods are the built-in type's, which raise no ayo error."""
    if not isinstance(e, cst.Name) or e.value in _params(comp):
        return False
    made = (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)
    found = False
    for n in walk(comp.src.node.body):
        targets = [t.target for t in n.targets] if isinstance(n, cst.Assign) else []
        binds = any(isinstance(n, cst.Name) and n.value == e.value for t in targets for n in walk(t))
        if binds and not (isinstance(n, cst.Assign) and isinstance(n.value, made) and len(targets) == 1):
            return False
        found = found or binds
        other = n.target if isinstance(n, cst.AnnAssign | cst.For | cst.CompFor | cst.NamedExpr) else None
        if isinstance(n, cst.AsName):
            other = n.name
        if other is not None and any(isinstance(x, cst.Name) and x.value == e.value for x in walk(other)):
            return False
    return found


def _params(comp: Builder) -> set[str]:
    params = comp.src.node.params
    return {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}


def _raises_no_ayo_error(comp: Builder, stmt: cst.BaseStatement) -> bool:
    """No ``raise``, no function defined, and every call a builtin's or a built-in type's method."""
    for n in walk(stmt):
        if isinstance(n, cst.Raise | cst.FunctionDef | cst.Lambda | cst.ClassDef):
            return False
        if not isinstance(n, cst.Call):
            continue
        if isinstance(n.func, cst.Attribute):
            method = n.func.attr.value
            if method in PURE_STR_METHODS:
                continue  # (a string's: `r.strip()`, `c.isdigit()`)
            if method not in READ_ONLY_METHODS | _CHANGING_METHODS or not _container(comp, n.func.value):
                return False
            continue
        fn = comp.exprs.callee(n)
        if fn is None or getattr(builtins, getattr(fn, "__name__", ""), None) is not fn:
            return False
    return True
