"""libcst helpers the frontend shares: walking a tree without entering nested scopes, what a
statement awaits, binds in a ``case`` pattern or changes in place."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from typing import Any

import libcst as cst

from ..ir.mutation import CHANGING_CALLS, NAMESPACE_CALLS, READ_ONLY_METHODS
from .visiting import WHITESPACE, is_node, memo, visit

_SCOPE_NODES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)


@functools.cache
def _child_fields(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind))


_WALKED: dict[type, bool] = {}


def _walked(kind: type) -> bool:
    """Whether ``children`` lists a value of type ``kind``: a libcst node, not whitespace."""
    found = _WALKED.get(kind)
    if found is None:
        found = _WALKED[kind] = issubclass(kind, cst.CSTNode) and not issubclass(kind, WHITESPACE)
    return found


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The nodes directly under ``node``, but whitespace and comments. libcst's own ``children``
    and ``visit`` rebuild every node they pass; the compiler asks such questions of the same
    statements many times per trace (so the checks are written out here, and what is found kept
    while ``visiting.remembering``: a third of its time)."""
    found = memo()
    if found is not None:
        hit = found[0].get(id(node))
        if hit is None:
            hit = found[0][id(node)] = (node, _children(node))
        return hit[1]
    return _children(node)


def _children(node: cst.CSTNode) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    walked = _WALKED.get
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        kind = type(value)
        if kind is list or kind is tuple:
            for item in value:
                found = walked(type(item))
                if found or (found is None and _walked(type(item))):
                    out.append(item)
        else:
            found = walked(kind)
            if found or (found is None and _walked(kind)):
                out.append(value)
    return out


def walk(node: cst.CSTNode, prune: Callable[[cst.CSTNode], bool] | None = None) -> Iterator[cst.CSTNode]:
    """``node`` and every node under it (but whitespace and comments: ``children``); below a node
    for which ``prune`` is true, nothing."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if prune is None or not prune(n):
            stack.extend(children(n))


def _every_child(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The nodes directly under ``node``, whitespace too (libcst's provider has their parents)."""
    out: list[cst.CSTNode] = []
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        if type(value) is list or type(value) is tuple:
            out.extend(item for item in value if is_node(type(item)))
        elif is_node(type(value)):
            out.append(value)
    return out


def parents_of(root: cst.CSTNode) -> dict[cst.CSTNode, cst.CSTNode] | None:
    """Each node under ``root`` and the node it stands in: what libcst's ``ParentNodeProvider``
    finds, without its visit (which rebuilds every node and lists the visitor's methods with
    ``inspect.getmembers`` each time). None when a node stands in two places (a rewrite may put one
    node object twice), where which parent libcst records depends on its order of visiting."""
    out: dict[cst.CSTNode, cst.CSTNode] = {}
    stack = [root]
    while stack:
        n = stack.pop()
        for c in _every_child(n):
            if c in out:
                return None
            out[c] = n
            stack.append(c)
    return out


# Sets of concrete node types, which no node's type derives from: `type(n) in` them is `isinstance`
# without libcst's abstract base class's check, which runs Python code for each node not of them
_SCOPE_TYPES = frozenset(_SCOPE_NODES)
_LOOPS = frozenset((cst.For, cst.While))
_ASYNC_KINDS = frozenset((cst.With, cst.For, cst.CompFor))
_STORES = frozenset((cst.AssignTarget, cst.AugAssign, cst.Del))
_COMPREHENSIONS = frozenset((cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp))


def _in_scope(n: cst.CSTNode) -> bool:
    return type(n) in _SCOPE_TYPES


def leaves_loop(node: cst.CSTNode, kinds: tuple[type[cst.CSTNode], ...]) -> bool:
    """Whether ``node`` holds a jump of ``kinds`` (``break``, ``continue``) of the loop around it:
    not one of a nested loop's body (its own), but one of a nested loop's ``else``."""
    if isinstance(node, cst.For | cst.While):  # its own body's jumps are its own; its `else` may jump out
        return node.orelse is not None and leaves_loop(node.orelse, kinds)
    nested = frozenset((cst.For, cst.While, *_SCOPE_NODES))
    return any(
        isinstance(n, kinds) or (type(n) in _LOOPS and leaves_loop(n, kinds))
        for c in children(node)
        for n in walk(c, lambda n: type(n) in nested)
    )


