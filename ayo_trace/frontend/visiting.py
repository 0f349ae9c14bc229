"""libcst's visit of a read-only visitor (a ``CSTVisitor``), without rebuilding the tree.

``node.visit(visitor)`` builds every node it passes again, even for a visitor that changes
nothing, and checks each against libcst's abstract base classes: most of what the tracer's many
small visitors cost. ``visit`` calls the same ``on_visit``/``on_leave`` on the same nodes in the
same order (the order libcst's own ``_visit_and_replace_children`` takes each node type's fields
in, read once from its source), and leaves to libcst what it cannot do the same way: a transformer,
a visitor with per-attribute hooks (``visit_Name_value``), a node type whose order is unknown.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import libcst as cst
from libcst.metadata import ScopeProvider

N = TypeVar("N", bound=cst.CSTNode)

_FIELD = re.compile(r'visit_\w+\(\s*self,\s*"(\w+)"')
_HOOK = re.compile(r"^(visit|leave)_[A-Z][A-Za-z]*_\w+$")
_ORDERS: dict[type, tuple[str, ...] | None] = {}
_NODE_KINDS: dict[type, bool] = {}


def is_node(kind: type) -> bool:
    """Whether ``kind`` is a libcst node type (``isinstance`` against libcst's abstract base runs
    Python code each time; this asks once per type)."""
    found = _NODE_KINDS.get(kind)
    if found is None:
        found = _NODE_KINDS[kind] = issubclass(kind, cst.CSTNode)
    return found


def visit(node: N, visitor: cst.CSTVisitor) -> N:
    """``node.visit(visitor)``, for a ``CSTVisitor``: the same calls, the tree not rebuilt."""
    if not _plain(type(visitor)):
        node.visit(visitor)
        return node
    _visit(node, visitor)
    return node


def field_order(kind: type) -> tuple[str, ...] | None:
    """The fields of a libcst node type in the order libcst visits them; None when unknown."""
    if kind in _ORDERS:
        return _ORDERS[kind]
    try:
        source = inspect.getsource(kind._visit_and_replace_children)  # type: ignore[attr-defined]
        names = _FIELD.findall(source)
    except (AttributeError, OSError, TypeError):
        names = None
    fields = getattr(kind, "__dataclass_fields__", None)
    order = tuple(dict.fromkeys(names)) if names is not None and fields is not None else None
    if order is not None and not set(order) <= set(fields or ()):
        order = None
    _ORDERS[kind] = order
    return order


def _plain(kind: type) -> bool:
    """Whether a visitor class only reads (not a transformer) and has no per-attribute hooks."""
    return issubclass(kind, cst.CSTVisitor) and not any(  # (not cached: most are classes made per call)
        name in ("on_visit_attribute", "on_leave_attribute") or _HOOK.match(name)
        for klass in kind.__mro__
        if not klass.__module__.startswith("libcst")
        for name in vars(klass)
    )


def _visit(node: cst.CSTNode, visitor: Any) -> None:
    order = field_order(type(node))
    if order is None:  # (libcst's own walk, for this node and those under it)
        node.visit(visitor)
        return
    if visitor.on_visit(node):
        for name in order:
            value = getattr(node, name)
            if type(value) is list or type(value) is tuple:
                for item in value:
                    if is_node(type(item)):
                        _visit(item, visitor)
            elif is_node(type(value)):
                _visit(value, visitor)
    visitor.on_leave(node)


class Scopes(ScopeProvider):
    """libcst's ``ScopeProvider``, its visitor methods listed once per class: libcst's
    ``get_visitors`` runs ``inspect.getmembers`` over the provider's 1600 attributes at each
    resolve, a tenth of a trace's time. The methods are the same (``visit_``/``leave_`` ones
    not marked as no-ops), bound to this provider."""

    _names: ClassVar[tuple[str, ...] | None] = None

    def get_visitors(self) -> Mapping[str, Callable[[cst.CSTNode], None]]:
        kind = type(self)
        if kind._names is None:
            kind._names = tuple(super().get_visitors())
        return {name: getattr(self, name) for name in kind._names}
