"""A lazy iterator whose items run code with an effect, and the name an assignment binds.

``pending = map(record, docs)`` (or ``(record(d) for d in docs)``, ``filter(keep, xs)``) runs
nothing where it stands: ``record`` runs for each item where the iterator is drawn
(``list(pending)``, a ``for`` over it), maybe after statements that touch what ``record``
changes. The statement making it is an effect (it names ``record``, which changes module state),
but the one drawing it names only ``pending``. Its name then holds a value "held" (``Traced.held``):
every statement reading it runs as an effect, in program order with the others, as Python draws
the items where the code reads it.
"""

from __future__ import annotations

import builtins
import inspect
from typing import TYPE_CHECKING

import libcst as cst

from ..ir.code import SourceLoc
from . import impure, made_fields, shared_fields
from .aliases import peek
from .state import walk
from .values import Traced

if TYPE_CHECKING:
    from .builder import Builder

_LAZY = frozenset({"map", "filter", "zip", "iter", "reversed", "enumerate"})


def assigned(
    comp: Builder, stmt: cst.CSTNode, value: cst.BaseExpression, name: str, loc: SourceLoc, cls: type | None
) -> Traced:
    """``name = value`` as a python node: an object of the plain class ``cls`` with the constant
    fields a trace-time copy finds (``made_fields``), or a lazy iterator over code with an effect,
    held."""
    fields = made_fields.initial_fields(comp, name, value, cls)  # (a trace-time copy's constant fields)
    node = comp.python_node(stmt, loc, [name], name=name)
    lazy = node.attrs["code"].effect and _lazy(comp, value)
    held = lazy or shared_fields.held(comp, value, cls) or shared_fields.returns_changed(comp, value)
    return Traced(node, cls=cls, fields=fields, held=held)


def _lazy(comp: Builder, value: cst.BaseExpression) -> bool:
    """Whether ``value`` makes an iterator that runs code where it is drawn: a generator
    expression, a generator function's call, or a call of ``map``, ``filter``, ``zip``... (the
    builtins, not a name bound otherwise)."""
    if isinstance(value, cst.GeneratorExp):
        return True
    if not isinstance(value, cst.Call):
        return False
    callee = comp.exprs.callee(value)
    if inspect.isgeneratorfunction(callee):  # (a generator function of the user's: `turns(conv)`)
        return True
    return (
        isinstance(value.func, cst.Name)
        and value.func.value in _LAZY
        and callee is getattr(builtins, value.func.value)
    )


def lazy_builtin(comp: Builder, value: cst.Call) -> bool:
    """Whether ``value`` calls one of the lazy builtins (``map``, ``filter``, ...), not a name bound
    otherwise."""
    return (
        isinstance(value.func, cst.Name)
        and value.func.value in _LAZY
        and comp.exprs.callee(value) is getattr(builtins, value.func.value)
    )


def drawn_with_effects(comp: Builder, iterable: cst.BaseExpression) -> bool:
    """Whether a ``for`` loop over ``iterable`` draws items by running code with an effect: a held
    lazy iterator (``kept = filter(record, xs)``), one made in the loop's header (``for k in
    map(record, xs)``), or the workflow's object whose ``__iter__``/``__next__`` of the user's
    moves a cursor. A map would draw every item before the first body runs; the loop must run as
    written."""
    if isinstance(iterable, cst.Name):
        value = peek(comp, iterable.value)
        if not isinstance(value, Traced):
            return False
        lazy = value.held and value.node.op == "python"  # (`assigned`'s: not a held `self` or default)
        return lazy or impure.implicit_changes(value.cls, _DRAWING)
    if not _lazy(comp, iterable):
        return False
    g = getattr(comp.src.fn, "__globals__", {})
    called = {n.value for n in walk(iterable) if isinstance(n, cst.Name)}
    return any(
        n in g and bool(impure.changes_module_state(g[n]) or impure.changed_objects(g[n])) for n in called
    )


_DRAWING = frozenset({"__iter__", "__next__", "__getitem__", "__len__"})
