"""Names of the workflow that may hold the same object, so that changing one changes the others.

``first = rows[0]`` then ``first.append(x)`` changes ``rows``; ``notes = state["notes"]`` then
``notes.append(x)`` changes ``state``; ``view = log`` then ``view.append(x)`` changes ``log``. The
graph passes objects between nodes by reference, exactly as Python does, so the values are right as
long as every node reading one of the names runs after the node that changed it: a statement that
changes a name in place therefore hands on every name of its group (``Compiler.mutated_locals``),
and later reads depend on it. The groups are flow-insensitive and conservative: two names are in one
group when anywhere in the workflow one is bound to a value that may hold the other's object
(``bindings``: every target of ``a = b = []``, the names a tuple target unpacks, a ``for``
target and what it iterates, a ``case`` capture and the subject, ``with x as y``, ``d[k] = v``).
Where the tracer cannot tell which object a value is, it takes every object of the workflow the
value could reach: a name bound to a call's value holds what the call is handed, what its
receiver holds, or what a function of the workflow reads (``_held``); a change made on a call's
value changes what the call's expression holds (``held_by``); a function called through a value
holding it reads and changes what that function does (``closure_uses``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import SourceLoc
from ..ir.graph import Node
from ..ir.mutation import PURE_STR_METHODS, READ_ONLY_CALLS, READ_ONLY_METHODS
from . import closures, impure, kept_in, made_fields
from .handed import handed_changed, resolve
from .immutables import FRESH_CALLS, immutable_names
from .source import FunctionSource
from .state import _names_in, _target_names, awaits_in, mutated_roots, pattern_captures, walk
from .values import Static, Traced, Value

if TYPE_CHECKING:
    from .builder import Builder


def groups(src: FunctionSource, *, strict: bool = False) -> dict[str, frozenset[str]]:
    """Each workflow name that shares an object with others, mapped to its whole group.
    ``strict``: a name bound to a display (``rec = {"doc": d}``) not joined with the names it
    holds: the display is a new object keeping theirs (``kept_in``), which a change of its own
    (``rec["ans"] = r``) does not reach."""
    cached = src.strict_aliases if strict else src.aliases
    if cached is not None:
        return cached
    parent: dict[str, str] = {}

    def find(n: str) -> str:
        while parent.get(n, n) != n:
            n = parent[n]
        return n

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb

    for names, value in bindings(src):
        if not names or _fresh(src, value):
            continue  # (nothing bound; a string, a number, an answer: no object to share)
        root = reference_root(value)
        held = [root] if root is not None else sorted(_held(src, value))
        if strict and id(value) in kept_in.whole_displays(src):
            held = []
        for n in [*names[1:], *held]:
            if n != names[0]:
                union(names[0], n)
    members: dict[str, set[str]] = {}
    for n in list(parent):
        members.setdefault(find(n), set()).add(n)
    out: dict[str, frozenset[str]] = {}
    for group in members.values():
        whole = frozenset(group | {find(next(iter(group)))})
        for n in whole:
            out[n] = whole
    if strict:
        src.strict_aliases = out
    else:
        src.aliases = out
    return out


def bindings(src: FunctionSource) -> Iterator[tuple[list[str], cst.BaseExpression]]:
    """Each binding of the workflow's names, as the names it binds to one value, which may be one
    object, and that value: every target of ``a = b = []``; a tuple target's names (``a, b =
    pair``, ``first, *rest = [inbox, []]``, ``name, shortest = min(queues.items(), ...)``),
    element by element against a display of the same length (``a, b = log, []``); a ``for``
    target's, its items' (``for h in [history]``); a ``with ... as``'s; a ``case`` pattern's,
    parts of the subject; a function given a default (``def mark(x, s=seen)``: it holds ``seen``)."""
    for node in walk(src.node.body, lambda n: isinstance(n, cst.FunctionDef | cst.ClassDef | cst.Lambda)):
        if isinstance(node, cst.Assign):
            if len(node.targets) > 1:
                yield [n for t in node.targets for n in _bound_names(src, t.target)], node.value
            for t in node.targets:
                yield from _unpacked(src, t.target, node.value)
        elif isinstance(node, cst.AnnAssign | cst.NamedExpr) and node.value is not None:
            yield from _unpacked(src, node.target, node.value)
        elif isinstance(node, cst.For):
            if not _strs_only(src, node.iter):
                yield _bound_names(src, node.target), node.iter
        elif isinstance(node, cst.With):
            yield from (
                (_bound_names(src, i.asname.name), i.item) for i in node.items if i.asname is not None
            )
        elif isinstance(node, cst.Match):
            yield from ((pattern_captures(c.pattern), node.subject) for c in node.cases)
        elif isinstance(node, cst.FunctionDef):
            yield from (([node.name.value], d) for d in _defaults(node))


_SCALAR_ITEMS = re.compile(
    r"(list|List|Sequence|tuple|Tuple|Iterable|set|Set|frozenset)\[(str|int|float|bool)(, \.\.\.)?\]"
)


def _strs_only(src: FunctionSource, e: cst.BaseExpression) -> bool:
    """Whether ``e`` is a parameter annotated as a collection of strings or numbers (``docs:
    list[str]``): its items hold no object, so a loop's target over it shares none."""
    if not isinstance(e, cst.Name):
        return False
    for p in src.node.params.params:
        if p.name.value == e.value and p.annotation is not None:
            return bool(_SCALAR_ITEMS.fullmatch(src.code(p.annotation.annotation).strip()))
    return False


