"""libcst helpers the frontend shares: walking a tree without entering nested scopes, what a
statement awaits, binds in a ``case`` pattern or changes in place."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from typing import Any

import libcst as cst

from ..ir.mutation import READ_ONLY_METHODS

_SCOPE_NODES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)


@functools.cache
def _child_fields(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind))


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The nodes directly under ``node``. libcst's own ``children`` and ``visit`` rebuild every node
    they pass; the compiler asks such questions of the same statements many times per trace."""
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item


def walk(node: cst.CSTNode, prune: Callable[[cst.CSTNode], bool] | None = None) -> Iterator[cst.CSTNode]:
    """``node`` and every node under it; below a node for which ``prune`` is true, nothing."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if prune is None or not prune(n):
            stack.extend(children(n))


def _in_scope(n: cst.CSTNode) -> bool:
    return isinstance(n, _SCOPE_NODES)


def contains_await(node: cst.CSTNode) -> bool:
    """Whether ``node`` awaits anything outside nested functions (``async with``/``async for``
    await too)."""
    return any(
        isinstance(n, cst.Await)
        or (isinstance(n, cst.With | cst.For | cst.CompFor) and n.asynchronous is not None)
        for n in walk(node, _in_scope)
    )


def awaits_in(node: cst.CSTNode) -> list[cst.Await]:
    """The ``await`` expressions in ``node`` outside nested functions."""
    return [n for n in walk(node, _in_scope) if isinstance(n, cst.Await)]


# Which methods change their receiver is judged once, for the frontend and the passes alike.
_READ_ONLY_METHODS = READ_ONLY_METHODS


def mutated_roots(node: cst.CSTNode, traced_calls: frozenset[int] = frozenset()) -> list[str]:
    """Names whose object ``node`` may change in place: ``x.m(...)``, ``x[i] = ...``, ``x.a = ...``,
    and the names a ``for`` iterates over when its body changes an item in place (``for row in rows:
    row.append(...)`` changes ``rows``'s elements, so it changes what ``rows`` holds).
    ``traced_calls``: the ids of calls the tracer inlines (``self.summarize(d)`` of a static
    ``self``), which are not such a change here: their bodies are traced."""
    out: dict[str, None] = {}

    def root(e: cst.BaseExpression) -> str | None:
        while isinstance(e, cst.Attribute | cst.Subscript):
            e = e.value
        return e.value if isinstance(e, cst.Name) else None

    for n in walk(node):
        r = None
        if isinstance(n, cst.Call):
            func = n.func
            if (
                isinstance(func, cst.Attribute)
                and func.attr.value not in _READ_ONLY_METHODS
                and id(n) not in traced_calls
            ):
                r = root(func.value)
        elif isinstance(n, cst.AssignTarget | cst.AugAssign | cst.Del):
            if isinstance(n.target, cst.Attribute | cst.Subscript):
                r = root(n.target)
        elif isinstance(n, cst.For) and set(mutated_roots(n.body, traced_calls)) & set(
            _target_names(n.target)
        ):
            out.update(dict.fromkeys(_names_in(n.iter)))
        if r:
            out[r] = None
    return list(out)


def _target_names(target: cst.CSTNode) -> list[str]:
    """The names a loop target binds (``i, (a, b)`` binds ``i``, ``a`` and ``b``)."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, cst.Tuple | cst.List):
        return [n for e in target.elements for n in _target_names(e.value)]
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return []


def _names_in(expr: cst.CSTNode) -> list[str]:
    """The variable names ``expr`` reads (not attribute names or keywords), outside nested scopes."""
    out: dict[str, None] = {}

    class V(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            out[n.value] = None

        def visit_Attribute(self, n: cst.Attribute) -> bool:
            n.value.visit(self)
            return False

        def visit_Arg(self, n: cst.Arg) -> bool:
            n.value.visit(self)
            return False

        def visit_Lambda(self, n: cst.Lambda) -> bool:
            return False

    expr.visit(V())
    return list(out)


def _immutable(value: object) -> bool:
    if isinstance(value, tuple | frozenset):
        return all(_immutable(v) for v in value)
    return not isinstance(value, list | dict | set | bytearray) and (
        isinstance(value, str | bytes | int | float | complex | bool | type(None) | range)
        or callable(value)
        or type(value).__hash__ is not None
    )


def ancestors(src: Any, n: cst.CSTNode) -> list[cst.CSTNode]:
    """The nodes around ``n`` in ``src`` (a ``FunctionSource``), innermost first."""
    out, node = [], src.parents.get(n)
    while node is not None:
        out.append(node)
        node = src.parents.get(node)
    return out


def _has(node: cst.CSTNode, kinds: Any) -> bool:
    """Whether a node of ``kinds`` is under ``node``, outside nested functions and classes (which
    have their own returns and loops)."""
    return any(isinstance(n, kinds) for c in children(node) for n in walk(c, _in_scope))


def _contains_node(outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
    return any(n is inner for n in walk(outer))


def _construct(stmt: cst.CSTNode) -> str:
    if isinstance(stmt, cst.For):
        return "async for" if stmt.asynchronous else "for"
    if isinstance(stmt, cst.With):
        return "async with" if stmt.asynchronous else "with"
    names = {cst.While: "while", cst.Try: "try", cst.If: "if", cst.TryStar: "try"}
    for t, n in names.items():
        if isinstance(stmt, t):
            return n
    return type(stmt).__name__.lower()


def pattern_captures(pattern: cst.CSTNode) -> list[str]:
    """The names a ``case`` pattern binds."""
    out: dict[str, None] = {}

    class V(cst.CSTVisitor):
        def visit_MatchAs(self, n: cst.MatchAs) -> None:
            if n.name is not None:
                out[n.name.value] = None

        def visit_MatchStar(self, n: cst.MatchStar) -> None:
            if n.name is not None:
                out[n.name.value] = None

        def visit_MatchMapping(self, n: cst.MatchMapping) -> None:
            if n.rest is not None:
                out[n.rest.value] = None

    pattern.visit(V())
    return list(out)
