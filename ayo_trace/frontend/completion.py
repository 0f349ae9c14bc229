"""``asyncio.as_completed`` over calls or tasks, traced instead of run as a graph break.

    for fut in asyncio.as_completed([summarize(c) for c in chunks]):  # a list or comprehension
        part = await fut                                               # of calls, `coros`, `tasks`
        ...

``as_completed`` starts every call where it is called and yields them as they finish. The graph
runs them there too, as ``gather`` would (a ``map``, or a node per call), each to its end, and
yields them in the order they finished in, as Python does: each outcome is stamped when the
``try`` running its call has ended (``asyncio_calls.ended``), every await of the call with it, not
when its value was ready (``return "done"`` after two awaits is ready at once). The unoptimized
graph runs the calls one after another, as it runs a gather's, so there they finish in the order
they were made; the optimized graph runs them at once. A call's error is its outcome (a ``try`` node, as for ``gather(...,
return_exceptions=True)``), raised where the loop awaits it, as in Python, so a ``try`` around
``await fut`` catches it, and a call the loop never awaits fails nothing. Tasks made before
(``tasks = [asyncio.create_task(...) for ...]``) have run where they were made (``parallel``);
``as_completed(tasks)`` is that list, in its order (they all finished with the ``map``).

What changes is when the loop's body starts: once every call has finished, not the first; a loop
that stops at the first answer gets the first one that finished, later than Python would. With a
``timeout=`` it is not traced (run as written, a graph break).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from ..errors import TraceError
from ..ir.code import SourceLoc
from . import coroutine_lists, task_dicts
from .asyncio_calls import Completed, Failed, ended, is_as_completed, task_list_node, traceable
from .parallel import (
    Spread,
    catching,
    comprehension_spread,
    gathered,
)
from .task_uses import paired
from .values import Static, Traced, Value

if TYPE_CHECKING:
    from .builder import Builder

OUTCOMES = (Completed, Failed, ended)  # what a call's value and its error become, stamped at its end


def as_completed(comp: Builder, e: cst.BaseExpression, loc: SourceLoc, hint: str) -> Value | None:
    """The outcomes (``Completed``/``Failed``) ``asyncio.as_completed(...)`` stands for, in the
    order their calls finished (a list; an iterator when kept in a name); None when this module
    does not trace it."""
    if not (isinstance(e, cst.Call) and is_as_completed(comp, e)):
        return None
    arg = e.args[0].value
    name = hint or "outcomes"
    tasks = task_list_node(comp, arg)
    if tasks is not None:
        value: Value = Traced(tasks)  # (finished where they were made, in the list's order)
    else:
        found = _parts(comp, arg, loc)
        if found is None:
            return None
        parts = found
        value = catching(comp, parts, OUTCOMES, lambda: gathered(comp, e, parts, loc, "outcomes"))
    comp.deps.outcomes.add(id(e))
    loop = comp.src.parents.get(e)
    looped = isinstance(loop, cst.For | cst.CompFor) and loop.iter is e
    # in the order the calls finished; kept (`it = asyncio.as_completed(...)`), an iterator, as
    # Python's (a second loop over it gets nothing)
    ordered = "sorted(__ayo_outcomes, key=__ayo_finished)"
    comp.temps["__ayo_outcomes"], comp.temps["__ayo_finished"] = value, Static(finished)
    source = f"{name} = {ordered if looped else f'iter({ordered})'}"
    reads = ["__ayo_outcomes", "__ayo_finished"]
    node = comp.python_node(e, loc, [name], source=source, reads=reads, name=name)
    del comp.temps["__ayo_outcomes"], comp.temps["__ayo_finished"]
    return Traced(node)


def finished(outcome: Completed | Failed) -> float:
    """When ``outcome``'s call finished (``as_completed`` yields them in that order)."""
    return outcome.at


