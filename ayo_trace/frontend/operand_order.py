"""Python evaluates a statement left to right; the graph lifts its awaits out of it.

``r = (len(log), await add(q))``: Python reads ``len(log)``, then runs ``add``. The graph makes
each await of the statement (and each comprehension that awaits) a node of its own and runs the
rest of the statement after all of them (``Expressions.lift_awaits``), so the code left of an
await runs after it. That keeps Python's meaning unless the two touch one object, one of them
changing it:

* the lifted call changes what the code left of it reads: ``f"turn {len(memory)}: {await
  step(q)}"`` with ``step`` appending to ``memory``; ``c["n"] += await bump()`` with ``bump``
  changing ``c`` (an augmented assignment reads its target first); ``n += await bump()`` with
  ``bump`` rebinding ``n`` through ``nonlocal``;
* the code left of it changes what the lifted call reads: ``(buf.pop(), await ayo.llm(f"{buf}"))``,
  ``f"{bump()}{await ayo.llm(f'{ctr[0]}')}"`` with ``bump`` a function of the workflow changing
  ``ctr``.

What a lifted call touches is ``interleaving``'s reading of it (through the helpers it awaits, the
functions the workflow defines, the module's names they change); what a plain call left of it
changes: the object a method is called on, the names handed to a function that may change them
(``handed.handed_changed``), the names a function the workflow defines changes (``closures``,
and the functions it calls in turn), the module's names a function of the module changes
(``impure.changes_module_state``). Such a statement runs as written, a graph break, as does one
whose code left of an awaited call changes anything at all: Python makes that change even when the
call fails (``str(log.append(q)) + await ayo.llm(q)``, a ``clock.tick()`` in an f-string). An
assignment's targets (``d[k] = await f()``) are evaluated after its value in both, and are left
out.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

import libcst as cst

from . import closures, impure, interleaving
from .handed import handed_changed
from .immutables import immutable_names
from .state import mutated_roots, walk

if TYPE_CHECKING:
    from .builder import Builder


def reordered(comp: Builder, node: cst.CSTNode, targets: list[cst.CSTNode]) -> bool:
    """Whether lifting ``targets`` (the awaits and awaiting comprehensions of the statement or
    expression ``node``) out of it would run code Python runs before one of them after it, the two
    touching one object, one of them changing it."""
    src = comp.src
    inside = {id(m) for t in targets for m in walk(t)}
    stored = {id(m) for t in _stored(node) for m in walk(t)}
    module = getattr(src.fn, "__globals__", {})
    fixed = immutable_names(src) | {  # (a string is not changed in place; nor is a module: `ayo.llm`)
        n for n, v in module.items() if inspect.ismodule(v) and not src.fn_scope.assignments[n]
    }
    lifted = frozenset(id(n) for t in targets for n in walk(t) if isinstance(n, cst.Call))
    for t in targets:
        if t not in src.positions:
            continue
        start = src.positions[t].start
        left = [
            n
            for n in walk(node)
            if id(n) not in inside
            and id(n) not in stored
            and n in src.positions
            and (src.positions[n].end.line, src.positions[n].end.column) <= (start.line, start.column)
        ]
        names = {n.value for n in left if isinstance(n, cst.Name)} - fixed
        calls = [n for n in left if isinstance(n, cst.Call)]
        if not names and not calls:
            continue
        reads, changes = _touched(comp, t)
        if (changes - fixed) & names:
            return True
        changed = _changed_by(comp, calls, lifted) - fixed if calls else set()
        if changed & (reads | changes):
            return True
        if changed and any(isinstance(n, cst.Await) for n in walk(t)):
            return True  # (its change must happen even when the call fails: `log.append(...)`)
    return False


def _stored(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The targets of an assignment (evaluated after its value; not an augmented assignment's,
    which reads its target first)."""
    if isinstance(node, cst.Assign):
        return [t.target for t in node.targets]
    if isinstance(node, cst.AnnAssign):
        return [node.target]
    return []


def _touched(comp: Builder, t: cst.CSTNode) -> tuple[set[str], set[str]]:
    """The names (of the workflow, of the module) a lifted part reads and those it may change."""
    src = comp.src
    local, other = src.free_names(t)
    reads, changes = {*local, *other}, set(mutated_roots(t))
    for n in walk(t):
        if isinstance(n, cst.Await) and isinstance(n.expression, cst.Call):
            for _, touches in interleaving.touches_of(comp, [(n.expression, None)]):
                for x in touches.entries:
                    roots = {_root(x.key)} | ({_root(x.same)} if x.same else set())
                    (changes if x.changes else reads).update(roots)
            changes |= _helper_changes(comp, n, n.expression)
        elif isinstance(n, cst.Call) and not isinstance(src.parents.get(n), cst.Await):
            changes |= _changed_by(comp, [n])
    return reads, changes


def _root(key: str) -> str:
    return key.split(".")[0].split("[")[0].split(interleaving.ITEM)[0]


def _changed_by(comp: Builder, calls: list[cst.Call], lifted: frozenset[int] = frozenset()) -> set[str]:
    """The names plain (not awaited) calls may change in place (``lifted``: the calls inside the
    lifted parts, which those parts make: ``(await ayo.llm(q)).strip()``)."""
    src = comp.src
    defined = closures.closures(src)
    module = getattr(src.fn, "__globals__", {})
    out: set[str] = set()
    for c in calls:
        out.update(mutated_roots(c, lifted))
        out.update(handed_changed(src, c))
        if isinstance(c.func, cst.Name):
            name = c.func.value
            if name in defined:
                out |= _closure_changes(comp, name, set())
            elif not src.fn_scope.assignments[name]:
                out |= impure.changes_module_state(module.get(name))
    return out


def _closure_changes(comp: Builder, name: str, seen: set[str]) -> set[str]:
    """The workflow's names a function it defines changes when called, through the functions of
    the workflow it calls in turn."""
    src = comp.src
    defined = closures.closures(src)
    seen.add(name)
    closure = defined[name]
    params = {p.name.value for p in getattr(closure.node, "params", cst.Parameters()).params}
    out = set(closure.mutates) | (set(mutated_roots(closure.node)) - params)  # (a module's list too)
    for n in walk(closure.node):
        if not isinstance(n, cst.Call):
            continue
        out.update(x for x in handed_changed(src, n) if x in closure.reads)
        if isinstance(n.func, cst.Name) and n.func.value in defined and n.func.value not in seen:
            out |= _closure_changes(comp, n.func.value, seen)
    return out


def _helper_changes(comp: Builder, e: cst.Await, call: cst.Call) -> set[str]:
    """The workflow's names an awaited call may change in place that ``interleaving`` does not
    read from a helper's source: for a call the tracer does not inline, every name handed to it
    bare, and its object; for a helper, its object when it changes ``self``."""
    receiver = call.func.value if isinstance(call.func, cst.Attribute) else None
    while isinstance(receiver, cst.Attribute | cst.Subscript):
        receiver = receiver.value
    owner = {receiver.value} if isinstance(receiver, cst.Name) else set()
    if getattr(comp.exprs.callee(call), "__ayo_primitive__", None):
        return set()
    helper = comp.exprs.helper_of(e)
    if helper is None:
        return owner | set(handed_changed(comp.src, call))
    params = [p.name.value for p in helper.src.node.params.params]
    body = helper.src.node.body
    method = bool(params) and params[0] == "self" and isinstance(call.func, cst.Attribute)
    return owner if method and "self" in mutated_roots(body) else set()
