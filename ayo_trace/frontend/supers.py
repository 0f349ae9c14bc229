"""``super().m(...)`` in a method the tracer inlines.

A subclass's method calling its base's (``base = await super().retrieve(q)``) is a method call on
the same ``self``: ``super()`` with no arguments means ``super(C, self)``, ``C`` the class whose
body defines the method (its ``__class__`` cell) and ``self`` its first parameter. Where the method
is inlined, ``self`` is an object known at trace time or one the workflow made (``Traced.cls``),
so the base's method is known too, and is inlined with the same ``self`` (it was a graph break).
"""

from __future__ import annotations

import inspect
import re
from typing import TYPE_CHECKING, Any

import libcst as cst

from .state import walk
from .values import Static, Traced, Value

if TYPE_CHECKING:
    from .builder import Builder


def is_super(e: cst.CSTNode) -> bool:
    """Whether ``e`` is ``super()``, with no arguments."""
    return isinstance(e, cst.Call) and isinstance(e.func, cst.Name) and e.func.value == "super" and not e.args


def owner(fn: Any) -> type | None:
    """The class whose body defines ``fn`` (its ``__class__`` cell, which ``super()`` reads)."""
    code = getattr(fn, "__code__", None)
    if code is None or "__class__" not in code.co_freevars or not fn.__closure__:
        return None
    found = fn.__closure__[code.co_freevars.index("__class__")].cell_contents
    return found if isinstance(found, type) else None


def method_above(mro: tuple[type, ...], cls: type, name: str) -> Any:
    """The ``name`` a ``super(cls, ...)`` lookup finds along ``mro``, or None."""
    if cls not in mro:
        return None
    for base in mro[mro.index(cls) + 1 :]:
        if name in vars(base):
            return vars(base)[name]
    return None


def method_of(body: Builder, call: cst.Call) -> tuple[Value, Any] | None:
    """``(self, function)`` of ``super().m(...)`` in the method ``body`` compiles, its ``self``
    bound to a value the tracer knows the class of; None otherwise."""
    func = call.func
    if not (isinstance(func, cst.Attribute) and is_super(func.value)):
        return None
    cls = owner(body.src.fn)
    params = body.src.node.params.params
    me = body.env.get(params[0].name.value) if params and cls is not None else None
    if isinstance(me, Static):
        mro = type(me.value).__mro__
    elif isinstance(me, Traced) and me.cls is not None:
        mro = me.cls.__mro__
    else:
        return None
    fn = method_above(mro, cls, func.attr.value)  # type: ignore[arg-type]
    return (me, fn) if inspect.iscoroutinefunction(fn) else None


class SuperView:
    """``super()`` as the tracer reads it when it looks for the ayo calls a method makes: the
    functions of the classes above ``cls``."""

    def __init__(self, cls: type) -> None:
        self._cls = cls

    def __getattr__(self, name: str) -> Any:
        found = method_above(self._cls.__mro__, self._cls, name)
        if found is None:
            raise AttributeError(name)
        return found


def spelled_out(
    body: Builder, stmt: cst.CSTNode, source: str | None, local: list[str]
) -> tuple[str | None, list[str], dict[str, Any]]:
    """A statement of a method run as written (a graph break, a plain statement) with its bare
    ``super()`` spelled out as ``super(__class__, self)``: compiled on its own, outside the class,
    Python's zero-argument form finds no ``__class__`` cell and raises ``RuntimeError``. Returns
    its source (None: the statement's own, unchanged), the names it reads (with the method's first
    parameter) and the binding of ``__class__``, the class whose body defines the method."""
    cls = owner(body.src.fn)
    params = [*body.src.node.params.posonly_params, *body.src.node.params.params]
    if cls is None or not params or not any(is_super(n) for n in walk(stmt)):
        return source, local, {}
    me = params[0].name.value
    text = source if source is not None else body.src.code(stmt)
    text = re.sub(r"\bsuper\(\s*\)", f"super(__class__, {me})", text)
    return text, list(dict.fromkeys([*local, me])), {"__class__": cls}