def _unpacked(
    src: FunctionSource, target: cst.BaseExpression, value: cst.BaseExpression
) -> Iterator[tuple[list[str], cst.BaseExpression]]:
    """``target = value`` as bindings: a tuple's elements against a display's, one by one."""
    displays = (cst.Tuple, cst.List)
    if (
        isinstance(target, displays)
        and isinstance(value, displays)
        and len(target.elements) == len(value.elements)
        and not any(isinstance(e, cst.StarredElement) for e in [*target.elements, *value.elements])
    ):
        for t, v in zip(target.elements, value.elements, strict=True):
            yield from _unpacked(src, t.value, v.value)
    else:
        yield _bound_names(src, target), value


def _bound_names(src: FunctionSource, target: cst.BaseExpression) -> list[str]:
    """The workflow's names a target binds (not one whose object it sets an item or attribute of:
    ``out[d] = r`` joined ``out`` with every ``r``, and a change of ``out`` is none of ``r``'s)."""
    if isinstance(target, cst.Tuple | cst.List):
        return [n for e in target.elements for n in _bound_names(src, e.value)]
    if isinstance(target, cst.StarredElement):
        return _bound_names(src, target.value)
    return [target.value] if isinstance(target, cst.Name) else []


def _fresh(src: FunctionSource, e: cst.BaseExpression) -> bool:
    """Whether ``e``'s value holds no object of the names it reads: a string it builds, a number,
    a comparison, an awaited call's answer (a primitive's, a helper's), a builtin's count. Any
    other value may hold them (``{"hist": hist}``, ``Report(out)``, ``list(recs)``,
    ``scores.values()``, ``(x for x in xs)``): its name joins their group."""
    if isinstance(
        e, cst.SimpleString | cst.FormattedString | cst.ConcatenatedString | cst.Integer | cst.Float
    ):
        return True
    if isinstance(e, cst.Comparison | cst.Await) or (
        isinstance(e, cst.UnaryOperation) and isinstance(e.operator, cst.Not)
    ):
        return True
    if isinstance(e, cst.Call):
        if isinstance(e.func, cst.Attribute) and e.func.attr.value in ("create_task", "ensure_future"):
            return True  # a task (its call's objects are the call's, not the list's)
        if isinstance(e.func, cst.Name) and e.func.value in FRESH_CALLS:
            return True
        local = set(src.free_names(e.func)[0]) if isinstance(e.func, cst.Name) else set()
        if inspect.iscoroutinefunction(resolve(getattr(src.fn, "__globals__", {}), local, e.func)):
            return True  # a coroutine, run where it is awaited
        return isinstance(e.func, cst.Attribute) and e.func.attr.value in PURE_STR_METHODS
    return False


