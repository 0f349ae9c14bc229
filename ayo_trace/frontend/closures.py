"""Plain functions and lambdas defined inside a workflow, and the workflow names they close over.

A ``def`` or ``lambda`` of the workflow reads the workflow's names when it is *called*, not when it
is defined; in the graph the statement defining it runs once and the function holds the values it
saw then (the same objects: a list it reads or changes in place is the workflow's own list). Three
things follow, each a rule the compiler applies:

* a closure that reads a name the workflow assigns again after the definition would see the old
  value in the graph and the new one in Python: refused at the definition, naming both lines (pass
  the value as an argument instead);
* ``nonlocal`` of a workflow name inside such a function cannot change the graph's value: refused;
* a module-level list, dict or set the workflow changes in place (``HISTORY.append(q)``) is never
  folded into the graph as a constant, and statements reading it run as effects, in program order
  with those changing it (``changed_globals``);
* a statement that uses the closure (calls it, or passes it on: ``sorted(xs, key=f)``) reads every
  workflow name the closure reads and changes those it changes in place (``seen.append(x)`` in its
  body), so the statement's node depends on the latest value of each and hands the changed ones on.

``async def`` helpers local to the workflow are inlined where they are awaited (``helpers.py``) and
read the names as bound at the call, so only the ``nonlocal`` rule applies to them, and, for a call
made now and run later (a task, a coroutine kept), ``made_early``'s.
"""

from __future__ import annotations

import collections
import contextlib
import inspect
import types
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import SourceLoc
from ..ir.mutation import READ_ONLY_METHODS
from . import impure, made_early
from .class_changes import _CHANGING
from .code_reads import reached_objects
from .handed import handed
from .source import FunctionSource, _is_load, _names_in
from .state import change_root, mutated_roots, walk
from .visiting import visit

if TYPE_CHECKING:
    from .builder import Builder

_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


@dataclass(frozen=True)
class Closure:
    """A function the workflow defines: the workflow names it reads when called, and those whose
    objects it may change in place."""

    name: str
    node: cst.CSTNode
    reads: tuple[str, ...]
    mutates: tuple[str, ...]


def closures(src: FunctionSource) -> dict[str, Closure]:
    """The closures the workflow's body defines (``def f`` or ``f = lambda ...``), by name."""
    if src.closures is not None:
        return src.closures
    out: dict[str, Closure] = {}

    class V(cst.CSTVisitor):
        def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
            if n is not src.node and src.scopes.get(n) is src.fn_scope:
                out[n.name.value] = _closure(src, n.name.value, n, n.body)
            return n is src.node

        def visit_Assign(self, n: cst.Assign) -> None:
            if (
                isinstance(n.value, cst.Lambda)
                and len(n.targets) == 1
                and isinstance(n.targets[0].target, cst.Name)
                and src.scopes.get(n) is src.fn_scope
            ):
                name = n.targets[0].target.value
                out[name] = _closure(src, name, n.value, n.value.body)

        def visit_ClassDef(self, n: cst.ClassDef) -> bool:
            return False

        def visit_Lambda(self, n: cst.Lambda) -> bool:
            return False

    visit(src.node, V())
    src.closures = out
    return out


def _closure(src: FunctionSource, name: str, node: cst.CSTNode, body: cst.CSTNode) -> Closure:
    reads = [n for n in src.free_names(node)[0] if n != name]
    unnamed: list[cst.BaseExpression] = []  # (`memory.get("k").append(v)`: what it reads may be changed)
    roots = [*mutated_roots(body, unnamed=unnamed), *(n.value for e in unnamed for n in _names_in(e))]
    mutates = [n for n in dict.fromkeys(roots) if n in reads]
    return Closure(name, node, tuple(reads), tuple(mutates))


def define(comp: Builder, stmt: cst.FunctionDef | cst.ClassDef, loc: SourceLoc) -> None:
    """A ``def`` or ``class`` statement of the workflow: a ``python`` node binding the name; an
    ``async def`` is also inlined where it is awaited, with the defaults known where it stands.
    A decorated one is not: its name holds what its decorators made of it, which runs as written,
    as ``get = shout(get)`` does (a decorator may wrap, replace or register the function)."""
    if isinstance(stmt, cst.FunctionDef):
        check_definition(comp.src, stmt)
    name = stmt.name.value
    comp.python_statement(stmt, loc, [name], effect=bool(stmt.decorators))
    if isinstance(stmt, cst.FunctionDef) and stmt.asynchronous is not None and not stmt.decorators:
        comp.local_defs[name] = (stmt, comp.env[name])
        comp.deps.def_defaults[id(stmt)] = comp.exprs.known_defaults(stmt)


