"""What the code around an object does with its attributes: which ones it sets again after its
``__init__`` (``set_again``, ``module_sets``), which chains its class's methods read of ``self``
(``self_chains``) and of an object their constructor keeps (``holder_reads``), and whether its
``__init__`` compares an argument by identity (``tests_identity``). ``made_fields`` keeps a made
object's field as a graph constant only where nothing sets it again, and holds an object in a
field only where its reads go no further than such fields and methods."""

from __future__ import annotations

import abc
import ast
import dataclasses
import functools
import inspect
import sys
import typing

from ..ir.code import dedented, parsed
from .user_code import weak_cache

_DEPTH = 3  # (classes made in an `__init__`, followed at most)

# Bases that declare an interface and set nothing on an object (the modules defining them set
# attributes of classes: ``abc``'s ``__abstractmethods__``), so they are not read for it.
_INTERFACES = frozenset({abc.ABC, typing.Generic, typing.Protocol})


def set_again(cls: type) -> frozenset[str]:
    """The attribute names set in the modules of ``cls`` and its bases, but by an ``__init__`` on
    the object it makes."""
    out: frozenset[str] = frozenset()
    for c in cls.__mro__[:-1]:
        if c not in _INTERFACES:
            out |= module_sets(c.__module__)
    return out


@weak_cache
def self_chains(cls: type) -> tuple[tuple[str, ...], ...] | None:
    """The attribute chains the methods of ``cls`` (and of its bases) but ``__init__`` read of
    ``self`` (``self.retriever.k``: ``("retriever", "k")``); None when one reads ``self`` bare
    (``return self``, ``register(self)``): code elsewhere may then set its fields."""
    chains: list[tuple[str, ...]] = []
    for c in cls.__mro__[:-1]:
        if c in _INTERFACES:
            continue
        for key, fn in vars(c).items():
            if isinstance(fn, staticmethod | classmethod):
                continue  # (no `self`)
            if not inspect.isfunction(fn):
                continue
            where = fn.__code__.co_filename
            if dataclasses.is_dataclass(c) and (where.startswith("<") or where == dataclasses.__file__):
                continue  # (made by the dataclass: `__init__`, `__repr__`, `__eq__`...)
            try:
                tree = parsed(dedented(inspect.getsource(fn)))
            except (OSError, TypeError, SyntaxError):
                return None
            node = tree.body[0]
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not node.args.args:
                continue
            me = node.args.args[0].arg
            up = {id(child): n for n in ast.walk(node) for child in ast.iter_child_nodes(n)}
            for n in ast.walk(node):
                if not (isinstance(n, ast.Name) and n.id == me):
                    continue
                chain: list[str] = []
                at: ast.AST = n
                while isinstance(parent := up.get(id(at)), ast.Attribute) and parent.value is at:
                    chain.append(parent.attr)
                    at = parent
                if chain and isinstance(parent, ast.Call) and parent.func is at:
                    chain.append("__call__")  # (`await self.retriever(q)`)
                if not chain:
                    return None
                if key != "__init__":
                    chains.append(tuple(chain))
    return tuple(chains)


