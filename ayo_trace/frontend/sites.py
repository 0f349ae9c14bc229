"""What a statement reads and changes, site by site, for ``interleaving`` (the objects a helper's
statements touch, and whether before or after the statement's awaits)."""

from __future__ import annotations

import bisect
import heapq
import inspect
import json
import logging
import operator
import random
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import libcst as cst

from ..ir.mutation import READ_ONLY_METHODS
from ..ir.spec import primitive_spec
from . import aliases, hidden_state, impure, user_code
from .closures import _changed_after
from .handed import handed_changed
from .source import FunctionSource
from .source import _names_in as _name_nodes
from .state import _names_in, change_root, changed_argument, contains_await, mutated_roots, walk


def whole_sites(stmt: cst.CSTNode) -> list[tuple[str, str | None, bool, str]]:
    """What a compound statement reads and changes, anywhere in it (whole objects)."""
    out: list[tuple[str, str | None, bool, str]] = [(n, None, False, "both") for n in _names_in(stmt)]
    return out + [(n, None, True, "both") for n in mutated_roots(stmt)]


def statement_sites(
    stmt: cst.CSTNode, reading: Collection[int] = ()
) -> list[tuple[str, str | None, bool, str]]:
    """What a simple statement reads and changes, each ``(name, field, changes, when)``: ``field``
    the attribute of the name it reaches (``self.history.append(x)``: ``history`` of ``self``),
    ``when`` is ``pre`` when it is evaluated before the statement's awaits (inside an awaited
    call's arguments), ``post`` after them (a change made by a call or an assignment whose value
    awaits: ``out.append(await f())``, ``d[k] = await f()``), else ``both``. The receiver of a
    change (``out`` in ``out.append``) is not a read of the object's contents. ``reading``: the
    ids of method calls known to change nothing (``reading_method``): their receiver is read."""
    out: list[tuple[str, str | None, bool, str]] = []
    receivers: set[int] = set()
    inside_await: set[int] = set()
    fields: dict[int, str] = {}  # a name's id -> the attribute read of it (`self.history`)
    for n in walk(stmt):
        if isinstance(n, cst.Await):
            inside_await.update(id(m) for m in walk(n.expression))
        elif isinstance(n, cst.Attribute):
            receivers.add(id(n.attr))  # (an attribute's name is no variable)
            if isinstance(n.value, cst.Name):
                fields[id(n.value)] = n.attr.value
        elif isinstance(n, cst.Arg) and n.keyword is not None:
            receivers.add(id(n.keyword))
        elif isinstance(n, cst.Call) and isinstance(n.func, cst.Name):
            receivers.add(id(n.func))  # (what a call does to its callee is ``interleaving``'s)

    def when(site: cst.CSTNode, value: cst.CSTNode | None) -> str:
        if id(site) in inside_await:
            return "pre"
        return "post" if value is not None and contains_await(value) else "both"

    def change(
        target: cst.BaseExpression, at: str, *, reads: str | None = None, field: str | None = None
    ) -> None:
        r = change_root(target)
        if r is None:
            return
        receivers.add(id(r))
        # (the attribute of the root the change reaches: `history` of `self.history`; none of
        # `self.__dict__`, the namespace of them all)
        while isinstance(target, cst.Attribute | cst.Subscript):
            if isinstance(target, cst.Attribute) and target.value is r and target.attr.value != "__dict__":
                field = target.attr.value
            target = target.value
        if reads is not None:
            out.append((r.value, field, False, reads))
        out.append((r.value, field, True, at))

    for n in walk(stmt):
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute):
            if n.func.attr.value not in READ_ONLY_METHODS and id(n) not in reading:
                args = cst.Tuple([cst.Element(a.value) for a in n.args]) if n.args else None
                change(n.func.value, when(n, args))
        elif isinstance(n, cst.Call) and (changed := changed_argument(n)) is not None:
            # `setattr(rep, "intro", v)` changes `rep.intro` (`rep` when the name is not written out)
            name = n.args[1].value if len(n.args) > 1 else None
            rest = cst.Tuple([cst.Element(a.value) for a in n.args[1:]]) if n.args[1:] else None
            change(changed, when(n, rest), field=_attr_name(name))
        elif isinstance(n, cst.Assign):
            for t in n.targets:
                if isinstance(t.target, cst.Attribute | cst.Subscript):
                    change(t.target, when(t, n.value))
        elif isinstance(n, cst.AugAssign) and isinstance(n.target, cst.Attribute | cst.Subscript):
            change(n.target, when(n, n.value), reads="pre" if contains_await(n.value) else "both")
        elif isinstance(n, cst.Del):
            change(n.target, "both")
    for n in walk(stmt):
        if isinstance(n, cst.Name) and id(n) not in receivers:
            out.append((n.value, fields.get(id(n)), False, "pre" if id(n) in inside_await else "both"))
    return out


