"""``async with`` a task group whose tasks are all traceable, traced as those calls (``parallel``
says how a task is traced):

* ``async with asyncio.TaskGroup() as tg:`` with ``t = tg.create_task(f(...))`` lines (``t`` a
  ``Completed`` task once the group exits), ``tasks = [tg.create_task(f(x)) for x in xs]`` lines
  (one ``map``: ``parallel._task_list``), and anyio's ``async with anyio.create_task_group() as
  tg:`` with ``tg.start_soon(f, *args)`` lines, and ``ayo_group_tasks__ = [tg.start_soon(f, x) for
  x in xs]``, ``group_loops``' rewrite of a loop starting them, traced as the comprehension of
  ``tg.create_task(f(x))`` (its list of Nones is read nowhere).
* Any other use of the group in its body (a loop starting tasks ``group_loops`` leaves, ``tg``
  passed on) leaves the whole statement a graph break, run as written; so does a line after one
  starting a task, before the body's first wait (``_run_after_tasks``): Python runs it before any
  task starts, the graph runs each task where it is made.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import anyio.abc
import libcst as cst

from ..ir.code import SourceLoc
from . import early_raises, group_loops, interleaving, task_windows
from .asyncio_calls import only_arg, traceable
from .parallel import _task
from .state import contains_await

if TYPE_CHECKING:
    from .builder import Builder


def _group_factory(fn: Any) -> bool:
    if fn is asyncio.TaskGroup:
        return True
    module = getattr(fn, "__module__", "") or ""
    return module.split(".")[0] == "anyio" and getattr(fn, "__name__", "") == "create_task_group"


def _group_call(
    comp: Builder, stmt: cst.BaseStatement, tg: str, anyio_group: bool
) -> tuple[str | None, cst.Call] | None:
    """``(target, call)`` for a ``t = tg.create_task(call)``, ``tg.create_task(call)`` or (an
    anyio group's) ``tg.start_soon(f, *args)`` line (the latter as the call ``f(*args)``), else
    None."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    small = stmt.body[0]
    target: str | None = None
    if (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
    ):
        target, value = small.targets[0].target.value, small.value
    elif isinstance(small, cst.Expr):
        value = small.value
    else:
        return None
    if not (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Attribute)
        and isinstance(value.func.value, cst.Name)
        and value.func.value.value == tg
    ):
        return None
    method = value.func.attr.value
    if method == "create_task":
        coro = only_arg(value)
        return (target, coro) if isinstance(coro, cst.Call) and traceable(comp, coro) else None
    if method == "start_soon" and anyio_group and target is None and _soon_args(value):
        call = _soon_call(value)
        return (None, call) if traceable(comp, call) else None
    return None


def _anyio_handles_unread(comp: Builder, stmt: cst.BaseStatement, call: Any, group_list: bool) -> bool:
    """Whether an anyio group's line starting tasks keeps no handle: ``tg.start_soon(...)``, a bare
    ``tg.create_task(...)`` (where anyio has it), or ``group_loops``' list read nowhere (of
    ``start_soon``, made a list of ``create_task`` by ``_soon_list``; or of ``create_task``). A
    handle kept (``h = tg.create_task(...)``, a list or dict of them) is anyio's ``TaskHandle``
    (``return_value``, no ``result()``), which the tracer's finished tasks do not stand for."""
    if group_list:
        small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
        assert isinstance(small, cst.Assign)
        target = small.targets[0].target
        soon = id(stmt) in comp.src.same_reads  # (`start_soon`, which every anyio has)
        return (
            isinstance(target, cst.Name) and target.value == group_loops.TASKS and (soon or _anyio_creates())
        )
    if call is None:
        return True
    if call[0] is not None:
        return False
    line = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
    made = line.value if isinstance(line, cst.Expr) else None
    started = isinstance(made, cst.Call) and isinstance(made.func, cst.Attribute) and made.func.attr.value
    return started == "start_soon" or _anyio_creates()


def _anyio_creates() -> bool:
    """Whether the anyio installed has ``TaskGroup.create_task`` (4.16 and later): before, calling
    it raises ``AttributeError``, as a graph break running the group as written does."""
    return hasattr(anyio.abc.TaskGroup, "create_task")


def _soon_args(call: cst.Call) -> bool:
    """Whether ``tg.start_soon(...)`` has a function and positional arguments only (no ``name=``)."""
    return bool(call.args) and not any(a.keyword is not None or a.star for a in call.args)


