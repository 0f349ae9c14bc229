"""Calls that run at once interleave at their awaits; the graph runs each one whole, in order.

``asyncio.gather(a(), b())`` (and a task group, a list or dict of tasks, ``as_completed``) runs the
coroutines in turns: each up to its first wait, in order, then each up to its next wait as what it
waited for finishes (in the order the calls were made, with engines serving requests in turn). The
graph traces each call's helper whole, one call after another (a map's items in order), with the
helpers' changes to outside objects in that order. The two agree unless a later call touches an
object after fewer waits than an earlier call touches it, one of them changing it: a counter
bumped before the LLM call and read after it (Python reads the count every call made, the graph
the count so far), an agent's history appended to on both sides of its call, a cache looked up
before and filled after, a note taken after a second wait. A gather or task group making those
calls itself runs eagerly, as a graph break (``parallel.interleaved``, ``task_groups``); calls
made before it (tasks, a list of coroutines) are refused at trace time; both name the calls, the
object and both lines. Anything else (changes before the first wait only, as a counter of calls
started, unless a failure of the gather is caught: ``early_raises.started``; or all after the same
wait, as results appended as they come) is traced.

What a call touches is read from the helpers' source (``Touch``): the names a helper reads from
outside itself (the workflow's, the module's), and its parameters as the objects the call passes
(``agent.step(q)``: ``self`` is ``agent``; each item of a comprehension or a loop its own object),
an attribute of one apart from the others (``self.turns`` and ``self.history``), through the
helpers it awaits and the workflow's own functions it calls, and through a name the helper binds
once to one of those (``h = self.history``, ``lg = state["log"]``: ``aliases.helper_aliases``);
each touch with the fewest and the most waits the call may have made before it (an ``await`` of an
ayo call waits once; of a helper, as often as it does; of anything else, or in a loop, any number
of times).

Tasks made one statement at a time, and the workflow's own statements between making a task and
awaiting it, are ``task_windows``' (with this module's reading of what a statement touches). An
object held by objects the calls are made on (``Agent("pro", board)`` and ``Agent("con", board)``,
each changing its ``self.board``) is ``holders``': a touch of a holder is one of what it holds.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import functools
import inspect
import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import SourceLoc
from . import branch_touches, closures, context_vars, nonlocals, shared_names, sites, unroll
from .aliases import helper_aliases
from .comprehensions import MAP_ITEM
from .holders import holder_key, holdings, with_held
from .sites import (
    Touch,
    called_changes,
    function_changes,
    hidden_changes,
    logged_changes,
    primitive_op,
    same_names,
    statement_sites,
    store_touch,
    whole_sites,
)
from .source import FunctionSource
from .state import _names_in, awaits_in, change_root, contains_await, walk

if TYPE_CHECKING:
    from .builder import Builder

_MAX_DEPTH = 6
_Memo = dict[tuple[int, tuple[tuple[str, str], ...]], "Touches | None"]


INF = math.inf  # waits: any number


@dataclass
class Touches:
    """What one call touches outside it, and how many times it waits: at least ``fewest`` (an ayo
    call awaited on every path waits once), at most ``most``."""

    entries: list[Touch] = field(default_factory=list)
    fewest: float = 0
    most: float = 0


Part = tuple[cst.Call, frozenset[str] | None]  # a call, and for one standing for many its item names


def check_gather(comp: Builder, parts: list[Part], loc: SourceLoc) -> None:
    """Refuse calls run at once (``parts``: each call, and for one standing for many, a
    comprehension's element or a loop's, the names its items bind) whose interleaving at their
    awaits the graph would not keep."""
    found = conflict(comp, parts)
    if found is not None:
        raise TraceError(found, loc=loc, construct="gather")


def conflict(comp: Builder, parts: list[Part]) -> str | None:
    """Why calls run at once (as ``check_gather``'s) interleave at their awaits where the graph
    would run each whole, or set a context variable (``context_vars``), or None when the graph
    keeps their order."""
    found = touches_of(comp, parts)
    calls = [call for call, _ in parts]
    if (why := context_vars.set_in_task(comp, calls, [(n, t.entries) for n, t in found])) is not None:
        return why
    for i, (first, a) in enumerate(found):
        for second, b in found[i + 1 :]:
            why = conflicting(first, a, second, b)
            if why is not None:
                return why
    return None


def touches_of(comp: Builder, parts: list[Part]) -> list[tuple[str, Touches]]:
    """What each call of ``parts`` touches (two entries for one standing for many: another item
    is another object), named by its callee; calls touching nothing are left out."""
    found: list[tuple[str, Touches]] = []
    holds = holdings(comp.src)
    for call, items in parts:
        each = (
            None
            if items is None
            else unroll.each_item(
                comp, cst.Await(expression=call), functools.partial(_part, comp, call, None)
            )
        )
        if each is not None:  # (a comprehension traced unrolled: each item's
            name = comp.src.code(call.func).strip()  # call, judged with its item bound; what they
            for t in each:  # touch through the item's name counts as one object)
                if t is not None and t.entries:
                    found.append(
                        (name, _one_name(comp, Touches(with_held(t.entries, holds, ITEM), t.fewest, t.most)))
                    )
            continue
        t = _part(comp, call, items)
        if t is None or not t.entries:
            continue
        name = comp.src.code(call.func).strip()
        t = _one_name(comp, Touches(with_held(t.entries, holds, ITEM), t.fewest, t.most))
        found.extend([(name, t), (name, _renamed(t))] if items is not None else [(name, t)])
    return found


def _one_name(comp: Builder, t: Touches) -> Touches:
    """``t`` with each workflow name that is another name of one object (``con = pro``) known by
    one name of them (``sites.same_names``), so that touches of it under either meet."""
    shared = same_names(comp.src)

    def same(k: str) -> str:
        root = k.split(".")[0].split(ITEM)[0]
        return shared[root] + k[len(root) :] if root in shared else ""

    return Touches([dataclasses.replace(x, same=same(x.key)) for x in t.entries], t.fewest, t.most)


def workflow_statement(
    comp: Builder, stmt: cst.CSTNode, line: int | None = None, before: bool = False
) -> list[Touch]:
    """What a statement of the workflow itself touches: its names (but modules, functions,
    classes and constants) and what the helpers it calls touch of them (``before``: only before
    its awaits finish)."""
    src = comp.src
    scope = _scope(src.fn, None, src)

    def key_of(name: str) -> str | None:
        return None if _opaque(scope.get(name)) else name

    found = _statement(comp, src, scope, stmt, key_of, None, 0, {}, line=line, before=before)[0]
    return _one_name(comp, Touches(found)).entries


def _renamed(t: Touches) -> Touches:
    """The touches of another item of the same comprehension: its own item is another object."""
    again = [dataclasses.replace(x, key=x.key.replace(ITEM, ITEM + "'")) for x in t.entries]
    return Touches(again, t.fewest, t.most)


ITEM = "\x00item"  # marks a key standing for a comprehension's item
RAISED = "\x00raised"  # the key a helper's `raise` touches: which error a gather raises


def conflicting(first: str, a: Touches, second: str, b: Touches) -> str | None:
    """Python runs the calls in turns, each up to its next await: the later call's touch ``y``
    comes before the earlier call's ``x`` when it may come after fewer waits. The graph runs the
    earlier call whole first, so the two must not touch one object, one of them changing it: why
    they do, or None."""
    for x in a.entries:
        for y in b.entries:
            if not (overlap(x, y) and (x.changes or y.changes) and y.lo < x.hi):
                continue
            if x.key == RAISED:
                return sites.raise_order(first, second, (_times(y.lo), y.line), (_times(x.hi), x.line))
            what = shown(x.key)
            when = "before it first waits" if y.lo == 0 else f"after waiting {_times(y.lo)}"
            then = "after it waited" if y.lo == 0 else f"after waiting {_times(x.hi)}"
            return (
                f"`{first}(...)` and `{second}(...)` run at once, and they interleave at their awaits: "
                f"`{second}` touches `{what}` {when} (line {y.line}) and `{first}` {then} (line "
                f"{x.line}), one of them changing it. Python runs every call up to its next await in "
                "turn; the graph runs each call whole, so the later call would see "
                f"`{what}` as the earlier one left it. Change `{what}` on one side of the awaits "
                "only, or await the calls one after another"
            )
    return None


def shown(key: str) -> str:
    """A key as the user wrote the object (a comprehension's item, a ``nonlocal`` cell as the name)."""
    return key.split(ITEM)[0].replace(nonlocals.SUFFIX + "[0]", "").removesuffix(nonlocals.SUFFIX)


def _times(n: float) -> str:
    return "any number of times" if n == INF else f"{int(n)} time" + ("s" if n != 1 else "")


def overlap(x: Touch, y: Touch) -> bool:
    """Whether two touches reach the same object or one a field of the other (``agent`` and
    ``agent.history``; ``agent.history`` and ``agent.turns`` are apart), by name or as one object
    under two names."""
    a, b = x.same or x.key, y.same or y.key  # (an item of one, `data["list"]`, is in it too)
    return a == b or a.startswith((b + ".", b + "[")) or b.startswith((a + ".", a + "["))


def items_of(made: cst.BaseExpression | cst.For) -> frozenset[str]:
    """The names a comprehension's ``for`` clauses (or a ``for`` statement) bind: another object
    per item."""
    if isinstance(made, cst.For):
        return frozenset(_names_in(made.target))
    out: set[str] = set()
    clause = getattr(made, "for_in", None)
    while isinstance(clause, cst.CompFor):
        out.update(_names_in(clause.target))
        clause = clause.inner_for_in
    return frozenset(out)


def _part(comp: Builder, call: cst.Call, many: frozenset[str] | None) -> Touches | None:
    callee = comp.exprs.callee(call)
    items = set(many) | {MAP_ITEM} if many is not None else set()
    if getattr(callee, "__ayo_primitive__", None):
        # it reads what its arguments hold when it starts, before it waits (`ayo.rerank(q,
        # passages)`: the list as it is then), and changes nothing of the user's
        line = comp.src.file_line(comp.src.positions[call].start.line) if call in comp.src.positions else 0
        keys = [k for a in call.args if (k := _key(comp.src, a.value, items, None)) is not None]
        found = [Touch(k, False, 0, 0, line) for k in keys]
        found += store_touch(callee.__ayo_primitive__, call, line, sites.static_of(comp))
        return Touches(found, fewest=1, most=1) if found else None
    if isinstance(callee, functools.partial):
        return None  # (a partial of a primitive: it touches nothing of the user's)
    if getattr(callee, "__ayo_workflow__", False):  # a nested workflow, inlined as a helper is
        try:
            src = _exprs(comp).helper_source(callee.fn)
        except (TraceError, SyntaxError):
            return None
        args = _arguments(comp.src, src, call, False, items)
        return _touches(comp, src, _scope(callee.fn, None, src), args, 0, {})
    helper = comp.exprs.helper_of(cst.Await(expression=call))
    if helper is None:
        return None
    args = _arguments(comp.src, helper.src, call, helper.self_value is not None, items)
    scope = _scope(helper.src.fn, helper.self_value, helper.src)
    return _touches(comp, helper.src, scope, args, 0, {})


def _key(
    src: FunctionSource, e: cst.BaseExpression, items: set[str], outer: dict[str, str] | None
) -> str | None:
    """The key of the object an argument expression passes: its text for a name, attribute or item
    of one; None for an object made by the call (a literal, a call's result, an f-string)."""
    root: cst.BaseExpression = e
    while isinstance(root, cst.Attribute | cst.Subscript):
        root = root.value
    if not isinstance(root, cst.Name):
        return holder_key(src, e) if outer is None else None  # (`Poster(board)`: holds `board`)
    text = src.code(e).strip()
    if outer is not None:  # a nested helper's argument: in terms of its caller's keys
        base = outer.get(root.value)
        if base is None:
            return text if root.value not in _locals(src) else None
        return base + text[len(root.value) :]
    return text.replace(root.value, root.value + ITEM, 1) if root.value in items else text


def _locals(src: FunctionSource) -> set[str]:
    return {a.name for a in src.fn_scope.assignments} | set(_params(src))


def _params(src: FunctionSource) -> list[str]:
    p = src.node.params
    names = [x.name.value for x in [*p.posonly_params, *p.params, *p.kwonly_params]]
    names += [x.name.value for x in (p.star_arg, p.star_kwarg) if isinstance(x, cst.Param)]
    return names


def _arguments(
    caller: FunctionSource,
    callee: FunctionSource,
    call: cst.Call,
    bound: bool,
    items: set[str],
    outer: dict[str, str] | None = None,
) -> dict[str, str]:
    """The callee's parameters mapped to the keys of the objects ``call`` passes them."""
    params = _params(callee)
    out: dict[str, str] = {}
    plain = [x.name.value for x in [*callee.node.params.posonly_params, *callee.node.params.params]]
    if bound and plain:
        func = call.func
        if isinstance(func, cst.Attribute):
            key = _key(caller, func.value, items, outer)
            if key is not None:
                out[plain[0]] = key
        plain = plain[1:]
    positional = [a for a in call.args if a.keyword is None and not a.star]
    for name, a in zip(plain, positional, strict=False):
        if (key := _key(caller, a.value, items, outer)) is not None:
            out[name] = key
    for a in call.args:
        key = _key(caller, a.value, items, outer) if a.keyword is not None else None
        if a.keyword is not None and a.keyword.value in params and key is not None:
            out[a.keyword.value] = key
    return out


def _scope(fn: Any, self_value: Any, src: FunctionSource) -> dict[str, Any]:
    """The names a helper's calls resolve in: its globals, its closure, a static ``self``."""
    scope: dict[str, Any] = {**vars(builtins), **getattr(fn, "__globals__", {})}
    with contextlib.suppress(TypeError, ValueError):  # (a function without a closure to read)
        scope.update(inspect.getclosurevars(fn).nonlocals)
    if self_value is not None and type(self_value).__name__ != "TracedSelf":
        params = src.node.params.params
        if params:
            scope[params[0].name.value] = self_value
    return scope


def _touches(
    comp: Builder, src: FunctionSource, scope: dict[str, Any], args: dict[str, str], depth: int, memo: _Memo
) -> Touches:
    """What one call of the helper ``src`` touches outside itself, and after how many waits
    (``args``: its parameters' keys; ``memo``: the calls read so far, one helper read once per
    arguments, a recursive call as touching nothing more and waiting any number of times)."""
    mark, busy = (id(src.node), tuple(sorted(args.items()))), (id(src.node), ())
    if busy in memo:
        return Touches(most=INF)
    if (done := memo.get(mark)) is not None:
        return done
    memo[busy] = None
    out = Touches()
    local = _locals(src)
    outside = set(src.free_names(src.node.body)[1]) - local
    shared = shared_names.declared(src)  # (a constant there is bound again: `global N` then `N += 1`)
    lo, hi = 0.0, 0.0  # the waits made before the statement, fewest and most

    aliased = helper_aliases(src)  # (`h = self.history`: `h.append(x)` changes `self.history`)

    def key_of(name: str, depth: int = 0) -> str | None:
        if name in args:
            return args[name]
        if name in aliased and depth < _MAX_DEPTH:
            base = key_of(aliased[name][0], depth + 1)
            return None if base is None else base + aliased[name][1]
        if name in shared:
            return name
        return name if name in outside and not _opaque(scope.get(name)) else None

    for stmt in src.node.body.body:
        entries, fewest, most = _statement(comp, src, scope, stmt, key_of, args, depth, memo, lo, hi)
        out.entries += entries
        lo, hi = lo + fewest, hi + most
    out.fewest, out.most = lo, hi
    del memo[busy]
    memo[mark] = out
    return out


def _statement(
    comp: Builder,
    src: FunctionSource,
    scope: dict[str, Any],
    stmt: cst.CSTNode,
    key_of: Any,
    args: dict[str, str] | None,
    depth: int,
    memo: _Memo,
    lo: float = 0,
    hi: float = 0,
    line: int | None = None,
    before: bool = False,
) -> tuple[list[Touch], float, float]:
    """What one statement of ``src`` touches (``key_of``: a name's key, None for none), after
    ``lo`` to ``hi`` waits made before it; and the fewest and most waits it makes. ``args``: the
    keys of the helper's parameters (None: ``src`` is the workflow itself); ``before``: only what
    it does before its awaits finish (not ``out.append(await t)``'s change)."""
    out: list[Touch] = []
    if shared_names.declaring(stmt):
        return out, 0.0, 0.0  # (a `global` line as ``global_names`` writes it: its calls bind)
    if line is None:
        line = src.file_line(src.positions[stmt].start.line) if stmt in src.positions else 0
    if isinstance(stmt, cst.If | cst.Try) and contains_await(stmt) and not branch_touches.test_awaits(stmt):

        def block(stmts: Any, lo: float, hi: float) -> tuple[list[Touch], float, float]:
            got: list[Touch] = []
            fewest = most = 0.0
            for s in stmts.body if isinstance(stmts, cst.IndentedBlock) else stmts:
                e, f, m = _statement(comp, src, scope, s, key_of, args, depth, memo, lo + fewest, hi + most)
                got, fewest, most = got + e, fewest + f, most + m
            return got, fewest, most

        return branch_touches.parts(stmt, block, key_of, lo, hi, line, before)
    calls = [n for n in walk(stmt) if isinstance(n, cst.Call)]
    nested = {id(c): _nested(comp, src, scope, c, args, depth, memo) for c in calls}
    if not contains_await(stmt):
        fewest, most = 0.0, 0.0
    elif isinstance(stmt, cst.SimpleStatementLine):
        fewest = sum(n[0].fewest for c in _awaited_calls(stmt) if (n := nested[id(c)]) is not None)
        most = _besides(stmt, None, nested)
    else:
        fewest, most = 0.0, INF  # (a loop or a branch awaiting: any number of waits)
    simple = isinstance(stmt, cst.SimpleStatementLine | cst.BaseSmallStatement)
    at = {"pre": (lo, hi), "post": (lo + fewest, hi + most), "both": (lo, hi + most)}
    if not simple:
        at = {k: (lo, hi + most) for k in at}
    reading = {id(c) for c in calls if nested[id(c)] is None and sites.reading_method(scope, src, c)}
    sites_ = statement_sites(stmt, reading) if simple else whole_sites(stmt)
    for name, attr, changes, where in sites_:
        if before and where == "post":
            continue
        if (key := key_of(name)) is not None:
            out.append(Touch(f"{key}.{attr}" if attr else key, changes, *at[where], line))
    if simple:  # (`global N` then `N += 1`: the module's `N`)
        out += shared_names.rebound(src, stmt, key_of, at, line)
    if args is not None and sites.uncaught_raise(src, stmt):  # (which call's error a gather raises)
        out.append(Touch(RAISED, True, *at["both"], line))
    for c in calls:  # (a helper's touches after the waits the statement makes besides it)
        if (found := nested[id(c)]) is not None:
            besides = _besides(stmt, c, nested) if simple and _is_awaited(stmt, c) else most
            out += [
                dataclasses.replace(x, lo=lo + x.lo, hi=hi + besides + x.hi if simple else INF)
                for x in found[0].entries
            ]
    for key, changes in closures.closure_calls(comp, stmt, key_of):
        out.append(Touch(key, changes, *at["both"], line))
    awaited = {id(m) for a in walk(stmt) if isinstance(a, cst.Await) for m in walk(a.expression)}
    waits = {id(a.expression) for a in walk(stmt) if isinstance(a, cst.Await)}
    for c in (c for c in calls if nested[id(c)] is None and not _defined(comp, src, c)):
        when = "post" if contains_await(c) else "pre" if id(c) in awaited else "both"
        for name in called_changes(src, scope, c):
            if (key := key_of(name)) is not None:
                out.append(Touch(key, True, *at[when], line))
        changed = [n for f in (logged_changes, function_changes, hidden_changes) for n in f(src, scope, c)]
        out += [Touch(name, True, *at[when], line) for name in changed]
        # awaiting an object's own method (`await ready.wait()`): it may wait for another call to
        # change the object, any number of waits on (the graph would run this call whole first)
        root = change_root(c.func.value) if id(c) in waits and isinstance(c.func, cst.Attribute) else None
        if (
            root is not None
            and primitive_op(src, scope, c) is None
            and (key := key_of(root.value)) is not None
        ):
            out.append(Touch(key, False, lo, INF, line))
    return out, fewest, most


def _most(found: tuple[Touches, bool] | None) -> float:
    """The most waits one awaited call makes: an ayo call's one, a helper's as it reads, anything
    else (an HTTP client, ``asyncio.sleep``, a gather) any number."""
    return INF if found is None else found[0].most


def _besides(stmt: cst.CSTNode, call: cst.Call | None, nested: dict[int, Any]) -> float:
    """The most waits the awaits of ``stmt`` other than ``await call`` make (summed, never
    subtracted: any number of waits less any number is not known)."""
    return sum(
        _most(nested[id(a.expression)] if isinstance(a.expression, cst.Call) else None)
        for a in awaits_in(stmt)
        if a.expression is not call
    )


def _is_awaited(stmt: cst.CSTNode, call: cst.Call) -> bool:
    return any(a.expression is call for a in awaits_in(stmt))


def _awaited_calls(stmt: cst.CSTNode) -> list[cst.Call]:
    """The calls ``stmt`` awaits on every run of it (not under a condition)."""
    return [
        n.expression
        for n in walk(stmt)
        if isinstance(n, cst.Await) and isinstance(n.expression, cst.Call) and _direct(stmt, n.expression)
    ]


def _defined(comp: Builder, src: FunctionSource, call: cst.Call) -> bool:
    """Whether ``call`` calls a function or class the workflow or the helper defines (what its
    own functions touch is ``_closure_calls``'s)."""
    func = call.func
    return isinstance(func, cst.Name) and any(func.value in s.defs_by_name() for s in (comp.src, src))


def _opaque(value: Any) -> bool:
    """A module, a function, a class, a logger or a constant: not an object whose state the calls
    share (a log line written on either side of an await is not refused)."""
    return (
        inspect.ismodule(value)
        or inspect.isroutine(value)
        or isinstance(value, type | logging.Logger | logging.LoggerAdapter | _CONSTANT)
    )


_CONSTANT = str | bytes | int | float | complex | tuple | frozenset | range


_CONDITIONAL = (
    cst.IfExp,
    cst.BooleanOperation,
    cst.ListComp,
    cst.GeneratorExp,
    cst.SetComp,
    cst.DictComp,
    cst.Lambda,
)


def _direct(stmt: cst.CSTNode, call: cst.Call) -> bool:
    """Whether ``call`` is awaited on every run of the simple statement ``stmt`` (not under a
    condition, a boolean operator or a comprehension)."""
    if not isinstance(stmt, cst.SimpleStatementLine):
        return False
    for n in walk(stmt):
        if isinstance(n, _CONDITIONAL) and any(m is call for m in walk(n)):
            return False
    return any(isinstance(n, cst.Await) and any(m is call for m in walk(n.expression)) for n in walk(stmt))


def _nested(
    comp: Builder,
    src: FunctionSource,
    scope: dict[str, Any],
    call: cst.Call,
    args: dict[str, str] | None,
    depth: int,
    memo: _Memo,
) -> tuple[Touches, bool] | None:
    """What a call inside a helper touches: an ayo call waits and touches nothing of the user's;
    a helper (or a nested workflow) as ``_touches`` reads it; anything else is not known."""
    target = _resolve(comp, src, scope, call)
    if target is None:
        return None
    if target == "ayo":
        line = src.file_line(src.positions[call].start.line) if call in src.positions else 0
        known = sites.constant_in(scope, _locals(src))
        return Touches(store_touch(primitive_op(src, scope, call), call, line, known), fewest=1, most=1), True
    inner_src, self_value, fn = target
    if depth >= _MAX_DEPTH:
        return None
    inner_args = _arguments(src, inner_src, call, self_value is not None, set(), outer=args)
    inner_scope = _scope(fn, self_value, inner_src) if fn is not None else scope
    t = _touches(comp, inner_src, inner_scope, inner_args, depth + 1, memo)
    return t, t.fewest > 0


def _resolve(comp: Builder, src: FunctionSource, scope: dict[str, Any], call: cst.Call) -> Any:
    """``"ayo"`` for an ayo primitive or workflow call, ``(source, self, function)`` for a helper
    whose source is known, else None."""
    func = call.func
    if isinstance(func, cst.Name):
        local = _exprs(comp)._local_def(func.value)
        if local is not None and func.value not in _locals(src):
            return local.src, None, None
    if not isinstance(func, cst.Name | cst.Attribute):
        return None
    try:
        target = eval(src.code(func).strip(), {}, scope)  # names and attributes only
    except Exception:
        return None
    if getattr(target, "__ayo_primitive__", None):
        return "ayo"
    if getattr(target, "__ayo_workflow__", False):
        fn = getattr(target, "fn", None)
        return (_exprs(comp).helper_source(fn), None, fn) if fn is not None else "ayo"
    owner = None
    if inspect.ismethod(target):
        owner, target = target.__self__, target.__func__
    if not inspect.iscoroutinefunction(target):
        return None
    try:
        return _exprs(comp).helper_source(target), owner, target
    except (TraceError, SyntaxError):
        return None


def _exprs(comp: Builder) -> Any:
    return comp.exprs  # (a ``Helpers``: it resolves the workflow's own ``async def``s)