@functools.lru_cache(maxsize=256)
def module_sets(module: str) -> frozenset[str]:
    """The attribute names the module's code sets (``x.a = ``, ``x.a += ``, ``del x.a``,
    ``setattr(x, "a", v)``), but an ``__init__`` on the object it makes (``self.a = a``); every
    name (``"*"``) when it calls ``setattr`` or ``delattr`` with a name computed, may change an
    object's ``__dict__`` (``vars(x).update(d)``: ``_changes_dict``), calls ``__setattr__`` or
    ``__delattr__`` by name, or calls ``__init__`` outside one (``obj.__init__(...)`` makes an
    object again)."""
    mod = sys.modules.get(module)
    try:
        tree = parsed(inspect.getsource(mod)) if mod is not None else None
    except (OSError, TypeError, SyntaxError):
        tree = None
    if tree is None:
        return frozenset({"*"})
    names: set[str] = set()
    making: set[int] = set()  # (the `self.a` an `__init__` sets; what any `__init__` reads)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "__init__" and node.args.args:
            me = node.args.args[0].arg
            for n in ast.walk(node):
                if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == me:
                    making.add(id(n))
                elif isinstance(n, ast.Attribute) and n.attr == "__init__":
                    making.add(id(n))  # (`super().__init__(...)`, `Base.__init__(self, ...)`)
    up = {id(c): n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}
    for node in ast.walk(tree):
        if id(node) in making:
            continue
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add("*" if node.attr == "__dict__" else node.attr)
        elif isinstance(node, ast.Name) and node.id in ("setattr", "delattr"):
            call = up.get(id(node))
            named = isinstance(call, ast.Call) and call.func is node and len(call.args) >= 2
            name = call.args[1] if named else None  # type: ignore[union-attr]
            names.add(name.value if isinstance(name, ast.Constant) and isinstance(name.value, str) else "*")
        elif isinstance(node, ast.Name) and node.id == "vars":
            call = up.get(id(node))
            whole = call if isinstance(call, ast.Call) and call.func is node else node
            names |= {"*"} if _changes_dict(whole, up) else set()
        elif isinstance(node, ast.Attribute) and node.attr == "__dict__":
            names |= {"*"} if _changes_dict(node, up) else set()
        elif isinstance(node, ast.Attribute) and node.attr in ("__setattr__", "__delattr__"):
            names |= set() if _making_itself(node, up) else {"*"}  # (`object.__setattr__(x, k, v)`)
        elif isinstance(node, ast.Attribute) and node.attr == "__init__":
            names.add("*")
    return frozenset(names)


def _making_itself(node: ast.Attribute, up: dict[int, ast.AST]) -> bool:
    """Whether ``node`` (``object.__setattr__``) is called on the object an ``__init__`` or a
    ``__post_init__`` makes (a frozen dataclass setting a field it computes)."""
    call = up.get(id(node))
    fn = up.get(id(call))
    while fn is not None and not isinstance(fn, ast.FunctionDef):
        fn = up.get(id(fn))
    return (
        isinstance(call, ast.Call)
        and call.func is node
        and isinstance(fn, ast.FunctionDef)
        and fn.name in ("__init__", "__post_init__")
        and bool(fn.args.args)
        and bool(call.args)
        and isinstance(call.args[0], ast.Name)
        and call.args[0].id == fn.args.args[0].arg
    )


_DICT_READS = frozenset({"items", "keys", "values", "get", "copy", "__contains__", "__len__", "__iter__"})
_READERS = frozenset(
    {"dict", "list", "tuple", "set", "frozenset", "sorted", "len", "print", "str", "repr", "iter"}
    | {"any", "all", "sum", "max", "min", "enumerate", "zip", "isinstance", "type", "id"}
    | {"dumps", "pformat", "pprint", "deepcopy"}  # (`json.dumps(vars(x))`)
)


def _changes_dict(d: ast.AST, up: dict[int, ast.AST]) -> bool:
    """Whether the module's use of an object's ``__dict__`` (``x.__dict__``, ``vars(x)``) may set
    its attributes: anything but reading it there (an item read, ``items()``, ``get``, iterating,
    ``in``, formatting it, spreading it, ``**vars(cfg)``, handing it to a builtin that only reads,
    ``json.dumps``): an item set, ``update``, an alias, an argument of other code, a return."""
    p = up.get(id(d))
    if isinstance(p, ast.Subscript) and p.value is d:
        return not isinstance(p.ctx, ast.Load)
    if isinstance(p, ast.Attribute) and p.value is d:
        return p.attr not in _DICT_READS
    if isinstance(p, ast.Call):
        reader = p.func.id if isinstance(p.func, ast.Name) else getattr(p.func, "attr", "")
        return p.func is d or reader not in _READERS
    if isinstance(p, ast.keyword):
        return p.arg is not None  # (`f(**vars(cfg))` copies it; `f(state=vars(x))` hands it on)
    if isinstance(p, ast.Dict):
        return not any(k is None and v is d for k, v in zip(p.keys, p.values, strict=True))
    if isinstance(p, ast.For | ast.comprehension):
        return p.iter is not d
    return not isinstance(p, ast.FormattedValue | ast.Compare | ast.Starred)


