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
them count as changed wherever they are named. A draw of a random number generator
(``random.choice``), a ``print`` and an ``open`` change process-wide state (``hidden_state``).

Only the user's own code is read: functions whose source file is outside the standard library and
the installed packages (their module state is theirs to manage, and reading it all would make every
statement an effect). A function whose source cannot be read is taken as pure, as before.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import inspect
import itertools
import logging
import random
import sys
import types
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from typing import Any

import libcst as cst

from ..ir.mutation import READ_ONLY_METHODS
from . import hidden_state
from .class_changes import (
    _MUTABLE,
    _changed_expressions,
    _changes_its_object,
    _function_of,
    attribute_roots,
    changes_self,
    class_state_changes,
    getters_change_self,
    stateful,
    vars_of,
)
from .handed import handed
from .state import _target_names, binds, mutated_roots, walk
from .user_code import library_dirs, parse_function, user_function, user_wrappers, weak_cache

_MAX_DEPTH = 8


def changed_object(value: Any, name: str, assigned: set[str]) -> bool:
    """Whether code changing ``name`` (calling a method of it, setting an item or attribute of it:
    ``mutated_roots``), which holds ``value``, changes state: a container; a class or an object
    whose attributes it sets (``assigned``); an object of the user's whose class's methods change
    their object (``changes_self``: not ``TEMPLATE.render(q)`` of the user's class); a ``ContextVar``
    (``V.set(x)``); an object of a library's class (``DB.execute(...)``, ``random.Random``: its code is
    not read), but a constant, a logger or a compiled pattern (``hidden_state.holds_state``)."""
    if isinstance(value, (*_MUTABLE, contextvars.ContextVar, random.Random)):
        return True
    if isinstance(value, tuple):  # (`PAIR[0].append(q)`: a list the tuple holds)
        return any(isinstance(v, _MUTABLE) or stateful(v) for v in value)
    if isinstance(value, type):  # (`Reg.names.append(q)`, `Reg.add(q)` of a static method changing it)
        return name in assigned or class_state_changes(value)
    if inspect.isroutine(value):
        return name in assigned  # (`helper.calls += 1`)
    if hidden_state.holds_state(value) and not _users_class(type(value)):
        return True  # (a library's object: its code is not read)
    if not stateful(value):
        return False
    return name in assigned or (_users_class(type(value)) and changes_self(type(value)))


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


def _changes_of(value: Any, depth: int = 0) -> Changes:
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
    objects.update((id(o), o) for o in _reached(value, depth))
    for item in _table_objects(value) if depth < 2 else ():  # (a router's table of agents)
        c = _changes_of(item, depth + 1)
        names |= c.names
        objects.update((id(o), o) for o in c.objects)
    if isinstance(value, type) and dataclasses.is_dataclass(value) and depth < 2:
        for f in dataclasses.fields(value):  # (making one calls its fields' factories: a counter)
            if f.default_factory is not dataclasses.MISSING:
                c = _changes_of(f.default_factory, depth + 1)
                names |= c.names
                objects.update((id(o), o) for o in c.objects)
    return Changes(frozenset(names), tuple(objects.values()))