def _held(src: FunctionSource, e: cst.BaseExpression) -> set[str]:
    """The workflow's names whose objects ``e``'s value may hold (``{"hist": hist}``: ``hist``;
    ``Report(out)``, ``list(recs)``, ``scores.values()``, ``{r["id"]: r for r in records}``: the
    names handed in; ``[None] * len(docs)``: none, a count holds nothing; ``_fresh``)."""
    if _fresh(src, e):
        return set()
    if isinstance(e, cst.Name):
        return set(src.free_names(e)[0])
    if isinstance(e, cst.Attribute | cst.Subscript):
        return _held(src, e.value)
    if isinstance(e, cst.BinaryOperation | cst.BooleanOperation):
        return _held(src, e.left) | _held(src, e.right)
    if isinstance(e, cst.IfExp):
        return _held(src, e.body) | _held(src, e.orelse)
    if isinstance(e, cst.List | cst.Tuple | cst.Set):
        return {n for el in e.elements for n in _held(src, el.value)}
    if isinstance(e, cst.Dict):
        return {n for el in e.elements for part in _dict_parts(el) for n in _held(src, part)}
    if isinstance(e, cst.GeneratorExp | cst.Lambda):
        # lazy: it reads every name it uses when it runs (`(x.upper() for x in xs)` holds `xs`)
        return set(src.free_names(e)[0])
    if isinstance(e, cst.ListComp | cst.SetComp | cst.DictComp):
        # an item itself (`{r["id"]: r for r in records}`, `[h.meta for h in hits]`): what it
        # iterates; a new object around one (`[{"text": d} for d in docs]`) or a task: not it
        element = e.value if isinstance(e, cst.DictComp) else e.elt
        own: set[str] = set()
        comp: cst.CompFor | None = e.for_in
        while comp is not None:
            own.update(src.assigned_names(comp.target) or _target_names(comp.target))
            comp = comp.inner_for_in
        root = reference_root(element)
        if root is not None and root in own:
            return set(src.free_names(e)[0])
        return _held(src, element) - own
    if isinstance(e, cst.Call):
        func = e.func
        # a method's value may hold its object's (not a module's: ``json.loads(text)``); a
        # function's the workflow defines, what it reads (``_returns_held``); a function held by
        # an object (``ops["get"]()``), that object's
        if isinstance(func, cst.Attribute):
            receiver = set() if _module(src, func.value) else _held(src, func.value)
        else:
            receiver = set() if isinstance(func, cst.Name) else _held(src, func)
        if isinstance(func, cst.Name) and _returns_held(src, func):
            receiver |= set(closures.uses(src, [func.value])[0])
        return receiver | {n for a in e.args for n in _held(src, a.value)}
    return set()


def _returns_held(src: FunctionSource, func: cst.Name) -> bool:
    """Whether ``func`` names a function the workflow defines whose value may hold objects of the
    names it reads: one returning anything but a fresh value or its own arguments (``def get():
    return seen``, ``return memory["facts"]``, ``return (x.strip() for x in xs)``), or a
    generator, which reads them as it is consumed. A function returning a string it builds, or
    what it was handed (``return answer``: the call's arguments, counted as such), holds nothing
    else."""
    found = closures.closures(src).get(func.value)
    d = found.node if found is not None else src.defs_by_name().get(func.value)
    if not isinstance(d, cst.FunctionDef | cst.Lambda):
        return False
    ps = d.params
    params = {p.name.value for p in [*ps.posonly_params, *ps.params, *ps.kwonly_params]}

    def held(value: cst.BaseExpression) -> bool:
        return not _fresh(src, value) and not set(_names_in(value)) <= params

    if isinstance(d, cst.Lambda):
        return held(d.body)
    nested = lambda n: isinstance(n, cst.FunctionDef | cst.ClassDef | cst.Lambda)  # noqa: E731  (their own returns)
    return any(
        isinstance(n, cst.Yield) or (isinstance(n, cst.Return) and n.value is not None and held(n.value))
        for n in walk(d.body, nested)
    )


def _module(src: FunctionSource, e: cst.BaseExpression) -> bool:
    """Whether ``e`` is a name the workflow binds by ``import`` only: a module, whose functions'
    values hold what they are handed, not the module (``contextlib.nullcontext(x)``)."""
    found = src.fn_scope.assignments[e.value] if isinstance(e, cst.Name) else ()
    return bool(found) and all(
        isinstance(getattr(a, "node", None), cst.Import | cst.ImportFrom) for a in found
    )


def _dict_parts(el: cst.BaseDictElement) -> list[cst.BaseExpression]:
    return [el.key, el.value] if isinstance(el, cst.DictElement) else [el.value]


