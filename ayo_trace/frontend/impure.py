"""Module-level functions a workflow calls that change module state (``SEEN.add(x)`` in a helper).

The graph runs a workflow's plain statements in the order their data needs, not in program order;
statements with an *effect* keep their program order among themselves. A statement that calls a
plain function of the user's code which changes a module-level list, dict or set in place (or
rebinds a name it declares ``global``) has an effect the statement's own text does not show::

    SEEN = set()

    def novel(x):
        if x in SEEN:
            return False
        SEEN.add(x)
        return True

    @ayo.workflow
    async def answer_new(docs):
        SEEN.clear()
        return [await ayo.llm(d) for d in docs if novel(d)]

Without knowing what ``novel`` does, the graph could compute the filter before ``SEEN.clear()``.
``changes_module_state(fn)`` reads the function's source (and, transitively, of the module-level
functions it calls by name) and returns the module names it changes; a statement that calls such a
function runs as an effect (``Compiler.python_node``), and the names join the workflow's
``changed_globals`` (``closures.py``), so statements reading them directly keep their place too.

The code may change a module's object through a name the workflow does not use for it: a
parameter's default (``async def note(x, sink=LOG)``), an argument (``bump(STATS)``), a cell of a
decorator's wrapper (``wrapper.calls += 1``, read as ``ask.calls``), its class through an object
(``type(self).count += 1``, ``self.log.append(x)`` of a class-level list: ``class_state_changes``),
a module's member (``helpers.SINK``). ``changed_objects(value)`` returns those objects by identity,
through the functions, wrappers and classes' methods the code uses, so the workflow's names for
them count as changed wherever they are named.

Only the user's own code is read: functions whose source file is outside the standard library and
the installed packages (their module state is theirs to manage, and reading it all would make every
statement an effect). A function whose source cannot be read is taken as pure, as before.
"""

from __future__ import annotations

import collections
import contextvars
import dataclasses
import functools
import inspect
import logging
import random
import sys
import types
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import libcst as cst

from ..ir.mutation import READ_ONLY_METHODS
from .handed import handed
from .state import _target_names, change_root, changed_argument, mutated_roots, target_leaves, walk
from .user_code import library_dirs, parse_function, user_function, user_wrappers

_MUTABLE = (list, dict, set, bytearray, collections.deque)
_MAX_DEPTH = 8


def stateful(value: Any) -> bool:
    """A container, or an object of the user's holding state in its attributes (a module-level
    agent, a ``SimpleNamespace`` of counters): not a module, a function, a class, a logger or a
    constant."""
    if isinstance(value, _MUTABLE):
        return True
    if value is None or inspect.ismodule(value) or inspect.isroutine(value) or isinstance(value, type):
        return False
    if isinstance(value, str | bytes | int | float | complex | tuple | frozenset | range):
        return False
    if isinstance(value, logging.Logger | logging.LoggerAdapter):
        return False
    return hasattr(value, "__dict__")


def changed_object(value: Any, name: str, assigned: set[str]) -> bool:
    """Whether code changing ``name`` (calling a method of it, setting an item or attribute of it:
    ``mutated_roots``), which holds ``value``, changes state: a container; a class or an object
    whose attributes it sets (``assigned``); an object of the user's whose class's methods change
    their object (``changes_self``: not ``TEMPLATE.render(q)``); a ``ContextVar`` (``V.set(x)``)
    or a ``random.Random`` (each draw changes it)."""
    if isinstance(value, (*_MUTABLE, contextvars.ContextVar, random.Random)):
        return True
    if isinstance(value, tuple):  # (`PAIR[0].append(q)`: a list the tuple holds)
        return any(isinstance(v, _MUTABLE) or stateful(v) for v in value)
    if isinstance(value, type):  # (`Reg.names.append(q)`, `Reg.add(q)` of a static method changing it)
        return name in assigned or class_state_changes(value)
    if inspect.isroutine(value):
        return name in assigned  # (`helper.calls += 1`)
    if not stateful(value):
        return False
    if name in assigned:
        return True
    cls: Any = type(value)
    module = sys.modules.get(cls.__module__)
    file = getattr(module, "__file__", None) or ""
    return bool(file) and not file.startswith(library_dirs()) and changes_self(cls)