def _reached(value: Any, depth: int) -> list[Any]:
    """Objects using ``value`` changes beside what its code says: the receiver of a bound method of
    a container or buffer (``add = ERRORS.append``, ``CFG.on_error = ERRORS.append``), not a method
    reading it; the containers a ``functools.partial`` is given, and those a ``lambda`` names (its
    source is not read: as if it changed them); what a dispatch table's (a dict's, list's or tuple's) callables change, or the
    callables a library object (a ``SimpleNamespace`` of hooks) holds; the containers an object
    of the user's holds when its methods change their object (``self.target.append(m)``); the cache
    of a function behind ``functools.cache``/``lru_cache``; the generator a draw changes."""
    if isinstance(value, functools._lru_cache_wrapper):  # (`@lru_cache`: each call fills its cache,
        return [value]  # which `cache_info()` shows)
    if drawn := hidden_state.draws_from(value):  # (`random.choice`: the module's hidden generator)
        return drawn
    owner = value.__self__ if isinstance(value, types.BuiltinMethodType) else None  # (no `__getattr__` run)
    if inspect.isbuiltin(value) and isinstance(owner, _MUTABLE):
        return [] if value.__name__ in READ_ONLY_METHODS else [owner]
    if isinstance(value, functools.partial):  # (`bump = partial(_bump, METRICS)`: what it is given)
        given = [*value.args, *value.keywords.values()]
        return [v for v in given if isinstance(v, _MUTABLE)] + list(
            _changes_of(value.func, depth + 1).objects
        )
    if isinstance(value, types.LambdaType) and value.__name__ == "<lambda>":  # (its source is not read)
        g = value.__globals__
        return [o for n in value.__code__.co_names if isinstance(o := g.get(n), _MUTABLE)]
    if depth > 1 or isinstance(value, type) or inspect.isroutine(value) or inspect.ismodule(value):
        return []
    try:
        values = value.values() if isinstance(value, dict) else value.__dict__.values()
    except Exception:
        values = value if isinstance(value, list | tuple) else ()
    held = list(itertools.islice(values, 64))  # (a table of hooks, not a cache of answers)
    cls: Any = type(value)
    if _users_class(cls):  # (and itself where reading a property changes it: `IDS.next_id`)
        found = [value, *_held_containers(value)] if getters_change_self(cls) else _held_containers(value)
        # (and what the callables it holds change, its methods may call them: an event bus's
        # subscribers, `for s in self.subs: s(ev)`)
        return found + [o for f in _held_callables(held) for o in _changes_of(f, depth + 1).objects]
    return [o for v in held if callable(v) for o in _changes_of(v, depth + 1).objects]


def _table_objects(value: Any) -> list[Any]:
    """The objects of the user's classes a list, tuple or dict holds (``AGENTS = {"math":
    MathAgent(), ...}``): calling their methods through it runs their code."""
    if type(value) not in (list, tuple, dict):
        return []
    items = value.values() if isinstance(value, dict) else value
    return [v for v in itertools.islice(items, 64) if stateful(v) and _users_class(type(v))]


def held_items(values: Iterable[Any], depth: int = 3, most: int = 4096) -> list[Any]:
    """What the containers and the user's objects among ``values`` hold, and what those hold, to
    ``depth`` levels (a table's agents, an object's fields, ``APP.team.lead``), but strings,
    numbers and other values nothing changes in place: changing one may change them."""
    found: list[Any] = []
    seen: set[int] = set()
    level = list(values)
    for _ in range(depth):
        below: list[Any] = []
        for v in level:
            if id(v) in seen:
                continue
            seen.add(id(v))
            if isinstance(v, list | tuple | set | frozenset | dict):
                below += itertools.islice(v.values() if isinstance(v, dict) else v, 256)
            elif stateful(v) and _users_class(type(v)) and isinstance(getattr(v, "__dict__", None), dict):
                below += itertools.islice(vars(v).values(), 256)
        found += [v for v in below if stateful(v)]  # (a string or number is changed in no place)
        if len(found) > most:
            break
        level = below
    return found


def _held_callables(values: list[Any]) -> list[Any]:
    """The functions among ``values`` (an object's fields) and in the lists, tuples, sets and
    dicts among them."""
    found: list[Any] = []
    for v in values:
        if isinstance(v, list | tuple | set | frozenset | dict):
            items = v.values() if isinstance(v, dict) else v
            found += [f for f in itertools.islice(items, 64) if callable(f) and not isinstance(f, type)]
        elif callable(v) and not isinstance(v, type):
            found.append(v)
    return found


def _held_containers(value: Any) -> list[Any]:
    """The containers an object of the user's holds in its attributes when its class's methods
    change their object (``self.sink.append(x)`` of a ``Recorder(EVENTS)``): changing the object may
    change them."""
    cls: Any = type(value)
    if not (_users_class(cls) and hasattr(value, "__dict__") and changes_self(cls)):
        return []
    return [v for v in itertools.islice(vars(value).values(), 64) if isinstance(v, _MUTABLE)]