def helper_aliases(src: FunctionSource) -> dict[str, tuple[str, str]]:
    """The names a helper binds once to another name or a part of one (``h = self.history``,
    ``hist, name = self.history, self.name``, ``lg = state["log"]``), each mapped to that name and
    the rest of the reference (``("self", ".history")``; an item's: ``""``, the whole object):
    what the helper does through it reaches that object."""
    count: dict[str, int] = {}
    for a in src.fn_scope.assignments:
        count[a.name] = count.get(a.name, 0) + 1
    out: dict[str, tuple[str, str]] = {}
    for node in walk(src.node.body, lambda n: isinstance(n, cst.FunctionDef | cst.ClassDef | cst.Lambda)):
        if not (isinstance(node, cst.Assign) and len(node.targets) == 1):
            continue
        t, v = node.targets[0].target, node.value
        pairs: list[tuple[Any, Any]] = [(t, v)]
        if isinstance(t, cst.Tuple) and isinstance(v, cst.Tuple) and len(t.elements) == len(v.elements):
            pairs = [(a.value, b.value) for a, b in zip(t.elements, v.elements, strict=True)]
        for a, b in pairs:
            root = reference_root(b) if isinstance(b, cst.Name | cst.Attribute | cst.Subscript) else None
            if isinstance(a, cst.Name) and count.get(a.value) == 1 and root is not None and root != a.value:
                dotted = all(
                    isinstance(n, cst.Name | cst.Attribute)
                    for n in walk(b)
                    if isinstance(n, cst.BaseExpression)
                )
                rest = src.code(b).strip()[len(root) :] if dotted else ""  # (an item's: the whole object)
                out[a.value] = (root, rest)
    return out


def reference_root(e: cst.BaseExpression) -> str | None:
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
    unnamed: list[cst.BaseExpression] = []
    direct = mutated_roots(stmt, helpers, unnamed)
    roots = [
        *direct,
        *called_holders(comp.src, stmt),
        *_called_objects(comp, stmt),
    ]
    held = [n for n in held_by(comp.src, unnamed) if comp.is_bound(n)]  # (a change of a call's value)
    fixed = immutable_names(comp.src)  # `log += [x]` extends the list in place: its aliases too
    grown = (n.target for n in walk(stmt) if isinstance(n, cst.AugAssign))
    roots += [t.value for t in grown if isinstance(t, cst.Name) and t.value not in fixed]
    through = closure_uses(comp.src, stmt, local)[1]  # what a closure it calls changes in place
    changed = list(dict.fromkeys([*(n for n in roots if n in local), *held, *through]))
    # (`LOG[-1].append(a)` of a module's container: the workflow's objects put into it, `LOG.append(x)`)
    kept = [
        k for n in dict.fromkeys(roots) if n not in local for k in kept_in.kept_by(comp.src, n, stmt, _held)
    ]
    changed += [k for k in dict.fromkeys(kept) if k not in changed and comp.is_bound(k)]
    # a change of a name's own object only (`rec["ans"] = r`, `out.append(x)`) reaches the names
    # of its strict group and the objects keeping it, not what it keeps (`rec = {"doc": d}`: `d`);
    # a name of that group may be a part of it (`a, n = pair`), changed as reached into; an object
    # keeping it (`state["log"] = log`) changes only in what it keeps
    own = {n for n in changed if n in direct and not kept_in.reaches_into(stmt, n, _mine(comp, n))}
    shared, strict = groups(comp.src), groups(comp.src, strict=True)
    for n in changed:  # (grows: every name that may hold the same object, an object keeping it)
        near = [*sorted((strict if n in own else shared).get(n, ()))]
        if n not in own:  # (`state["log"].append(x)`: `log`)
            near += kept_in.kept_by(comp.src, n, stmt, _held, own=_mine(comp, n))
        holders = kept_in.holders_of(comp.src, n, stmt, _held)  # (`state["log"] = log`: `state`)
        for alias in [*near, *holders]:
            if alias not in changed and comp.is_bound(alias) and not isinstance(peek(comp, alias), Static):
                changed.append(alias)
                if alias in holders and n in own:
                    own.add(alias)
    return changed


def _mine(comp: Builder, name: str) -> bool:
    """Whether ``name``'s object is of a class of the user's (its ``add`` is no container's)."""
    return isinstance(v := peek(comp, name), Traced) and v.cls is not None


def held_by(src: FunctionSource, exprs: list[cst.BaseExpression]) -> list[str]:
    """The workflow's names whose objects the values of ``exprs`` may be or hold, strings and
    numbers left out: what a change of a value no name is the root of may change
    (``memory.get("facts").append(x)``: ``memory``; ``min(queues, key=len).append(x)``:
    ``queues``; ``facts().append(x)`` of ``def facts(): return memory["facts"]``: ``memory``)."""
    held = {n for e in exprs for n in _held(src, e)}
    return sorted(held - immutable_names(src))