@functools.cache
def class_state_changes(cls: type) -> bool:
    """Whether code of the user's class ``cls`` (or of a base) changes what the class itself holds,
    which all its objects share: a static or class method changing state in place
    (``cls.names.append(x)``, ``Reg.count += 1``), or a method changing the class through its
    object (``type(self).count += 1``, ``self.__class__.seen.add(x)``) or a container the class
    holds (``self.log.append(x)`` of a class-level ``log = []`` its ``__init__`` does not shadow)."""
    for member in vars_of(cls):
        fn = _function_of(member)
        fn = user_function(fn) if isinstance(fn, types.FunctionType) else None
        node = parse_function(fn) if fn is not None else None
        if fn is None or node is None:
            continue
        params = [p.name.value for p in (*node.params.posonly_params, *node.params.params)]
        if not isinstance(member, staticmethod) and params:
            if not isinstance(member, classmethod) and _changes_class_through(node, params[0], cls):
                return True
            if not isinstance(member, classmethod):
                continue  # (`self`'s own changes are the object's: ``changes_self``)
            params = params[1:]  # (`cls` is the class: its changes count)
        own = set(params) | _assigned_names(node.body)
        changed = (set(mutated_roots(node.body)) | attribute_roots(node.body)) - own
        if any(not inspect.ismodule(fn.__globals__.get(n)) for n in changed):
            return True  # (not a list of its own, nor `json.loads(text)`)
    return False


def vars_of(cls: type) -> list[Any]:
    """The members ``cls`` and its bases (but ``object``) define."""
    return [m for c in cls.__mro__[:-1] for m in vars(c).values()]


def _function_of(member: Any) -> Any:
    if isinstance(member, staticmethod | classmethod):
        return member.__func__
    return member.fget if isinstance(member, property) else member


def _changes_class_through(node: cst.FunctionDef, me: str, cls: type) -> bool:
    """Whether a method whose object is ``me`` changes its class through it: an attribute of
    ``type(me)`` or ``me.__class__``, or a class-level container read as ``me.x``."""
    shadowed = _set_in_init(cls)
    for e in _changed_expressions(node.body):
        chain: list[str] = []
        while isinstance(e, cst.Attribute | cst.Subscript):
            chain.insert(0, e.attr.value if isinstance(e, cst.Attribute) else "[]")
            e = e.value
        if (
            isinstance(e, cst.Call)
            and _is_name(e.func, "type")
            and [_is_name(a.value, me) for a in e.args] == [True]
        ):
            return True  # (`type(self).count += 1`)
        if not _is_name(e, me) or not chain:
            continue
        if chain[0] == "__class__":
            return True  # (`self.__class__.count += 1`)
        held = next((vars(c)[chain[0]] for c in cls.__mro__[:-1] if chain[0] in vars(c)), None)
        if chain[0] not in shadowed and (isinstance(held, _MUTABLE) or stateful(held)):
            return True  # (`self.log.append(x)` of the class's `log = []`)
    return False


def _is_name(e: cst.BaseExpression, name: str) -> bool:
    return isinstance(e, cst.Name) and e.value == name


def _changed_expressions(body: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    """The expressions whose objects ``body`` changes in place: ``x`` of ``x.append(v)``,
    ``x[k] = v``, ``x.a = v``, ``setattr(x, ...)``; and ``x.a`` of ``x.a += v`` (a list's ``+=``)."""
    for n in walk(body):
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute):
            if n.func.attr.value not in READ_ONLY_METHODS:
                yield n.func.value
        elif isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.args:
            if n.func.value in ("setattr", "delattr"):
                yield n.args[0].value
        elif isinstance(n, cst.AssignTarget | cst.AugAssign | cst.Del):
            for t in target_leaves(n.target):
                if isinstance(t, cst.Attribute | cst.Subscript):
                    yield t.value
                    if isinstance(n, cst.AugAssign):
                        yield t


