"""libcst's visit of a read-only visitor (a ``CSTVisitor``), without rebuilding the tree.

``node.visit(visitor)`` builds every node it passes again, even for a visitor that changes
nothing, and checks each against libcst's abstract base classes: most of what the tracer's many
small visitors cost. ``visit`` calls the same ``on_visit``/``on_leave`` on the same nodes in the
same order (the order libcst's own ``_visit_and_replace_children`` takes each node type's fields
in, read once from its source), and leaves to libcst what it cannot do the same way: a transformer,
a visitor with per-attribute hooks (``visit_Name_value``), a node type whose order is unknown.
While ``remembering`` (a trace), what is found under each node is kept; ``Wrapper`` resolves
libcst's metadata providers with the same walk.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import re
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, TypeVar

import libcst as cst
from libcst.metadata import MetadataWrapper, ScopeProvider

N = TypeVar("N", bound=cst.CSTNode)

# Whitespace and comments: nodes no question of the tracer's is about (more than half of a tree's);
# under one, only others of these
WHITESPACE = (
    cst.BaseParenthesizableWhitespace,
    cst.TrailingWhitespace,
    cst.EmptyLine,
    cst.Newline,
    cst.Comment,
)
_WHITESPACE_NAMES = frozenset(
    name for name in dir(cst) if isinstance(kind := getattr(cst, name), type) and issubclass(kind, WHITESPACE)
)

# What is found under a node, by the node's id, while ``remembering``: (the node, so that no other
# takes its id, and what was found), for ``children`` (state.py), for ``visit`` (entering whitespace
# or not) and for ``state.mutated_roots`` (by the node's id and the calls it leaves out)
Memo = tuple[
    dict[int, tuple[Any, Any]],
    dict[int, tuple[Any, Any]],
    dict[int, tuple[Any, Any]],
    dict[tuple[int, frozenset[int]], tuple[Any, Any]],
]
_MEMO: contextvars.ContextVar[Memo | None] = contextvars.ContextVar("ayo_tree_memo", default=None)


@contextlib.contextmanager
def remembering() -> Iterator[None]:
    """Within it, the nodes under a node are listed once (``state.children``, ``visit``): a trace
    asks many questions of the same statements, each a walk of them. The trees are not changed in
    place (libcst's are immutable), so what was found stays true; it is dropped at the end."""
    if _MEMO.get() is not None:
        yield
        return
    token = _MEMO.set(({}, {}, {}, {}))
    try:
        yield
    finally:
        _MEMO.reset(token)


def memo() -> Memo | None:
    """The dicts ``remembering`` fills, or None outside it."""
    return _MEMO.get()


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
    """``node.visit(visitor)``, for a ``CSTVisitor``: the same calls, the tree not rebuilt; for a
    visitor with no hook for whitespace or comments (nor its own ``on_visit``/``on_leave``), which
    libcst calls nothing of there, those nodes are not entered."""
    plain, skips = _kind(type(visitor))
    if not plain:
        node.visit(visitor)
        return node
    found = _MEMO.get()
    _visit(node, visitor, None if found is None else (found[2] if skips else found[1]), skips)
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


_KINDS: weakref.WeakKeyDictionary[type, tuple[bool, bool]] = weakref.WeakKeyDictionary()


def _kind(kind: type) -> tuple[bool, bool]:
    """Whether a visitor class only reads (not a transformer) and has no per-attribute hooks; and
    whether it would do nothing at whitespace and comments (no hook for them, libcst's own
    ``on_visit``/``on_leave``). Kept by class (most are classes made per call: weakly)."""
    found = _KINDS.get(kind)
    if found is None:
        own = [
            name
            for klass in kind.__mro__
            if not klass.__module__.startswith("libcst")
            for name in vars(klass)
        ]
        plain = issubclass(kind, cst.CSTVisitor) and not any(
            name in ("on_visit_attribute", "on_leave_attribute") or _HOOK.match(name) for name in own
        )
        skips = plain and not any(
            name in ("on_visit", "on_leave") or name.partition("_")[2] in _WHITESPACE_NAMES for name in own
        )
        found = _KINDS[kind] = (plain, skips)
    return found


def _ordered(node: cst.CSTNode, skips: bool) -> list[cst.CSTNode] | None:
    """The nodes directly under ``node`` in libcst's order of visiting (but whitespace and comments
    when ``skips``); None when that order is unknown."""
    order = field_order(type(node))
    if order is None:
        return None
    out: list[cst.CSTNode] = []
    for name in order:
        value = getattr(node, name)
        for item in value if type(value) is list or type(value) is tuple else (value,):
            kind = type(item)
            if is_node(kind) and not (skips and kind.__name__ in _WHITESPACE_NAMES):
                out.append(item)
    return out


def _visit(node: cst.CSTNode, visitor: Any, memo: dict[int, tuple[Any, Any]] | None, skips: bool) -> None:
    if memo is None:
        under = _ordered(node, skips)
    else:
        hit = memo.get(id(node))
        if hit is None:
            hit = memo[id(node)] = (node, _ordered(node, skips))
        under = hit[1]
    if under is None:  # (libcst's own walk, for this node and those under it)
        node.visit(visitor)
        return
    if visitor.on_visit(node):
        for item in under:
            _visit(item, visitor, memo, skips)
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


_PROVIDER_HOOKS: weakref.WeakKeyDictionary[type, tuple[str, ...]] = weakref.WeakKeyDictionary()


class Wrapper(MetadataWrapper):
    """libcst's ``MetadataWrapper``, whose batched visit of the metadata providers walks the tree
    with ``visit`` rather than libcst's walk that rebuilds it (the scope and expression-context
    providers hook the module only, and walk it their own way from there: the batched walk was
    a twentieth of a test run's time for nothing), and lists each provider class's hooks once.
    Per-attribute hooks are left to libcst's walk."""

    def visit_batched(
        self,
        visitors: Any,
        before_visit: Callable[[cst.CSTNode], None] | None = None,
        after_leave: Callable[[cst.CSTNode], None] | None = None,
    ) -> cst.CSTNode:
        visitors = list(visitors)
        methods: dict[str, list[Callable[[cst.CSTNode], None]]] = {}
        for v in visitors:
            if type(v) not in _PROVIDER_HOOKS:
                _PROVIDER_HOOKS[type(v)] = tuple(v.get_visitors())
            for name in _PROVIDER_HOOKS[type(v)]:
                methods.setdefault(name, []).append(getattr(v, name))
        if any(_HOOK.match(name) for name in methods):
            return super().visit_batched(visitors, before_visit, after_leave)
        whitespace = before_visit is not None or after_leave is not None
        whitespace = whitespace or any(name.partition("_")[2] in _WHITESPACE_NAMES for name in methods)
        with contextlib.ExitStack() as resolved:
            for v in visitors:
                resolved.enter_context(v.resolve(self))
            _visit(self.module, _Batched(methods, before_visit, after_leave), None, not whitespace)
        return self.module


class _Batched(cst.CSTVisitor):
    """The providers' ``visit_<Type>``/``leave_<Type>`` hooks as one visitor (libcst's batched
    visitor without per-attribute hooks): every node is entered, whatever a hook returns."""

    def __init__(
        self,
        methods: dict[str, list[Callable[[cst.CSTNode], None]]],
        before: Callable[[cst.CSTNode], None] | None,
        after: Callable[[cst.CSTNode], None] | None,
    ) -> None:
        self.methods, self.before, self.after = methods, before, after

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.before is not None:
            self.before(node)
        for hook in self.methods.get("visit_" + type(node).__name__, ()):
            hook(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        for hook in self.methods.get("leave_" + type(original_node).__name__, ()):
            hook(original_node)
        if self.after is not None:
            self.after(original_node)