def _attr_name(e: cst.BaseExpression | None) -> str | None:
    """The attribute name ``e`` writes out (``"intro"``), when it is a plain string."""
    value = e.evaluated_value if isinstance(e, cst.SimpleString) else None
    return value if isinstance(value, str) and value.isidentifier() else None


# functions of the standard library that change their first argument in place
_MUTATORS = frozenset(
    {next, heapq.heappush, heapq.heappop, heapq.heapify, heapq.heapreplace, heapq.heappushpop,
     bisect.insort, bisect.insort_left, bisect.insort_right, random.shuffle, operator.iadd,
     operator.iconcat, operator.setitem, operator.delitem}
)  # fmt: skip


def reading_method(scope: dict[str, Any], src: FunctionSource, call: cst.Call) -> bool:
    """Whether ``call`` is of a plain (not ``async``) method of an object of the user's whose
    class's methods never change their object and which changes no module state
    (``self.prompt(q)`` building a string from ``self.style``): it only reads its object."""
    if not isinstance(call.func, cst.Attribute):
        return False
    try:
        target = eval(src.code(call.func).strip(), {}, scope)
    except Exception:
        return False
    if not inspect.ismethod(target) or inspect.iscoroutinefunction(target):
        return False
    fn, owner = target.__func__, target.__self__
    cls: Any = owner if isinstance(owner, type) else type(owner)
    if user_code.user_function(fn) is None or not impure._users_class(cls):
        return False
    return not (impure.changes_self(cls) or impure.changes_module_state(fn) or impure.changed_objects(fn))


def called_changes(src: FunctionSource, scope: dict[str, Any], call: cst.Call) -> list[str]:
    """The names a plain call in a helper changes in place besides its receiver's methods
    (``statement_sites``): what it calls, when that is an object of the workflow's rather than a
    known function (``add(x)`` of ``add = log.append``, a callable object); the arguments a
    function of the user's code changes (``note(log, x)``), or one of ``_MUTATORS``
    (``next(ids)``, ``heapq.heappush(h, x)``), the file ``print`` or ``json.dump`` writes to."""
    func = call.func
    try:
        target = (
            eval(src.code(func).strip(), {}, scope) if isinstance(func, cst.Name | cst.Attribute) else None
        )
    except Exception:
        return [func.value] if isinstance(func, cst.Name) else []  # (not known here: the workflow's)
    if _mutator(target) or target is json.dump:  # (its first argument; `json.dump`'s file)
        given = [a.value for a in call.args if a.keyword is None and not a.star]
        at = given[1:2] if target is json.dump else given[:1]
        return [e.value for e in at if isinstance(e, cst.Name)]
    if target is print:  # (`print(..., file=buf)` writes to `buf`)
        return [
            a.value.value
            for a in call.args
            if a.keyword and a.keyword.value == "file" and isinstance(a.value, cst.Name)
        ]
    if user_code.user_function(target) is not None and not inspect.iscoroutinefunction(target):
        return handed_changed(src, call)
    return []