@weak_cache
def holder_reads(
    cls: type, index: int | None, keyword: str | None
) -> tuple[str, list[tuple[str, ...]]] | None:
    """The chains the methods of ``cls`` read of the object its constructor is handed as the
    ``index``-th positional argument (or as ``keyword``), where its own ``__init__`` keeps it whole
    in one field (``self.repo = repo``; a dataclass's field), which nothing sets again and its
    methods read only further (``self.repo.find(q)``: ``("find", "__call__")``), setting none of
    the attributes they read: the field, and those chains; else None."""
    field = _field_of(cls, index, keyword)
    chains = self_chains(cls)
    sets = set_again(cls)
    if field is None or chains is None or field in sets or "*" in sets:
        return None
    out = [c[1:] for c in chains if c[0] == field]
    if any(not c or sets & set(c) for c in out):
        return None  # (`register(self.repo)`: handed on bare; or an attribute its modules set)
    return field, out


def _field_of(cls: type, index: int | None, keyword: str | None) -> str | None:
    """The field of ``cls`` its constructor keeps the argument in (see ``holder_reads``)."""
    if dataclasses.is_dataclass(cls):
        names = [f.name for f in dataclasses.fields(cls) if f.init]
        if hasattr(cls, "__post_init__") or (index is not None and index >= len(names)):
            return None
        return names[index] if index is not None else keyword if keyword in names else None
    init = vars(cls).get("__init__")
    if not inspect.isfunction(init):
        return None
    try:
        node = parsed(dedented(inspect.getsource(init))).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return None
    if not isinstance(node, ast.FunctionDef) or node.args.vararg or node.args.kwarg:
        return None
    params = [a.arg for a in [*node.args.posonlyargs, *node.args.args]]
    if not params:
        return None
    me, positional = params[0], params[1:]
    param = positional[index] if index is not None and index < len(positional) else keyword
    uses = [n for n in ast.walk(node) if isinstance(n, ast.Name) and n.id == param]
    kept = [
        t.attr
        for stmt in node.body
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Name) and stmt.value.id == param
        for t in stmt.targets
        if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == me
    ]
    return kept[0] if len(uses) == 1 and len(kept) == 1 else None


@weak_cache
def tests_identity(cls: type, depth: int = 0) -> bool:
    """Whether an ``__init__`` of ``cls``, of a base or of a class one makes compares by identity
    (``k is None``): given a stand-in (``_Unknown``) for an argument known only when the workflow
    runs, it would take the branch of no value the argument may have, so the copy is not read.
    (Other uses of the stand-in raise: its truth, ``==``, hashing.)"""
    for c in cls.__mro__[:-1]:
        init = vars(c).get("__init__")
        if not inspect.isfunction(init) or init.__code__.co_filename.startswith("<"):
            continue  # (none, or a dataclass's, made from its fields)
        try:
            tree = parsed(dedented(inspect.getsource(init)))
        except (OSError, TypeError, SyntaxError):
            return True
        for n in ast.walk(tree):
            if isinstance(n, ast.Compare) and any(isinstance(op, ast.Is | ast.IsNot) for op in n.ops):
                return True
            made = (
                init.__globals__.get(n.func.id)
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                else None
            )
            if (
                isinstance(made, type)
                and made is not cls
                and (depth >= _DEPTH or tests_identity(made, depth + 1))
            ):
                return True  # (`self.inner = Inner(k)`: its `__init__` is handed the stand-in too)
    return False
