"""Dicts of calls or of tasks made by a comprehension, awaited through their values.

    coros = {name: ayo.llm(p.format(q=q)) for name, p in PROMPTS.items()}
    results = await asyncio.gather(*coros.values())
    return dict(zip(coros, results))

    tasks = {d: asyncio.create_task(summarize(d)) for d in docs}
    await asyncio.gather(*tasks.values())
    return {k: t.result() for k, t in tasks.items()}

A dict of coroutines runs its calls where ``gather(*coros.values())`` awaits them, as Python
does (``coroutine_lists`` defers the dict there when that gather is a statement of its block
after it, and every other read of ``coros`` is after the gather): one ``map`` over the
comprehension's items makes the dict of values, the gather's list is its values, and ``coros``
is then the dict of the finished calls (``Completed``; code reads its keys). Where two items have
the same key, Python makes both coroutines and runs the last; the ``map`` runs both and keeps the
last's value. A dict of tasks runs its calls where it is made, as a list of tasks does
(``parallel``); it may be awaited by ``gather(*tasks.values())`` or ``await tasks[key]``, and
read any way after a statement of its block gathering all its values (where Python's tasks have
all finished too). Another use before that is refused, as for a list of tasks (``task_uses``).
Its tasks keep their errors (``Failed``), raised where each is awaited, as in Python: a ``try``
around that await catches it, and ``gather(..., return_exceptions=True)`` hands it back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from ..errors import TraceError
from ..ir.code import SourceLoc
from ..ir.graph import Node
from . import coroutine_lists, interleaving, task_uses, task_windows
from .asyncio_calls import (
    DONE,
    MARKS,
    RESULT,
    TASKS,
    Completed,
    Failed,
    bind_completed,
    catches,
    group_of,
    is_gather,
    made_node,
    wrapped,
)
from .comprehensions import _clause_awaits
from .state import ancestors, walk
from .task_uses import _tested
from .values import Traced, Value

if TYPE_CHECKING:
    from .builder import Builder


def _values_of(e: cst.BaseExpression) -> cst.Name | None:
    """``d`` of ``d.values()``."""
    if not (isinstance(e, cst.Call) and not e.args and isinstance(e.func, cst.Attribute)):
        return None
    func = e.func
    return func.value if func.attr.value == "values" and isinstance(func.value, cst.Name) else None


def values_spread(comp: Builder, e: cst.BaseExpression) -> bool:
    """Whether ``*e`` in a gather is ``*d.values()`` of a dict of calls or of tasks traced here."""
    name = _values_of(e)
    return name is not None and (
        _deferred_dict(comp, name) is not None or made_node(comp, name, "dict") is not None
    )


def tasks_spread(comp: Builder, e: cst.BaseExpression) -> bool:
    """Whether ``*e`` in a gather is ``*d.values()`` of a dict of tasks."""
    name = _values_of(e)
    return name is not None and made_node(comp, name, "dict") is not None


def _deferred_dict(comp: Builder, name: cst.Name) -> cst.DictComp | None:
    parts = coroutine_lists.deferred(comp, name)
    return parts[0] if parts is not None and len(parts) == 1 and isinstance(parts[0], cst.DictComp) else None


def gathered_values(comp: Builder, e: cst.BaseExpression, loc: SourceLoc, name: str) -> Value:
    """The list ``gather(*d.values())`` awaits (``values_spread``): for a dict of calls, the calls
    run here, and ``d`` is bound again to the dict of them finished."""
    target = _values_of(e)
    assert target is not None
    made = _deferred_dict(comp, target)
    if made is None:  # a dict of tasks: their values
        tasks = made_node(comp, target, "dict")
        assert tasks is not None
        t = f"{TASKS}_t"  # (`return_exceptions=True`: a failed task's error is its value)
        value = f"({t}.exception() or {t}.result())" if id(e) in comp.deps.caught else f"{t}.result()"
        return _python(comp, e, loc, name, f"{name} = [{value} for {t} in {TASKS}.values()]", tasks)
    results = comp.materialize(
        comp.exprs.comprehension_map(made, loc, "results", awaits=True), loc, "results"
    )
    bind_completed(comp, e, target.value, results, f"{target.value} = {_completed_dict()}", loc)
    return _python(comp, e, loc, name, f"{name} = list({TASKS}.values())", results)


def _completed_dict() -> str:
    return f"{{{TASKS}_k: {DONE}({TASKS}_v) for {TASKS}_k, {TASKS}_v in {RESULT}.items()}}"


def _python(comp: Builder, at: cst.CSTNode, loc: SourceLoc, name: str, source: str, read: Node) -> Value:
    comp.temps[TASKS] = Traced(read)
    node = comp.python_node(at, loc, [name], source=source, reads=[TASKS], name=name)
    comp.temps.pop(TASKS, None)
    return Traced(node)


def task_dict(comp: Builder, small: cst.Assign, target: str, made: cst.DictComp, loc: SourceLoc) -> bool:
    """``tasks = {k: asyncio.create_task(f(x)) for ...}``: a ``map`` running every call now (the
    tasks start here), ``tasks`` the dict of their ``Completed`` tasks."""
    if wrapped(comp, made.value) is None or made.for_in.asynchronous or _clause_awaits(made.for_in):
        return False
    # (a task group's tasks have finished once it exits, and a failing one fails the group)
    group = group_of(comp, made.value) if isinstance(made.value, cst.Call) else None
    if group is None:
        _check_uses(comp, small, target, loc)
    else:
        task_uses.check_task_uses(comp, small, target, loc, many=True, within=group)
    call = wrapped(comp, made.value)
    if call is not None:
        part = (call, interleaving.items_of(made))
        why = interleaving.conflict(comp, [part])  # (the calls run at once)
        task_windows.check_window(comp, small, None if group else target, [part], loc, group)
        if why is not None:  # Python's tasks, made as written (or refused, sharing their line)
            if not task_uses.made_as_written(comp, small, loc, f"the tasks `{target}` are Python's: {why}"):
                raise TraceError(why, loc=loc, construct="gather")
            return True
    kept = call is not None and group is None
    if kept:  # each call a `try` making its task: `Completed`, or `Failed` keeping its error
        assert call is not None
        comp.deps.caught[id(call)] = (Completed, Failed)
    try:
        results = comp.exprs.comprehension_map(made, loc, target, awaits=True)  # await create_task(f(x))
    finally:
        if call is not None:
            comp.deps.caught.pop(id(call), None)
    made_tasks = f"dict({RESULT})  # {DONE}" if kept else _completed_dict()
    source = f"{target} = {made_tasks}  # {MARKS['dict']}"
    bind_completed(comp, small, target, comp.materialize(results, loc, "results"), source, loc)
    return True


def awaited_item(comp: Builder, e: cst.Await, loc: SourceLoc, hint: str | None) -> Value | None:
    """``await tasks[key]`` of a dict of tasks: that task's value."""
    item = e.expression
    if not (isinstance(item, cst.Subscript) and made_node(comp, item.value, "dict") is not None):
        return None
    name = hint or "value"
    source = f"{name} = {comp.src.expr_code(item)}.result()"
    return Traced(comp.python_node(item, loc, [name], source=source, name=name))