def logged_changes(src: FunctionSource, scope: dict[str, Any], call: cst.Call) -> list[str]:
    """The module names a log call (``log.info(...)`` of a logger or an adapter, ``logging.info``)
    changes through the user's handlers it runs (``impure.changes_module_state``: a handler
    appending to ``RECORDS``); the names of the handler's module, which no helper need read."""
    if not isinstance(call.func, cst.Attribute):
        return []
    receiver: cst.BaseExpression = call.func.value
    while isinstance(receiver, cst.Attribute):  # (names and attributes only: nothing is called)
        receiver = receiver.value
    if not isinstance(receiver, cst.Name):
        return []
    try:
        owner = eval(src.code(call.func.value).strip(), {}, scope)
    except Exception:
        return []
    if not (owner is logging or isinstance(owner, logging.Logger | logging.LoggerAdapter)):
        return []
    return sorted(impure.changes_module_state(owner))


def function_changes(src: FunctionSource, scope: dict[str, Any], call: cst.Call) -> list[str]:
    """The module names a plain call of a function of the user's code changes there (``mark(x)``
    appending to its module's ``LOG``; ``impure.changes_module_state``), which the helper calling
    it need not read: two calls at once, each calling it on both sides of its await, interleave
    on ``LOG`` as if they appended to it themselves."""
    target = _callee(src, scope, call)
    if user_code.user_function(target) is None or inspect.iscoroutinefunction(target):
        return []
    return sorted(impure.changes_module_state(target))


def hidden_changes(src: FunctionSource, scope: dict[str, Any], call: cst.Call) -> list[str]:
    """The process-wide state a call changes without naming it, by its key (``hidden_state``): the
    generator ``random.choice(styles)`` draws from, the stream ``print(...)`` writes to, the files
    ``open(...)`` reaches."""
    return hidden_state.changed_by(_callee(src, scope, call), call)


def _callee(src: FunctionSource, scope: dict[str, Any], call: cst.Call) -> Any:
    """What the name or dotted name ``call`` calls is in ``scope``; None for anything else."""
    if not isinstance(call.func, cst.Name | cst.Attribute):
        return None
    try:
        return eval(src.code(call.func).strip(), {}, scope)
    except Exception:
        return None


def _mutator(value: Any) -> bool:
    try:
        return value in _MUTATORS
    except TypeError:  # (an object that cannot be hashed)
        return False


@dataclass(frozen=True)
class Touch:
    """One read or change of an outside object (``key``: a workflow or module name, or the text of
    the argument a parameter stands for, with ``.field`` for an attribute of it), made after at
    least ``lo`` and at most ``hi`` waits of the call."""

    key: str
    changes: bool
    lo: float
    hi: float
    line: int
    same: str = ""  # the key of the object it is, when another name holds it too (``_one_name``)


def primitive_op(src: FunctionSource, scope: dict[str, Any], call: cst.Call) -> str | None:
    try:
        return getattr(eval(src.code(call.func).strip(), {}, scope), "__ayo_primitive__", None)
    except Exception:
        return None


def store_touch(
    op: str | None, call: cst.Call, line: int, known: Callable[[cst.BaseExpression], Any] | None = None
) -> list[Touch]:
    """A store's collection an ayo call writes (``ingest``) or reads (``search``), as an object
    the calls share (``store.kb``; ``store``, every one, when its name is not known when tracing:
    written out, or ``known`` of its expression, a module's constant ``KB``)."""
    spec = primitive_spec(op) if isinstance(op, str) else None
    if spec is None or spec.collection is None:
        return []
    named = next(
        (a.value for a in call.args if a.keyword is not None and a.keyword.value == "collection"), None
    )
    name: Any
    if isinstance(named, cst.SimpleString):
        name = named.evaluated_value
    else:
        name = known(named) if named is not None and known is not None else None
    key = f"store.{name}" if isinstance(name, str) else "store"
    return [Touch(key, spec.collection == "writes", 0, 0, line)]


