"""Names of the workflow that only ever hold strings or numbers, which nothing changes in place.

Handing one to a function, ``+=`` on one, or a method of it changes no object, so what the alias
and effect rules count as a change of a name (``aliases.py``) leaves these names out.
"""

from __future__ import annotations

import libcst as cst

from ..ir.mutation import PURE_STR_METHODS
from .source import FunctionSource
from .state import walk

# Builtins whose result holds no object of their arguments (a number, a new string, a bool).
FRESH_CALLS = frozenset(
    {"len", "str", "repr", "int", "float", "bool", "abs", "round", "format", "hash", "id", "ascii",
     "isinstance", "ord", "chr", "sum", "callable", "hasattr"}
)  # fmt: skip


_IMMUTABLE_TYPES = frozenset({"str", "int", "float", "bool", "bytes", "complex", "None"})


def immutable_names(src: FunctionSource) -> frozenset[str]:
    """The workflow's names that only ever hold values nothing changes in place: a parameter
    annotated ``str``, ``int``, ``float``, ``bool`` (or ``str | None``), a name every assignment
    of which makes a string or a number (``f"..."``, ``"".join(...)``, ``len(xs)``,
    ``x.strip()``, ``await ayo.llm(...)``). Handing one to a function, or ``+=`` on one, changes
    no object."""
    if src.immutable is not None:
        return src.immutable
    out: set[str] = set()
    for p in src.node.params.params:
        note = p.annotation.annotation if p.annotation is not None else None
        text = src.code(note).replace(" ", "") if note is not None else ""
        if text and set(text.split("|")) <= _IMMUTABLE_TYPES:
            out.add(p.name.value)
    values: dict[str, list[cst.BaseExpression | None]] = {}
    for n in walk(src.node.body, lambda n: isinstance(n, cst.FunctionDef | cst.ClassDef | cst.Lambda)):
        if isinstance(n, cst.Assign):
            for t in n.targets:
                for name in src.assigned_names(t.target):
                    values.setdefault(name, []).append(n.value if isinstance(t.target, cst.Name) else None)
        elif isinstance(n, cst.AnnAssign | cst.AugAssign) and isinstance(n.target, cst.Name):
            value = n.value if isinstance(n, cst.AnnAssign) else (n.value if _scalar(n.value) else None)
            values.setdefault(n.target.value, []).append(value)
        elif isinstance(n, cst.For | cst.CompFor | cst.With | cst.NamedExpr | cst.ExceptHandler):
            for name in src.assigned_names(
                n.target if not isinstance(n, cst.With | cst.ExceptHandler) else n
            ):
                values.setdefault(name, []).append(None)
    for p in src.node.params.params:  # (a parameter assigned again keeps its annotation's promise)
        if p.name.value in out and any(v is None or not _scalar(v) for v in values.get(p.name.value, [])):
            out.discard(p.name.value)
    for name, vs in values.items():
        if name not in out and all(v is not None and _scalar(v) for v in vs) and not _is_param(src, name):
            out.add(name)
    src.immutable = frozenset(out)
    return src.immutable


def _scalar(e: cst.BaseExpression) -> bool:
    """Whether ``e`` makes a string or a number (``_fresh``), or is an LLM's answer as text."""
    if isinstance(e, cst.Await) and isinstance(e.expression, cst.Call):
        func = e.expression.func
        named = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
        return named == "llm" and not any(
            a.keyword is not None and a.keyword.value == "parse" for a in e.expression.args
        )
    if isinstance(e, cst.Await):
        return False
    if isinstance(e, cst.BinaryOperation):
        return _scalar(e.left) and _scalar(e.right)
    if isinstance(e, cst.IfExp):
        return _scalar(e.body) and _scalar(e.orelse)
    return (
        isinstance(
            e, cst.SimpleString | cst.FormattedString | cst.ConcatenatedString | cst.Integer | cst.Float
        )
        or (isinstance(e, cst.Call) and _scalar_call(e))
        or isinstance(e, cst.Comparison)
    )


def _scalar_call(e: cst.Call) -> bool:
    if isinstance(e.func, cst.Name):
        return e.func.value in FRESH_CALLS
    return (
        isinstance(e.func, cst.Attribute)
        and e.func.attr.value in PURE_STR_METHODS
        and e.func.attr.value not in ("split", "rsplit", "splitlines", "partition")
    )


def _is_param(src: FunctionSource, name: str) -> bool:
    return any(p.name.value == name for p in src.node.params.params)