def check_definition(src: FunctionSource, node: cst.CSTNode) -> None:
    """Refuse a ``def``/``lambda`` of the workflow (``node``) whose meaning the graph cannot keep:
    ``nonlocal`` of a workflow name, or a read of a name the workflow assigns again after it."""
    found = next((c for c in closures(src).values() if c.node is node), None)
    if isinstance(node, cst.FunctionDef):
        for stmt in _nonlocals(node):
            names = [a.name.value for a in stmt.names if src.fn_scope.assignments[a.name.value]]
            if names:
                raise TraceError(
                    f"`nonlocal {', '.join(names)}` in `{node.name.value}` cannot be traced: the graph "
                    f"cannot change the workflow's `{names[0]}` from inside a function; return the new "
                    "value and assign it in the workflow instead",
                    loc=src.loc(stmt),
                    construct="nonlocal",
                )
    if found is None or not found.reads:
        return
    if isinstance(node, cst.FunctionDef) and node.asynchronous is not None and not node.decorators:
        # inlined where it is awaited, reading the names as bound there; a call run later (a task,
        # a coroutine kept) reads them then (``made_early``)
        made_early.check_made_early(src, node, set(uses(src, [found.name])[0]))
        return
    end = src.positions[node].end.line
    later = _assigned_after(src, end, set(found.reads))
    if later:
        name, line = min(later.items(), key=lambda kv: kv[1])
        what = f"`{found.name}`" if isinstance(node, cst.FunctionDef) else f"the lambda `{found.name}`"
        raise TraceError(
            f"{what} reads the workflow's `{name}`, which is assigned again at line "
            f"{src.file_line(line)} after {what} is defined: Python reads it when {what} is "
            f"called, the graph when it is defined; pass `{name}` to {what} as an argument",
            loc=src.loc(node),
            construct="closure",
        )


def _aliased(src: FunctionSource, changed: set[str], calls_only: set[str]) -> list[str]:
    """The module's names the workflow binds a local to (``h = HISTORY``, ``items = REG.items``,
    ``a = b = LOG``, ``for h in [HISTORY]``) where that local is changed: its object is changed.
    But for ``agent = AGENTS[kind]`` (or ``AGENTS.get(kind, default)``) of a table whose items no
    method changes (``impure.item_method_calls``) where ``agent`` is changed only by calls of its
    methods (``calls_only``): the item is changed, not the table."""
    local = {a.name for a in src.fn_scope.assignments if src.fn_scope.assignments[a.name]}
    values = src.fn.__globals__
    out: list[str] = []
    for n in walk(src.node.body, lambda n: isinstance(n, cst.FunctionDef | cst.ClassDef | cst.Lambda)):
        if isinstance(n, cst.Assign) and set(src.assigned_names(n)) & changed:
            value: cst.CSTNode = n.value
            table = impure.looked_up_table(n.value)
            if (
                table is not None
                and table.value not in local
                and set(src.assigned_names(n)) <= calls_only
                and impure.unchanging_items(values.get(table.value))
            ):
                out += [x.value for x in _names_in(value) if x is not table and x.value not in local]
                continue
        elif isinstance(n, cst.For) and set(src.assigned_names(n.target)) & changed:
            value = n.iter
            if (  # (`for agent in TEAM: await agent.run(q)`: likewise, an item is changed, if any)
                isinstance(value, cst.Name)
                and value.value not in local
                and set(src.assigned_names(n.target)) <= calls_only
                and impure.unchanging_items(values.get(value.value))
            ):
                continue
        else:
            continue
        out += [x.value for x in _names_in(value) if x.value not in local and _is_load(x, src.parents)]
    return out


