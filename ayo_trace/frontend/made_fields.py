"""The fields an object the workflow makes holds from the start, known at trace time.

    class RAG:
        def __init__(self, collection: str, k: int = 4):
            self.collection = collection
            self.k = k
        async def answer(self, q):
            hits = await ayo.search(q, collection=self.collection, top_k=self.k)
            ...

    rag = RAG("docs", k=3)          # in the workflow
    return await rag.answer(q)      # `collection=self.collection`: the graph constant "docs"

The object is still made where the workflow makes it, once per query (a ``python`` node). When
its class is plain, the call's arguments are known at trace time and its ``__init__`` only sets
fields (``self.x = <expression calling no function but a builtin constructor>``; a dataclass's
with no ``__post_init__``), the tracer makes one too, to read the fields it starts with. A field
counts when its value is a constant (a string, a number, a tuple of them...) and no code of the
class's module nor of the workflow's sets an attribute of that name again (``x.collection =
...``, ``del``, or ``setattr``/``vars`` anywhere there; a frozen dataclass's are never set again): its
reads (``self.collection``) are then that constant, as a module-level object's fields are, and
a call using it as a graph constant (``collection=``, ``max_tokens=``) is traced instead of being
a graph break.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import libcst as cst

from ..ir.code import parsed
from .state import walk

if TYPE_CHECKING:
    from .builder import Builder

_BUILTIN_MAKERS = frozenset({"list", "dict", "set", "tuple", "str", "int", "float", "bool", "frozenset"})


def initial_fields(
    comp: Builder, name: str, call: cst.BaseExpression, cls: type | None
) -> dict[str, Any] | None:
    """The constant fields ``name = call`` (``cls(...)``) makes, which nothing sets again; None if
    none, or if the object is handed to code that could (``configure(name)``, ``other = name``, a
    method passing ``self`` on)."""
    if cls is None or not isinstance(call, cst.Call) or not _sets_fields_only(cls):
        return None
    if _handed_on(comp, name, call) or _passes_self(cls):
        return None
    found = comp.exprs.static_arguments(call.args)
    if found is None:
        return None
    args, kwargs = found
    try:
        made = cls(*args, **kwargs)
        state = dict(vars(made))
    except Exception:
        return None  # (it raises as it should when the workflow runs)
    frozen = dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    changed = frozenset() if frozen else _set_again(cls)
    if not frozen and (module := getattr(comp.src.fn, "__module__", "") or "") != cls.__module__:
        changed |= _module_sets(module, 0)  # (the module that makes it)
    if "*" in changed:
        return None
    fields = {k: v for k, v in state.items() if _constant(v) and k not in changed}
    return fields or None


def _constant(value: object) -> bool:
    if isinstance(value, tuple | frozenset):
        return all(_constant(v) for v in value)
    return value is None or isinstance(value, str | bytes | int | float | bool)


def _sets_fields_only(cls: type) -> bool:
    """Whether making a ``cls`` only sets its fields from the arguments (see the module's doc)."""
    if cls.__new__ is not object.__new__ or (dataclasses.is_dataclass(cls) and hasattr(cls, "__post_init__")):
        return False
    if dataclasses.is_dataclass(cls):  # (a frozen one sets nothing again: its `__setattr__` raises)
        return cls.__dataclass_params__.frozen or cls.__setattr__ is object.__setattr__  # type: ignore[attr-defined]
    if cls.__setattr__ is not object.__setattr__:
        return False
    init = cls.__dict__.get("__init__")
    if init is None:
        return all(
            base is object or (isinstance(base, type) and base.__init__ is object.__init__)  # type: ignore[misc]
            for base in cls.__mro__
        )
    try:
        tree = parsed(textwrap.dedent(inspect.getsource(init)))
    except (OSError, TypeError, SyntaxError):
        return False
    fn = tree.body[0]
    if not isinstance(fn, ast.FunctionDef) or not fn.args.args:
        return False
    me = fn.args.args[0].arg
    body = fn.body[1:] if fn.body and _is_docstring(fn.body[0]) else fn.body
    for stmt in body:
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        else:
            return False
        if not all(
            isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == me
            for t in targets
        ):
            return False
        for n in ast.walk(value):
            if isinstance(n, ast.Call) and not (
                isinstance(n.func, ast.Name) and n.func.id in _BUILTIN_MAKERS
            ):
                return False
            if isinstance(n, ast.Await | ast.Yield | ast.YieldFrom | ast.NamedExpr | ast.Lambda):
                return False
    return True


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _set_again(cls: type) -> frozenset[str]:
    """The attribute names set in the modules of ``cls`` and its bases, but in its ``__init__``."""
    init = cls.__dict__.get("__init__")
    line = getattr(getattr(init, "__code__", None), "co_firstlineno", 0)
    out: frozenset[str] = frozenset()
    for c in cls.__mro__[:-1]:
        out |= _module_sets(c.__module__, line if c.__module__ == cls.__module__ else 0)
    return out


def _handed_on(comp: Builder, name: str, call: cst.Call) -> bool:
    """Whether the function making the object reads ``name`` other than as ``name.<attribute>``."""
    src = comp.src
    for n in walk(src.node.body):
        if not isinstance(n, cst.Name) or n.value != name:
            continue
        parent = src.parents.get(n)
        if isinstance(parent, cst.Attribute) and parent.value is n:
            continue
        if isinstance(parent, cst.AssignTarget) or (
            isinstance(parent, cst.Element)
            and isinstance(src.parents.get(src.parents.get(parent)), cst.AssignTarget)
        ):
            continue  # (a binding: this one, or another object's; `a, b = A(), B()`)
        return True
    return False


@functools.lru_cache(maxsize=256)
def _passes_self(cls: type) -> bool:
    """Whether a method of ``cls`` (or of a base) reads ``self`` other than as ``self.<attribute>``
    (``return self``, ``register(self)``): code elsewhere may then set its fields."""
    for c in cls.__mro__[:-1]:
        for fn in vars(c).values():
            fn = getattr(fn, "__func__", fn)
            if not inspect.isfunction(fn):
                continue
            where = fn.__code__.co_filename
            if dataclasses.is_dataclass(c) and (where.startswith("<") or where == dataclasses.__file__):
                continue  # (made by the dataclass: `__init__`, `__repr__`, `__eq__`...)
            try:
                tree = parsed(textwrap.dedent(inspect.getsource(fn)))
            except (OSError, TypeError, SyntaxError):
                return True
            node = tree.body[0]
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not node.args.args:
                continue
            me = node.args.args[0].arg
            bases = {id(a.value) for a in ast.walk(node) if isinstance(a, ast.Attribute)}
            if any(isinstance(n, ast.Name) and n.id == me and id(n) not in bases for n in ast.walk(node)):
                return True
    return False


@functools.lru_cache(maxsize=256)
def _module_sets(module: str, init_line: int) -> frozenset[str]:
    """The attribute names the module's code sets (``x.a = ``, ``x.a += ``, ``del x.a``), but in the
    function starting at ``init_line``; every name (``"*"``) when it calls ``setattr``, ``delattr``
    or ``vars``, or reads ``__dict__``."""
    mod = sys.modules.get(module)
    try:
        tree = parsed(inspect.getsource(mod)) if mod is not None else None
    except (OSError, TypeError, SyntaxError):
        tree = None
    if tree is None:
        return frozenset({"*"})
    names: set[str] = set()
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.lineno == init_line and node.name == "__init__":
            skip.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.attr)
        elif (isinstance(node, ast.Name) and node.id in ("setattr", "vars", "delattr")) or (
            isinstance(node, ast.Attribute) and node.attr == "__dict__"
        ):
            names.add("*")
    return frozenset(names)


def field_reads_only(e: cst.CSTNode, name: str, fields: dict[str, Any]) -> bool:
    """Whether ``e`` reads ``name`` only as ``name.<field>`` of ``fields`` (nothing else of it)."""
    ok = set()
    names = []

    class V(cst.CSTVisitor):
        def visit_Attribute(self, n: cst.Attribute) -> None:
            if isinstance(n.value, cst.Name) and n.value.value == name and n.attr.value in fields:
                ok.add(id(n.value))

        def visit_Name(self, n: cst.Name) -> None:
            if n.value == name:
                names.append(n)

    e.visit(V())
    return all(id(n) in ok for n in names)