def has_return(node: cst.CSTNode) -> bool:
    """Whether ``node`` holds a ``return`` outside nested functions and classes."""
    return any(type(n) is cst.Return for n in walk(node, _in_scope))


def contains_await(node: cst.CSTNode) -> bool:
    """Whether ``node`` awaits anything outside nested functions (``async with``/``async for``
    await too), also in the header of one it defines (``def f(p=await g())``: ``header_awaits``)."""
    return any(
        type(n) is cst.Await
        or (type(n) in _ASYNC_KINDS and n.asynchronous is not None)  # type: ignore[attr-defined]
        or (type(n) in _SCOPE_TYPES and _header_await(n))
        for n in walk(node, _in_scope)
    )


HEADER_AWAITS = (
    "a `def`, `class` or `lambda` whose header awaits (a default, a decorator, a base: `def f(p=await "
    "g())`), evaluated where it stands, in the workflow's scope: run as written"
)


def header_awaits(node: cst.CSTNode) -> bool:
    """Whether an ``await`` stands in the header of a function, class or ``lambda`` in ``node``
    (a default, a decorator, an annotation, a base class): Python evaluates it where the ``def``
    stands, in the scope around."""
    return any(isinstance(n, _SCOPE_NODES) and _header_await(n) for n in walk(node, _in_scope))


def _header_await(n: cst.CSTNode) -> bool:
    parts: list[cst.CSTNode] = []
    if isinstance(n, cst.FunctionDef | cst.Lambda):
        params = n.params
        parts += [
            p.default for p in (*params.posonly_params, *params.params, *params.kwonly_params) if p.default
        ]
        if isinstance(n, cst.FunctionDef):
            parts += [*n.decorators, *(p.annotation for p in params.params if p.annotation)]
    elif isinstance(n, cst.ClassDef):
        parts += [*n.decorators, *n.bases, *n.keywords]
    return any(isinstance(x, cst.Await) for part in parts for x in walk(part))


def awaits_in(node: cst.CSTNode) -> list[cst.Await]:
    """The ``await`` expressions in ``node`` outside nested functions."""
    return [n for n in walk(node, _in_scope) if isinstance(n, cst.Await)]


# Which methods change their receiver is judged once, for the frontend and the passes alike.
_READ_ONLY_METHODS = READ_ONLY_METHODS


def mutated_roots(
    node: cst.CSTNode,
    traced_calls: frozenset[int] = frozenset(),
    unnamed: list[cst.BaseExpression] | None = None,
) -> list[str]:
    """Names whose object ``node`` may change in place: ``x.m(...)``, ``x[i] = ...``, ``x.a = ...``,
    and the names a ``for`` iterates over when its body changes an item in place (``for row in rows:
    row.append(...)`` changes ``rows``'s elements, so it changes what ``rows`` holds).
    ``traced_calls``: the ids of calls the tracer inlines (``self.summarize(d)`` of a static
    ``self``), which are not such a change here: their bodies are traced. ``unnamed``: where to
    add what a change reaches that no name is the root of (``memory.get("facts")`` of
    ``memory.get("facts").append(x)``, ``min(queues, key=len)``, ``facts()``), whose object may
    be any the expression holds (``aliases.held_by``). Found once per node while
    ``visiting.remembering``."""
    found = memo()
    if found is None:
        return _mutated_roots(node, traced_calls, unnamed)
    hit = found[3].get((id(node), traced_calls))
    if hit is None:
        reached: list[cst.BaseExpression] = []
        hit = found[3][(id(node), traced_calls)] = (
            node,
            (_mutated_roots(node, traced_calls, reached), reached),
        )
    if unnamed is not None:
        unnamed += hit[1][1]
    return list(hit[1][0])