def _referred(src: FunctionSource, names: set[str], parts: bool = False) -> set[str]:
    """The module's names the workflow binds one of its ``names`` to, or a part of (``agent =
    CODE``, ``bot = AGENTS["code"]``, ``w = APP.writer``; with ``parts``, only a part: ``notes =
    CODE.notes``): setting an attribute through the local (changing it in place) sets theirs."""
    local = {a.name for a in src.fn_scope.assignments if src.fn_scope.assignments[a.name]}
    kinds = (cst.Attribute, cst.Subscript) if parts else (cst.Name, cst.Attribute, cst.Subscript)
    out: set[str] = set()
    for n in walk(src.node.body, lambda n: isinstance(n, cst.FunctionDef | cst.ClassDef | cst.Lambda)):
        if isinstance(n, cst.Assign) and set(src.assigned_names(n)) & names:
            root = change_root(n.value) if isinstance(n.value, kinds) else None
            if root is not None and root.value not in local:
                out.add(root.value)
    return out


def _method_aliases(src: FunctionSource) -> list[str]:
    """The module's names whose method the workflow binds a local to and calls through it (``add =
    ERRORS.append``, then ``add(x)``), but for a method never changing its object (``get``)."""
    called = {
        n.func.value for n in walk(src.node.body) if isinstance(n, cst.Call) and isinstance(n.func, cst.Name)
    }
    out: list[str] = []
    for n in walk(src.node.body, lambda n: isinstance(n, cst.FunctionDef | cst.ClassDef | cst.Lambda)):
        value = n.value if isinstance(n, cst.Assign) else None
        if not (isinstance(value, cst.Attribute) and value.attr.value not in READ_ONLY_METHODS):
            continue
        if set(src.assigned_names(n)) & called:
            out += [x.value for x in _names_in(value.value)]
    return out


def closure_calls(comp: Any, stmt: cst.CSTNode, key_of: Any) -> list[tuple[str, bool]]:
    """What the workflow's own plain functions a statement calls (``bump()``) read and change, by
    ``key_of`` their names (``interleaving``: a statement of calls run at once)."""
    defs = closures(comp.src)
    out: list[tuple[str, bool]] = []
    for n in walk(stmt):
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value in defs:
            c = defs[n.func.value]
            out += [(k, False) for r in c.reads if (k := key_of(r)) is not None]
            out += [(k, True) for r in c.mutates if (k := key_of(r)) is not None]
    return out


