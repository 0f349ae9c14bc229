"""A task starts at the workflow's next wait; the graph runs its call where the task is made.

``t = asyncio.create_task(f(log))`` only schedules ``f``: Python runs the workflow on until it
waits (the next ``await`` that suspends), then ``f`` up to its first wait, and so on in turns until
the task is awaited. The graph traces ``await f(log)`` at the line making the task, so the
workflow's statements between that line and the one awaiting the task see ``f``'s changes already
made, and ``f`` sees none of theirs. The two agree unless ``f`` and those statements touch one
object, one of them changing it: ``log.append("main")`` after making the task comes before ``f``'s
first append in Python, after all of them in the graph. Those raise ``Interleaved``, naming the
task, the object and both lines: the statements from the task's to the one awaiting it then run as
written (``task_regions``), or the workflow is refused where they cannot. Tasks made within that
stretch (``t2 = asyncio.create_task(g(log))``) run at once with the first, as a gather's calls do
(``interleaving``'s rule). The same holds for a list or dict of tasks (``tasks =
[asyncio.create_task(f(d)) for d in docs]``) up to the statement awaiting them, and for a task
group's tasks up to the group's end (its other statements run before any task starts, unless
they wait).

What a statement touches is ``interleaving``'s reading (names, their fields, the helpers it
calls); a compound statement touches everything in it, at any time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import SourceLoc
from . import context_vars, handed, holders, immutables, interleaving
from .asyncio_calls import is_create_task, only_arg
from .interleaving import Part, Touch, Touches
from .made_early import window
from .state import contains_await, walk

if TYPE_CHECKING:
    from .builder import Builder


class Interleaved(TraceError):
    """A task (``made``: the small statement making it, its name ``name``) and the workflow's
    statements until it is awaited touch one object, one side changing it: refused, unless the
    statements from ``made`` to the one awaiting the task can run as written (``task_regions``)."""

    def __init__(self, message: str, *, loc: SourceLoc, made: cst.CSTNode, name: str | None) -> None:
        super().__init__(message, loc=loc, construct="task")
        self.why = message
        self.made = made
        self.name = name


def check_window(
    comp: Builder,
    made: cst.CSTNode,
    name: str | None,
    parts: list[Part],
    loc: SourceLoc,
    group: cst.With | None,
    deferred: bool = False,
) -> None:
    """``Interleaved`` for tasks (``parts``, made by the small statement ``made`` and bound to ``name``) that
    touch an object the workflow's statements touch between making them and awaiting them, one
    side changing it (``group``: the tasks' task group, which awaits them at its end).
    ``deferred``: the graph runs the tasks where they are gathered, after those statements, so
    only the statements from the first that waits on count (before it, neither has started the
    tasks), and those that built the list (``coroutine_lists.built``) are the tasks' own."""
    mine = interleaving.touches_of(comp, parts)
    if not mine:
        return
    task = mine[0][0]
    waited = not deferred
    for stmt, line in window(comp.src, made, name, group):
        waited = waited or contains_await(stmt)
        if not waited or id(stmt) in comp.deps.deferred:
            continue
        others = _tasks_made(comp, stmt)
        if others is not None:  # (tasks made meanwhile run at once with these, later)
            for second, b in interleaving.touches_of(comp, others):
                why = interleaving.conflicting(task, mine[0][1], second, b)
                if why is not None:
                    raise Interleaved(why, loc=loc, made=made, name=name)
            continue
        awaiting = name is not None and name in _names(stmt)  # (what it does after the task is after it)
        theirs = interleaving.workflow_statement(comp, stmt, line, before=awaiting) + _handed(
            comp, stmt, line
        )
        for _, a in mine:
            _refuse(comp, task, a, theirs, loc, made, name)


def check_untraced_window(comp: Builder, made: cst.Assign, name: str, call: cst.Call, loc: SourceLoc) -> None:
    """``Interleaved`` for Python's tasks of calls the tracer does not follow (``t = asyncio.create_task(
    p.post(q))``, made by ``made`` and bound to ``name``; ``call`` the first) when a statement of the
    workflow changes an object between making them and awaiting them that the calls may reach:
    Python starts such a task at the workflow's next wait, the graph as soon as the statement making
    it has run, and what the call touches is not known, so it may see that change in one and not
    in the other. The calls reach the names they read (and what those hold: ``holders``), the
    module's names, and any name when the workflow defines a function (a closure may read it)."""
    src = comp.src
    holds = holders.holdings(src)
    reach = set(_names(made.value))
    reach |= {h for n in list(reach) for h in holds.get(n, ())}
    defines = any(isinstance(n, cst.FunctionDef | cst.Lambda | cst.ClassDef) for n in walk(src.node.body))
    mine = set() if defines else {a.name for a in src.fn_scope.assignments}
    for stmt, line in window(comp.src, made, name, None):
        awaiting = name in _names(stmt)
        theirs = interleaving.workflow_statement(comp, stmt, line, before=awaiting) + _handed(
            comp, stmt, line
        )
        for y in theirs:
            root = y.key.split(".")[0]
            if not (y.changes and (root in reach or root not in mine)):
                continue
            what = interleaving.shown(y.key)
            raise Interleaved(
                f"the task `{name}` runs `{src.code(call).strip()[:60]}`, a call the tracer does not "
                f"follow, and the workflow's line {y.line} changes `{what}` before awaiting it: Python "
                "starts the task only when the workflow next waits, the graph as soon as it is made, "
                "so the call may see that change in one and not the other; await the task before "
                f"changing `{what}`, or make its call an `async def` helper or a method of an object "
                "the tracer knows",
                loc=loc,
                made=made,
                name=name,
            )


def _handed(comp: Builder, stmt: cst.CSTNode, line: int | None) -> list[Touch]:
    """Changes of the workflow's objects a statement may make that ``interleaving``'s reading
    leaves out: ``items += [x]`` of a name not only ever holding a text or a number, and a name
    handed bare to a call that may change it (``rng.shuffle(items)``, a function the workflow
    defines changing its parameter, any function not found at trace time: ``handed.
    handed_changed``)."""
    src = comp.src
    at = (
        line
        if line is not None
        else (src.file_line(src.positions[stmt].start.line) if stmt in src.positions else 0)
    )
    fixed = immutables.immutable_names(src)
    out: list[Touch] = []
    for n in walk(stmt):
        if isinstance(n, cst.AugAssign) and isinstance(n.target, cst.Name) and n.target.value not in fixed:
            out.append(Touch(n.target.value, True, 0, 0, at))
        elif isinstance(n, cst.Call) and not _awaited(src, n):
            out += [
                Touch(name, True, 0, 0, at) for name in handed.handed_changed(src, n) if name not in fixed
            ]
    return out


def _awaited(src: Any, call: cst.Call) -> bool:
    """Whether ``call`` is awaited where it is (a helper's call: ``interleaving`` reads it)."""
    return isinstance(src.parents.get(call), cst.Await)


def _refuse(
    comp: Builder,
    task: str,
    a: Touches,
    theirs: list[Touch],
    loc: SourceLoc,
    made: cst.CSTNode,
    name: str | None,
) -> None:
    for x in a.entries:
        if context_vars.is_context_var(comp, x.key):
            continue  # (a task runs in a copy of the context it is made in: later sets are not its)
        for y in theirs:
            if interleaving.overlap(x, y) and (x.changes or y.changes):
                what = interleaving.shown(x.key)
                raise Interleaved(
                    f"the task running `{task}(...)` and the workflow's line {y.line} both touch "
                    f"`{what}` (`{task}` at line {x.line}), one of them changing it. Python starts the "
                    "task only when the workflow next waits, and runs the two in turns at their "
                    "awaits; the graph runs the call whole where the task is made, so line "
                    f"{y.line} would see `{what}` as the task left it. Await the task before "
                    f"touching `{what}` again, or pass it its own copy",
                    loc=loc,
                    made=made,
                    name=name,
                )


def _names(stmt: cst.CSTNode) -> set[str]:
    return {n.value for n in walk(stmt) if isinstance(n, cst.Name)}


def _tasks_made(comp: Builder, stmt: cst.CSTNode) -> list[Part] | None:
    """The calls a statement makes tasks of (``t = asyncio.create_task(f(x))``, ``tg.create_task``,
    a list or dict of them), or None for another statement."""
    small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 else stmt
    value = small.value if isinstance(small, cst.Assign | cst.Expr) else None
    if isinstance(value, cst.ListComp | cst.DictComp):
        elt = value.elt if isinstance(value, cst.ListComp) else value.value
        if isinstance(elt, cst.Call) and _creates(comp, elt) and isinstance(c := only_arg(elt), cst.Call):
            return [(c, interleaving.items_of(value))]
        return None
    if isinstance(value, cst.Call) and _creates(comp, value) and isinstance(c := only_arg(value), cst.Call):
        return [(c, None)]
    return None


def _creates(comp: Builder, call: cst.Call) -> bool:
    func = call.func
    group_task = isinstance(func, cst.Attribute) and func.attr.value == "create_task"
    return group_task or is_create_task(comp, call)