@functools.cache
def _set_in_init(cls: type) -> frozenset[str]:
    """The attributes ``cls``'s ``__init__`` sets on its object in its own statements (``self.log =
    []``): they shadow the class's, so changing them changes the object."""
    init = next((vars(c)["__init__"] for c in cls.__mro__[:-1] if "__init__" in vars(c)), None)
    fn = user_function(init) if isinstance(init, types.FunctionType) else None
    node = parse_function(fn) if fn is not None else None
    if node is None or not node.params.params or not isinstance(node.body, cst.IndentedBlock):
        return frozenset()
    me = node.params.params[0].name.value
    out: set[str] = set()
    for stmt in node.body.body:
        for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else []
            if isinstance(small, cst.AnnAssign):
                targets = [small.target]
            for t in (leaf for target in targets for leaf in target_leaves(target)):
                if isinstance(t, cst.Attribute) and _is_name(t.value, me):
                    out.add(t.attr.value)
    return frozenset(out)


def _assigned_names(body: cst.CSTNode) -> set[str]:
    """Names a function's body binds by an assignment, a ``for`` or a ``with ... as``: its locals."""
    out: set[str] = set()
    for n in walk(body):
        targets = [t.target for t in n.targets] if isinstance(n, cst.Assign) else []
        if isinstance(n, cst.AnnAssign | cst.For):
            targets = [n.target]
        out.update(t.value for target in targets for t in target_leaves(target) if isinstance(t, cst.Name))
    return out


def attribute_roots(body: cst.CSTNode) -> set[str]:
    """Names whose attributes ``body`` assigns (``C.count += 1``, ``C.last = x``) or changes in
    place (``STATE.items.append(q)``, ``STATE.cache[k] = v``), or sets by ``setattr(C, ...)``
    (``delattr``)."""
    out: set[str] = set()
    for n in walk(body):
        if (
            isinstance(n, cst.Call)
            and isinstance(n.func, cst.Attribute)
            and n.func.attr.value not in READ_ONLY_METHODS
        ):
            out.update(_member_root(n.func.value))
        if (
            isinstance(n, cst.Call)
            and isinstance(n.func, cst.Name)
            and n.func.value in ("setattr", "delattr")
            and n.args
            and isinstance(n.args[0].value, cst.Name)
        ):
            out.add(n.args[0].value.value)
        if not isinstance(n, cst.AssignTarget | cst.AugAssign):
            continue
        for target in target_leaves(n.target):
            if isinstance(target, cst.Subscript):
                out.update(_member_root(target.value))
            elif isinstance(target, cst.Attribute):
                while isinstance(target, cst.Attribute | cst.Subscript):
                    target = target.value
                if isinstance(target, cst.Name):
                    out.add(target.value)
    return out


def _member_root(e: cst.BaseExpression) -> list[str]:
    """``X`` of ``X.a``, ``X.a[i].b``, ``vars(X)``: an attribute of a name, at any depth (not ``X``
    itself)."""
    seen_attribute = False
    while True:
        if isinstance(e, cst.Attribute | cst.Subscript):
            seen_attribute = seen_attribute or isinstance(e, cst.Attribute)
            e = e.value
        elif isinstance(e, cst.Call) and _is_name(e.func, "vars") and len(e.args) == 1:
            seen_attribute, e = True, e.args[0].value  # (`vars(fn)["calls"] += 1`: an attribute)
        else:
            return [e.value] if isinstance(e, cst.Name) and seen_attribute else []


@dataclasses.dataclass(frozen=True, eq=False)
class Changes:
    """What running some code may change of module state: ``names`` of the module of the code
    (objects they hold changed in place, names it declares ``global`` and assigns, the functions
    and classes it uses that change state themselves), and ``objects``, the objects it may change
    in place, by identity, whatever names them where (``sink=LOG``, a wrapper's own function)."""

    names: frozenset[str] = frozenset()
    objects: tuple[Any, ...] = ()

    @property
    def any(self) -> bool:
        """Whether it changes anything: running the code has an effect."""
        return bool(self.names or self.objects)


