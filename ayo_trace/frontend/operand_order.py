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
changes: the object a method is called on (not for a method only reading its object,
``reading_calls``: ``THREAD.add(await ayo.llm(THREAD.render()))`` keeps its meaning), the names
handed to a function that may change them
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
import types
from typing import TYPE_CHECKING

import libcst as cst

from ..ir.mutation import READ_ONLY_CALLS
from . import closures, impure, interleaving
from .aliases import peek
from .class_changes import _changes_its_object
from .handed import handed_changed
from .immutables import immutable_names
from .state import mutated_roots, walk
from .user_code import parse_function, user_function
from .values import Static, Traced

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
        if any(_item_read_runs_code(comp, n) for n in left) and any(
            isinstance(n, cst.Await) for n in walk(t)
        ):
            return True  # (`groups[k].append(await f())` of a defaultdict: the key is made even when f fails)
        reads, changes = _touched(comp, t)
        if (changes - fixed) & names:
            return True
        changed = _changed_by(comp, calls, lifted) - fixed if calls else set()
        if changed & (reads | changes):
            return True
        if changed and any(isinstance(n, cst.Await) for n in walk(t)):
            return True  # (its change must happen even when the call fails: `log.append(...)`)
    return False


def _item_read_runs_code(comp: Builder, n: cst.CSTNode) -> bool:
    """Whether ``n`` is an item read (``groups[k]``) of a name whose object may run code reading
    it: of a class with ``__missing__`` (a ``defaultdict`` makes the entry) or a ``__getitem__``
    of the user's. The name's object is the module's, or what each of the workflow's assignments
    of it makes (a class called); an object of a class not known is taken as a plain one."""
    if not (isinstance(n, cst.Subscript) and isinstance(n.value, cst.Name)):
        return False
    name = n.value.value
    src = comp.src
    if not src.fn_scope.assignments[name]:
        return _reading_runs_code(type(getattr(src.fn, "__globals__", {}).get(name)))
    made: list[cst.Call] = []
    for a in src.fn_scope.assignments[name]:
        at = getattr(a, "node", None)  # (the name assigned: its statement is two levels up)
        for _ in range(2):
            at = src.parents.get(at) if at is not None else None
        if isinstance(at, cst.Assign | cst.AnnAssign) and isinstance(at.value, cst.Call):
            made.append(at.value)
    return any(isinstance(k := comp.exprs.callee(m), type) and _reading_runs_code(k) for m in made)


def _reading_runs_code(cls: type) -> bool:
    if hasattr(cls, "__missing__"):
        return True
    try:
        getter = inspect.getattr_static(cls, "__getitem__")
    except AttributeError:
        return False
    return isinstance(getter, types.FunctionType)  # (one written in Python, the user's)


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
    reading = reading_calls(comp, t)
    reads, changes = {*local, *other}, set(mutated_roots(t, reading))
    for n in walk(t):
        if isinstance(n, cst.Await) and isinstance(n.expression, cst.Call):
            for _, touches in interleaving.touches_of(comp, [(n.expression, None)]):
                for x in touches.entries:
                    roots = {_root(x.key)} | ({_root(x.same)} if x.same else set())
                    (changes if x.changes else reads).update(roots)
            changes |= _helper_changes(comp, n, n.expression)
        elif isinstance(n, cst.Call) and not isinstance(src.parents.get(n), cst.Await):
            changes |= _changed_by(comp, [n], reading)
    return reads, changes


