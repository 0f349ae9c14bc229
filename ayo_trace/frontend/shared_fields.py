"""Objects the workflow makes whose fields may hold what other objects hold too.

``a = Agent(SHARED)`` and ``b = Agent(SHARED)``, or ``Agent()`` of ``def __init__(self,
inbox=[])`` (one default list for every object), or ``self.inbox = SHARED`` in ``__init__``: two
objects the workflow makes are two values of the graph, and ``b.inbox.append(x)`` changes only
``b`` as the effect analysis sees it, so a statement reading ``a.inbox`` (or ``SHARED``) may be
moved before it. Such an object's name holds a value "held" (``Traced.held``): every statement
reading it runs as an effect, in program order with the others.

An object is held so when its class's code may change what it holds (``impure.changes_self``),
or the workflow changes in place a field of an object (``x.inbox.append(v)``, ``x.notes[k] =
v``), and what it holds may be shared: an argument of its making is not made there (a name, not
a literal or a constant), a default of its class's ``__init__`` is a container or an object, or
its class's code reads a module's container or object (``code_reads.reached_objects``).
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

import libcst as cst

from . import impure, module_reads
from .class_changes import _CHANGING
from .code_reads import reached_objects
from .state import walk

if TYPE_CHECKING:
    from .builder import Builder


def held(comp: Builder, value: cst.BaseExpression, cls: type | None) -> bool:
    """Whether the object ``value`` (a call of the user's class ``cls``) makes may share what it
    holds with other objects while something changes it in place (see the module's doc)."""
    if cls is None or not isinstance(value, cst.Call):
        return False
    if not (impure.changes_self(cls) or _fields_changed(comp.src.node.body)):
        return False
    return _given_shared(comp, value) or _defaults_shared(cls) or _reads_shared(cls)


def returns_changed(comp: Builder, value: cst.BaseExpression) -> bool:
    """Whether ``value`` calls code of the user's reading state the workflow changes, so what it
    returns may be that state (``cfg = Config()`` of a singleton whose fields the workflow sets,
    ``t = table()`` returning a module dict it changes)."""
    if not isinstance(value, cst.Call) or not module_reads.changes_any(comp):
        return False  # (nothing changed: no need to find the callee)
    callee = comp.exprs.callee(value)
    return callee is not None and module_reads.value_reads_changed(comp, callee)


def _fields_changed(body: cst.CSTNode) -> bool:
    """Whether ``body`` changes in place a field of an object (``x.inbox.append(v)``,
    ``x.notes[k] = v``, ``x.log += [v]``)."""
    for n in walk(body):
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute):
            if n.func.attr.value in _CHANGING and isinstance(n.func.value, cst.Attribute):
                return True
        elif isinstance(n, cst.AssignTarget | cst.AugAssign):
            target = n.target
            if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Attribute):
                return True
            if isinstance(n, cst.AugAssign) and isinstance(target, cst.Attribute):
                return True
    return False


def _given_shared(comp: Builder, call: cst.Call) -> bool:
    """Whether an argument of ``call`` may be an object something else holds too: not a literal,
    not a constant known now, not a string or a number."""
    for a in call.args:
        if isinstance(a.value, cst.List | cst.Dict | cst.Set | cst.Tuple | cst.BaseString | cst.Integer):
            continue
        static = comp.exprs.try_static(a.value)
        if static is not None and not impure.stateful(static.value):
            continue
        if static is None and not isinstance(a.value, cst.Name | cst.Attribute | cst.Subscript | cst.Call):
            continue  # (an expression making a new value: `q + "!"`, `f"{q}"`)
        return True
    return False


def _defaults_shared(cls: type) -> bool:
    """Whether ``cls.__init__`` (its own or a base's) has a default that is a container or an
    object, one for every object made."""
    init = getattr(cls, "__init__", None)
    if not inspect.isfunction(init):
        return False
    defaults = [*(init.__defaults__ or ()), *(init.__kwdefaults__ or {}).values()]
    return any(impure.stateful(d) for d in defaults)


def _reads_shared(cls: type) -> bool:
    """Whether the code of ``cls`` reads a module's container or object (``self.inbox = SHARED``)."""
    return any(impure.stateful(o) and not isinstance(o, type) for o in reached_objects([cls]))