def _code_of(value: Any) -> tuple[list[types.FunctionType], type | None]:
    """The user's functions using ``value`` may run (the function behind its decorators, their
    wrappers; a class's or an object's class's methods) and the class whose own state they change
    (``class_state_changes``), if any."""
    if value is logging or isinstance(value, logging.Logger | logging.LoggerAdapter):
        return _handlers_code(value), None  # (a log call runs its handlers: the user's may change state)
    try:
        cls = value if isinstance(value, type) else type(value) if stateful(value) else None
    except Exception:  # (an object whose `__dict__` cannot be read)
        return [], None
    if cls is None or not _users_class(cls):
        fn = user_function(value)
        return [*([fn] if fn is not None else []), *user_wrappers(value)], None
    return _methods(cls), cls if class_state_changes(cls) else None


def _handlers_code(value: Any) -> list[types.FunctionType]:
    """The user's code a log call of ``value`` (a logger, an adapter, the ``logging`` module: the
    root logger) may run: the methods of the user's handler, filter and formatter classes on it and
    on the loggers it propagates to, and filters that are plain functions, as they are now."""
    logger = value.logger if isinstance(value, logging.LoggerAdapter) else value
    if logger is logging:
        logger = logging.getLogger()
    found: list[Any] = []
    current: Any = logger
    while isinstance(current, logging.Logger):
        for handler in current.handlers:
            found += [handler, handler.formatter, *handler.filters]
        found += current.filters
        if not current.propagate:
            break
        current = current.parent
    out: list[types.FunctionType] = []
    for part in found:
        if isinstance(part, types.FunctionType):
            out += [f] if (f := user_function(part)) is not None else []
        elif part is not None and _users_class(type(part)):
            out += _methods(type(part))
    return out


def _methods(cls: type) -> list[types.FunctionType]:
    """The functions of the user's code ``cls`` and its bases define (methods, static and class
    methods, properties' getters, setters and deleters: ``m.state = "done"`` runs its setter)."""
    members = [
        f
        for m in vars_of(cls)
        for f in ([m.fget, m.fset, m.fdel] if isinstance(m, property) else [_function_of(m)])
    ]
    return [f for m in members if isinstance(m, types.FunctionType) and (f := user_function(m)) is not None]


# Methods Python calls without the code naming them: formatting, iteration, comparison, membership,
# truth, a missing attribute's lookup.
IMPLICIT = frozenset(
    {
        "__str__", "__repr__", "__format__", "__bytes__", "__iter__", "__next__", "__contains__",
        "__len__", "__bool__", "__getattr__", "__getitem__", "__eq__", "__ne__", "__lt__", "__le__",
        "__gt__", "__ge__", "__hash__",
    }
)  # fmt: skip


@weak_cache
def implicit_changes(cls: type | None, names: frozenset[str] = IMPLICIT) -> bool:
    """Whether a method of ``names`` the user's class ``cls`` defines changes its object or module
    state (``def __str__(self): self.turns += 1``, an ``__iter__`` moving a cursor, a
    ``__getattr__`` logging its loads): reading an object of it anywhere (a prompt, ``", ".join``,
    ``x in obj``) runs code with an effect."""
    if cls is None or not _users_class(cls):
        return False
    for c in cls.__mro__[:-1]:
        for name in names & vars(c).keys():
            fn = user_function(vars(c)[name])
            if fn is not None and (_changes_its_object(fn) or _changed_by(fn).any):
                return True
    return False


def _users_class(cls: type) -> bool:
    module = sys.modules.get(cls.__module__)
    file = getattr(module, "__file__", None) or ""
    return bool(file) and not file.startswith(library_dirs())