def reading_calls(comp: Builder, node: cst.CSTNode) -> frozenset[int]:
    """The ids of ``node``'s calls of a plain method that only reads its object (``THREAD.render()``
    of ``def render(self): return "\\n".join(self.lines)``): a method of the user's, not
    ``async``, that sets nothing of ``self``, changes no container it holds nor any of its
    arguments, hands ``self`` or an argument to no call but a builtin reading it (``len(q)``),
    changes no module state, and calls only methods of ``self`` that are such methods too;
    its object a name of the module or of the workflow whose class is known (looked up without
    running the user's code: ``inspect.getattr_static``). Calling it changes nothing."""
    module = getattr(comp.src.fn, "__globals__", {})
    out: set[int] = set()
    for n in walk(node):
        if not (
            isinstance(n, cst.Call)
            and isinstance(n.func, cst.Attribute)
            and isinstance(n.func.value, cst.Name)
        ):
            continue
        name = n.func.value.value
        value = peek(comp, name) if comp.src.fn_scope.assignments[name] else Static(module.get(name))
        cls = (
            type(value.value)
            if isinstance(value, Static)
            else value.cls
            if isinstance(value, Traced)
            else None
        )
        if cls is not None and _reads_only(cls, n.func.attr.value, 0):
            out.add(id(n))
    return frozenset(out)


def _reads_only(cls: type, method: str, depth: int) -> bool:
    try:
        member = inspect.getattr_static(cls, method)
    except AttributeError:
        return False
    fn = member if isinstance(member, types.FunctionType) else None
    if fn is None or depth > 3 or inspect.iscoroutinefunction(fn) or user_function(fn) is None:
        return False
    if not impure._users_class(cls) or _changes_its_object(fn) or impure.changes_module_state(fn):
        return False
    if impure.changed_objects(fn):
        return False
    node = parse_function(fn)
    if node is None or not node.params.params:
        return False
    me = node.params.params[0].name.value
    params = {q.name.value for q in (*node.params.params, *node.params.kwonly_params)}
    own: set[int] = set()  # (calls of its object's methods: such methods too, or it is not one)
    for c in walk(node.body):
        if not isinstance(c, cst.Call):
            continue
        plain = isinstance(c.func, cst.Name) and c.func.value in READ_ONLY_CALLS
        if not plain and any(isinstance(a.value, cst.Name) and a.value.value in params for a in c.args):
            return False  # (`self` or an argument handed on: whatever it is handed to may change it)
        func = c.func
        if not (
            isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == me
        ):
            continue
        if not _reads_only(cls, func.attr.value, depth + 1):
            return False
        own.add(id(c))
    return not set(mutated_roots(node.body, frozenset(own))) & params  # (an argument or `self` changed)


def _root(key: str) -> str:
    return key.split(".")[0].split("[")[0].split(interleaving.ITEM)[0]


def _changed_by(comp: Builder, calls: list[cst.Call], lifted: frozenset[int] = frozenset()) -> set[str]:
    """The names plain (not awaited) calls may change in place (``lifted``: the calls inside the
    lifted parts, which those parts make: ``(await ayo.llm(q)).strip()``; and calls of methods
    only reading their object, ``reading_calls``)."""
    src = comp.src
    defined = closures.closures(src)
    module = getattr(src.fn, "__globals__", {})
    out: set[str] = set()
    for c in calls:
        reading = reading_calls(comp, c)
        out.update(mutated_roots(c, lifted | reading))
        if id(c) not in reading:  # (a reading method changes none of its arguments either)
            out.update(handed_changed(src, c))
        if isinstance(c.func, cst.Name):
            name = c.func.value
            if name in defined:
                out |= _closure_changes(comp, name, set())
            elif (outer := _defined_around(comp, name)) is not None:
                out |= _closure_changes(outer, name, set())  # (of the workflow, called by its helper)
            elif not src.fn_scope.assignments[name]:
                out |= impure.changes_module_state(module.get(name))
    return out


def _defined_around(comp: Builder, name: str) -> Builder | None:
    """The body around an inlined local helper (``comp``) that defines the function ``name`` the
    helper calls (``slot(k)`` of ``async def add(w)``, both the workflow's), when the helper binds
    no such name itself; None when none does."""
    if comp.src.fn_scope.assignments[name]:
        return None
    c = comp.enclosing
    while c is not None:
        if name in closures.closures(c.src):
            return c
        if c.src.fn_scope.assignments[name]:
            return None
        c = c.enclosing
    return None


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