def changes_module_state(value: Any) -> frozenset[str]:
    """Names of its module that ``value`` changes when used: for a plain function of the user's
    code, when called (the wrappers of the user's decorators around it too); for a class of the
    user's or an object of one, when its methods run. Empty for anything else; nonempty means
    using it has an effect (so does a nonempty ``changed_objects``: ``calls_state_changing``)."""
    return _changes_of(value).names


def changed_objects(value: Any) -> tuple[Any, ...]:
    """The objects using ``value`` (as ``changes_module_state``) may change in place: containers,
    objects and classes of any module, however the code reaches them (a global name, a parameter's
    default, a cell of a decorator's wrapper, ``type(self)``)."""
    return _changes_of(value).objects


def _changes_of(value: Any) -> Changes:
    fns, cls = _code_of(value)
    names: set[str] = set()
    objects: dict[int, Any] = {}
    if cls is not None:
        objects[id(cls)] = cls
        name = cls.__name__
        if getattr(sys.modules.get(cls.__module__), name, None) is cls:
            names.add(name)  # (its module's name for it)
    for fn in fns:
        c = _changed_by(fn)
        names |= c.names
        objects.update((id(o), o) for o in c.objects)
    return Changes(frozenset(names), tuple(objects.values()))


def _code_of(value: Any) -> tuple[list[types.FunctionType], type | None]:
    """The user's functions using ``value`` may run (the function behind its decorators, their
    wrappers; a class's or an object's class's methods) and the class whose own state they change
    (``class_state_changes``), if any."""
    try:
        cls = value if isinstance(value, type) else type(value) if stateful(value) else None
    except Exception:  # (an object whose `__dict__` cannot be read)
        return [], None
    if cls is None or not _users_class(cls):
        fn = user_function(value)
        return [*([fn] if fn is not None else []), *user_wrappers(value)], None
    return _methods(cls), cls if class_state_changes(cls) else None


def _methods(cls: type) -> list[types.FunctionType]:
    """The functions of the user's code ``cls`` and its bases define (methods, static and class
    methods, properties' getters)."""
    members = [_function_of(m) for m in vars_of(cls)]
    return [f for m in members if isinstance(m, types.FunctionType) and (f := user_function(m)) is not None]


def _users_class(cls: type) -> bool:
    module = sys.modules.get(cls.__module__)
    file = getattr(module, "__file__", None) or ""
    return bool(file) and not file.startswith(library_dirs())


@functools.cache
def _changed_by(fn: types.FunctionType) -> Changes:
    return _changed(fn, 0, {})


def _changed(fn: types.FunctionType, depth: int, memo: dict[types.FunctionType, Changes]) -> Changes:
    """What ``fn`` changes (``Changes``), through the user's code it uses, ``_MAX_DEPTH`` deep
    (``memo``: what is known so far of the functions this walk has met; one it is still reading,
    a recursion, counts as changing nothing there, and is counted where its own walk ends)."""
    node = parse_function(fn)
    memo[fn] = Changes()
    if node is None:
        return memo[fn]
    code = fn.__code__
    local = set(code.co_varnames) | set(code.co_cellvars)
    declared = {n.value for g in _globals_of(node) for n in (a.name for a in g.names)}
    g = fn.__globals__
    assigned = attribute_roots(node.body)
    handed_on = _handed_on(node, g, local)  # (what they are handed to changes them in place)
    touched = set(mutated_roots(node.body)) | assigned | handed_on | called_names(node.body)
    names = {n for n in declared if _assigned(node, n)}
    objects: dict[int, Any] = {}

    def changes(value: Any, name: str) -> None:
        if changed_object(value, name, assigned) or (name in handed_on and stateful(value)):
            objects[id(value)] = value
            names.update(n for n, v in g.items() if v is value)

    for n in touched:
        if n not in local or n in declared:
            changes(g.get(n), n)
    for n, value in _held_objects(fn, node).items():  # (`sink=LOG`, a wrapper's own `wrapper`)
        if n in touched:
            changes(value, n)
    for n, held in changed_members(node.body, g, local).items():  # (`helpers.SINK.append(x)`)
        names.add(n)
        objects.update((id(o), o) for o in held)
    if depth < _MAX_DEPTH:
        for name, value in used_values(node.body, g, code.co_names):
            fns, cls = _code_of(value)
            found = [memo[f] if f in memo else _changed(f, depth + 1, memo) for f in fns if f is not fn]
            if cls is not None:
                found.append(Changes(objects=(cls,)))
            if any(c.any for c in found):
                names.add(name)  # using it changes state: the caller's statement is an effect
            objects.update((id(o), o) for c in found for o in c.objects)
    memo[fn] = Changes(frozenset(names), tuple(objects.values()))
    return memo[fn]