def closure_uses(src: FunctionSource, stmt: cst.CSTNode, local: list[str]) -> tuple[list[str], list[str]]:
    """``closures.uses`` of a statement reading ``local``, with the functions it may call through
    a name holding one (``ops["add"](x)`` of ``ops = {"add": add}``, ``info(x)`` of ``info =
    functools.partial(note, "info")``): what those read and change."""
    shared = groups(src)
    called = [reference_root(n.func) for n in walk(stmt) if isinstance(n, cst.Call)]
    held = [m for r in called if r is not None and r in local for m in sorted(shared.get(r, ()))]
    return closures.uses(src, list(dict.fromkeys([*local, *held])))


# methods of the built-in containers that change them: handed to a call (``map(buf.append, docs)``)
_CHANGING_METHODS = frozenset(
    {"append", "extend", "insert", "add", "update", "setdefault", "pop", "popitem", "remove",
     "discard", "clear", "appendleft", "extendleft", "popleft", "sort", "reverse", "__setitem__"}
)  # fmt: skip


def called_holders(src: FunctionSource, node: cst.CSTNode) -> list[str]:
    """The workflow's names ``node`` calls that hold another name's object (``add = log.append``,
    ``put = functools.partial(list.append, log)``): calling one may change that object, as
    ``add(x)`` appends to ``log``; the names whose objects a function it calls through an item or
    a call's value may be held by (``ops["add"](x)``, ``get_op()(x)``); and the objects whose
    changing method it hands to a call (``map(buf.append, docs)``)."""
    shared = groups(src)
    # (a function of the workflow's without defaults: what it changes is ``closures.uses``'s)
    own = {n for n, c in closures.closures(src).items() if not _defaults(c.node)}
    out: list[str] = []
    for n in walk(node):
        if not isinstance(n, cst.Call):
            continue
        if isinstance(n.func, cst.Name) and n.func.value in shared and n.func.value not in own:
            out.append(n.func.value)
        elif not isinstance(n.func, cst.Name | cst.Attribute):  # (`ops["add"](x)`: what `ops` holds)
            out += sorted(_held(src, n.func))
        for a in n.args:
            method = a.value
            if isinstance(method, cst.Attribute) and method.attr.value in _CHANGING_METHODS:
                out += [r] if (r := reference_root(method.value)) is not None else []
    return out


def _defaults(fn: cst.CSTNode) -> list[cst.BaseExpression]:
    ps = getattr(fn, "params", None)
    every = [*ps.posonly_params, *ps.params, *ps.kwonly_params] if ps is not None else []
    return [p.default for p in every if p.default is not None]


def _called_objects(comp: Builder, stmt: cst.CSTNode) -> list[str]:
    """The workflow's objects ``stmt`` calls (``rec(a)`` of ``rec = Recorder()``, whose
    ``__call__`` may change it), not its own functions, nor an awaited call (a traced helper's
    changes are its nodes')."""
    defs = comp.src.defs_by_name()
    awaited = {id(a.expression) for a in walk(stmt) if isinstance(a, cst.Await)}
    return [
        n.func.value
        for n in walk(stmt)
        if isinstance(n, cst.Call)
        and isinstance(n.func, cst.Name)
        and id(n) not in awaited
        and n.func.value not in defs
        and isinstance(v := peek(comp, n.func.value), Traced)
        and (v.cls is None or impure.changes_self(v.cls))  # (a plain class's: only one changing itself)
    ]


def outer_aliases(
    comp: Builder, stmt: cst.CSTNode, params: list[str], args: list[Node], loc: SourceLoc
) -> list[str]:
    """For a statement of a helper defined in the workflow: the workflow's names (not ``params``)
    that may hold an object the statement changes in place through a name it reads from the
    workflow (``view.append(x)``, ``add(x)`` where ``view = log``, ``add = log.append``). The
    graph hands the workflow's names to the helper as separate values, so the statement takes
    these too (added to ``params`` and ``args``, each with its value here; one not bound yet, or
    known at trace time, holds nothing the statement changes) and is known to change them
    (``PyCode.changes``)."""
    outer = _outer_sources(comp)
    if not outer:
        return []
    own = set(comp.src.assigned_names(comp.src.node.body))
    roots = [*mutated_roots(stmt), *(n for src in outer for n in called_holders(src, stmt))]
    out: list[str] = []
    for r in dict.fromkeys(roots):
        if r not in params or r in own:
            continue
        for src in outer:
            out += [n for n in sorted(groups(src).get(r, ())) if n not in params and n not in out]
    changes: list[str] = []
    for n in out:
        try:
            value = comp.lookup_local(n, loc, raw=True)
        except TraceError:  # (unbound where the helper runs)
            continue
        if isinstance(value, Traced) and not value.unbound:
            changes.append(n)
            params.append(n)
            args.append(comp.materialize(value, loc, n))
    return changes