def changed_globals(src: FunctionSource) -> frozenset[str]:
    """Module-level lists, dicts and sets the workflow changes in place somewhere (``HISTORY.append``,
    ``bump(STATS)`` of a function changing its argument), objects whose attributes it sets or
    whose methods changing their object it calls (``STATS.calls += 1``, ``H.set(v)``), classes
    whose attributes it sets (``Counter.n += 1``), and what the user's code it uses changes so
    (``impure.changed_object``), names they declare ``global`` included: whatever names the
    object there (a parameter's default ``sink=LOG``, ``type(self).count``, ``self.log`` of a
    class-level list, a decorator's ``wrapper.calls``: ``impure.changed_objects``).
    The trace never folds their value into the graph, and every statement reading one runs as an
    effect, in program order with the statements changing it."""
    if src.changed_globals is not None:
        return src.changed_globals
    # (a closure's variables first: a factory's `st = {"n": 0}` that the function it makes changes)
    module = src.fn.__globals__
    values = collections.ChainMap(_cells(src.fn), module)
    reads = _global_reads(src)
    # what the user's code the workflow uses changes too (``impure.py``)
    used = list(impure.used_values(src.node.body, module, reads))
    through = {m for _, v in used for m in impure.changes_module_state(v)}
    found = {id(o): o for _, v in used for o in impure.changed_objects(v)}
    members = impure.changed_members(src.node.body, module, {a.name for a in src.fn_scope.assignments})
    found |= {id(o): o for held in members.values() for o in held}
    assigned = impure.attribute_roots(src.node.body)
    # (`agent = CODE` then `agent.style = s`; `notes = CODE.notes` then `notes.append(q)`)
    assigned |= _referred(src, assigned) | _referred(src, set(mutated_roots(src.node.body)), parts=True)
    handed_on = set(_handed_here(src))
    local = {a.name for a in src.fn_scope.assignments if src.fn_scope.assignments[a.name]}
    items = impure.item_method_calls(src.node.body, values, local)  # (`AGENTS[kind].run(q)` changing none)
    unnamed: list[cst.BaseExpression] = []  # (`flags()["seen"] = q`, `(c := CACHE)[q] = 1`)
    roots = mutated_roots(src.node.body, items, unnamed)
    reached = _reached_by(src, [*unnamed, *_bound_then_changed(src, local, values)], values, local)
    found |= {id(o): o for o in reached if not isinstance(o, type)}
    calls_only = set(roots) - assigned - set(mutated_roots(src.node.body, impure.method_calls(src.node.body)))
    changed = [*roots, *handed_on, *impure.called_names(src.node.body)]
    augmented = {
        a.target.value
        for a in walk(src.node.body)
        if isinstance(a, cst.AugAssign) and isinstance(a.target, cst.Name)
    }
    # (`h += [q]`: in place; `log = LOG` handed to a helper changing it, `await one(d, log)`)
    changed += _aliased(src, set(roots) | augmented | handed_on, calls_only - augmented - set(handed_on))
    changed += _method_aliases(src)  # (`add = ERRORS.append` then `add(x)`)
    found |= {id(o): o for o in _methods_handed(src, values, local)}  # (`map(TOPICS.append, qs)`)
    rebound = impure.rebound_globals(src.node.body)  # (`def bump(): global N; N += 1` in the body)
    objects = set(found)
    via_members = {m for m, v in used if id(v) in objects}  # (`helpers.SINK` of a changed `SINK`)
    out = frozenset(
        n
        for n in [*changed, *through, *reads, *rebound]
        if (
            n in rebound
            or (n in changed and impure.changed_object(values.get(n), n, assigned))
            or (n in handed_on and impure.stateful(values.get(n)))
            or id(values.get(n)) in objects
            or n in via_members
            or (n in through and not inspect.isroutine(values.get(n)) and not isinstance(values.get(n), type))
        )
        and not src.fn_scope.assignments[n]  # a local of the workflow is not the module's
        and not _is_param(src, n)
    )
    src.changed_globals = out
    # (what the changed containers and objects hold may be changed through them: `AGENTS[k].style = s`)
    holders = [*found.values(), *(values[n] for n in out if n in values)]
    src.changed_ids = frozenset(
        {id(o) for o in [*holders, *impure.held_items(holders)] if impure.stateful(o) or isinstance(o, type)}
        | {id(o) for o in reached if isinstance(o, type)}  # (a class whose call returned what changed)
    )
    return out


def _reached_by(
    src: FunctionSource, changed: list[cst.BaseExpression], values: Any, local: set[str]
) -> list[Any]:
    """What a change the workflow makes through an expression no name is the root of may change:
    the module's objects the expression names (``(c := CACHE)[q] = 1``, ``REG.bucket().append(q)``)
    and those the user's code it calls reads (``flags()["seen"] = q`` of ``def flags(): return
    FLAGS``), and what they hold (``changed_ids``)."""
    named = [values.get(n.value) for e in changed for n in _names_in(e) if n.value not in local]
    # (and the user's classes named there: what they hold may be what changed, a singleton's
    # `_instance`, made when it is first called)
    classes = [c for c in named if isinstance(c, type) and impure._users_class(c)]
    return [*classes, *(v for v in [*named, *reached_objects(named)] if impure.stateful(v))]


def _bound_then_changed(src: FunctionSource, local: set[str], values: Any) -> list[cst.BaseExpression]:
    """The values the workflow binds a local to by a call or a walrus (``t = table()``, ``(c :=
    CACHE)``) where it then changes that local in place other than by calling its methods, or by a
    container's changing method (``t["n"] += 1``, ``t.append(x)``), or by a method of the user's
    class that made it changing its object (``b = Agent(); b.post(x)``): the object may hold the
    module's."""
    body = src.node.body
    called = {r for n in walk(body) if (r := _receiver(n)) is not None} & local
    changed = set(mutated_roots(body, impure.method_calls(body)))
    changed |= {  # (`t.append(x)`, `a.inbox.append(x)`)
        root.value
        for n in walk(body)
        if isinstance(n, cst.Call)
        and isinstance(n.func, cst.Attribute)
        and n.func.attr.value in _CHANGING
        and (root := change_root(n.func.value)) is not None
    }
    changed &= local
    out: list[cst.BaseExpression] = []
    for n in walk(body):
        if not (isinstance(n, cst.Assign) and isinstance(n.value, cst.Call)):
            if isinstance(n, cst.NamedExpr) and isinstance(n.target, cst.Name) and n.target.value in changed:
                out.append(n.value)
            continue
        names = set(src.assigned_names(n))
        made = values.get(n.value.func.value) if isinstance(n.value.func, cst.Name) else None
        if names & changed or (
            names & called
            and isinstance(made, type)
            and impure._users_class(made)
            and impure.changes_self(made)
        ):
            out.append(n.value)
    return out


