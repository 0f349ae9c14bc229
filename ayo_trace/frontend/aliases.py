"""Names of the workflow that may hold the same object, so that changing one changes the others.

``first = rows[0]`` then ``first.append(x)`` changes ``rows``; ``notes = state["notes"]`` then
``notes.append(x)`` changes ``state``; ``view = log`` then ``view.append(x)`` changes ``log``. The
graph passes objects between nodes by reference, exactly as Python does, so the values are right as
long as every node reading one of the names runs after the node that changed it: a statement that
changes a name in place therefore hands on every name of its group (``Compiler.mutated_locals``),
and later reads depend on it. The groups are flow-insensitive and conservative: two names are in one
group when anywhere in the workflow one is assigned a reference into the other (a name, or
attributes and subscripts of one). ``for`` targets are items of what they iterate (``state.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import libcst as cst

from . import closures, made_fields
from .source import FunctionSource
from .state import awaits_in, mutated_roots, walk
from .values import Static, Traced, Value

if TYPE_CHECKING:
    from .builder import Builder


def groups(src: FunctionSource) -> dict[str, frozenset[str]]:
    """Each workflow name that shares an object with others, mapped to its whole group."""
    if src.aliases is not None:
        return src.aliases
    parent: dict[str, str] = {}

    def find(n: str) -> str:
        while parent.get(n, n) != n:
            n = parent[n]
        return n

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb

    for node in walk(src.node.body, lambda n: isinstance(n, cst.FunctionDef | cst.ClassDef | cst.Lambda)):
        pairs: list[tuple[cst.BaseExpression, cst.BaseExpression]] = []
        if isinstance(node, cst.Assign):
            pairs = [(t.target, node.value) for t in node.targets]
        elif isinstance(node, cst.AnnAssign | cst.NamedExpr) and node.value is not None:
            pairs = [(node.target, node.value)]
        for target, value in pairs:
            root = _root(value)
            if isinstance(target, cst.Name) and root is not None and root != target.value:
                union(target.value, root)
    members: dict[str, set[str]] = {}
    for n in list(parent):
        members.setdefault(find(n), set()).add(n)
    out: dict[str, frozenset[str]] = {}
    for group in members.values():
        whole = frozenset(group | {find(next(iter(group)))})
        for n in whole:
            out[n] = whole
    src.aliases = out
    return out


def _root(e: cst.BaseExpression) -> str | None:
    """``x`` for ``x``, ``x.a``, ``x[i]``, ``x.a[i].b``, ``x.get(k)``, ``x.setdefault(k, [])`` (a
    reference into ``x``), else None."""
    while True:
        if isinstance(e, cst.Attribute | cst.Subscript):
            e = e.value
        elif (
            isinstance(e, cst.Call)
            and isinstance(e.func, cst.Attribute)
            and e.func.attr.value in ("get", "setdefault")
        ):
            e = e.func.value
        else:
            break
    return e.value if isinstance(e, cst.Name) else None


def mutated_locals(comp: Builder, stmt: cst.CSTNode, lifted: frozenset[int] = frozenset()) -> list[str]:
    """The workflow's names ``stmt`` changes in place (also through a helper method or a closure
    it calls), with every name that may hold the same object and is bound to a traced value.
    ``lifted``: the ids of parts of ``stmt`` traced as nodes of their own (the awaits of an ANF
    statement), whose changes those nodes hand on."""
    local = comp.src.free_names(stmt)[0]
    helpers = frozenset(
        id(a.expression)
        for a in awaits_in(stmt)
        if isinstance(a.expression, cst.Call)
        and isinstance(a.expression.func, cst.Attribute)
        and comp.exprs.helper_of(a) is not None
    )
    if lifted:
        inside = (n for part in walk(stmt) if id(part) in lifted for n in walk(part))
        helpers |= frozenset(id(n) for n in inside if isinstance(n, cst.Call))
    roots = mutated_roots(stmt, helpers)
    through = closures.uses(comp.src, local)[1]  # what a closure it calls changes in place
    changed = list(dict.fromkeys([*(n for n in roots if n in local), *through]))
    shared = groups(comp.src)  # and every name that may hold the same object
    for n in list(changed):
        for alias in sorted(shared.get(n, ())):
            if alias not in changed and comp.is_bound(alias) and not isinstance(peek(comp, alias), Static):
                changed.append(alias)
    return changed


def classes_of(comp: Builder, changed: list[str], names: list[str]) -> dict[str, tuple[Any, Any]]:
    """The objects of plain classes among the names a statement changes in place (and does not
    bind), with the class and constant fields they keep (``self.memory.append(...)``:
    ``Traced.cls``, ``Traced.fields``; what sets a field again is none of them, see
    ``made_fields``): made by the workflow, or known at trace time (a module's ``RETRIEVER``)."""
    out: dict[str, tuple[Any, Any]] = {}
    for n in changed:
        v = peek(comp, n)
        if n in names:
            continue
        if isinstance(v, Traced) and v.cls:
            out[n] = (v.cls, v.fields)
        elif isinstance(v, Static) and made_fields.plain_class(type(v.value)):
            out[n] = (type(v.value), made_fields.fields_of(comp, v.value))
    return out


def restore_classes(comp: Builder, classes: dict[str, tuple[Any, Any]]) -> None:
    """Give the names of ``classes_of``, rebound to the statement's node, their class back."""
    for n, (cls, fields) in classes.items():
        if isinstance(now := comp.env.get(n), Traced):
            comp.env[n] = Traced(now.node, cls=cls, fields=fields)


def peek(comp: Builder, name: str) -> Value | None:
    """The value ``name`` has here, without capturing it into a body (None when unbound)."""
    c: Builder | None = comp
    while c is not None:
        if name in c.env:
            return c.env[name]
        c = c.parent
    return None