def _soon_call(call: cst.Call) -> cst.Call:
    """The call ``f(*args)`` that ``tg.start_soon(f, *args)`` starts."""
    args = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in call.args[1:]]
    return cst.Call(func=call.args[0].value, args=args)


def _soon_list(comp: Builder, stmt: cst.BaseStatement, tg: str) -> cst.BaseStatement | None:
    """For ``ayo_group_tasks__ = [tg.start_soon(f, x) for x in xs]`` (``group_loops``' rewrite of a
    loop starting an anyio group's tasks; its list of Nones is read nowhere), the comprehension
    ``[tg.create_task(f(x)) for x in xs]`` the tracer traces as one ``map``, standing where it
    stands; None for any other statement."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
        return None
    small = stmt.body[0]
    if not (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
        and small.targets[0].target.value == group_loops.TASKS
        and isinstance(made := small.value, cst.ListComp)
        and isinstance(soon := made.elt, cst.Call)
        and isinstance(func := soon.func, cst.Attribute)
        and isinstance(func.value, cst.Name)
        and func.value.value == tg
        and func.attr.value == "start_soon"
        and _soon_args(soon)
    ):
        return None
    call = _soon_call(soon)
    create = func.with_changes(attr=cst.Name("create_task"))
    elt = soon.with_changes(func=create, args=[cst.Arg(call)])
    listed = made.with_changes(elt=elt)
    assign = small.with_changes(value=listed)
    line = stmt.with_changes(body=[assign])
    same: list[tuple[cst.CSTNode, cst.CSTNode, cst.CSTNode | None]] = [
        (line, stmt, None),
        (assign, small, line),
        (listed, made, assign),
    ]
    for new, old, parent in same:
        comp.src.reads_as(new, old, parent)  # (the same names: `tg`, the function, its arguments, items)
    parts: list[tuple[cst.CSTNode, cst.CSTNode, cst.CSTNode]] = [
        (elt, soon, listed),
        (create, func, elt),
        (create.attr, func.attr, create),
        (call, soon, elt),
    ]
    for new, old, parent in parts:
        comp.src.stand_in(new, old, parent)
    return line


def task_group(comp: Builder, stmt: cst.With, loc: SourceLoc) -> bool:
    """``async with`` a task group whose tasks are all traceable: True once traced."""
    if len(stmt.items) != 1:
        return False
    item = stmt.items[0]
    factory = item.item
    if not (
        isinstance(factory, cst.Call) and not factory.args and _group_factory(comp.exprs.callee(factory))
    ):
        return False
    if item.asname is None or not isinstance(item.asname.name, cst.Name):
        return False
    tg = item.asname.name.value
    anyio_group = comp.exprs.callee(factory) is not asyncio.TaskGroup  # (`start_soon` is anyio's only)
    body = [s for s in stmt.body.body if isinstance(s, cst.BaseStatement)]
    if anyio_group:
        body = [_soon_list(comp, s, tg) or s for s in body]
    calls = [_group_call(comp, s, tg, anyio_group) for s in body]
    for s, c in zip(body, calls, strict=True):
        group_list = c is None and _group_list(s, tg)
        if anyio_group and not _anyio_handles_unread(comp, s, c, group_list):
            return False  # (anyio's `create_task` hands back a `TaskHandle`, not a task: run as written)
        made = _listed(s) if group_list else None
        if made is not None and not traceable(comp, made[0]):
            return False  # (tasks of calls run as written, `tg.create_task(decorated(d))`: the group too)
        if (
            c is None
            and not group_list
            and (tg in comp.src.free_names(s)[0] or not isinstance(s, cst.SimpleStatementLine))
        ):
            return False  # the group used another way: a graph break runs it as written
    parts = [(c[1], None) if c is not None else _listed(s) for s, c in zip(body, calls, strict=True)]
    listed = [p for p in parts if p is not None]
    why = interleaving.conflict(comp, listed) or early_raises.started(comp, listed, group=True)
    if why is None:  # (a task and the group's statements after it touching one object, one changing it)
        why = _interleaved(comp, body, calls, stmt) or _run_after_tasks(comp, body, parts)
    if why is not None:  # a graph break runs the group as written
        reason = f"a task group whose tasks Python interleaves runs eagerly, as written: {why}"
        comp.statement_break(stmt, loc, reason)
        return True
    comp.deps.task_groups[tg] = stmt  # (`tasks = [tg.create_task(f(x)) for x in xs]`: `_task_list`)
    try:
        for s, c in zip(body, calls, strict=True):
            if c is None:
                comp.statement(s, top=False)
            else:
                task_windows.check_window(comp, s, None, [(c[1], None)], comp.src.loc(s), stmt)
                _task(comp, s, c[1], c[0], comp.src.loc(s))
    finally:
        del comp.deps.task_groups[tg]
    return True


def _run_after_tasks(comp: Builder, body: list[cst.BaseStatement], parts: list[Any]) -> str | None:
    """Why a statement of the group's body after one starting a task keeps the group as written:
    Python runs it before any task starts (the group's tasks run from the end of its body), so
    it has run when a task fails, and its own error comes before every task's; the graph runs each
    task where it is made. None when every statement after the first task, up to the first that
    awaits, starts tasks too (or is a ``pass`` or a constant)."""
    started = False
    for s, part in zip(body, parts, strict=True):
        if part is not None:
            started = True
        elif started and contains_await(s):
            return None  # (Python runs the tasks where the body waits: the windows' question)
        elif started and not _nothing(s):
            line = comp.src.loc(s).line
            return (
                f"its line {line} runs after a task is started, and Python runs it before any of the "
                "group's tasks (they start where its body ends), so a failing task leaves it run; "
                "the graph runs each task where it is made"
            )
    return None


def _nothing(stmt: cst.BaseStatement) -> bool:
    """A line of ``pass`` or of a constant (a docstring, ``...``)."""
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(small, cst.Pass)
        or (isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString | cst.Ellipsis))
        for small in stmt.body
    )


def _interleaved(
    comp: Builder, body: list[cst.BaseStatement], calls: list[Any], group: cst.With
) -> str | None:
    """Why a task of the group and the group's statements after it would take turns on one
    object (``task_windows``), which only the group run as written does as Python; None if none."""
    try:
        for s, c in zip(body, calls, strict=True):
            if c is not None:
                task_windows.check_window(comp, s, None, [(c[1], None)], comp.src.loc(s), group)
    except task_windows.Interleaved as err:
        return err.why.split(". ")[0]
    return None


def with_reason(comp: Builder, stmt: cst.BaseStatement) -> str | None:
    """Why an ``async with`` that awaits is a graph break, where its context says more than its
    construct's name: a task group used another way, a timeout; else None."""
    if not (isinstance(stmt, cst.With) and stmt.asynchronous is not None and len(stmt.items) == 1):
        return None
    made = stmt.items[0].item
    fn = comp.exprs.callee(made) if isinstance(made, cst.Call) else None
    if _group_factory(fn):
        return (
            "a task group used other than by `t = tg.create_task(f(...))` lines and `tasks = "
            "[tg.create_task(f(x)) for x in xs]` comprehensions (a loop doing more than starting "
            "one task, its names read after it, `tg` handed on) runs as written"
        )
    if fn in (getattr(asyncio, "timeout", None), getattr(asyncio, "timeout_at", None)):
        return (
            "asyncio.wait_for or `async with asyncio.timeout(...)` around awaits: its body runs "
            "eagerly, under its timeout"
        )
    return None


def _listed(stmt: cst.BaseStatement) -> interleaving.Part | None:
    """The call a ``tasks = [tg.create_task(f(x)) for x in xs]`` line makes for each item."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Assign)):
        return None
    made = stmt.body[0].value
    task = (
        made.elt if isinstance(made, cst.ListComp) else made.value if isinstance(made, cst.DictComp) else None
    )
    if not isinstance(task, cst.Call):
        return None
    coro = only_arg(task)
    return (coro, interleaving.items_of(made)) if isinstance(coro, cst.Call) else None


def _group_list(stmt: cst.BaseStatement, tg: str) -> bool:
    """``tasks = [tg.create_task(f(x)) for x in xs]`` (``small_statement`` traces it as a map, or
    refuses it)."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
        return False
    small = stmt.body[0]
    if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
        return False
    made = small.value
    elt = (
        made.elt if isinstance(made, cst.ListComp) else made.value if isinstance(made, cst.DictComp) else None
    )
    return (
        isinstance(elt, cst.Call)
        and isinstance(elt.func, cst.Attribute)
        and isinstance(elt.func.value, cst.Name)
        and elt.func.value.value == tg
        and elt.func.attr.value == "create_task"
    )