def _handed_on(node: cst.FunctionDef, g: dict[str, Any], local: set[str]) -> set[str]:
    """Names a function hands bare to a function that may change them in place (``bump(STATS)``),
    and names it adds to in place (``sink += [x]``)."""
    out: set[str] = set()
    for n in walk(node.body):
        if isinstance(n, cst.Call):
            out.update(handed(g, local, n, depth=1))
        elif isinstance(n, cst.AugAssign) and isinstance(n.target, cst.Name):
            out.add(n.target.value)
    return out


def called_names(body: cst.CSTNode) -> set[str]:
    """Names ``body`` calls (``ask(q)``): an object of the user's whose ``__call__`` changes it
    (a counting decorator's object) is changed so (``changed_object``)."""
    return {n.func.value for n in walk(body) if isinstance(n, cst.Call) and isinstance(n.func, cst.Name)}


def _held_objects(fn: types.FunctionType, node: cst.FunctionDef) -> dict[str, Any]:
    """The objects a function's own names hold before its body runs: its parameters' defaults
    (``sink=LOG``) and the cells it reads of the functions around it (a decorator's ``wrapper``)."""
    out: dict[str, Any] = {}
    positional = [p.name.value for p in (*node.params.posonly_params, *node.params.params)]
    defaults = fn.__defaults__ or ()
    out.update(zip(positional[len(positional) - len(defaults) :], defaults, strict=False))
    out.update(fn.__kwdefaults__ or {})
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=False):
        try:
            out[name] = cell.cell_contents
        except ValueError:  # (an empty cell)
            continue
    return out


def used_values(body: cst.CSTNode, g: dict[str, Any], names: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """The module-level values code reads by name (``names``, found in its module's ``g``), and
    the members of a module it reads as ``helpers.bump``, by the module's name (not ayo's own:
    ``ayo.llm`` is the tracer's)."""
    for name in names:
        if name in g:
            yield name, g[name]
    for n in walk(body):
        if isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name):
            module = g.get(n.value.value)
            if inspect.ismodule(module) and module.__name__.partition(".")[0] != _TRACER:
                yield n.value.value, getattr(module, n.attr.value, None)


_TRACER = __name__.partition(".")[0]


def changed_members(body: cst.CSTNode, g: dict[str, Any], local: set[str]) -> dict[str, list[Any]]:
    """Modules (by name in ``g``) whose members ``body`` changes (``helpers.SINK.append(x)``,
    ``helpers.count += 1``), each with the module and the members' objects: a module's own
    functions it calls (``json.dump(...)``) change nothing of it."""
    out: dict[str, list[Any]] = {}
    for e in _changed_expressions(body):
        first = None
        while isinstance(e, cst.Attribute | cst.Subscript):
            first = e.attr.value if isinstance(e, cst.Attribute) else None
            e = e.value
        if first is None or not isinstance(e, cst.Name) or e.value in local:
            continue
        module = g.get(e.value)
        if inspect.ismodule(module):
            member = getattr(module, first, None)
            held = out.setdefault(e.value, [module])
            if stateful(member) or isinstance(member, type) or inspect.isroutine(member):
                held.append(member)  # (not a number: one object every `1` of the program is)
    return out


