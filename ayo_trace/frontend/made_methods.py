"""The methods of an object the workflow made, by its class known at trace time.

``agent = Agent(...)`` then ``await agent.step(q)``: the object is a traced value (made when the
graph runs, once per query), but its class is known (``Traced.cls``), so ``Agent.step`` is inlined
as a helper with a ``TracedSelf``. So are ``await Agent(...).step(q)``, ``await Judge()(q)`` (its
class's ``async def __call__``) and a method of an object such an object holds for good
(``app.gen.generate(q)``, ``self.repo.find(q)`` in a method): one its ``__init__`` made of a plain
class, in a field nothing sets again, which changes (a repository adding to its index), so it is
no constant of the graph (``made_fields``: ``Fields.held``); it is read where the call is, and its
own constant fields are known.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
from typing import Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import SourceLoc
from . import made_fields
from .values import Traced


@dataclasses.dataclass(frozen=True)
class TracedSelf:
    """The ``self`` of a method called on an object the workflow made (``agent = Agent(...)`` then
    ``await agent.step(q)``): a traced value whose class is known at trace time."""

    value: Traced | None
    # `await Agent(...).step(q)`: the class and the call making the object where it is called (or
    # reading it: `app.gen`, with its constant fields)
    made: tuple[type, cst.BaseExpression] | None = None
    fields: dict[str, Any] | None = None

    @property
    def cls(self) -> type:
        return self.value.cls if self.value is not None else self.made[0]  # type: ignore[index]

    def seen(self) -> Any:
        """What ``self`` stands for when a helper's calls are looked up: its class, and the objects
        it holds (``self.retriever.search``) when they are known (``made_fields``)."""
        fields = self.value.fields if self.value is not None else self.fields
        return view(self.cls, fields)


def method_of(comp: Any, call: cst.Call) -> tuple[TracedSelf, Any] | None:
    """``(self, function)`` for ``obj.m(...)`` where ``obj`` is an object the workflow made of a
    plain class (``Traced.cls``), one made in the call or one such an object holds for good, and
    ``m`` an ``async def`` of that class; for ``obj(...)``, its class's ``async def __call__``."""
    func = call.func
    made, method = (func.value, func.attr.value) if isinstance(func, cst.Attribute) else (func, "__call__")
    if isinstance(made, cst.Call):  # `Agent(...).step(q)`, `Judge()(q)`, `build_agent().step(q)`
        cls = comp.callee(made)
        if not made_fields.plain_class(cls):
            cls = made_fields.factory_class(comp.body, made)
        if cls is None:
            return None
        fn = inspect.getattr_static(cls, method, None)
        if not inspect.iscoroutinefunction(fn):
            return None
        return TracedSelf(None, (cls, made), made_fields.initial_fields(comp.body, None, made, cls)), fn
    if isinstance(made, cst.Attribute) and isinstance(made.value, cst.Name):  # `app.gen.generate(q)`
        holder = _local(comp, made.value.value)
        held = getattr(holder.fields, "held", {}).get(made.attr.value) if holder is not None else None
        if held is None:
            return None
        cls, fields = held
        fn = inspect.getattr_static(cls, method, None)
        return (TracedSelf(None, (cls, made), fields), fn) if inspect.iscoroutinefunction(fn) else None
    value = _local(comp, made.value) if isinstance(made, cst.Name) else None
    if value is None:
        return None
    fn = inspect.getattr_static(value.cls, method, None)
    return (TracedSelf(value), fn) if inspect.iscoroutinefunction(fn) else None


def _local(comp: Any, name: str) -> Traced | None:
    """The traced object of a plain class ``name`` holds in the body compiling the call."""
    try:
        value = comp.body.lookup_local(name, SourceLoc(comp.body.src.filename, 0))
    except TraceError:
        return None
    return value if isinstance(value, Traced) and value.cls is not None else None


def view(cls: type, fields: dict[str, Any] | None) -> Any:
    """What a made object of ``cls`` stands for where a helper's calls are looked up: a view of
    its known fields and of the objects it holds for good (``TraceView``), else its class."""
    return TraceView(cls, fields) if fields is not None and (fields or getattr(fields, "held", None)) else cls


class TraceView:
    """A made object as the tracer sees it: its known fields, the objects it holds for good
    (``Fields.held``) as views of theirs, else its class's attributes."""

    def __init__(self, cls: type, fields: dict[str, Any]) -> None:
        self._cls, self._fields = cls, fields

    def __getattr__(self, name: str) -> Any:
        if name in self._fields:
            return self._fields[name]
        if name in (held := getattr(self._fields, "held", {})):
            return view(*held[name])
        found = getattr(self._cls, name)
        # a method, bound to the view: what it calls of `self` is looked up here too
        return types.MethodType(found, self) if inspect.isfunction(found) else found
