"""A factory function whose call the tracer may run, to learn the class of the object it makes.

    def build_app(config: Config | None = None) -> App:
        config = config or Config()
        return App(Retriever(config.collection, top_k=config.top_k), Generator(config.max_tokens))

    app = build_app(Config(top_k=2))      # in the workflow
    await app.retriever.retrieve(q)       # `Retriever.retrieve`, inlined: no graph break

Services reached through a container a function builds have no class the call shows; the object made
in place (``App(Retriever("kb"), ...)``) has (``made_fields``). ``pure`` says whether a function
only makes objects: its body binds local names, may branch with ``if`` and returns the object a call
makes, and every call in it is of a pure builtin (``list``, ``dict``, ``len``, ``max``...), of a
class making its object by setting fields only (the caller's ``simple_class``) or of such a
function; nothing in it awaits, yields, defines a function or names a global or nonlocal to bind.
Called with arguments known at trace time, such a function makes an equal object at every call: the
tracer calls it once (``made_fields``) to learn the class and the constant fields, and the graph
still calls it where the workflow does, once per query. Its reads of module names (and of their
attributes) are handed back, so the caller can check that the workflow does not change them and
trace again when one is bound anew. An argument known only when the workflow runs is given to it as
a stand-in that raises at any use but storing (``made_fields._Unknown``), so nothing the factory
computes can depend on it but through identity (``is``, ``isinstance``), which ``sees_identity``
looks for: where it could, there is no copy.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import types
from collections.abc import Callable
from typing import Any

from ..ir.code import dedented, parsed
from . import attribute_uses
from .user_code import read_attribute, user_function, weak_cache

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
    if inspect.ismethod(fn) and isinstance(fn.__self__, type) and isinstance(fn.__func__, types.FunctionType):
        return _pure(fn.__func__, simple_class, depth, fn.__self__)  # (`Retriever.default()`)
    return _pure(fn, simple_class, depth) if isinstance(fn, types.FunctionType) else None


@weak_cache
def _pure(
    fn: types.FunctionType, simple_class: Callable[[Any], bool], depth: int, owner: type | None = None
) -> frozenset[tuple[str, ...]] | None:
    """``pure``'s answer for ``fn``; ``owner``: the class a class method of it is bound to, which
    its first parameter names (called only: ``return cls(2)``)."""
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
    if not isinstance(node, ast.FunctionDef) or not _plain_decorators(node, owner):
        return None
    args = node.args
    params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a}
    local = params | {name for n in ast.walk(node) for name in _bound(n)}
    made = _made_names(node)
    if made is None or not _statements_ok(node.body, made):
        return None
    maker = args.args[0].arg if owner is not None and args.args else None
    if maker is not None and not simple_class(owner):
        return None
    reads: set[tuple[str, ...]] = set()
    up = {id(c): n for n in ast.walk(node) for c in ast.iter_child_nodes(n)}
    for n in ast.walk(ast.Module(body=node.body, type_ignores=[])):
        if isinstance(n, _REFUSED):
            return None
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and _module_name(fn, n.id, local):
            reads.add(_chain(n, up))
        if isinstance(n, ast.Name) and n.id == maker and getattr(up.get(id(n)), "func", None) is not n:
            named = owner is not None and fn.__globals__.get(owner.__name__) is owner
            if not (named and isinstance(up.get(id(n)), ast.Attribute)):
                return None  # (the class read otherwise than called or by attribute: `f(cls)`)
            assert owner is not None  # (`cls.presets["fast"]`: the module's class, read as a name)
            reads.add((owner.__name__, *_chain(n, up)[1:]))
        if isinstance(n, ast.Call) and not (
            (isinstance(n.func, ast.Name) and n.func.id == maker)
            or _maker_ok(fn, n, local, simple_class, depth)
        ):
            return None
    return frozenset(reads)


def _plain_decorators(node: ast.FunctionDef, owner: type | None) -> bool:
    """Whether ``node`` has no decorator, or only ``@classmethod`` for a class method."""
    decorators = node.decorator_list
    if owner is None:
        return not decorators
    return len(decorators) == 1 and isinstance(decorators[0], ast.Name) and decorators[0].id == "classmethod"


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


@weak_cache
def sees_identity(fn: types.FunctionType, unknown: frozenset[str], depth: int = 0) -> bool:
    """Whether the factory ``fn``, given stand-ins for the arguments of its parameters ``unknown``,
    could tell one from a value by identity: an ``is`` or ``isinstance`` of anything but a
    constant or a parameter known whole (bound again only to new objects: ``cfg = cfg or
    Config()``), or a call of a class whose ``__init__`` compares by identity
    (``attribute_uses.tests_identity``) or of a factory that could (any of its arguments may be
    one)."""
    try:
        node = parsed(dedented(inspect.getsource(fn))).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return True
    if not isinstance(node, ast.FunctionDef) or depth > _DEPTH:
        return True
    args = node.args
    params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    known = {p for p in params - unknown if all(_keeps_identity(v, p) for v in _assigned(node, p))}
    for n in ast.walk(node):
        if (
            isinstance(n, ast.Compare)
            and any(isinstance(op, ast.Is | ast.IsNot) for op in n.ops)
            and not all(_whole(o, known) for o in [n.left, *n.comparators])
        ):
            return True
        if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Name)):
            continue
        target = fn.__globals__.get(n.func.id)
        if n.func.id == "isinstance" and target is None and not (n.args and _whole(n.args[0], known)):
            return True
        if isinstance(target, type) and attribute_uses.tests_identity(target):
            return True
        if isinstance(target, types.FunctionType):
            inner = inspect.signature(target).parameters
            if sees_identity(target, frozenset(inner), depth + 1):
                return True
    return False


def _whole(e: ast.expr, known: set[str]) -> bool:
    return isinstance(e, ast.Constant) or (isinstance(e, ast.Name) and e.id in known)


def _assigned(node: ast.FunctionDef, name: str) -> list[ast.expr]:
    """The values ``name`` is bound to in ``node``'s body (a target of several names: ``None``)."""
    out: list[ast.expr] = []
    for n in ast.walk(node):
        if isinstance(n, ast.Assign | ast.AnnAssign) and n.value is not None:
            for t in n.targets if isinstance(n, ast.Assign) else [n.target]:
                if isinstance(t, ast.Name) and t.id == name:
                    out.append(n.value)
                elif any(isinstance(x, ast.Name) and x.id == name for x in ast.walk(t)):
                    out.append(ast.Constant(None, kind="several"))  # (unpacked: not followed)
    return out


def _keeps_identity(value: ast.expr, name: str) -> bool:
    """Whether binding ``name`` to ``value`` keeps it a value known whole: a new object (a call),
    the name itself, or a choice of those (``cfg or Config()``, ``cfg if cfg is not None else
    Config()``)."""
    if isinstance(value, ast.Call) or (isinstance(value, ast.Name) and value.id == name):
        return True
    if isinstance(value, ast.BoolOp):
        return all(_keeps_identity(v, name) for v in value.values)
    if isinstance(value, ast.IfExp):
        return _keeps_identity(value.body, name) and _keeps_identity(value.orelse, name)
    return False


def saw_reads(deps: Any, module: dict[str, Any], reads: frozenset[tuple[str, ...]]) -> None:
    """Record the module names a factory reads, and their attributes (``CFG.budget``), as folding
    records its own: the graph is traced again when one holds another value."""
    for name, *attrs in reads:
        if name not in module:
            continue
        deps.saw_global(module, name)
        owner = module[name]
        missing = object()
        for attr in attrs:
            value = read_attribute(owner, attr, missing)
            if value is missing or callable(value):
                break
            deps.saw_attribute(owner, attr, value)
            owner = value