@weak_cache
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
            for o in [value, *_held_containers(value)]:  # (`REC.on_start(p)` appends to `REC.sink`)
                objects[id(o)] = o
                names.update(n for n, v in g.items() if v is o)

    for n in touched:
        if n not in local or n in declared:
            changes(g.get(n), n)
    for n, value in _held_objects(fn, node).items():  # (`sink=LOG`, a wrapper's own `wrapper`)
        if n in touched:
            changes(value, n)
    shadowed = g.keys() | local  # (`print(...)`, `open(...)`: the terminal's, the files', in order)
    for c in walk(node.body):
        if isinstance(c, cst.Call) and isinstance(c.func, cst.Name) and c.func.value not in shadowed:
            names.update(hidden_state.changed_by(hidden_state.BUILTINS.get(c.func.value), c))
    for n, held in changed_members(node.body, g, local).items():  # (`helpers.SINK.append(x)`)
        names.add(n)
        objects.update((id(o), o) for o in held)
    if depth < _MAX_DEPTH:
        for name, value in used_values(node.body, g, code.co_names):
            fns, cls = _code_of(value)
            found = [memo[f] if f in memo else _changed(f, depth + 1, memo) for f in fns if f is not fn]
            if cls is not None:
                found.append(Changes(objects=(cls,)))
            if drawn := hidden_state.draws_from(value):  # (also by the generator's key: `choice`'s is
                names.update([name, *map(hidden_state.generator_key, drawn)])  # `random`)
                objects.update((id(o), o) for o in drawn)
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


def item_method_calls(
    body: cst.CSTNode, values: Mapping[str, Any], local: AbstractSet[str] = frozenset()
) -> frozenset[int]:
    """The ids of ``body``'s calls of a method of an item of a module-level list, tuple or dict
    (``AGENTS[kind].run(q)``: a router's table of agents; ``agent.run(q)`` in ``for agent in
    TEAM`` or ``(a.run(q) for a in TEAM)``) whose every item is an object that no call of its
    methods changes (``changed_object``): such a call changes the container no more than
    ``agent.run(q)`` changes ``agent`` (``mutated_roots``' ``traced_calls``). ``local``: names
    the workflow binds (not the module's)."""

    def table(e: cst.BaseExpression) -> bool:
        return isinstance(e, cst.Name) and e.value not in local and unchanging_items(values.get(e.value))

    out: set[int] = set()
    for n in walk(body):
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute):
            item = n.func.value
            if isinstance(item, cst.Subscript) and table(item.value):
                out.add(id(n))
            continue
        clause: cst.For | cst.CompFor
        parts: list[cst.CSTNode]
        if isinstance(n, cst.For):
            clause, parts = n, [n.body]
        elif isinstance(n, cst.ListComp | cst.SetComp | cst.GeneratorExp) and n.for_in.inner_for_in is None:
            clause, parts = n.for_in, [n.elt, *n.for_in.ifs]
        else:
            continue
        if not (isinstance(clause.target, cst.Name) and table(clause.iter)):
            continue
        var = clause.target.value
        inside = [x for part in parts for x in walk(part)]
        if any(binds(x, var) for x in inside):
            continue  # (the name is bound to something else in the loop)
        out |= {
            id(x)
            for x in inside
            if isinstance(x, cst.Call)
            and isinstance(x.func, cst.Attribute)
            and isinstance(x.func.value, cst.Name)
            and x.func.value.value == var
        }
    return frozenset(out)


def method_calls(body: cst.CSTNode) -> frozenset[int]:
    """The ids of ``body``'s calls of a method (``x.m(...)``)."""
    return frozenset(
        id(n) for n in walk(body) if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute)
    )


def looked_up_table(e: cst.BaseExpression) -> cst.Name | None:
    """``AGENTS`` of ``AGENTS[kind]`` or ``AGENTS.get(kind)`` (``AGENTS.get(kind, default)``)."""
    if isinstance(e, cst.Subscript) and isinstance(e.value, cst.Name):
        return e.value
    if (
        isinstance(e, cst.Call)
        and isinstance(e.func, cst.Attribute)
        and e.func.attr.value == "get"
        and isinstance(e.func.value, cst.Name)
    ):
        return e.func.value
    return None


def unchanging_items(value: Any) -> bool:
    """Whether ``value`` is a non-empty list, tuple or dict of objects no call of whose methods
    changes them (``changed_object``)."""
    if type(value) is dict:
        items = list(value.values())
    elif type(value) in (list, tuple):
        items = list(value)
    else:
        return False
    return bool(items) and all(
        stateful(v)
        and not isinstance(v, _MUTABLE)
        and _users_class(type(v))
        and not changed_object(v, "", set())
        for v in items
    )


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