def loop_over(comp: Builder, it: cst.BaseExpression, method: str) -> bool:
    """Whether loop iterable ``it`` is ``tasks.<method>()`` of a dict of tasks (seen from its body)."""
    if not (isinstance(it, cst.Call) and not it.args and isinstance(it.func, cst.Attribute)):
        return False
    e = it.func.value
    return it.func.attr.value == method and made_node(comp, e, "dict", capture=False) is not None


def awaits_item(comp: Builder, e: cst.Await) -> bool:
    item = e.expression
    return isinstance(item, cst.Subscript) and made_node(comp, item.value, "dict") is not None


def _check_uses(comp: Builder, made: cst.CSTNode, name: str, loc: SourceLoc) -> None:
    """Refuse a use of the dict of tasks ``name`` other than awaiting it before a statement of its
    block gathering all its values (its tasks keep their errors, raised where each is awaited)."""
    src = comp.src
    line = src.parents.get(made)
    block = src.parents.get(line)
    reads = [
        n
        for n in walk(src.node.body)
        if isinstance(n, cst.Name)
        and n.value == name
        and not src.within(n, made)
        and not _bound_before(comp, n, made)
    ]
    reads.sort(key=lambda n: (src.positions[n].start.line, src.positions[n].start.column))  # in order
    done_at = None  # the end of the first statement of the block gathering all the values
    for n in reads:
        parent = src.parents.get(n)
        attr = parent if isinstance(parent, cst.Attribute) and parent.value is n else None
        values = src.parents.get(attr) if attr is not None else None  # `tasks.values()`
        arg = src.parents.get(values) if values is not None else None
        call = src.parents.get(arg) if isinstance(arg, cst.Arg) and arg.star == "*" else None
        if isinstance(call, cst.Call) and is_gather(comp, call) and _values_of(values) is n:  # type: ignore[arg-type]
            if catches(comp, call) is None:
                raise TraceError(
                    f"the tasks of `{name}` are gathered with a `return_exceptions=` not known when "
                    "the workflow is traced; give it `True` or `False`",
                    loc=src.loc(call),
                    construct="task",
                )
            stmt = next((a for a in ancestors(src, n) if src.parents.get(a) is block), None)
            if stmt is not None and done_at is None:
                done_at = src.positions[stmt].end.line
            continue
        if (
            isinstance(parent, cst.Subscript)
            and parent.value is n
            and isinstance(src.parents.get(parent), cst.Await)
        ):
            continue
        if _loop_sites(comp, values) is not None:  # `for key, t in tasks.items(): await t`
            continue
        if _tested(parent, n) or _keys_only(comp, n):
            continue  # (`if not tasks:`, `len(tasks)`, `d in tasks`: its keys, not its tasks' state)
        if done_at is not None and src.positions[n].start.line > done_at:
            continue  # read after all have finished, in Python too
        raise TraceError(
            f"`{_excerpt(comp, n)}` uses the tasks of `{name}` before they are "
            "all awaited: the graph runs each call where its task is created, so it has finished "
            "there, where Python's may still be running; await them first (`await "
            f"asyncio.gather(*{name}.values())`), or await one (`await {name}[key]`)",
            loc=src.loc(n),
            construct="task",
        )