def _mutated_roots(
    node: cst.CSTNode, traced_calls: frozenset[int], unnamed: list[cst.BaseExpression] | None
) -> list[str]:
    out: dict[str, None] = {}

    def root(e: cst.BaseExpression) -> str | None:
        name = change_root(e)
        if name is None and unnamed is not None:
            unnamed.append(e)
        return name.value if name is not None else None

    for n in walk(node):
        r = None
        kind = type(n)  # (concrete types: as `_SCOPE_TYPES`)
        if kind is cst.Call:
            assert isinstance(n, cst.Call)
            func = n.func
            if (
                type(func) is cst.Attribute
                and func.attr.value not in _READ_ONLY_METHODS
                and id(n) not in traced_calls
            ):
                r = root(func.value)
            elif (changed := changed_argument(n)) is not None:
                r = root(changed)
        elif kind in _STORES:
            assert isinstance(n, cst.AssignTarget | cst.AugAssign | cst.Del)
            if isinstance(n.target, cst.Attribute | cst.Subscript):
                r = root(n.target)
            elif isinstance(n.target, cst.Tuple | cst.List):  # `st.last, st.n = r, st.n + 1`
                leaves = [e for e in target_leaves(n.target) if isinstance(e, cst.Attribute | cst.Subscript)]
                out.update(dict.fromkeys(x for e in leaves if (x := root(e)) is not None))
        elif kind is cst.For:
            assert isinstance(n, cst.For)
            if set(mutated_roots(n.body, traced_calls)) & set(_target_names(n.target)):
                out.update(dict.fromkeys(_names_in(n.iter)))
        elif kind in _COMPREHENSIONS:
            assert isinstance(n, cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp)
            out.update(dict.fromkeys(_items_changed(n, traced_calls)))
        if r:
            out[r] = None
    return list(out)


def change_root(e: cst.BaseExpression) -> cst.Name | None:
    """The name whose object a change of ``e`` changes: ``x`` of ``x``, ``x.a[i]``, ``vars(x)[k]``
    (``ir/mutation.root_name``); None for anything else."""
    while True:
        if isinstance(e, cst.Attribute | cst.Subscript):
            e = e.value
        elif (
            isinstance(e, cst.Call)
            and isinstance(e.func, cst.Name)
            and e.func.value in NAMESPACE_CALLS
            and len(e.args) == 1
            and e.args[0].keyword is None
            and not e.args[0].star
        ):
            e = e.args[0].value
        else:
            return e if isinstance(e, cst.Name) else None


def changed_argument(call: cst.Call) -> cst.BaseExpression | None:
    """The argument a call of one of ``ir/mutation.CHANGING_CALLS`` changes (``rep`` of
    ``setattr(rep, k, v)``); None for any other call."""
    func, args = call.func, call.args
    if isinstance(func, cst.Name) and func.value in CHANGING_CALLS and args and not args[0].star:
        return args[0].value
    return None


def _items_changed(comp: Any, traced_calls: frozenset[int]) -> list[str]:
    """The names a comprehension iterates whose items its element changes in place
    (``[r.update(s=...) for r in records]`` changes what ``records`` holds)."""
    parts = [comp.key, comp.value] if isinstance(comp, cst.DictComp) else [comp.elt]
    changed = {r for p in parts for r in mutated_roots(p, traced_calls)}
    out: list[str] = []
    clause: cst.CompFor | None = comp.for_in
    while clause is not None:
        if changed & set(_target_names(clause.target)):
            out += _names_in(clause.iter)
        clause = clause.inner_for_in
    return out


def target_leaves(target: cst.BaseExpression) -> list[cst.BaseExpression]:
    """``target``, or the elements of a tuple target at any depth (``a.x, (b[0], *c.rest) = ...``)."""
    if isinstance(target, cst.Tuple | cst.List):
        return [t for e in target.elements for t in target_leaves(e.value)]
    return [target]


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
    visitor = _Reads()
    visit(expr, visitor)
    return list(visitor.out)