_CHANGING = frozenset(
    {
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "clear",
        "update",
        "setdefault",
        "popitem",
        "add",
        "discard",
        "sort",
        "reverse",
        "appendleft",
        "extendleft",
        "popleft",
        "rotate",
    }
)


@functools.cache
def changes_self(cls: Any) -> bool:
    """Whether a method of ``cls`` (or of a base of it; not ``__init__`` nor another special
    method but ``__call__``) changes its object: sets an attribute of ``self`` or an item of one,
    or changes a container it holds (``self.history.append(q)``). Its objects then keep state from
    call to call, which a module-level one keeps from query to query."""
    for c in cls.__mro__[:-1]:
        for name, member in vars(c).items():
            fn = member.__func__ if isinstance(member, classmethod) else member
            special = name.startswith("__") and name.endswith("__") and name != "__call__"
            if special or not isinstance(fn, types.FunctionType):
                continue
            node = parse_function(fn)
            params = node.params.params if node is not None else ()
            if params and _changes(node.body, params[0].name.value):  # type: ignore[union-attr]
                return True
    return False


def _changes(body: cst.CSTNode, me: str) -> bool:
    """Whether ``body`` sets an attribute of ``me`` (or an item of one; ``setattr(me, ...)``,
    ``vars(me)[k] = v``) or changes a container held in one with a list, dict, set or deque
    method."""

    def of_me(e: cst.BaseExpression) -> bool:
        root = None if isinstance(e, cst.Name) else change_root(e)
        return root is not None and root.value == me

    for n in walk(body):
        if isinstance(n, cst.AssignTarget | cst.AugAssign | cst.Del) and any(
            of_me(t) for t in target_leaves(n.target)
        ):
            return True
        if isinstance(n, cst.Call) and (arg := changed_argument(n)) is not None and _is_name(arg, me):
            return True  # (`setattr(self, "calls", ...)`)
        if (
            isinstance(n, cst.Call)
            and isinstance(n.func, cst.Attribute)
            and n.func.attr.value in _CHANGING
            and of_me(n.func.value)
        ):
            return True
    return False


def _globals_of(node: cst.FunctionDef) -> Iterator[cst.Global]:
    for n in walk(node.body):
        if isinstance(n, cst.Global):
            yield n


def rebound_globals(body: cst.CSTNode) -> set[str]:
    """The names that functions defined in ``body`` (a workflow's, read as source) declare
    ``global`` and bind: module names the workflow changes when it calls them."""
    return {
        a.name.value
        for n in walk(body)
        if isinstance(n, cst.FunctionDef)
        for g in _globals_of(n)
        for a in g.names
        if _assigned(n, a.name.value)
    }


def _assigned(node: cst.FunctionDef, name: str) -> bool:
    """Whether ``node`` binds ``name`` (``N = ...``, ``N += ...``, ``del N``, in a tuple target
    ``N, M = ...``, a loop's target, ``with ... as N``, ``N := ...``)."""
    for n in walk(node.body):
        if isinstance(n, cst.AssignTarget | cst.AugAssign | cst.AnnAssign | cst.Del | cst.For | cst.CompFor):
            targets: cst.BaseExpression | None = n.target
        elif isinstance(n, cst.WithItem):
            targets = n.asname.name if n.asname is not None else None
        elif isinstance(n, cst.NamedExpr):
            targets = n.target
        else:
            continue
        if targets is not None and name in _target_names(targets):
            return True
    return False


def calls_state_changing(code: types.CodeType, names: Mapping[str, Any]) -> bool:
    """Whether compiled ``code`` (or a function, lambda or comprehension nested in it) reads, by a
    global or free name resolved in ``names``, a function that changes module state when called."""
    return any(_changes_of(names.get(n)).any for n in dict.fromkeys(_names(code)))


def _names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    yield from code.co_freevars
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)