def _receiver(n: cst.CSTNode) -> str | None:
    """``x`` of a call ``x.m(...)`` of a name ``x``."""
    if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and isinstance(n.func.value, cst.Name):
        return n.func.value.value
    return None


def _methods_handed(src: FunctionSource, values: Any, local: set[str]) -> list[Any]:
    """The module's objects whose method changing them the workflow hands on as a value, not
    calling it there (``map(TOPICS.append, qs)``, ``each(xs, LOG.append)``, ``key=SEEN.add``)."""
    out: list[Any] = []
    for n in walk(src.node.body):
        if not (
            isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name) and n.value.value not in local
        ):
            continue
        parent = src.parents.get(n)
        if (isinstance(parent, cst.Call) and parent.func is n) or n.attr.value in READ_ONLY_METHODS:
            continue
        owner = values.get(n.value.value)
        if not impure.stateful(owner):
            continue
        # (read without running it: `IDS.next_id` may be a property counting its reads)
        found = inspect.getattr_static(owner, n.attr.value, None)
        method = isinstance(found, types.FunctionType) and n.attr.value not in getattr(owner, "__dict__", {})
        if (callable(found) and isinstance(owner, impure._MUTABLE)) or (
            method and impure.changed_object(owner, n.value.value, set())
        ):
            out.append(owner)
    return out


def _cells(fn: Any) -> dict[str, Any]:
    """The values of ``fn``'s closure variables, by name (none for a cell not filled yet)."""
    out: dict[str, Any] = {}
    code = getattr(fn, "__code__", None)
    names = code.co_freevars if code is not None else ()
    for name, cell in zip(names, getattr(fn, "__closure__", None) or (), strict=False):
        with contextlib.suppress(ValueError):
            out[name] = cell.cell_contents
    return out


def _handed_here(src: FunctionSource) -> list[str]:
    """Names the workflow hands bare to a function that may change them (``bump(STATS)``)."""
    module = src.fn.__globals__
    out: list[str] = []
    for n in walk(src.node.body):
        if isinstance(n, cst.Call):
            local = set(src.free_names(n.func)[0]) if isinstance(n.func, cst.Name) else set()
            out += handed(module, local, n, depth=1)
    return out


def reads_changed(body: Any, names: list[str]) -> bool:
    """Whether ``names`` (module names a statement of ``body`` reads) hold an object the workflow,
    or a helper around ``body`` inlined in it, changes in place (``changed_globals``): a helper's
    ``CACHE.get(k)`` after the workflow's ``CACHE[k] = v``."""
    here = getattr(body.src.fn, "__globals__", {})
    seen: set[int] = set()
    b = body
    while b is not None and id(b.src) not in seen:
        seen.add(id(b.src))
        there = getattr(b.src.fn, "__globals__", {})
        if any(here.get(n) is there.get(n) for n in set(names) & changed_globals(b.src)):
            return True
        if any(id(here[n]) in b.src.changed_ids for n in names if n in here and impure.stateful(here[n])):
            return True  # (`NOTES` of the workflow's `SHELVES[0].append(q)`, `SHELVES = [NOTES]`)
        while b.parent is not None:
            b = b.parent
        b = b.caller  # (the body that inlined this helper)
    return False


def object_changed(body: Any, objects: Iterable[Any]) -> bool:
    """Whether the workflow, or a helper around ``body`` inlined in it, may change one of
    ``objects`` in place by code it runs (``changed_globals``' objects: a method of one module
    object setting a field of another, ``CODE.style = s``), whatever names it there."""
    ids = {id(o) for o in objects}
    seen: set[int] = set()
    b = body
    while b is not None and id(b.src) not in seen:
        seen.add(id(b.src))
        changed_globals(b.src)
        if ids & b.src.changed_ids:
            return True
        while b.parent is not None:
            b = b.parent
        b = b.caller
    return False