class _Reads(cst.CSTVisitor):
    # (at module level: a class made per call costs more than the walk of an expression)
    def __init__(self) -> None:
        self.out: dict[str, None] = {}

    def visit_Name(self, n: cst.Name) -> None:
        self.out[n.value] = None

    def visit_Attribute(self, n: cst.Attribute) -> bool:
        visit(n.value, self)
        return False

    def visit_Arg(self, n: cst.Arg) -> bool:
        visit(n.value, self)
        return False

    def visit_Lambda(self, n: cst.Lambda) -> bool:
        return False


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

    visit(pattern, V())
    return list(out)


def unshadowed(source: str, returns: list[str], outside: set[str], local: set[str]) -> tuple[str, list[str]]:
    """``source`` of a ``python`` node binding a name it also reads from outside (``prompt =
    prompt(q, 0)``: the compiler's temporary named after the keyword it fills, around a call of the
    user's function ``prompt``), with the temporary renamed: Python makes a name the code binds
    local to it, so the read would raise ``UnboundLocalError``. The user's own statements never
    need it (such a name is local to the workflow too). ``outside``: the names it reads from
    outside the workflow; ``local``: those of the workflow it may read."""
    if len(returns) != 1 or returns[0] not in outside or not source.startswith(f"{returns[0]} = "):
        return source, returns
    name, taken = returns[0], outside | local
    fresh = next(f"{name}_{k}" for k in range(len(taken) + 1) if f"{name}_{k}" not in taken)
    return fresh + source[len(name) :], [fresh]


def accumulated(loop: cst.For | cst.While) -> set[str]:
    """Names a loop appends to, extends or sets items of directly (``out.append(...)``,
    ``out[k] = ...``): the lists a ``map`` fills after its last item. A loop changing an attribute's
    object (``self.items.append``) runs as a ``loop`` node, in place, item by item."""
    out: set[str] = set()
    for n in walk(loop.body):
        if (
            isinstance(n, cst.Call)
            and isinstance(n.func, cst.Attribute)
            and isinstance(n.func.value, cst.Name)
        ):
            if n.func.attr.value in ("append", "extend", "update", "add", "insert"):
                out.add(n.func.value.value)
        elif (
            isinstance(n, cst.AssignTarget)
            and isinstance(n.target, cst.Subscript)
            and isinstance(n.target.value, cst.Name)
        ):
            out.add(n.target.value.value)
    return out


def binds(n: cst.CSTNode, name: str) -> bool:
    """Whether ``n`` binds ``name`` (an assignment's, a loop's, a ``with``'s or a walrus's target)."""
    targets: list[cst.BaseExpression] = []
    if isinstance(
        n, cst.AssignTarget | cst.AugAssign | cst.AnnAssign | cst.For | cst.CompFor | cst.NamedExpr
    ):
        targets = [n.target]
    elif isinstance(n, cst.AsName):
        targets = [n.name]
    return any(isinstance(x, cst.Name) and x.value == name for t in targets for x in walk(t))


def set_item(small: cst.BaseSmallStatement) -> tuple[str, cst.BaseExpression, cst.BaseExpression] | None:
    """``(acc, key, value)`` of ``acc[key] = value`` (one target, one index, no slice)."""
    if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
        return None
    target = small.targets[0].target
    if not (
        isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name) and len(target.slice) == 1
    ):
        return None
    index = target.slice[0].slice
    if not isinstance(index, cst.Index) or index.star is not None or contains_await(index.value):
        return None
    return target.value.value, index.value, small.value


class ScopedTransformer(cst.CSTTransformer):
    """A transformer that knows whether the innermost scope around is a class body
    (``self.scopes[-1]``): a comprehension or a name there is the class's, not a function's."""

    def __init__(self) -> None:
        super().__init__()
        self.scopes: list[bool] = [False]  # whether each scope around is a class body

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.append(True)

    def leave_ClassDef(self, old: cst.ClassDef, new: cst.ClassDef) -> cst.ClassDef:
        self.scopes.pop()
        return new

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.append(False)

    def leave_FunctionDef(self, old: cst.FunctionDef, new: cst.FunctionDef) -> cst.FunctionDef:
        self.scopes.pop()
        return new
