"""What a statement reads and changes, site by site, for ``interleaving`` (the objects a helper's
statements touch, and whether before or after the statement's awaits)."""

from __future__ import annotations

import libcst as cst

from ..ir.mutation import READ_ONLY_METHODS
from .state import _names_in, contains_await, mutated_roots, walk


def whole_sites(stmt: cst.CSTNode) -> list[tuple[str, str | None, bool, str]]:
    """What a compound statement reads and changes, anywhere in it (whole objects)."""
    out: list[tuple[str, str | None, bool, str]] = [(n, None, False, "both") for n in _names_in(stmt)]
    return out + [(n, None, True, "both") for n in mutated_roots(stmt)]


def statement_sites(stmt: cst.CSTNode) -> list[tuple[str, str | None, bool, str]]:
    """What a simple statement reads and changes, each ``(name, field, changes, when)``: ``field``
    the attribute of the name it reaches (``self.history.append(x)``: ``history`` of ``self``),
    ``when`` is ``pre`` when it is evaluated before the statement's awaits (inside an awaited
    call's arguments), ``post`` after them (a change made by a call or an assignment whose value
    awaits: ``out.append(await f())``, ``d[k] = await f()``), else ``both``. The receiver of a
    change (``out`` in ``out.append``) is not a read of the object's contents."""
    out: list[tuple[str, str | None, bool, str]] = []
    receivers: set[int] = set()
    inside_await: set[int] = set()
    fields: dict[int, str] = {}  # a name's id -> the attribute read of it (`self.history`)
    for n in walk(stmt):
        if isinstance(n, cst.Await):
            inside_await.update(id(m) for m in walk(n.expression))
        elif isinstance(n, cst.Attribute):
            receivers.add(id(n.attr))  # (an attribute's name is no variable)
            if isinstance(n.value, cst.Name):
                fields[id(n.value)] = n.attr.value
        elif isinstance(n, cst.Arg) and n.keyword is not None:
            receivers.add(id(n.keyword))

    def root(e: cst.BaseExpression) -> cst.Name | None:
        while isinstance(e, cst.Attribute | cst.Subscript):
            e = e.value
        return e if isinstance(e, cst.Name) else None

    def when(site: cst.CSTNode, value: cst.CSTNode | None) -> str:
        if id(site) in inside_await:
            return "pre"
        return "post" if value is not None and contains_await(value) else "both"

    def change(target: cst.BaseExpression, at: str, *, reads: str | None = None) -> None:
        r = root(target)
        if r is None:
            return
        receivers.add(id(r))
        field = None  # (the attribute of the root the change reaches: `history` of `self.history`)
        while isinstance(target, cst.Attribute | cst.Subscript):
            if isinstance(target, cst.Attribute) and target.value is r:
                field = target.attr.value
            target = target.value
        if reads is not None:
            out.append((r.value, field, False, reads))
        out.append((r.value, field, True, at))

    for n in walk(stmt):
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute):
            if n.func.attr.value not in READ_ONLY_METHODS:
                args = cst.Tuple([cst.Element(a.value) for a in n.args]) if n.args else None
                change(n.func.value, when(n, args))
        elif isinstance(n, cst.Assign):
            for t in n.targets:
                if isinstance(t.target, cst.Attribute | cst.Subscript):
                    change(t.target, when(t, n.value))
        elif isinstance(n, cst.AugAssign) and isinstance(n.target, cst.Attribute | cst.Subscript):
            change(n.target, when(n, n.value), reads="pre" if contains_await(n.value) else "both")
        elif isinstance(n, cst.Del):
            change(n.target, "both")
    for n in walk(stmt):
        if isinstance(n, cst.Name) and id(n) not in receivers:
            out.append((n.value, fields.get(id(n)), False, "pre" if id(n) in inside_await else "both"))
    return out
