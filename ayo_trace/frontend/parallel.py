"""Parallel constructs traced as nodes that may run at once, instead of graph breaks.

* ``await asyncio.gather(a(...), b(...))`` of awaitable primitive or workflow calls: each call is
  traced as if awaited in its own statement, and the result is the list of their values in order.
  ``await asyncio.gather(*(f(x) for x in xs))`` (or ``*[...]``) is a ``map`` over ``xs``; spread
  among other calls (``gather(a(), *(f(x) for x in xs))``) its items take its place in the list.
  ``coros = [f(x) for x in xs]`` then ``await asyncio.gather(*coros)`` is the same (``coroutine_lists.Deferred``).
  With ``return_exceptions=True`` each call (of the list, or of a spread comprehension) is a
  ``try`` node handing back its error as its value (``try_except.caught``), as gather does; not
  for tasks made before the gather, nor deferred lists or ``map`` spreads (a graph break).
* ``async with asyncio.TaskGroup() as tg:`` with ``t = tg.create_task(f(...))`` lines, and anyio's
  ``async with anyio.create_task_group() as tg:`` with ``tg.start_soon(f, *args)`` lines: each task
  is traced as the awaited call; ``t`` holds a ``Completed`` task whose ``result()`` (or ``await t``)
  is the call's value; ``tasks = [tg.create_task(f(x)) for x in xs]`` there is a ``map`` (after
  the group, its tasks are finished ones: ``t.result()``). ``t = asyncio.create_task(f(...))``
  outside a group is traced the same way (``asyncio.ensure_future`` of a call too).
* ``tasks = [asyncio.create_task(f(x)) for x in xs]``: a ``map`` over ``xs`` (the tasks all start
  there), ``tasks`` the list of their ``Completed`` tasks; ``await asyncio.gather(*tasks)`` is the
  list of their values, and anything else awaiting them (``[await t for t in tasks]``) runs as a
  graph break whose ``await t`` returns the value at once.
* A task used other than by awaiting it (``t.done()``), or awaited inside a ``try`` that its
  creation is outside of, is refused: the graph runs the call where the task is created, so there
  it has finished (Python's may still be running) and an engine error surfaces there, outside the
  handler that catches it in Python.

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
from . import aliases, coroutine_lists
from .asyncio_calls import (
    Completed,
    catches,
    group_of,
    is_as_completed,
    is_create_task,
    is_gather,
    only_arg,
    waits_all,
)
from .comprehensions import COMPREHENSIONS, MAP_ITEM, _clause_awaits
from .state import ancestors, walk
from .values import Static, Traced, Value

if TYPE_CHECKING:
    from .builder import Builder

DONE = "__ayo_done"
RESULT = "__ayo_result"
TASKS = "__ayo_tasks"  # (no name here may contain another: nodes are recognized by their code)


# --- recognizing --------------------------------------------------------------------------------------


def traceable(comp: Builder, call: cst.BaseExpression) -> bool:
    """Whether ``await call`` is something the tracer traces (not a graph break)."""
    return isinstance(call, cst.Call) and not comp.exprs.break_call_target(cst.Await(expression=call))


def _task_node(comp: Builder, e: cst.BaseExpression) -> Node | None:
    """The wrapper node of a task name (``t`` after ``t = tg.create_task(...)``)."""
    return _made_node(comp, e, many=False)


def task_list_node(comp: Builder, e: cst.BaseExpression, *, capture: bool = True) -> Node | None:
    """The node of a task list's name (``tasks`` after ``tasks = [asyncio.create_task(...) ...]``);
    ``capture=False``: the node of the body it is made in, not read into this one."""
    return _made_node(comp, e, many=True, capture=capture)


def _made_node(comp: Builder, e: cst.BaseExpression, many: bool, capture: bool = True) -> Node | None:
    if not isinstance(e, cst.Name) or not comp.is_bound(e.value):
        return None
    try:
        value = comp.lookup_local(e.value, SourceLoc("", 0)) if capture else aliases.peek(comp, e.value)
    except TraceError:
        return None
    if not (isinstance(value, Traced) and value.node.op == "python" and value.node.args):
        return None
    code = value.node.attrs.get("code")
    if code is None or DONE not in code.source or (f"{TASKS}_made" in code.source) != many:
        return None
    return value.node


def _wrapped(comp: Builder, e: cst.BaseExpression) -> cst.Call | None:
    """The call in ``asyncio.create_task(call)`` (or ``ensure_future``) when ``await call`` traces:
    awaiting a task at once is awaiting its call."""
    if not (isinstance(e, cst.Call) and is_create_task(comp, e)):
        return None
    coro = only_arg(e)
    return coro if isinstance(coro, cst.Call) and traceable(comp, coro) else None


def traceable_await(comp: Builder, e: cst.Await) -> bool:
    """Whether this module traces ``e`` (so it is not a graph break)."""
    inner = e.expression
    if _task_node(comp, inner) is not None or _wrapped(comp, inner) is not None:
        return True
    if _waited(comp, inner) is not None:
        return True
    return isinstance(inner, cst.Call) and is_gather(comp, inner) and _gather_parts(comp, inner) is not None


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
    if catching:  # each part's error is its value: only calls made here (a task's error is raised
        # where the graph makes it), and comprehensions of them
        ok = all(
            not (a.star and coroutine_lists.deferred(comp, a.value))
            and task_list_node(comp, a.value) is None
            and (comprehension_spread(comp, a.value) if a.star else _task_node(comp, a.value) is None)
            for a in positional
        )
        if not ok:
            return None
    parts: list[cst.BaseExpression | Spread] = []
    if len(positional) == 1 and positional[0].star == "*":
        only = positional[0].value
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
        if a.star == "*" and task_list_node(comp, a.value) is not None:
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
        elif a.star or not (traceable(comp, a.value) or _task_node(comp, a.value) is not None):
            return None
        else:
            parts.append(a.value)
    return parts


def comprehension_spread(comp: Builder, e: cst.BaseExpression) -> bool:
    """A list comprehension or generator of traceable calls, awaiting nothing in its clauses
    (those would run once per item outside the element)."""
    return (
        isinstance(e, cst.GeneratorExp | cst.ListComp)
        and traceable(comp, e.elt)
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
    tasks = task_list_node(comp, spread.expr)
    if tasks is not None:
        comp.temps[TASKS] = Traced(tasks)
        source = f"{name} = [{TASKS}_t.result() for {TASKS}_t in {TASKS}]"
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
    task = _task_node(comp, inner)
    if task is not None:
        return Traced(task.args[0])
    waited = _waited(comp, inner)
    if waited is not None:  # `done, pending = await asyncio.wait(tasks)`: all done
        comp.temps[TASKS] = Traced(waited)
        name = hint or "waited"
        empty = "raise ValueError('Set of Tasks/Futures is empty.')"  # (as asyncio.wait)
        source = f"if not {TASKS}:\n    {empty}\n{name} = (set({TASKS}), set())"
        node = comp.python_node(inner, loc, [name], source=source, reads=[TASKS], name=name)
        comp.temps.pop(TASKS, None)
        return Traced(node)
    call = _wrapped(comp, inner)
    if call is not None:
        return comp.exprs.await_expr(cst.Await(expression=call), loc, hint)
    if not isinstance(inner, cst.Call) or not is_gather(comp, inner):
        return None
    parts = _gather_parts(comp, inner)
    if parts is None:
        return None
    # return_exceptions=True: each call's error is its value (``Builder.await_expr`` makes each of
    # these calls, a comprehension's element for each item, a ``try`` node handing back its error)
    name = hint or "gathered"
    if not catches(comp, inner):
        return gathered(comp, inner, parts, loc, name)
    return catching(comp, parts, None, lambda: gathered(comp, inner, parts, loc, name))


def catching(
    comp: Builder,
    parts: list[cst.BaseExpression | Spread] | Spread,
    outcomes: tuple[Any, Any] | None,
    compile: Callable[[], Value],
) -> Value:
    """``compile()`` with each call of ``parts`` a ``try`` handing back its error as its value
    (``outcomes`` None), or its value and its error made outcomes by the two functions of
    ``outcomes`` (``completion``)."""
    caught: dict[int, tuple[Any, Any] | None] = {}
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
    if isinstance(parts, Spread):
        return _spread(comp, parts, loc, name)
    values: list[Node] = []
    spreads: set[int] = set()
    for p in parts:
        task = None if isinstance(p, Spread) else _task_node(comp, p)
        if task is not None:
            values.append(task.args[0])
        elif isinstance(p, Spread):
            spreads.add(len(values))
            values.append(comp.materialize(_spread(comp, p, loc, "values"), loc, "values"))
        else:
            values.append(
                comp.materialize(comp.exprs.await_expr(cst.Await(expression=p), loc, None), loc, "value")
            )
    return Traced(_list_node(comp, inner, values, loc, name, spreads))


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


def _task(comp: Builder, at: cst.CSTNode, call: cst.Call, target: str | None, loc: SourceLoc) -> None:
    """Trace ``await call`` now; bind ``target`` to the ``Completed`` task holding its value."""
    value = comp.materialize(comp.exprs.await_expr(cst.Await(expression=call), loc, target), loc, "result")
    if target is not None:
        _bind_completed(comp, at, target, value, f"{target} = {DONE}({RESULT})", loc)


def _bind_completed(
    comp: Builder, at: cst.CSTNode, target: str, value: Node, source: str, loc: SourceLoc
) -> None:
    """Bind ``target`` by ``source``, which reads the call's (or calls') ``value`` as ``RESULT``
    and ``Completed`` as ``DONE``."""
    comp.temps[RESULT] = Traced(value)
    comp.temps[DONE] = Static(Completed)
    node = comp.python_node(at, loc, [target], source=source, reads=[RESULT, DONE], name=target)
    comp.temps.pop(RESULT, None)
    comp.temps.pop(DONE, None)
    comp.env[target] = Traced(node)


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
        return not arg.star and listed and is_as_completed(comp, c)

    if coroutine_lists.defer(comp, small, deferrable, consumer):
        return True
    if not (isinstance(small, cst.Assign) and len(small.targets) == 1 and _task_assignment(comp, small, loc)):
        _refuse_unawaited(comp, small, loc)
        return False
    return True


def _refuse_unawaited(comp: Builder, small: cst.BaseSmallStatement, loc: SourceLoc) -> None:
    found: list[cst.Call] = []

    class V(cst.CSTVisitor):
        def on_visit(self, n: cst.CSTNode) -> bool:
            if isinstance(n, cst.Await):
                return False  # awaited here: traced, or a graph break that awaits it
            if isinstance(n, cst.Call) and comp.exprs.callee(n) in _SPAWNERS:
                found.append(n)
            return not isinstance(n, cst.FunctionDef | cst.Lambda | cst.ClassDef)

    small.visit(V())
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
    if not (isinstance(target, cst.Name) and isinstance(call, cst.Call) and is_create_task(comp, call)):
        return False
    coro = only_arg(call)
    if coro is None or not traceable(comp, coro):
        return False
    assert isinstance(coro, cst.Call)
    _check_task_uses(comp, small, target.value, loc, many=False)
    _task(comp, small, coro, target.value, loc)
    return True


def _task_list(comp: Builder, small: cst.Assign, target: str, made: cst.ListComp, loc: SourceLoc) -> bool:
    """``tasks = [asyncio.create_task(f(x)) for x in xs]``: a ``map`` running every call now (the
    tasks start here), ``tasks`` the list of their ``Completed`` tasks."""
    if _wrapped(comp, made.elt) is None or made.for_in.asynchronous or _clause_awaits(made.for_in):
        return False
    assert isinstance(made.elt, cst.Call)
    group = group_of(comp, made.elt)  # a task group's tasks have finished once it exits
    _check_task_uses(comp, small, target, loc, many=True, within=group)
    results = comp.exprs.comprehension_map(made, loc, target, awaits=True)  # await create_task(f(x))
    source = f"{target} = [{DONE}(v) for v in {RESULT}]  # {TASKS}_made"
    _bind_completed(comp, small, target, comp.materialize(results, loc, "results"), source, loc)
    return True


def _check_task_uses(
    comp: Builder, made: cst.CSTNode, name: str, loc: SourceLoc, many: bool, within: cst.CSTNode | None = None
) -> None:
    """Refuse a task (``many``: a list of tasks) made by ``made`` that the workflow uses other than
    by awaiting it (``await t``, ``gather(t)``, ``gather(*tasks)``, ``for t in tasks`` awaiting
    ``t``, ``len(tasks)``), or awaits inside a ``try`` that ``made`` is not in: the graph runs the
    task's call where it is created, so there the task has finished (Python's may still be
    running: ``t.done()``) and its error is raised (Python raises it where it is awaited).
    ``within``: the task group the tasks are made in; after it they have finished in Python too,
    so only the uses inside it are checked."""
    src = comp.src
    around = {id(a) for a in ancestors(src, made) if isinstance(a, cst.Try | cst.TryStar)}
    for n in walk(src.node.body if within is None else within):
        if not (isinstance(n, cst.Name) and n.value == name) or _inside(src, n, made):
            continue
        sites = _await_sites(comp, n, many)
        call = src.parents.get(src.parents.get(n))
        if (
            sites is None
            and isinstance(call, cst.Call)
            and comp.exprs.callee(call) in (asyncio.wait, asyncio.as_completed)
            and any(a.keyword is not None for a in call.args)
        ):
            raise TraceError(
                f"`{src.code(call).strip()}` is not traced with `return_when=` or `timeout=`: the graph "
                "runs each task to its end where it is made, so by then every one has finished, where "
                "Python's may still be running; wait for all (`asyncio.wait(tasks)`, "
                "`asyncio.gather(*tasks)`) or loop over `asyncio.as_completed(tasks)`",
                loc=src.loc(call),
                construct="task",
            )
        if sites is None:
            raise TraceError(
                f"`{src.code(src.parents.get(n) or n).strip()}` uses the task{'s' if many else ''} "
                f"`{name}` other than by awaiting {'them' if many else 'it'}: the graph runs the "
                "call where the task is created, so it has finished there, where Python's may still "
                f"be running; use only `await {'asyncio.gather(*' + name + ')' if many else name}` "
                "(or `gather`) on it",
                loc=src.loc(n),
                construct="task",
            )
        if isinstance(call, cst.Call) and is_gather(comp, call) and catches(comp, call) is not False:
            raise TraceError(
                f"the task{'s' if many else ''} `{name}` {'are' if many else 'is'} gathered with "
                "`return_exceptions=`: the graph runs a task's call where it is created, so its "
                "error would be raised there, not handed to the gather; gather the calls themselves "
                "(`asyncio.gather(*(f(x) for x in xs), return_exceptions=True)`)",
                loc=src.loc(call),
                construct="task",
            )
        for up in (a for site in sites for a in ancestors(src, site)):
            if isinstance(up, cst.Try | cst.TryStar) and id(up) not in around:
                raise TraceError(
                    f"the task `{name}` is awaited inside a `try` (line {src.loc(up).line}) "
                    "it is not created in: the graph runs the task's call where it is created, so "
                    "its error would not reach that `try`; create the task inside the `try`, or "
                    "await the call there directly",
                    loc=loc,
                    construct="task",
                )


def _inside(src: Any, n: cst.CSTNode, outer: cst.CSTNode) -> bool:
    return n is outer or any(a is outer for a in ancestors(src, n))


def _await_sites(comp: Builder, n: cst.Name, many: bool) -> list[cst.CSTNode] | None:
    """Where this read of a task's (or a task list's) name awaits it (the read itself, or the reads
    of the loop target iterating over the list), or None when it does something else with it."""
    src = comp.src
    parent = src.parents.get(n)
    call = src.parents.get(parent)
    if not many:
        if isinstance(parent, cst.Await) or (
            isinstance(parent, cst.Arg)
            and not parent.star
            and isinstance(call, cst.Call)
            and is_gather(comp, call)
        ):
            return [n]
        return None
    if isinstance(parent, cst.Arg) and isinstance(call, cst.Call) and parent.keyword is None:
        if (parent.star == "*" and is_gather(comp, call)) or (
            not parent.star
            and (comp.exprs.callee(call) is len or (waits_all(comp, call) and call.args[0] is parent))
        ):
            return [n]
        if is_as_completed(comp, call):  # `for fut in asyncio.as_completed(tasks)`: the list
            return _loop_sites(comp, call)
        return None
    return _loop_sites(comp, n)


def _loop_sites(comp: Builder, n: cst.BaseExpression) -> list[cst.CSTNode] | None:
    """For a loop over task list ``n`` (``for t in n``) whose every read of ``t`` awaits it: ``n``
    and those reads; else None."""
    src = comp.src
    parent = src.parents.get(n)
    if isinstance(parent, cst.CompFor | cst.For) and parent.iter is n and isinstance(parent.target, cst.Name):
        target = parent.target.value
        scope = src.parents.get(parent) if isinstance(parent, cst.CompFor) else parent.body
        reads = [
            m for m in walk(scope) if isinstance(m, cst.Name) and m.value == target and m is not parent.target
        ]
        return [n, *reads] if all(isinstance(src.parents.get(m), cst.Await) for m in reads) else None
    return None