def static_of(comp: Any) -> Callable[[cst.BaseExpression], Any]:
    """``store_touch``'s ``known`` for the workflow's own calls: a value known when tracing."""
    return lambda e: getattr(comp.exprs.try_static(e), "value", None)


def constant_in(scope: dict[str, Any], local: Collection[str]) -> Callable[[cst.BaseExpression], Any]:
    """``store_touch``'s ``known`` in a helper: a name of its module or closure it does not bind."""
    return lambda e: scope.get(e.value) if isinstance(e, cst.Name) and e.value not in local else None


def same_names(src: FunctionSource) -> dict[str, str]:
    """The workflow's names that are other names of one object (``con = pro``, ``first =
    rows[0]``, ``notes = state.get("notes")``; not a copy or a container of it, as
    ``aliases.groups`` also counts), each mapped to one name of its group."""
    parent: dict[str, str] = {}

    def find(n: str) -> str:
        while parent.get(n, n) != n:
            n = parent[n]
        return n

    for node in walk(src.node.body, lambda n: isinstance(n, cst.FunctionDef | cst.ClassDef | cst.Lambda)):
        if isinstance(node, cst.Assign):
            root = aliases.reference_root(node.value)
            for t in node.targets:
                if isinstance(t.target, cst.Name) and root is not None and root != t.target.value:
                    parent[find(t.target.value)] = find(root)
    return {n: find(n) for n in {*parent, *parent.values()}}


def changed_after(src: FunctionSource, line: int, names: set[str]) -> bool:
    """Whether a statement after ``line`` changes one of ``names`` in place: as
    ``_changed_after`` reads it, or handed bare to a function that may change it
    (``grow(items)``, ``rng.shuffle(items)``: ``handed_changed``)."""
    if _changed_after(src, line, names):
        return True
    for n in _name_nodes(src.node.body):
        if n.value not in names or src.positions[n].start.line <= line:
            continue
        parent = src.parents.get(n)
        call = src.parents.get(parent)
        if (
            isinstance(parent, cst.Arg)
            and isinstance(call, cst.Call)
            and n.value in handed_changed(src, call)
        ):
            return True
    return False


def uncaught_raise(src: FunctionSource, stmt: cst.CSTNode) -> bool:
    """Whether ``stmt`` holds a ``raise`` that no ``try`` with handlers of its function catches."""
    return any(isinstance(n, cst.Raise) and not _caught(src, n) for n in walk(stmt))


def _caught(src: FunctionSource, n: cst.CSTNode) -> bool:
    """Whether ``n`` stands in the body of a ``try`` (not in a handler) one of whose handlers
    catches everything (bare, ``Exception``, ``BaseException``): which a narrower one catches is
    not known here, so its ``raise`` counts."""
    child, node = n, src.parents.get(n)
    while node is not None and not isinstance(node, cst.FunctionDef):
        if isinstance(node, cst.Try) and child is node.body and any(_catches_all(h) for h in node.handlers):
            return True
        child, node = node, src.parents.get(node)
    return False


def _catches_all(handler: cst.ExceptHandler) -> bool:
    kind = handler.type
    return kind is None or (isinstance(kind, cst.Name) and kind.value in ("Exception", "BaseException"))


def raise_order(first: str, second: str, later: tuple[str, int], earlier: tuple[str, int]) -> str:
    """Why a gather of ``first`` and ``second``, both of which may raise, runs as written: the
    later call may raise after fewer waits (``later``: how many, the line) than the earlier."""
    return (
        f"`{first}(...)` and `{second}(...)` run at once and both may raise: `{second}` after waiting "
        f"{later[0]} (line {later[1]}), `{first}` after waiting {earlier[0]} (line {earlier[1]}). "
        "Python raises the error that comes first in time, the graph the earlier call's; raise in "
        "one of them only, or return what each found and raise after the gather"
    )
