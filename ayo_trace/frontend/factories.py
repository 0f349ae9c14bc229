"""A factory function whose call the tracer may run, to learn the class of the object it makes.

    def build_app(config: Config | None = None) -> App:
        config = config or Config()
        return App(Retriever(config.collection, top_k=config.top_k), Generator(config.max_tokens))

    app = build_app(Config(top_k=2))      # in the workflow
    await app.retriever.retrieve(q)       # `Retriever.retrieve`, inlined: no graph break

Services reached through a container a function builds have no class the call shows; the object
made in place (``App(Retriever("kb"), ...)``) has (``made_fields``). ``pure`` says whether a function
only makes objects: its body binds local names, may branch with ``if`` and returns the object a call
makes, and every call in it is of a builtin constructor (``list``, ``dict``...), of a class making its
object by setting fields only (the caller's ``simple_class``) or of such a function; nothing in it
awaits, yields, defines a function or names a global or nonlocal to bind. Called with arguments
known at trace time, such a function makes an equal object at every call: the tracer calls it once
(``made_fields``) to learn the class and the constant fields, and the graph still calls it where the
workflow does, once per query. Its reads of module names (and of their attributes) are handed
back, so the caller can check that the workflow does not change them and trace again when one is
bound anew.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import types
from collections.abc import Callable
from typing import Any

from ..ir.code import dedented, parsed
from .user_code import user_function

_DEPTH = 3  # (factories calling factories, at most)
_BUILTINS = frozenset(
    {"list", "dict", "set", "tuple", "str", "int", "float", "bool", "frozenset", "len", "min", "max", "abs"}
    | {"round", "sorted", "isinstance", "range", "enumerate", "zip", "sum", "any", "all"}
)
_STATEMENTS = (ast.Assign, ast.AnnAssign, ast.If, ast.Return, ast.Pass, ast.Expr)
_REFUSED = (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr, ast.Lambda, ast.Global, ast.Nonlocal)


def pure(fn: Any, simple_class: Callable[[Any], bool], depth: int = 0) -> frozenset[tuple[str, ...]] | None:
    """The module names the factory ``fn`` reads, each with the attribute chain it reads of it
    (``("CFG", "budget")``), when it is one (see the module's doc); else None."""
    return _pure(fn, simple_class, depth) if isinstance(fn, types.FunctionType) else None


@functools.lru_cache(maxsize=256)
def _pure(
    fn: types.FunctionType, simple_class: Callable[[Any], bool], depth: int
) -> frozenset[tuple[str, ...]] | None:
    if (
        depth > _DEPTH
        or fn.__closure__
        or inspect.iscoroutinefunction(fn)
        or inspect.isgeneratorfunction(fn)
        or inspect.isasyncgenfunction(fn)
        or user_function(fn) is not fn  # (the user's own, undecorated: a cache hands back old objects)
    ):
        return None
    try:
        tree = parsed(dedented(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None
    node = tree.body[0] if tree.body else None
    if not isinstance(node, ast.FunctionDef) or node.decorator_list:
        return None
    args = node.args
    params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a}
    local = params | {name for n in ast.walk(node) for name in _bound(n)}
    made = _made_names(node)
    if made is None or not _statements_ok(node.body, made):
        return None
    reads: set[tuple[str, ...]] = set()
    up = {id(c): n for n in ast.walk(node) for c in ast.iter_child_nodes(n)}
    for n in ast.walk(ast.Module(body=node.body, type_ignores=[])):
        if isinstance(n, _REFUSED):
            return None
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and _module_name(fn, n.id, local):
            reads.add(_chain(n, up))
        if isinstance(n, ast.Call) and not _maker_ok(fn, n, local, simple_class, depth):
            return None
    return frozenset(reads)


def _module_name(fn: types.FunctionType, name: str, local: set[str]) -> bool:
    """Whether ``fn`` reads ``name`` from its module (a builtin's name it does not bind aside)."""
    return name not in local and (name in fn.__globals__ or not hasattr(builtins, name))


def _chain(n: ast.Name, up: dict[int, ast.AST]) -> tuple[str, ...]:
    """The attribute chain read of a module name (``CFG.llm.budget``: ``("CFG", "llm", "budget")``)."""
    chain = [n.id]
    at: ast.AST = n
    while isinstance(parent := up.get(id(at)), ast.Attribute) and parent.value is at:
        chain.append(parent.attr)
        at = parent
    return tuple(chain)


def _bound(n: ast.AST) -> list[str]:
    """The names an assignment or a comprehension binds (the function's own, not module names)."""
    if isinstance(n, ast.Assign | ast.AnnAssign | ast.comprehension):
        targets = n.targets if isinstance(n, ast.Assign) else [n.target]
        return [x.id for t in targets for x in ast.walk(t) if isinstance(x, ast.Name)]
    return []


def _made_names(node: ast.FunctionDef) -> set[str] | None:
    """The names every binding of which is a call (``app = App(...)``: a new object), or None when
    an assignment binds anything but names (``x.a = ...``, ``d[k] = ...``, ``n += 1``: a change)."""
    fresh: dict[str, bool] = {}
    for n in ast.walk(node):
        if isinstance(n, ast.AugAssign):
            return None
        if not isinstance(n, ast.Assign | ast.AnnAssign):
            continue
        for t in n.targets if isinstance(n, ast.Assign) else [n.target]:
            names = _names_of(t)
            if names is None:
                return None
            for name in names:
                fresh[name] = (
                    fresh.get(name, True) and isinstance(t, ast.Name) and isinstance(n.value, ast.Call)
                )
    return {k for k, v in fresh.items() if v}


def _names_of(t: ast.expr) -> list[str] | None:
    """The names a target binds (``a``, ``a, (b, *c)``); None for an attribute or an item."""
    if isinstance(t, ast.Name):
        return [t.id]
    if not isinstance(t, ast.Tuple | ast.List):
        return None
    out: list[str] = []
    for e in t.elts:
        names = _names_of(e.value if isinstance(e, ast.Starred) else e)
        if names is None:
            return None
        out += names
    return out


def _statements_ok(body: list[ast.stmt], made: set[str]) -> bool:
    """Whether ``body`` binds names, branches with ``if`` and returns a new object only (a call, or
    a name only ever bound to one); a string alone (a docstring) and ``pass`` are let through."""
    for stmt in body:
        if not isinstance(stmt, _STATEMENTS):
            return False
        if isinstance(stmt, ast.Expr) and not (
            isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)
        ):
            return False  # (a call for its effect)
        if isinstance(stmt, ast.If) and not (
            _statements_ok(stmt.body, made) and _statements_ok(stmt.orelse, made)
        ):
            return False
        if isinstance(stmt, ast.Return):
            value = stmt.value
            if not (isinstance(value, ast.Call) or (isinstance(value, ast.Name) and value.id in made)):
                return False  # (`return config`, `return DEFAULT_APP`: an object made before)
    return True


def _maker_ok(fn: types.FunctionType, call: ast.Call, local: set[str], simple_class: Any, depth: int) -> bool:
    """Whether ``call`` in ``fn`` is of a pure builtin (a constructor, ``len``, ``max``...), a
    class of fields only or a factory."""
    if not isinstance(call.func, ast.Name) or call.func.id in local:
        return False
    name = call.func.id
    if name not in fn.__globals__:
        return name in _BUILTINS
    target = fn.__globals__[name]
    if isinstance(target, type):
        return simple_class(target)
    return pure(target, simple_class, depth + 1) is not None