def _bound_before(comp: Builder, n: cst.Name, made: cst.CSTNode) -> bool:
    """Whether ``n`` is the target of an assignment before the dict is made (``tasks = {}``, then
    a loop filling it, read as the comprehension it stands for): a name bound, not the tasks used."""
    src = comp.src
    return (
        isinstance(src.parents.get(n), cst.AssignTarget)
        and src.positions[n].end.line < src.positions[made].start.line
    )


def _excerpt(comp: Builder, n: cst.Name) -> str:
    """The code around a read of a dict of tasks to show: its call, its loop's header, or what
    holds it (``tasks.items()``, ``tasks[k]``)."""
    src = comp.src
    parent = src.parents.get(n)
    if isinstance(parent, cst.Arg) and isinstance(call := src.parents.get(parent), cst.Call):
        return src.code(call).strip()
    if isinstance(parent, cst.For | cst.CompFor) and parent.iter is n:
        return f"for {src.code(parent.target).strip()} in {n.value}"
    return src.code(parent or n).strip()


def _keys_only(comp: Builder, n: cst.Name) -> bool:
    """Whether this read of a dict of tasks reads its keys alone: ``len(tasks)``, ``list(tasks)``,
    ``sorted(tasks, reverse=True)``, ``tasks.keys()``, ``key in tasks``, ``for key in tasks``."""
    parent = comp.src.parents.get(n)
    if isinstance(parent, cst.Attribute) and parent.value is n and parent.attr.value == "keys":
        return isinstance(comp.src.parents.get(parent), cst.Call)
    if isinstance(parent, cst.ComparisonTarget):
        return parent.comparator is n and isinstance(parent.operator, cst.In | cst.NotIn)
    if isinstance(parent, cst.For | cst.CompFor):
        return parent.iter is n  # (iterating a dict yields its keys)
    call = comp.src.parents.get(parent)
    return (
        isinstance(parent, cst.Arg)
        and not parent.star
        and parent.keyword is None
        and isinstance(call, cst.Call)
        and [a for a in call.args if a.keyword is None] == [parent]
        and not any(a.star for a in call.args)
        and comp.exprs.callee(call) in _KEYS_OF
    )


# (called on a dict, each reads its keys alone; a keyword, `sorted(tasks, key=f)`, reads no task:
# a read of the dict in `f` is a read of its own)
_KEYS_OF = (len, bool, list, sorted, set, frozenset, tuple, reversed, enumerate)


def _loop_sites(comp: Builder, it: cst.CSTNode | None) -> list[cst.CSTNode] | None:
    """For a loop over ``tasks.items()`` (``for key, t in ...``) or ``tasks.values()`` (``for t in
    ...``) whose every read of ``t`` awaits it: those reads; else None."""
    src = comp.src
    loop = src.parents.get(it) if it is not None else None
    if not (isinstance(loop, cst.For | cst.CompFor) and loop.iter is it and isinstance(it, cst.Call)):
        return None
    method = it.func.attr.value if isinstance(it.func, cst.Attribute) and not it.args else None
    target: cst.BaseExpression = loop.target
    if method == "items" and isinstance(target, cst.Tuple) and len(target.elements) == 2:
        target = target.elements[1].value
    elif method != "values":
        return None
    if not isinstance(target, cst.Name):
        return None
    scope = src.parents.get(loop) if isinstance(loop, cst.CompFor) else loop.body
    reads: list[cst.CSTNode] = [
        m for m in walk(scope) if isinstance(m, cst.Name) and m.value == target.value and m is not target
    ]
    return reads if all(isinstance(src.parents.get(m), cst.Await) for m in reads) else None