def _outer_sources(comp: Builder) -> list[FunctionSource]:
    """The sources of the functions around ``comp``'s (a helper's: the workflow's), innermost first."""
    out: list[FunctionSource] = []
    c: Builder | None = comp
    while c is not None:
        if c.src is not comp.src and all(c.src is not s for s in out):
            out.append(c.src)
        c = c.parent if c.parent is not None else c.enclosing
    return out


def stays_inside(src: FunctionSource, stmts: list[cst.BaseStatement]) -> bool:
    """Whether ``stmts`` change only objects the function made itself, so that nothing outside it
    sees what they do when the query then fails (a ``finally`` run after the ``try`` node): no
    argument or module object changed (``docs.append(...)``, ``LOG.append(ok)``, a budget given
    back), no call but methods of its own objects, read-only ones (``", ".join``) and builtins
    that change nothing; a ``print`` is seen (on the terminal, or in the file it writes to), so
    it is not one of them."""
    params = {p.name.value for p in (*src.node.params.posonly_params, *src.node.params.params)}
    params |= {p.name.value for p in src.node.params.kwonly_params}
    made = set(src.assigned_names(src.node.body)) - params
    shared, strict = groups(src), groups(src, strict=True)
    for stmt in stmts:
        if any(isinstance(n, cst.Global | cst.Nonlocal) for n in walk(stmt)):
            return False
        changed = {*mutated_roots(stmt), *called_holders(src, stmt)}
        changed |= {
            n.target.value
            for n in walk(stmt)
            if isinstance(n, cst.AugAssign) and isinstance(n.target, cst.Name)
        }
        for call in (n for n in walk(stmt) if isinstance(n, cst.Call)):
            func = call.func
            if isinstance(func, cst.Attribute) and func.attr.value not in READ_ONLY_METHODS:
                changed.add(reference_root(func.value) or "")  # (a method of something not its own: outside)
            elif isinstance(func, cst.Name) and (func.value not in READ_ONLY_CALLS or func.value == "print"):
                return False  # (a function, or an object called: it may change anything; a line printed)
            elif not isinstance(func, cst.Name | cst.Attribute):
                return False  # (`ops["add"](x)`, `make()(x)`: a function held by a value)
            if not kept_in.keeps_as_is(src, call):  # (`seen.append(d)` keeps `d`, no change of it)
                changed.update(handed_changed(src, call))
        # a change of a container's own (`seen.append(d)`, `rec["n"] = 1`) reaches its object and
        # the objects keeping it (`state["log"] = log`), not what it keeps (`rec = {"doc": d}`)
        for n in (grown := list(changed)):
            own = kept_in.made_container(src, n) and not kept_in.reaches_into(stmt, n, False)
            if n not in made or (strict if own else shared).get(n, frozenset()) & params:
                return False
            grown += [h for h in kept_in.holders_of(src, n, stmt, _held) if h not in grown]
    return True


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


def changed_anywhere(src: FunctionSource) -> frozenset[str]:
    """Names of the workflow whose object some statement may change in place after it is read:
    changed by a method, an item or attribute set or ``+=`` (``items.sort()``, ``log += [x]``),
    or handed bare to a function that may change it (``handed_changed``: ``normalize(items)``,
    ``await agent.step(notes)``), with every name that may hold the same object. A string built
    from one of them (``f"History: {history}"``) is made where it is built, not where it is used
    (``text.py``): Python formats the object as it is then."""
    if src.changed_anywhere is not None:
        return src.changed_anywhere
    unnamed: list[cst.BaseExpression] = []
    out: set[str] = {*mutated_roots(src.node.body, unnamed=unnamed), *called_holders(src, src.node.body)}
    out.update(held_by(src, unnamed))
    for n in walk(src.node.body):
        if isinstance(n, cst.AugAssign) and isinstance(n.target, cst.Name):
            out.add(n.target.value)
        elif isinstance(n, cst.Call):
            out.update(handed_changed(src, n))
    shared = groups(src)
    kept = kept_in.holds(src, _held)
    grown = list(out)
    for name in grown:  # (and every object that may keep it, `state["log"] = log`)
        more = [*shared.get(name, ()), *(k.holder for k in kept if k.held == name)]
        grown += [m for m in more if m not in out]
        out.update(more)
    src.changed_anywhere = frozenset(out - immutable_names(src))
    return src.changed_anywhere