def _global_reads(src: FunctionSource) -> list[str]:
    """Names the workflow reads that are not its own (module-level names, builtins)."""
    names = dict.fromkeys(n.value for n in _names_in(src.node.body))
    return [n for n in names if not src.fn_scope.assignments[n] and not _is_param(src, n)]


def _is_param(src: FunctionSource, name: str) -> bool:
    params = src.node.params
    return any(p.name.value == name for p in [*params.posonly_params, *params.params, *params.kwonly_params])


def _nonlocals(node: cst.CSTNode) -> list[cst.Nonlocal]:
    found: list[cst.Nonlocal] = []

    class V(cst.CSTVisitor):
        def visit_Nonlocal(self, n: cst.Nonlocal) -> None:
            found.append(n)

    visit(node, V())
    return found


def _assigned_after(src: FunctionSource, line: int, names: set[str]) -> dict[str, int]:
    """The first line (of the parsed text) after ``line`` where the workflow binds each of ``names``."""
    out: dict[str, int] = {}
    for n in _names_in(src.node.body):
        if n.value not in names or src.scopes.get(n) is not src.fn_scope:
            continue
        parent: Any = src.parents.get(n)
        aug = isinstance(parent, cst.AugAssign) and parent.target is n
        if _is_load(n, src.parents) and not aug:
            continue
        if isinstance(parent, cst.FunctionDef | cst.ClassDef) and src.positions[parent].start.line <= line:
            continue  # the definition itself
        at = src.positions[n].start.line
        if at > line and (n.value not in out or at < out[n.value]):
            out[n.value] = at
    return out


def _changed_after(src: Any, line: int, names: set[str]) -> bool:
    """Whether a statement after ``line`` changes one of ``names`` in place (a method that is not
    read-only, an item or attribute assigned or deleted; ``aliases.changed_after`` adds a function
    it is handed to)."""
    for n in _names_in(src.node.body):
        if n.value not in names or src.positions[n].start.line <= line:
            continue
        parent = src.parents.get(n)
        if isinstance(parent, cst.Attribute) and parent.value is n:
            call = src.parents.get(parent)
            if (
                isinstance(call, cst.Call)
                and call.func is parent
                and parent.attr.value not in READ_ONLY_METHODS
            ):
                return True
        if isinstance(parent, cst.Subscript | cst.Attribute) and parent.value is n:
            holder = src.parents.get(parent)
            if isinstance(holder, cst.AssignTarget | cst.Del) or (
                isinstance(holder, cst.AugAssign) and holder.target is parent
            ):
                return True
    return False


def uses(src: FunctionSource, local: list[str]) -> tuple[list[str], list[str]]:
    """``(reads, mutates)``: the workflow names read and changed in place through the closures a
    statement uses (``local``: the workflow names the statement reads)."""
    found = closures(src)
    reads: dict[str, None] = {}
    mutates: dict[str, None] = {}
    todo = [n for n in local if n in found]
    seen = set(todo)
    while todo:  # a closure that uses another reads what that one reads
        c = found[todo.pop()]
        reads.update(dict.fromkeys(c.reads))
        mutates.update(dict.fromkeys(c.mutates))
        for n in c.reads:
            if n in found and n not in seen:
                seen.add(n)
                todo.append(n)
    return list(reads), list(mutates)


def cell_binding(src: FunctionSource, deps: Any, name: str, *, contents: bool = True) -> dict[str, Any]:
    """``{name: value}`` of the function's closure cell ``name`` now (recorded in ``deps``, so the
    trace is redone when it changes, ``contents``: or what it holds, ``TraceDeps.saw_cell``);
    empty when it has none or it is empty."""
    code = src.fn.__code__
    if name in code.co_freevars and src.fn.__closure__:
        cell = src.fn.__closure__[code.co_freevars.index(name)]
        try:
            value = cell.cell_contents
        except ValueError:
            return {}
        deps.saw_cell(cell, value, contents=contents)
        return {name: value}
    return {}
