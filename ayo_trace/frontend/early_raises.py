"""What a failed gather's other calls still do.

``asyncio.gather`` (not returning exceptions) raises the first error of its calls as soon as it
comes, and cancels none of the others: they run on to their end, so their changes after their
waits happen after the failure (seen by a handler that reads the object once they have finished,
by the workflow's caller for an argument, by anyone for module state). The graph runs the calls
in one node's body, chained where they share an object, and stops at the call that fails: the
calls after it never make their changes. Any call may fail at a wait (an engine's error), so a
gather whose calls change an object after a wait that is seen after a failure runs as written
(``started`` makes it a graph break; calls made before it are refused), unless no call
may fail (``may_fail``: each catches its engine's errors, ``except ayo.EngineError:
failed.append(d)``).

A helper may also raise before it first waits (``if not d: raise ValueError(d)``, an ``assert``):
that fails the gather before any call has come back from its wait, so no call's change after its
wait has happened when the failure is seen, where the graph would have run the earlier calls whole;
the reason then names that ``raise``. That early error is also the gather's error where an earlier
call fails at its wait (an engine's error comes back only after every call has run to its first
wait), where the graph raises the first failing call's error in argument order: such a gather runs
as written too (``raising_first``).

The tasks of a task group (``asyncio.TaskGroup``, anyio's) differ: when one fails the group
cancels the others. The graph cancels the tasks after the failing one, but runs those before it
whole (their errors would come first), and runs calls that touch one object one after another:
so for a group, the same rules apply to a task's changes after its wait of an object seen after
the failure, and to its changes of an object another of its tasks touches
(``started(..., group=True)``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import libcst as cst

from ..errors import EngineError
from ..ir.mutation import READ_ONLY_METHODS
from . import aliases, hidden_state, interleaving
from .state import _in_scope, contains_await, walk

if TYPE_CHECKING:
    from .builder import Builder


def started(comp: Builder, calls: list[interleaving.Part], group: bool = False) -> str | None:
    """Why a gather of ``calls`` (not returning exceptions) runs as written: a call changes an
    object seen after a failure of the gather (the workflow's own only when a ``try`` is around:
    else the failure fails the workflow), or writes the store (an ``ingest``, a helper's at any
    wait). Python runs every call up to its first wait before any fails and lets them all finish,
    where the graph stops at the call that fails, so the calls after it would not have made the
    change: before their first wait (``started.append(d)``, a counter of calls), or after their
    wait (``res[d] = await ...``; ``early_raises``).

    The tasks of a task group (``group``): Python cancels the others when one fails, as the graph
    does with calls it runs at once; but calls touching one object it runs one after another, the
    calls before the failing one whole, so only changes of an object another call touches count."""
    if len(calls) < 2 and all(items is None for _, items in calls):
        return None  # (one call)
    helpers = [p for p in calls if not getattr(comp.exprs.callee(p[0]), "__ayo_primitive__", None)]
    seen = seen_after_failure(comp)
    everyone = interleaving.touches_of(comp, calls)
    touches = interleaving.touches_of(comp, helpers)
    unchained = touches  # (after a wait: the graph runs a task before the failing one whole)
    if group:
        touches, everyone = _chained(touches, everyone), _chained(everyone, everyone)
    many, call = ("task group", "task") if group else ("gather", "call")
    for name, t in touches:
        x = next((x for x in t.entries if x.changes and x.lo == 0 and seen(x.key)), None)
        if x is not None:
            return (
                f"`{name}(...)` {_changing(x.key)} before it first waits (line {x.line}), "
                f"and Python runs every {call} of the {many} up to its first wait before any fails, where "
                f"the graph stops at the {call} that fails"
            )
    for name, t in everyone:
        x = next((x for x in t.entries if x.changes and x.key.split(".")[0] == "store"), None)
        if x is not None:  # (a primitive's `ingest` too, and after a wait: it persists)
            python = (
                "Python's task group cancels when another of its tasks fails, where the graph runs the "
                "tasks touching it before the failing one whole"
                if group
                else "Python's gather lets finish when another of its calls fails, where the graph stops at "
                "the call that fails"
            )
            return f"`{name}(...)` writes the store's `{interleaving.shown(x.key)}` (line {x.line}), which {python}"
    if not group and (why := raising_first(comp, calls)) is not None:
        return why
    return failing_early(comp, [c for c, _ in calls], [c for c, _ in helpers], unchained, seen, group)


def raising_first(comp: Builder, calls: list[interleaving.Part]) -> str | None:
    """Why a gather of ``calls`` runs as written: a call may raise before it first waits (``if not
    d: raise ValueError(d)``) while a call before it (or the same comprehension's earlier items) may
    fail at a wait. Python runs every call up to its first wait before any engine answers, so the
    early error is the gather's; the graph's is the first failing call's in argument order."""
    for j, (call, items) in enumerate(calls):
        line = raises_before_wait(comp, call)
        if line is None:
            continue
        earlier = [c for c, _ in calls[:j]] + ([call] if items is not None else [])
        if any(may_fail(comp, c) for c in earlier):
            return (
                f"`{comp.src.code(call.func).strip()}(...)` may raise before it first waits (line {line}), "
                "which Python's gather raises before an earlier call's wait comes back with an engine's "
                "error, where the graph raises the first failing call's error in argument order"
            )
    return None


def _chained(
    touches: list[tuple[str, interleaving.Touches]], everyone: list[tuple[str, interleaving.Touches]]
) -> list[tuple[str, interleaving.Touches]]:
    """``touches`` with only the touches of an object some other call of ``everyone`` touches too:
    where the graph runs the calls one after another."""

    def chained(x: interleaving.Touch) -> bool:
        return sum(any(interleaving.overlap(x, y) for y in t.entries) for _, t in everyone) > 1

    return [(n, dataclasses.replace(t, entries=[x for x in t.entries if chained(x)])) for n, t in touches]


def seen_after_failure(comp: Builder) -> Callable[[str], bool]:
    """Whether an object (by its key, ``interleaving.touches_of``) changed by a gathered call is
    seen after the gather fails: every object, but the workflow's own (names it binds, none of
    whose objects may be an argument's or the module's: ``log = LOG`` is the module's) where no
    ``try`` is around the gather (the failure fails the workflow, and nothing reads them again)."""
    top, caught = comp, comp.catching
    while True:  # (up to the workflow: through the bodies that inlined a helper, too)
        while (up := top.parent) is not None:
            top, caught = up, caught or up.catching
        if (outer := getattr(top, "caller", None)) is None:
            break
        top, caught = outer, caught or outer.catching
    if caught:
        return lambda key: True
    made = set(top.src.assigned_names(top.src.node.body)) - set(interleaving._params(top.src))
    shared = _references(top.src)
    own = {n for n in made if shared.get(n, frozenset()) <= made}

    params = set(interleaving._params(top.src))
    module = getattr(top.src.fn, "__globals__", {})

    def seen(key: str) -> bool:
        if hidden_state.process_wide(key):  # (`random`'s draws, `print`: whatever names them)
            return True
        roots = {re.split(r"[.\[\x00]", k)[0] for k in (key, interleaving.shown(key))}
        if roots & own:
            return False
        # an argument, a name sharing one or the module's, the module's own; a helper's parameter
        # (`self.first` in a method of the workflow's object) is taken for what the workflow made
        return any(r in params or r in made or (r in module and r not in made) for r in roots)

    return seen


def _references(src: Any) -> dict[str, frozenset[str]]:
    """The workflow's names joined by a binding to a reference into another (``log = LOG``,
    ``first = rows[0]``, ``for d in docs``, ``a, b = pair``), each mapped to its group: a name
    bound to a new object made of others (``yours = list(docs)``, ``Poster("bob", yours)``,
    ``{"doc": d}``) is not joined with them, as changing that object changes none of theirs."""
    parent: dict[str, str] = {}

    def find(n: str) -> str:
        while parent.get(n, n) != n:
            n = parent[n]
        return n

    for names, value in aliases.bindings(src):
        root = aliases.reference_root(value)
        for n in [*names[1:], *([root] if root is not None else [])]:
            if names and find(n) != find(names[0]):
                parent[find(n)] = find(names[0])
    groups: dict[str, set[str]] = {}
    for n in list(parent):
        groups.setdefault(find(n), {find(n)}).add(n)
    return {n: frozenset(g) for g in groups.values() for n in g}


def _changing(key: str) -> str:
    """What a change of ``key`` is, said in a reason: "changes `x`", or for a helper's ``raise``
    (the key standing for which error a gather raises) "raises"."""
    return "raises" if key == interleaving.RAISED else f"changes `{interleaving.shown(key)}`"


def failing_early(
    comp: Builder,
    calls: list[cst.Call],
    helpers: list[cst.Call],
    touches: list[tuple[str, Any]],
    seen: Callable[[str], bool],
    group: bool = False,
) -> str | None:
    """Why a gather of ``calls`` (the tasks of a task group: ``group``) runs as written: a call
    changes an object after its wait that is ``seen`` after a failure of the gather (``touches``:
    what each call touches, ``interleaving.touches_of``), and a call may fail (``may_fail``), at its
    wait or (a call of ``helpers``) before it."""
    if not any(may_fail(comp, c) for c in calls):
        return None
    for name, t in touches:
        x = next((x for x in t.entries if x.changes and x.hi > 0 and seen(x.key)), None)
        if x is None:
            continue
        what = f"`{name}(...)` {_changing(x.key)} after it waits (line {x.line})"
        raising = next(
            ((c, line) for c in helpers if (line := raises_before_wait(comp, c)) is not None), None
        )
        many, call = ("task group", "task") if group else ("gather", "call")
        if raising is not None:
            return (
                f"`{comp.src.code(raising[0].func).strip()}(...)` may raise before it first waits (line "
                f"{raising[1]}), which fails the {many} before any {call} has come back from its wait, "
                f"where the graph runs each {call} whole: {what}"
            )
        if group:
            return (
                f"{what}, which is seen after the task group fails, and Python's task group cancels its "
                "other tasks when one fails (an engine's error at its wait), where the graph runs the "
                "tasks before the failing one whole"
            )
        return (
            f"{what}, which is seen after the gather fails, and Python's gather lets every other call "
            "finish when one fails (an engine's error at its wait), where the graph stops at the call "
            "that fails"
        )
    return None


# Calls that raise only for what no workflow passes them (a container's method, a builtin's count).
_QUIET_METHODS = READ_ONLY_METHODS | {"append", "extend", "add", "update", "setdefault", "insert"}
_QUIET_CALLS = frozenset({"len", "str", "repr", "sorted", "list", "dict", "set", "tuple", "print"})


def may_fail(comp: Builder, call: cst.Call) -> bool:
    """Whether a gathered call may raise: an ayo primitive may (an engine's error); a helper of the
    user's may not when every wait of it is in the body of a ``try`` whose handler catches
    ``ayo.EngineError`` (``except ayo.EngineError: failed.append(d)``; under
    ``except Exception`` anything may stand there), and nothing else in it raises: no ``raise``,
    ``assert`` or ``parse=``, no call but awaited helpers of the same kind, a container's methods
    and builtins' counts (``int(r)`` may raise)."""
    helper = comp.exprs.helper_of(cst.Await(expression=call))
    if helper is None:
        return True
    scope = interleaving._scope(helper.src.fn, helper.self_value, helper.src)
    return not _guarded(comp, helper.src, scope, helper.src.node.body.body, 0)


def _guarded(comp: Builder, src: Any, scope: dict[str, Any], stmts: Any, depth: int) -> bool:
    """Whether the statements ``stmts`` of a helper raise nothing: each waits only in the body of a
    ``try`` catching an engine's error, which raises nothing else (``_quiet``), and the rest of the
    ``try`` and every other statement raise nothing at all."""
    for stmt in stmts:
        if not isinstance(stmt, cst.Try):
            if not _quiet(comp, src, scope, stmt, depth, waits=False):
                return False
            continue
        kinds = [_catches(h.type, scope) for h in stmt.handlers]
        if not any(kinds):
            if not _quiet(comp, src, scope, stmt, depth, waits=False):
                return False
            continue
        rest = [
            *stmt.handlers,
            *([stmt.orelse] if stmt.orelse else []),
            *([stmt.finalbody] if stmt.finalbody else []),
        ]
        if not all(_quiet(comp, src, scope, r, depth, waits=False) for r in rest):
            return False
        if "all" not in kinds and not _quiet(comp, src, scope, stmt.body, depth, waits=True):
            return False
    return True


def _catches(caught: cst.BaseExpression | None, scope: dict[str, Any]) -> str | None:
    """``"all"`` for a handler catching every error, ``"engine"`` for one catching an engine's."""
    if caught is None:
        return "all"
    try:
        kind = eval(cst.Module([]).code_for_node(caught), {}, scope)  # names and attributes only
    except Exception:
        return None
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not all(isinstance(k, type) for k in kinds):
        return None
    if any(issubclass(ValueError, k) for k in kinds):
        return "all"
    return "engine" if any(issubclass(EngineError, k) for k in kinds) else None


def _quiet(
    comp: Builder, src: Any, scope: dict[str, Any], node: cst.CSTNode, depth: int, waits: bool
) -> bool:
    """Whether ``node`` raises nothing (``waits``: its awaits are guarded against engine errors)."""
    awaited = {id(a.expression) for a in walk(node, _in_scope) if isinstance(a, cst.Await)}
    for n in walk(node, _in_scope):
        if isinstance(n, cst.Raise | cst.Assert):
            return False
        if isinstance(n, cst.Await) and not waits:
            return False
        if not isinstance(n, cst.Call):
            continue
        if any(a.keyword is not None and a.keyword.value == "parse" for a in n.args):
            return False
        func = n.func
        if id(n) in awaited:
            target = interleaving._resolve(comp, src, scope, n)
            if target == "ayo":
                continue
            if target is None or depth >= 3:
                return False
            inner, self_value, fn = target
            inner_scope = interleaving._scope(fn, self_value, inner) if fn is not None else scope
            if not _guarded(comp, inner, inner_scope, inner.node.body.body, depth + 1) and not all(
                _quiet(comp, inner, inner_scope, s, depth + 1, waits=True) for s in inner.node.body.body
            ):
                return False
        elif isinstance(func, cst.Attribute) and func.attr.value in _QUIET_METHODS:
            continue
        elif not (isinstance(func, cst.Name) and func.value in _QUIET_CALLS):
            return False
    return True


def raises_before_wait(comp: Builder, call: cst.Call) -> int | None:
    """The line of a ``raise`` or ``assert`` that the helper ``call`` calls may run before its
    first wait (None: none, or not a helper of the user's)."""
    helper = comp.exprs.helper_of(cst.Await(expression=call))
    if helper is None:
        return None
    src = helper.src
    found = _first(helper.src.node.body)
    return None if found is None else src.file_line(src.positions[found].start.line)


def _first(block: cst.BaseSuite) -> cst.CSTNode | None:
    """The first ``raise``/``assert`` of ``block``'s statements before the first that waits, or in
    a compound statement that waits, before its wait on one of its paths."""
    if not isinstance(block, cst.IndentedBlock):
        return _raising(block)
    for stmt in block.body:
        if not contains_await(stmt):
            if (found := _raising(stmt)) is not None:
                return found
            continue
        for part in _blocks(stmt):
            if (found := _first(part)) is not None:
                return found
        return None
    return None


def _blocks(stmt: cst.BaseStatement) -> list[cst.BaseSuite]:
    """The blocks of a compound statement run before or instead of the rest of it."""
    if isinstance(stmt, cst.If):
        orelse = stmt.orelse
        rest: list[cst.BaseSuite] = []
        if isinstance(orelse, cst.If):
            rest = [*_blocks(orelse)]
        elif isinstance(orelse, cst.Else):
            rest = [orelse.body]
        return [stmt.body, *rest]
    if isinstance(stmt, cst.Try | cst.TryStar):
        return [stmt.body]
    if isinstance(stmt, cst.For | cst.While | cst.With):
        return [stmt.body]
    return []


def _raising(node: cst.CSTNode) -> cst.CSTNode | None:
    return next((n for n in walk(node, _in_scope) if isinstance(n, cst.Raise | cst.Assert)), None)