def _parts(
    comp: Builder, arg: cst.BaseExpression, loc: SourceLoc
) -> list[cst.BaseExpression | Spread] | Spread | None:
    """The calls ``as_completed(arg)`` starts: a comprehension of traceable calls (``coros``
    deferred to here, see ``coroutine_lists``), or a list of them and of such comprehensions."""
    deferred = coroutine_lists.deferred(comp, arg)
    if deferred is not None:
        if (
            len(deferred) == 1
            and isinstance(deferred[0], cst.ListComp)
            and comprehension_spread(comp, deferred[0])
        ):
            return Spread(deferred[0])
        raise TraceError(  # (a list deferred to here is one comprehension of traceable calls)
            "the calls of this list cannot be started by `asyncio.as_completed` in a traced workflow "
            "(its comprehension awaits in a clause, or is `async for`); build it inside the call",
            loc=loc,
            construct="as_completed",
        )
    parts = _listed(comp, arg)
    if parts is not None and len(parts) == 1 and isinstance(parts[0], Spread):
        return parts[0]  # one comprehension: its map's list
    return parts


def _listed(comp: Builder, arg: cst.BaseExpression) -> list[cst.BaseExpression | Spread] | None:
    """The calls of list ``arg``: a comprehension of traceable calls, a list of them and of such
    comprehensions spread, lists added together (``[...] + [...]``); else None."""
    if isinstance(arg, cst.ListComp):  # (of a generator, Python raises TypeError: run as written)
        return [Spread(arg)] if comprehension_spread(comp, arg) else None
    if isinstance(arg, cst.BinaryOperation) and isinstance(arg.operator, cst.Add):
        left, right = _listed(comp, arg.left), _listed(comp, arg.right)
        return None if left is None or right is None else [*left, *right]
    if not isinstance(arg, cst.List):
        return None
    parts: list[cst.BaseExpression | Spread] = []
    for el in arg.elements:
        if isinstance(el, cst.StarredElement):
            if not comprehension_spread(comp, el.value):
                return None
            parts.append(Spread(el.value))
        elif traceable(comp, el.value):
            parts.append(el.value)
        else:
            return None
    return parts


def _outcome_loop(comp: Builder, e: cst.BaseExpression) -> bool:
    """Whether ``e`` is the variable of a loop over outcomes this module or ``parallel`` traced
    (``for fut in asyncio.as_completed(...)``, ``for t in tasks``), bound nowhere else."""
    src = comp.src
    if not isinstance(e, cst.Name) or e not in src.scopes:
        return False
    scope = src.scopes[e]
    if scope is None:
        return False
    assignments = list(scope.assignments[e.value])
    target = getattr(assignments[0], "node", None) if len(assignments) == 1 else None
    loop = src.parents.get(target) if target is not None else None
    pair = src.parents.get(src.parents.get(target)) if target is not None else None
    if isinstance(pair, cst.Tuple) and any(el.value is target for el in pair.elements):
        loop = src.parents.get(pair)
        if not (isinstance(loop, cst.For | cst.CompFor) and loop.target is pair and not loop.asynchronous):
            return False
        at = next(i for i, el in enumerate(pair.elements) if el.value is target), len(pair.elements)
        if at == (1, 2) and task_dicts.loop_over(comp, loop.iter, "items"):
            return True  # `for key, t in tasks.items()`
        it = loop.iter  # `for i, t in enumerate(tasks)`, `for d, t in zip(docs, tasks)`
        if not isinstance(it, cst.Call):
            return False
        for arg in (a for a in it.args if a.keyword is None):
            if paired(comp, it, arg) == at:
                return task_list_node(comp, arg.value, capture=False) is not None
        return False
    if not (isinstance(loop, cst.For | cst.CompFor) and loop.target is target and not loop.asynchronous):
        return False
    it = loop.iter
    if task_list_node(comp, it, capture=False) is not None or task_dicts.loop_over(comp, it, "values"):
        return True
    if (bound := src.only_binding(it)) is not None:
        it = bound[1]  # `calls = asyncio.as_completed(...)`, then `for f in calls`
    return id(it) in comp.deps.outcomes


def awaits_outcome(comp: Builder, e: cst.Await) -> bool:
    """Whether ``await e`` awaits a finished call's outcome (traced: not a graph break)."""
    return _outcome_loop(comp, e.expression)


def awaited_outcome(comp: Builder, e: cst.Await, loc: SourceLoc, hint: str | None) -> Value | None:
    """``await fut`` in a loop over outcomes: its value, or its error raised here (``result()``)."""
    if not _outcome_loop(comp, e.expression):
        return None
    assert isinstance(e.expression, cst.Name)
    name, fut = hint or "value", e.expression.value
    source = f"{name} = {fut}.result()"
    return Traced(comp.python_node(e, loc, [name], source=source, reads=[fut], name=name))
