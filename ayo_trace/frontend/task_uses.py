"""The uses of a task (or a list of tasks) the tracer allows: awaiting it. The graph runs a task's
call where the task is made, so there it has finished (Python's may still be running: ``t.done()``):
any other use is refused at trace time. Its error is not raised there: the task keeps it (a
``Failed`` task, ``parallel._task``) and raises it where it is awaited, as Python's does."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import SourceLoc
from . import task_windows
from .asyncio_calls import catches, is_as_completed, is_gather, waits_all
from .state import ancestors, walk

if TYPE_CHECKING:
    from .builder import Builder


def check_task_uses(
    comp: Builder,
    made: cst.CSTNode,
    name: str,
    loc: SourceLoc,
    many: bool,
    within: cst.CSTNode | None = None,
    kept: bool = False,
) -> cst.CSTNode | None:
    """Refuse a task (``many``: a list of tasks) made by ``made`` that the workflow uses other than
    by awaiting it (``await t``, ``gather(t)``, ``gather(*tasks)``, ``for t in tasks`` awaiting
    ``t``, ``len(tasks)``, ``if t``, ``t is None``), or awaits inside a ``try`` that ``made`` is
    not in: the graph runs the task's call where it is created, so there the task has finished
    (Python's may still be running: ``t.done()``); a task not ``kept`` raises its error there too.
    ``within``: the task group the tasks are made in; after it they have finished in Python too,
    so only the uses inside it are checked. ``kept``: the tasks keep their errors until they are
    awaited (all but a task group's), so awaiting them in a ``try`` or gathering them with
    ``return_exceptions=`` is as in Python; and a use other than awaiting is not refused but
    returned (the expression), for the caller to run the task as Python's (``eager_task``)."""
    src = comp.src
    around = {id(a) for a in ancestors(src, made) if isinstance(a, cst.Try | cst.TryStar)}
    for n in walk(src.node.body if within is None else within):
        if not (isinstance(n, cst.Name) and n.value == name) or _inside(src, n, made):
            continue
        sites = _await_sites(comp, n, many)
        call = src.parents.get(src.parents.get(n))
        if sites is None and kept:
            return call if isinstance(call, cst.Call) else src.parents.get(n) or n
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
        if kept:
            continue
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
    return None


def eager_task(comp: Builder, small: cst.Assign, name: str, use: cst.CSTNode, loc: SourceLoc) -> bool:
    """Run ``small`` (``t = asyncio.create_task(f(x))``, or a list of such tasks) as written, a
    graph break making Python's task, whose call then runs eagerly, alongside the graph: the
    workflow ``use``s the task other than by awaiting it (``t.done()``, ``t.cancel()``,
    ``asyncio.wait_for(t, 30)``, ``asyncio.shield(t)``, ``asyncio.wait(tasks, timeout=...)``,
    passing it to a function), which only Python's task, still running, answers as Python does.
    False (refused by the caller) when ``small`` shares its line with other statements."""
    src = comp.src
    return made_as_written(
        comp,
        small,
        loc,
        f"the task `{name}` is used other than by awaiting it (`{src.code(use).strip()[:60]}`, line "
        f"{src.loc(use).line}): it is Python's task, its call run eagerly",
    )


def made_as_written(comp: Builder, small: cst.Assign, loc: SourceLoc, reason: str) -> bool:
    """``small`` run as written, a graph break (``reason``) making Python's tasks; False when it
    shares its line with other statements (the caller refuses it)."""
    line = comp.src.parents.get(small)
    if not (isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1):
        return False
    comp.statement_break(line, loc, reason)
    return True


def untraced_task(comp: Builder, small: cst.Assign, loc: SourceLoc) -> bool:
    """Tasks the graph does not keep, run as written, a graph break making Python's tasks (as
    ``eager_task``): ``t = asyncio.create_task(c)`` (a list, set or dict comprehension of such
    tasks) whose call ``c`` the tracer does not follow (``p.post(q)`` of an object it does not
    know), a dict, list, tuple or set display of tasks (``{"answer": asyncio.create_task(f(q)),
    ...}``), tasks kept in an item or attribute (``state["bg"] = ...``), a task or ``None`` in a
    comprehension (``[create_task(f(d)) if d else None for d in docs]``). False for any other
    statement."""
    if len(small.targets) != 1:
        return False
    target: cst.BaseExpression = small.targets[0].target
    while isinstance(target, cst.Subscript | cst.Attribute):
        target = target.value
    if not isinstance(target, cst.Name):
        return False
    made = small.value
    if isinstance(made, cst.Dict | cst.List | cst.Tuple | cst.Set):  # `{"a": create_task(f()), ...}`
        parts = [getattr(e, "value", None) for e in made.elements]
    elif isinstance(made, cst.GeneratorExp):
        return False  # (a generator makes its tasks as it is read)
    elif isinstance(made, cst.DictComp):  # (`{create_task(f(d)): d for d in docs}` for `asyncio.wait`)
        parts = [made.key, made.value]
    else:
        parts = [getattr(made, "elt", made)]
    if len(parts) == 1 and isinstance(parts[0], cst.Tuple):  # `[(d, create_task(f(d))) for d in docs]`
        parts = [e.value for e in parts[0].elements]
    calls = [c for p in parts for c in _made_tasks(comp, p)]
    if len(parts) > 1:  # (a pair's other part is any value)
        calls = [c for c in calls if c is not None]
    if not parts or None in calls or not calls:
        return False
    call = calls[0]
    assert isinstance(call, cst.Call)
    if not isinstance(comp.src.parents.get(small), cst.SimpleStatementLine):
        return False
    task_windows.check_untraced_window(comp, small, target.value, call, loc)
    return made_as_written(
        comp,
        small,
        loc,
        f"the task of `{comp.src.code(call).strip()[:60]}` is not one the graph keeps (its call is "
        "not followed, or it is kept in a display, an item or a branch of an expression): it is "
        "Python's task, its call run eagerly",
    )


def appended_task(comp: Builder, small: cst.BaseSmallStatement, loc: SourceLoc) -> bool:
    """Tasks added to a list the workflow keeps (``tasks.append(asyncio.create_task(f(d)))``,
    ``tasks.extend(create_task(f(d)) for d in docs)``, ``tasks += [create_task(f(q))]``), run as
    written as ``untraced_task``'s are: a graph break making Python's tasks, which the list holds
    until the workflow awaits them (it was refused as work never awaited). False for any other
    statement."""
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        call = small.value
        if not (isinstance(call.func, cst.Attribute) and call.func.attr.value in ("append", "extend")):
            return False
        holder: cst.BaseExpression = call.func.value
        added = [a.value for a in call.args]
    elif isinstance(small, cst.AugAssign) and isinstance(small.operator, cst.AddAssign):
        holder, added = small.target, [small.value]
    else:
        return False
    if not isinstance(holder, cst.Name) or len(added) != 1:
        return False
    value = added[0]
    parts: list[Any] = [value]
    if isinstance(value, cst.List | cst.Tuple):
        parts = [getattr(e, "value", None) for e in value.elements]
    elif isinstance(value, cst.ListComp | cst.GeneratorExp):
        parts = [value.elt]
    calls = [c for p in parts for c in _made_tasks(comp, p)]
    if not calls or None in calls:
        return False
    first = calls[0]
    assert isinstance(first, cst.Call)
    task_windows.check_untraced_window(comp, small, holder.value, first, loc)  # type: ignore[arg-type]
    return made_as_written(
        comp,
        small,  # type: ignore[arg-type]
        loc,
        f"the task of `{comp.src.code(first).strip()[:60]}` is added to `{holder.value}`, a list the "
        "graph does not keep tasks in: it is Python's task, its call run eagerly",
    )


def _made_tasks(comp: Builder, e: Any) -> list[cst.Call | None]:
    """The ``create_task``/``ensure_future`` (or unawaited ``gather``) calls ``e`` is (a branch of a
    conditional expression either one or ``None``); ``[None]`` when it is something else."""
    if isinstance(e, cst.IfExp):
        branches = [b for b in (e.body, e.orelse) if not (isinstance(b, cst.Name) and b.value == "None")]
        return [c for b in branches for c in _made_tasks(comp, b)]
    if isinstance(e, cst.Call) and comp.exprs.callee(e) in (
        asyncio.create_task,
        asyncio.ensure_future,
        asyncio.gather,
    ):
        return [e]
    return [None]


def _inside(src: Any, n: cst.CSTNode, outer: cst.CSTNode) -> bool:
    return n is outer or any(a is outer for a in ancestors(src, n))


def _await_sites(comp: Builder, n: cst.Name, many: bool) -> list[cst.CSTNode] | None:
    """Where this read of a task's (or a task list's) name awaits it (the read itself, or the reads
    of the loop target iterating over the list), or None when it does something else with it."""
    src = comp.src
    parent = src.parents.get(n)
    call = src.parents.get(parent)
    if _tested(parent, n) or _none_test(parent, n):
        return []  # `if t:`, `t is None`: a task is true and not None (the graph's, too); `if tasks:`
    if isinstance(parent, cst.AssignTarget) and parent.target is n:
        return []  # `t = None` in another branch: bound again, not used
    if not many:
        if finished_read(src, n) and waited_before(comp, n, n.value, many=False):
            return []  # `t.result()` after `await t`: Python's task has finished there too
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
            and (comp.exprs.callee(call) in (len, bool) or (waits_all(comp, call) and call.args[0] is parent))
        ):
            return [n]
        if is_as_completed(comp, call) or comp.exprs.callee(call) is reversed:  # `for t in reversed(tasks)`
            return _loop_sites(comp, call, finished=not is_as_completed(comp, call) and _all_waited(comp, n))
        if (at := paired(comp, call, parent)) is not None:  # `for i, t in enumerate(tasks)`
            return _loop_sites(comp, call, at, finished=_all_waited(comp, n))
        return None
    return _loop_sites(comp, n, finished=_all_waited(comp, n))


def _all_waited(comp: Builder, n: cst.Name) -> bool:
    """Whether every task of the list ``n`` reads has finished in Python there (a loop over it)."""
    return waited_before(comp, n, n.value, many=True)


def _tested(parent: cst.CSTNode | None, n: cst.CSTNode) -> bool:
    """Whether ``n`` is read for its truth alone (the test of an ``if``, ``while``, ``not``)."""
    if isinstance(parent, cst.If | cst.While | cst.IfExp):
        return parent.test is n
    if isinstance(parent, cst.UnaryOperation):
        return isinstance(parent.operator, cst.Not)
    return False


def _none_test(parent: cst.CSTNode | None, n: cst.CSTNode) -> bool:
    """Whether ``n`` is compared with ``None`` by identity alone (``t is None``, ``t is not None``):
    a name that may hold a task or ``None`` (``t = create_task(...) if c else None``)."""
    if not isinstance(parent, cst.Comparison) or parent.left is not n or len(parent.comparisons) != 1:
        return False
    (target,) = parent.comparisons
    return (
        isinstance(target.operator, cst.Is | cst.IsNot)
        and isinstance(target.comparator, cst.Name)
        and target.comparator.value == "None"
    )


def paired(comp: Builder, call: cst.Call, arg: cst.CSTNode) -> tuple[int, int] | None:
    """``(index, size)`` of the item ``arg`` gives in each tuple ``call`` yields, when ``call`` is
    ``enumerate(arg)`` or ``zip(..., arg, ...)`` (``size`` its tuples' length); else None."""
    positional = [a for a in call.args if a.keyword is None]
    if any(a.star for a in call.args) or arg not in positional:
        return None
    fn = comp.exprs.callee(call)
    if fn is enumerate and positional[0] is arg:
        return 1, 2
    if fn is zip and all(a.keyword is None or a.keyword.value == "strict" for a in call.args):
        return positional.index(arg), len(positional)  # type: ignore[arg-type]
    return None


def _loop_sites(
    comp: Builder, n: cst.BaseExpression, at: tuple[int, int] | None = None, finished: bool = False
) -> list[cst.CSTNode] | None:
    """For a loop over task list ``n`` (``for t in n``; ``at``: the place of ``t`` in the loop's
    tuple target, ``for i, t in enumerate(n)``) whose every read of ``t`` awaits it (or, where the
    tasks have ``finished`` in Python too, reads what a finished task answers: ``t.result()``):
    ``n`` and the awaiting reads; else None."""
    src = comp.src
    parent = src.parents.get(n)
    if not (isinstance(parent, cst.CompFor | cst.For) and parent.iter is n):
        return None
    variable: cst.BaseExpression = parent.target
    if at is not None:
        if not (isinstance(variable, cst.Tuple) and len(variable.elements) == at[1]):
            return None
        variable = variable.elements[at[0]].value
    if isinstance(variable, cst.Name):
        target = variable.value
        scope = src.parents.get(parent) if isinstance(parent, cst.CompFor) else parent.body
        reads = [
            m for m in walk(scope) if isinstance(m, cst.Name) and m.value == target and m is not variable
        ]
        waits = [m for m in reads if isinstance(src.parents.get(m), cst.Await)]
        if all(m in waits or (finished and finished_read(src, m)) for m in reads):
            return [n, *waits]
    return None


# what a finished task answers without waiting: its value or error, and that it is done
_FINISHED = ("result", "exception", "done", "cancelled")


def finished_read(src: Any, n: cst.CSTNode) -> bool:
    """Whether ``n`` (a task's name) is read by calling what a finished task answers (``n.result()``,
    ``n.exception()``, ``n.done()``, ``n.cancelled()``), which the graph's task answers as Python's
    does once Python's has finished too."""
    parent = src.parents.get(n)
    call = src.parents.get(parent)
    return (
        isinstance(parent, cst.Attribute)
        and parent.value is n
        and parent.attr.value in _FINISHED
        and isinstance(call, cst.Call)
        and call.func is parent
        and not call.args
    )


def waited_before(comp: Builder, at: cst.CSTNode, name: str, many: bool) -> bool:
    """Whether Python's task ``name`` (``many``: every task of the list ``name``) has surely
    finished at ``at``: a statement before it in a block holding it (so run whenever ``at`` is)
    is an ``await`` of it, of a ``gather`` of it or of ``asyncio.wait`` for all of it
    (``await t``, ``done, _ = await asyncio.wait(tasks)``, ``out = await asyncio.gather(*tasks)``)."""
    src = comp.src
    if len(src.fn_scope.assignments[name]) != 1 or _changed_in_place(src, name):
        return False  # (the name may hold other tasks by then: `tasks.append(create_task(...))`)
    for up in [at, *ancestors(src, at)]:
        block = getattr(src.parents.get(up), "body", None)
        if not isinstance(block, list | tuple):
            continue
        index = next((i for i, s in enumerate(block) if s is up), 0)
        if any(_waits_for(comp, before, name, many) for before in block[:index]):
            return True
    return False


def _waits_for(comp: Builder, statement: cst.CSTNode, name: str, many: bool) -> bool:
    """Whether ``statement`` is (a line of) one ``await`` of task ``name``, of a gather of it, or
    of ``asyncio.wait`` for all of the tasks of list ``name``, its whole value (not under a
    condition: ``await t if c else None``)."""
    if isinstance(statement, cst.SimpleStatementLine):
        return any(_waits_for(comp, s, name, many) for s in statement.body)
    if not isinstance(statement, cst.Expr | cst.Assign | cst.AnnAssign):
        return False
    e = statement.value
    if not isinstance(e, cst.Await):
        return False
    inner = e.expression
    if not many:
        return (isinstance(inner, cst.Name) and inner.value == name) or (
            isinstance(inner, cst.Call)
            and is_gather(comp, inner)
            and any(_named(a.value, name) and not a.star and a.keyword is None for a in inner.args)
        )
    if not isinstance(inner, cst.Call):
        return False
    if is_gather(comp, inner):
        return any(_named(a.value, name) and a.star == "*" for a in inner.args)
    return waits_all(comp, inner) and _named(inner.args[0].value, name)


def _changed_in_place(src: Any, name: str) -> bool:
    """Whether the workflow may change the object ``name`` holds (``tasks.append(t)``, ``tasks +=
    [t]``, ``tasks[0] = t``): any method of it called but a finished task's (``t.result()``)."""
    for n in walk(src.node.body):
        if not (isinstance(n, cst.Name) and n.value == name):
            continue
        parent = src.parents.get(n)
        if isinstance(parent, cst.Attribute) and parent.value is n and not finished_read(src, n):
            return True
        if isinstance(parent, cst.AugAssign) and parent.target is n:
            return True
        if isinstance(parent, cst.Subscript) and isinstance(
            src.parents.get(parent), cst.AssignTarget | cst.Del
        ):
            return True
    return False


def _named(e: cst.BaseExpression, name: str) -> bool:
    return isinstance(e, cst.Name) and e.value == name
