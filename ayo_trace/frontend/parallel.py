"""Parallel constructs traced as nodes that may run at once, instead of graph breaks.

* ``await asyncio.gather(a(...), b(...))`` of awaitable primitive or workflow calls: each call is
  traced as if awaited in its own statement, and the result is the list of their values in order.
  ``await asyncio.gather(*(f(x) for x in xs))`` (or ``*[...]``) is a ``map`` over ``xs``; spread
  among other calls (``gather(a(), *(f(x) for x in xs))``) its items take its place in the list.
  ``coros = [f(x) for x in xs]`` then ``await asyncio.gather(*coros)`` is the same (``coroutine_lists.Deferred``).
  With ``return_exceptions=True`` each call (of the list, or of a spread comprehension) is a
  ``try`` node handing back its error as its value (``try_except.caught``), as gather does; tasks
  made before it keep their errors (``_task``), which it hands back; not deferred lists or ``map``
  spreads (a graph break). Calls it makes itself that interleave at their awaits (``interleaving``)
  or change before their first wait what a caught failure sees (``early_raises.started``) run eagerly, as a
  graph break (``interleaved``); calls made before it that do are refused.
* ``async with asyncio.TaskGroup() as tg:`` with ``t = tg.create_task(f(...))`` lines, and anyio's
  ``async with anyio.create_task_group() as tg:`` with ``tg.start_soon(f, *args)`` lines: each task
  is traced as the awaited call; ``t`` holds a ``Completed`` task whose ``result()`` (or ``await t``)
  is the call's value; ``tasks = [tg.create_task(f(x)) for x in xs]`` there is a ``map`` (after
  the group, its tasks are finished ones: ``t.result()``). ``t = asyncio.create_task(f(...))``
  outside a group is traced the same way (``asyncio.ensure_future`` of a call too).
* ``tasks = [asyncio.create_task(f(x)) for x in xs]``: a ``map`` over ``xs`` (the tasks all start
  there), ``tasks`` the list of their ``Completed`` tasks; ``await asyncio.gather(*tasks)`` is the
  list of their values, and anything else awaiting them (``[await t for t in tasks]``) runs as a
  graph break whose ``await t`` returns the value at once. A list waited by ``asyncio.wait`` and
  never gathered keeps each task's error in it (a ``Failed`` task), as ``wait`` leaves it; every
  task made outside a task group does (``_task``): awaiting it raises the error there, so a
  ``try`` around that await catches it and a path that never awaits it never sees it.
* A task used other than by awaiting it (``t.done()``) is refused: the graph runs the call where
  the task is created, so there it has finished (Python's may still be running).

The calls are nodes with no data edge between them; the trace keeps program order (the baseline
runs them one after another), and dependency pruning lets them run at once when no effect orders
them, which is what the user asked for by writing gather. A call the tracer can trace when awaited
on its own (a primitive, a workflow, and a helper once helpers are traced) is traceable here: each
call goes through ``Builder.await_expr`` and ``break_call_target`` decides, so nothing here lists
what may be gathered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import SourceLoc
from ..ir.graph import Node
from . import coroutine_lists, early_raises, interleaving, task_dicts, task_windows, unroll
from .asyncio_calls import (
    DONE,
    KEPT,
    RESULT,
    TASKS,
    Completed,
    Failed,
    bind_completed,
    catches,
    group_of,
    is_as_completed,
    is_create_task,
    is_gather,
    kept_task,
    only_arg,
    task_list_node,
    task_node,
    traceable,
    waits_all,
    wrapped,
)
from .comprehensions import COMPREHENSIONS, MAP_ITEM, _clause_awaits
from .task_uses import appended_task, check_task_uses, eager_task, made_as_written, untraced_task
from .values import Traced, Value
from .visiting import visit

if TYPE_CHECKING:
    from .builder import Builder


def traceable_await(comp: Builder, e: cst.Await) -> bool:
    """Whether this module traces ``e`` (so it is not a graph break)."""
    inner = e.expression
    if (
        task_node(comp, inner) is not None
        or kept_task(comp, inner) is not None
        or wrapped(comp, inner) is not None
        or coroutine_lists.kept_call(comp, inner) is not None  # (`pending = ask(q)`, `await pending`)
    ):
        return True
    if _waited(comp, inner) is not None or task_dicts.awaits_item(comp, e):
        return True
    if not (isinstance(inner, cst.Call) and is_gather(comp, inner)):
        return False
    return _gather_parts(comp, inner) is not None and interleaved(comp, e) is None


def interleaved(comp: Builder, e: cst.Await) -> str | None:
    """Why ``await asyncio.gather(...)`` of calls it makes itself runs eagerly, as a graph break:
    they interleave at their awaits where the graph would run each whole (``interleaving``), and
    the break runs them as Python does. None when it traces, or when its calls were made before
    (tasks, a list of coroutines built first: ``gathered`` refuses those)."""
    call = e.expression
    if not (isinstance(call, cst.Call) and is_gather(comp, call)):
        return None
    parts = _gather_parts(comp, call)
    if parts is None:
        return None
    for a in call.args:
        if a.keyword is not None:
            continue
        v = a.value
        made = (
            (isinstance(v, cst.GeneratorExp | cst.ListComp) or _map_spread(comp, v) is not None)
            if a.star
            else isinstance(v, cst.Call) and task_node(comp, v) is None
        )
        if not made:
            return None
    calls = _calls(comp, parts)
    return interleaving.conflict(comp, calls) or (
        None if catches(comp, call) else early_raises.started(comp, calls)
    )


# --- gather ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    """A ``*`` argument of gather: a comprehension (or ``map(f, items)``) whose items it awaits; or
    a loop appending a call to a deferred list (``coroutine_lists.loop_map``)."""

    expr: cst.BaseExpression | cst.For


def _gather_parts(comp: Builder, call: cst.Call) -> list[cst.BaseExpression | Spread] | Spread | None:
    """The calls gather awaits (a list), the one spread it awaits the items of, or None."""
    catching = catches(comp, call)
    if catching is None:
        return None
    positional = [a for a in call.args if a.keyword is None]
    if catching:  # each part's error is its value: calls made here, comprehensions of them, and
        # tasks (which keep their errors)
        ok = all(
            (  # (tasks keep their errors: `_task`)
                a.star == "*"
                and (task_list_node(comp, a.value) is not None or task_dicts.tasks_spread(comp, a.value))
            )
            or (
                task_list_node(comp, a.value) is None
                and (
                    comprehension_spread(comp, _spread_of(comp, a.value))
                    if a.star
                    else _raises_where_made(comp, a.value)
                )
            )
            for a in positional
        )
        if not ok:
            return None
    parts: list[cst.BaseExpression | Spread] = []
    if len(positional) == 1 and positional[0].star == "*":
        only = positional[0].value
        if task_dicts.values_spread(comp, only):
            return Spread(only)  # `*d.values()` of a dict of calls or tasks
        deferred = coroutine_lists.deferred(comp, only)
        if deferred is not None and (len(deferred) != 1 or not isinstance(deferred[0], COMPREHENSIONS)):
            # a list built statement by statement: its calls, and its loops' and extends' items
            return [Spread(p) if isinstance(p, (cst.For, *COMPREHENSIONS)) else p for p in deferred]
        if task_list_node(comp, only) is None:
            spread = deferred[0] if deferred else only
            assert not isinstance(spread, cst.For)
            ok = _map_spread(comp, spread) is not None or comprehension_spread(comp, spread)
            return Spread(spread) if ok else None
    for a in positional:
        if a.star == "*" and (
            task_list_node(comp, a.value) is not None or task_dicts.values_spread(comp, a.value)
        ):
            parts.append(Spread(a.value))  # a list of tasks: their values, in order
            continue
        if a.star == "*":  # a spread comprehension: its items, in order, among the other calls
            deferred = coroutine_lists.deferred(comp, a.value)
            if deferred is not None and len(deferred) != 1:
                return None  # (a list built statement by statement is deferred gathered alone)
            spread = deferred[0] if deferred else a.value
            assert not isinstance(spread, cst.For)
            if not (_map_spread(comp, spread) is not None or comprehension_spread(comp, spread)):
                return None
            parts.append(Spread(spread))
        elif a.star or not (
            traceable(comp, a.value)
            or task_node(comp, a.value) is not None
            or kept_task(comp, a.value) is not None
        ):
            return None
        else:
            parts.append(a.value)
    return parts


def _spread_of(comp: Builder, e: cst.BaseExpression) -> cst.BaseExpression:
    """What ``*e`` spreads: the comprehension of a list of coroutines made before the gather
    (``calls = [ayo.llm(...) for ...]``, ``coroutine_lists``; a list built statement by statement
    is none), else ``e``."""
    deferred = coroutine_lists.deferred(comp, e)
    if deferred is None:
        return e
    return deferred[0] if len(deferred) == 1 and isinstance(deferred[0], COMPREHENSIONS) else cst.Name("None")


def comprehension_spread(comp: Builder, e: cst.BaseExpression) -> bool:
    """A list comprehension or generator of traceable calls, awaiting nothing in its clauses
    (those would run once per item outside the element)."""
    return (
        isinstance(e, cst.GeneratorExp | cst.ListComp)
        and (traceable(comp, e.elt) or unroll.over_objects(comp, e))
        and e.for_in.asynchronous is None
        and not _clause_awaits(e.for_in)
    )


def _map_spread(comp: Builder, e: cst.BaseExpression) -> tuple[cst.BaseExpression, cst.BaseExpression] | None:
    """``(f, items)`` for ``map(f, items)`` whose call ``f(item)`` the tracer traces; else None."""
    if not (isinstance(e, cst.Call) and comp.exprs.callee(e) is map and len(e.args) == 2):
        return None
    if any(a.keyword is not None or a.star for a in e.args):
        return None
    func, items = e.args[0].value, e.args[1].value
    probe = cst.Call(func=func, args=[cst.Arg(cst.Name(MAP_ITEM))])
    return (func, items) if traceable(comp, probe) else None


def _spread(comp: Builder, spread: Spread, loc: SourceLoc, name: str) -> Value:
    """A ``map`` node awaiting each item of ``spread`` (its results in order: gather's list), or
    for a list of tasks the list of their values."""
    if isinstance(spread.expr, cst.For):
        return coroutine_lists.loop_map(comp, spread.expr, loc, name)
    if task_dicts.values_spread(comp, spread.expr):
        return task_dicts.gathered_values(comp, spread.expr, loc, name)
    tasks = task_list_node(comp, spread.expr)
    if tasks is not None:
        comp.temps[TASKS] = Traced(tasks)
        t = f"{TASKS}_t"
        # (`return_exceptions=True`: a failed task's error is its value, as gather hands it back)
        value = (
            f"({t}.exception() or {t}.result())" if id(spread.expr) in comp.deps.caught else f"{t}.result()"
        )
        source = f"{name} = [{value} for {t} in {TASKS}]"
        node = comp.python_node(spread.expr, loc, [name], source=source, reads=[TASKS], name=name)
        comp.temps.pop(TASKS, None)
        return Traced(node)
    mapped = _map_spread(comp, spread.expr)
    if mapped is not None:
        return comp.exprs.call_map(mapped[0], mapped[1], loc, name)
    return comp.exprs.comprehension_map(spread.expr, loc, name, awaits=True)


def _waited(comp: Builder, e: cst.BaseExpression) -> Node | None:
    """The task list node of ``asyncio.wait(tasks)`` waiting for all of them, else None."""
    if not (isinstance(e, cst.Call) and waits_all(comp, e)):
        return None
    return task_list_node(comp, e.args[0].value)


def awaited(comp: Builder, e: cst.Await, loc: SourceLoc, hint: str | None) -> Value | None:
    """The value of ``await e`` when it is a gather, a task or ``asyncio.wait`` of tasks this
    module traces, else None."""
    inner = e.expression
    task = _awaited_task(comp, inner, loc, hint or "value")
    if task is not None:
        return Traced(task)
    item = task_dicts.awaited_item(comp, e, loc, hint)  # `await tasks[key]`
    if item is not None:
        return item
    waited = _waited(comp, inner)
    if waited is not None:  # `done, pending = await asyncio.wait(tasks)`: all done
        comp.temps[TASKS] = Traced(waited)
        name = hint or "waited"
        empty = "raise ValueError('Set of Tasks/Futures is empty.')"  # (as asyncio.wait)
        source = f"if not {TASKS}:\n    {empty}\n{name} = (set({TASKS}), set())"
        node = comp.python_node(inner, loc, [name], source=source, reads=[TASKS], name=name)
        comp.temps.pop(TASKS, None)
        return Traced(node)
    call = wrapped(comp, inner) or coroutine_lists.kept_call(comp, inner)
    if call is not None:
        return comp.exprs.await_expr(cst.Await(expression=call), loc, hint)
    if not isinstance(inner, cst.Call) or not is_gather(comp, inner):
        return None
    parts = _gather_parts(comp, inner)
    if parts is None or interleaved(comp, e) is not None:
        return None  # (a graph break)
    # return_exceptions=True: each call's error is its value (``Builder.await_expr`` makes each of
    # these calls, a comprehension's element for each item, a ``try`` node handing back its error)
    name = hint or "gathered"
    if not catches(comp, inner):
        return gathered(comp, inner, parts, loc, name)
    return catching(comp, parts, None, lambda: gathered(comp, inner, parts, loc, name))


def catching(
    comp: Builder,
    parts: list[cst.BaseExpression | Spread] | Spread,
    outcomes: tuple[Any, ...] | None,
    compile: Callable[[], Value],
) -> Value:
    """``compile()`` with each call of ``parts`` a ``try`` handing back its error as its value
    (``outcomes`` None), or its value and its error made outcomes by the two functions of
    ``outcomes`` (``completion``)."""
    caught: dict[int, tuple[Any, ...] | None] = {}
    for p in parts if isinstance(parts, list) else [parts]:
        part = p.expr if isinstance(p, Spread) else p
        assert not isinstance(part, cst.For)
        caught[id(part.elt if isinstance(part, cst.GeneratorExp | cst.ListComp) else part)] = outcomes
    comp.deps.caught.update(caught)
    try:
        return compile()
    finally:
        for i in caught:
            comp.deps.caught.pop(i, None)


def gathered(
    comp: Builder,
    inner: cst.Call,
    parts: list[cst.BaseExpression | Spread] | Spread,
    loc: SourceLoc,
    name: str,
) -> Value:
    calls = _calls(comp, parts)
    interleaving.check_gather(comp, calls, loc)
    if not catches(comp, inner) and (why := early_raises.started(comp, calls)) is not None:
        raise TraceError(  # (calls made before this statement: it cannot run as written)
            f"{why}; gather the calls where they are made (`asyncio.gather(*(f(x) for x in xs))`), or "
            "with `return_exceptions=True`",
            loc=loc,
            construct="gather",
        )
    if isinstance(parts, Spread):
        return _spread(comp, parts, loc, name)
    values: list[Node] = []
    spreads: set[int] = set()
    for p in parts:
        task = None if isinstance(p, Spread) else _awaited_task(comp, p, loc, "value")
        if task is not None:
            values.append(task)
        elif isinstance(p, Spread):
            spreads.add(len(values))
            values.append(comp.materialize(_spread(comp, p, loc, "values"), loc, "values"))
        else:
            values.append(
                comp.materialize(comp.exprs.await_expr(cst.Await(expression=p), loc, None), loc, "value")
            )
    return Traced(_list_node(comp, inner, values, loc, name, spreads))


def _calls(comp: Builder, parts: list[cst.BaseExpression | Spread] | Spread) -> list[interleaving.Part]:
    """The calls a gather runs at once, each with the names its items bind when it stands for many
    (a comprehension's element, ``map``'s function, a loop's appended call): what ``interleaving``
    checks."""
    out: list[interleaving.Part] = []
    for p in parts if isinstance(parts, list) else [parts]:
        if isinstance(p, cst.Call) and task_node(comp, p) is None:
            out.append((p, None))
        elif isinstance(p, Spread) and isinstance(p.expr, cst.GeneratorExp | cst.ListComp):
            elt = wrapped(comp, p.expr.elt) or p.expr.elt  # (`asyncio.create_task(f(x))`: `f(x)`)
            if isinstance(elt, cst.Call):
                out.append((elt, interleaving.items_of(p.expr)))
        elif isinstance(p, Spread) and isinstance(p.expr, cst.For):
            if (appended := _appended(p.expr)) is not None:
                out.append((appended, interleaving.items_of(p.expr)))
        elif (
            isinstance(p, Spread)
            and not isinstance(p.expr, cst.For)
            and (mapped := _map_spread(comp, p.expr)) is not None
        ):
            out.append((cst.Call(func=mapped[0], args=[cst.Arg(cst.Name(MAP_ITEM))]), frozenset()))
    return out


def _appended(loop: cst.For) -> cst.Call | None:
    """The call ``coros.append(f(x))``, the only statement of ``loop``'s body, appends."""
    body = loop.body.body
    line = body[0] if len(body) == 1 else None
    small = line.body[0] if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 else None
    call = small.value if isinstance(small, cst.Expr) else None
    if isinstance(call, cst.Call) and len(call.args) == 1 and isinstance(call.args[0].value, cst.Call):
        return call.args[0].value
    return None


def _list_node(
    comp: Builder,
    at: cst.CSTNode,
    values: Sequence[Node],
    loc: SourceLoc,
    name: str,
    spreads: Collection[int] = (),
) -> Node:
    """A ``python`` node making the list of ``values`` (gather's result; the values at ``spreads``
    are lists whose items it takes in their place)."""
    params = [f"__ayo_{i}" for i in range(len(values))]
    for p, v in zip(params, values, strict=True):
        comp.temps[p] = Traced(v)
    source = f"{name} = [{', '.join(('*' if i in spreads else '') + p for i, p in enumerate(params))}]"
    node = comp.python_node(at, loc, [name], source=source, reads=params, name=name)
    for p in params:
        comp.temps.pop(p, None)
    return node


# --- tasks ------------------------------------------------------------------------------------------


def _task(
    comp: Builder, at: cst.CSTNode, call: cst.Call, target: str | None, loc: SourceLoc, kept: bool = False
) -> None:
    """Trace ``await call`` now; bind ``target`` to the ``Completed`` task holding its value
    (``kept``: the call a ``try`` whose outcome is the task, ``Completed`` or ``Failed`` holding
    its error, raised where the task is awaited, as Python raises it)."""
    if kept:
        comp.deps.caught[id(call)] = (Completed, Failed)
    try:
        value = comp.materialize(
            comp.exprs.await_expr(cst.Await(expression=call), loc, target), loc, "result"
        )
    finally:
        comp.deps.caught.pop(id(call), None)
    if target is not None:
        made = f"{RESULT}  # {DONE}{KEPT}" if kept else f"{DONE}({RESULT})"
        bind_completed(comp, at, target, value, f"{target} = {made}", loc)


def _raises_where_made(comp: Builder, e: cst.BaseExpression) -> bool:
    """Whether ``e`` is not a task that raises its error where it was made (not a task, or one
    keeping its error: gathered with ``return_exceptions=True`` it hands that back)."""
    return task_node(comp, e) is None or kept_task(comp, e) is not None


def _awaited_task(comp: Builder, e: cst.BaseExpression, loc: SourceLoc, name: str) -> Node | None:
    """The value of awaiting the task ``e`` names: its call's value; for one that keeps its error,
    ``t.result()``, raising it there (gathered with ``return_exceptions=True``: handing it back).
    None when ``e`` is no task."""
    kept = kept_task(comp, e)
    if kept is None:
        task = task_node(comp, e)
        return task.args[0] if task is not None else None
    comp.temps[TASKS] = Traced(kept)
    value = f"({TASKS}.exception() or {TASKS}.result())" if id(e) in comp.deps.caught else f"{TASKS}.result()"
    node = comp.python_node(e, loc, [name], source=f"{name} = {value}", reads=[TASKS], name=name)
    comp.temps.pop(TASKS, None)
    return node


_SPAWNERS = (asyncio.create_task, asyncio.ensure_future, asyncio.gather)


def small_statement(comp: Builder, small: cst.BaseSmallStatement, loc: SourceLoc) -> bool:
    """``t = asyncio.create_task(f(...))``: trace it (True), or leave the statement (False). A task
    or gather the statement starts without awaiting it otherwise is refused: run as plain code it
    would outlive the statement (and the query)."""

    def deferrable(c: cst.BaseExpression) -> bool:  # (a task group's tasks end with the group)
        return traceable(comp, c) and not (isinstance(c, cst.Call) and group_of(comp, c) is not None)

    def consumer(c: cst.Call, arg: cst.CSTNode) -> bool:  # `gather(*coros)`, `as_completed(coros)`
        if not isinstance(arg, cst.Arg) or arg.keyword is not None:
            return False
        if arg.star == "*":
            return is_gather(comp, c)
        # (of a generator, as_completed raises TypeError: not deferred, run as written)
        listed = isinstance(small, cst.Assign) and not isinstance(small.value, cst.GeneratorExp)
        return not arg.star and listed and is_as_completed(comp, c) and _traced_where(comp, c)

    if coroutine_lists.defer(comp, small, deferrable, consumer):
        return True
    if not (isinstance(small, cst.Assign) and len(small.targets) == 1 and _task_assignment(comp, small, loc)):
        if isinstance(small, cst.Assign) and untraced_task(comp, small, loc):
            return True
        if appended_task(comp, small, loc):
            return True
        _refuse_unawaited(comp, small, loc)
        return False
    return True


def _traced_where(comp: Builder, call: cst.Call) -> bool:
    """Whether ``asyncio.as_completed(...)`` stands where ``completion`` traces it: a loop's or a
    comprehension's iterable, or an assignment's value (not inside other code, as in
    ``enumerate(asyncio.as_completed(coros))``, which runs as written)."""
    parent = comp.src.parents.get(call)
    if isinstance(parent, cst.For | cst.CompFor):
        return parent.iter is call
    return isinstance(parent, cst.Assign) and parent.value is call and len(parent.targets) == 1


def _refuse_unawaited(comp: Builder, small: cst.BaseSmallStatement, loc: SourceLoc) -> None:
    found: list[cst.Call] = []

    class V(cst.CSTVisitor):
        def on_visit(self, n: cst.CSTNode) -> bool:
            if isinstance(n, cst.Await):
                return False  # awaited here: traced, or a graph break that awaits it
            if isinstance(n, cst.Call) and comp.exprs.callee(n) in _SPAWNERS:
                found.append(n)
            return not isinstance(n, cst.FunctionDef | cst.Lambda | cst.ClassDef)

    visit(small, V())
    if found:
        raise TraceError(
            f"`{comp.src.code(found[0]).strip()}` starts work this statement does not await, which a "
            "traced workflow cannot run; keep the task (`t = asyncio.create_task(f(...))`) and "
            "`await t` later, or `await asyncio.gather(...)` here",
            loc=loc,
            construct="task",
        )


def _task_assignment(comp: Builder, small: cst.Assign, loc: SourceLoc) -> bool:
    target = small.targets[0].target
    call = small.value
    if isinstance(target, cst.Name) and isinstance(call, cst.ListComp):
        return _task_list(comp, small, target.value, call, loc)
    if isinstance(target, cst.Name) and isinstance(call, cst.DictComp):
        return task_dicts.task_dict(comp, small, target.value, call, loc)
    if not (isinstance(target, cst.Name) and isinstance(call, cst.Call)):
        return False
    # (`jobs = asyncio.gather(...)` awaited later: the gather's future starts its calls here, as a
    # task of the gather would, and hands back their results, or the first error, where awaited)
    coro = call if is_gather(comp, call) else only_arg(call) if is_create_task(comp, call) else None
    if coro is None or not traceable(comp, coro):
        return False
    assert isinstance(coro, cst.Call)
    kept = group_of(comp, call) is None  # (a task group's tasks fail the group where it ends)
    task_windows.check_window(comp, small, target.value, [(coro, None)], loc, None)  # (Python's too)
    if (why := interleaving.conflict(comp, [(coro, None)])) is not None:  # (it sets a context variable)
        return made_as_written(comp, small, loc, f"the task `{target.value}` is Python's: {why}")
    if (use := check_task_uses(comp, small, target.value, loc, many=False, kept=kept)) is not None:
        return eager_task(comp, small, target.value, use, loc)
    _task(comp, small, coro, target.value, loc, kept)
    return True


def _task_list(comp: Builder, small: cst.Assign, target: str, made: cst.ListComp, loc: SourceLoc) -> bool:
    """``tasks = [asyncio.create_task(f(x)) for x in xs]``: a ``map`` running every call now (the
    tasks start here), ``tasks`` the list of their ``Completed`` tasks."""
    if wrapped(comp, made.elt) is None or made.for_in.asynchronous or _clause_awaits(made.for_in):
        return False
    assert isinstance(made.elt, cst.Call)
    group = group_of(comp, made.elt)  # a task group's tasks have finished once it exits
    if isinstance(coro := only_arg(made.elt), cst.Call):
        part = (coro, interleaving.items_of(made))
        why = interleaving.conflict(comp, [part])  # (the calls run at once)
        task_windows.check_window(comp, small, None if group else target, [part], loc, group)
        if why is not None:  # Python's tasks, made as written (or refused, sharing their line)
            if not made_as_written(comp, small, loc, f"the tasks `{target}` are Python's: {why}"):
                raise TraceError(why, loc=loc, construct="gather")
            return True
    kept = group is None and isinstance(coro, cst.Call)
    if (use := check_task_uses(comp, small, target, loc, many=True, within=group, kept=kept)) is not None:
        return eager_task(comp, small, target, use, loc)
    if kept:  # each call a `try` making its task: `Completed`, or `Failed` holding its error
        assert isinstance(coro, cst.Call)
        comp.deps.caught[id(coro)] = (Completed, Failed)
    try:
        results = comp.exprs.comprehension_map(made, loc, target, awaits=True)  # await create_task(f(x))
    finally:
        if kept:
            comp.deps.caught.pop(id(coro), None)
    # (`DONE` in its code is one of the marks `made_node` finds a task list's node by)
    made_tasks = f"list({RESULT})  # {DONE}" if kept else f"[{DONE}(v) for v in {RESULT}]"
    source = f"{target} = {made_tasks}  # {TASKS}_made"
    bind_completed(comp, small, target, comp.materialize(results, loc, "results"), source, loc)
    return True
