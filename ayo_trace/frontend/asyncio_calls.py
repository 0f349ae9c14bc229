"""The asyncio calls the tracer reads (``gather``, ``create_task``, ``as_completed``, ``wait``)
recognized at trace time; what a task the graph has run holds in its place: ``Completed`` (its
value) or ``Failed`` (its error), the parts of ``asyncio.Task`` code reads; and the nodes binding
a task, a list or a dict of tasks to them, found again by their code (``task_node``)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import SourceLoc
from ..ir.graph import Node
from .normalize import GROUP_ERROR
from .values import Static, Traced

if TYPE_CHECKING:
    from .builder import Builder


@dataclass(frozen=True, eq=False)
class Completed:
    """A task the graph has already run to its end: what ``t`` holds after
    ``t = tg.create_task(...)`` in a traced workflow (the parts of ``asyncio.Task`` code reads).
    Equal only to itself, as tasks are (a set of them keeps every one: ``asyncio.wait``'s).
    ``at``: when it was made (``time.monotonic()``), right as its call finished for the outcomes of
    ``asyncio.as_completed``, which come in that order."""

    value: Any
    at: float = field(default_factory=time.monotonic, compare=False)

    def result(self) -> Any:
        return self.value

    def done(self) -> bool:
        return True

    def cancelled(self) -> bool:
        return False

    def exception(self) -> BaseException | None:
        return None

    def add_done_callback(self, fn: Any, *, context: Any = None) -> None:
        """As a finished future's: ``fn(self)`` soon (``asyncio.wait`` over tasks in code the graph
        runs as written)."""
        asyncio.get_running_loop().call_soon(fn, self, context=context)

    def remove_done_callback(self, fn: Any) -> int:
        return 0

    def __await__(self) -> Any:
        """``await t`` in code the graph runs as written (a graph break): the value, at once."""
        return self.value
        yield  # a generator: what ``__await__`` must return


@dataclass(frozen=True, eq=False)
class Failed:
    """A call the graph has run to its error (``asyncio.as_completed``'s, see ``completion``):
    awaiting it, or its ``result()``, raises that error, as awaiting the failed task does."""

    error: BaseException
    at: float = field(default_factory=time.monotonic, compare=False)

    def result(self) -> Any:
        raise self.error

    def done(self) -> bool:
        return True

    def cancelled(self) -> bool:
        return False

    def exception(self) -> BaseException | None:
        return self.error

    add_done_callback = Completed.add_done_callback
    remove_done_callback = Completed.remove_done_callback

    def __await__(self) -> Any:
        raise self.error
        yield  # a generator: what ``__await__`` must return


def ended(outcome: Completed | Failed) -> Completed | Failed:
    """``outcome`` stamped now: the ``try`` running its call has ended, every node of the call's
    body with it (its value may have been ready before, a constant, while its awaits ran)."""
    return dataclasses.replace(outcome, at=time.monotonic())


def is_gather(comp: Builder, call: cst.Call) -> bool:
    return comp.exprs.callee(call) is asyncio.gather


def is_as_completed(comp: Builder, call: cst.Call) -> bool:
    """``asyncio.as_completed(fs)`` with no ``timeout=`` (which the graph, running every call to
    its end first, could not keep)."""
    return (
        comp.exprs.callee(call) is asyncio.as_completed
        and len(call.args) == 1
        and call.args[0].keyword is None
        and not call.args[0].star
    )


def waits_all(comp: Builder, call: cst.Call) -> bool:
    """``asyncio.wait(tasks)`` waiting for all of them with no ``timeout=``: its ``done`` holds
    every task, its ``pending`` none, as the graph's (``FIRST_COMPLETED`` is not traced: the graph
    has run every task to its end by then)."""
    if (
        comp.exprs.callee(call) is not asyncio.wait
        or not call.args
        or call.args[0].keyword
        or call.args[0].star
    ):
        return False
    for a in call.args[1:]:
        if a.keyword is None:
            return False
        value = comp.exprs.try_static(a.value)
        if value is None or not (
            (a.keyword.value == "return_when" and value.value == asyncio.ALL_COMPLETED)
            or (a.keyword.value == "timeout" and value.value is None)
        ):
            return False
    return True


def is_create_task(comp: Builder, call: cst.Call) -> bool:
    return (
        comp.exprs.callee(call) in (asyncio.create_task, asyncio.ensure_future)
        or group_of(comp, call) is not None
    )


def group_of(comp: Builder, call: cst.Call) -> cst.With | None:
    """The ``async with`` of the task group ``tg`` being traced, for ``tg.create_task(...)``."""
    func = call.func
    if (
        isinstance(func, cst.Attribute)
        and isinstance(func.value, cst.Name)
        and func.attr.value == "create_task"
    ):
        return comp.deps.task_groups.get(func.value.value)
    return None


def catches(comp: Builder, call: cst.Call) -> bool | None:
    """Whether gather ``call`` has ``return_exceptions=True`` (None: a keyword not traced)."""
    catching = False
    for a in call.args:
        if a.keyword is not None:
            flag = comp.exprs.try_static(a.value) if a.keyword.value == "return_exceptions" else None
            if flag is None or not isinstance(flag.value, bool):
                return None
            catching = flag.value
    return catching


def only_arg(call: cst.Call) -> cst.BaseExpression | None:
    """The coroutine of ``create_task(coro)`` (a task's ``name=``, which only names it, aside)."""
    args = [a for a in call.args if not (a.keyword is not None and a.keyword.value == "name")]
    if len(args) != 1 or args[0].keyword is not None or args[0].star:
        return None
    return args[0].value


# --- tasks the graph has run -------------------------------------------------------------------------

DONE = "__ayo_done"
RESULT = "__ayo_result"
TASKS = "__ayo_tasks"  # (no name here may contain another: nodes are recognized by their code)


def traceable(comp: Builder, call: cst.BaseExpression) -> bool:
    """Whether ``await call`` is something the tracer traces (not a graph break)."""
    return isinstance(call, cst.Call) and not comp.exprs.break_call_target(cst.Await(expression=call))


def task_node(comp: Builder, e: cst.BaseExpression) -> Node | None:
    """The wrapper node of a task name (``t`` after ``t = tg.create_task(...)``)."""
    return made_node(comp, e, "task")


def task_list_node(comp: Builder, e: cst.BaseExpression, *, capture: bool = True) -> Node | None:
    """The node of a task list's name (``tasks`` after ``tasks = [asyncio.create_task(...) ...]``);
    ``capture=False``: the node of the body it is made in, not read into this one."""
    return made_node(comp, e, "list", capture)


MARKS = {"list": f"{TASKS}_made", "dict": f"{TASKS}_dict"}  # a comment ending the node's code


def made_node(comp: Builder, e: cst.BaseExpression, kind: str, capture: bool = True) -> Node | None:
    """The node binding name ``e`` to a ``kind`` (``task``, ``list``, ``dict``) of finished tasks."""
    if not isinstance(e, cst.Name) or not comp.is_bound(e.value):
        return None
    # found where it is made, in this body or one around it (a list or a dict read in a branch or a
    # loop's body is captured into it: the node read there; a task is read where it is made only)
    node = _origin(comp, e.value) if kind != "task" or not capture else None
    if kind == "task" and capture:
        here = comp.env.get(e.value)
        node = here.node if isinstance(here, Traced) else None
    if kind != "task":  # (a task read after its group: run as written, `await t` of a finished one)
        node = _made_in_group(node)
    if node is None or node.op != "python" or not node.args:
        return None
    code = node.attrs.get("code")
    if code is None or DONE not in code.source:
        return None
    marks = [k for k, m in MARKS.items() if m in code.source]
    if marks != ([] if kind == "task" else [kind]):
        return None
    if not capture or kind == "task":
        return node
    return _read_here(comp, e.value)


def _read_here(comp: Builder, name: str) -> Node | None:
    """The node ``name`` holds in this body (an input capturing it from a body around)."""
    try:
        read = comp.lookup_local(name, SourceLoc("", 0))
    except TraceError:
        return None
    return read.node if isinstance(read, Traced) else None


KEPT = ": its error kept"  # (ends the code binding a task that keeps its error: ``parallel._task``)


def kept_task(comp: Builder, e: cst.BaseExpression) -> Node | None:
    """The task ``e`` names, read into this body, when it keeps its call's error (``Completed``
    or ``Failed``, made where the task is: ``parallel._task``); else None."""
    if not isinstance(e, cst.Name) or not comp.is_bound(e.value):
        return None
    made = _origin(comp, e.value)
    code = made.attrs.get("code") if made is not None else None
    return _read_here(comp, e.value) if code is not None and KEPT in code.source else None


def wrapped(comp: Builder, e: cst.BaseExpression) -> cst.Call | None:
    """The call in ``asyncio.create_task(call)`` (or ``ensure_future``) when ``await call`` traces:
    awaiting a task at once is awaiting its call."""
    if not (isinstance(e, cst.Call) and is_create_task(comp, e)):
        return None
    coro = only_arg(e)
    return coro if isinstance(coro, cst.Call) and traceable(comp, coro) else None


def bind_completed(
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


def _made_in_group(node: Node | None) -> Node | None:
    """The node a task group's ``try`` hands on (``normalize``: a name its body binds), as made
    in its body; any other node as it is."""
    if (
        node is not None
        and node.op == "getitem"
        and node.args
        and (group := node.args[0]).op == "try"
        and group.attrs.get("bind") == (GROUP_ERROR,)
    ):
        return group.attrs["body"].output.args[node.attrs["index"]]
    return node


def _origin(comp: Builder, name: str) -> Node | None:
    """The node ``name`` is bound to where it was made: through the bodies around this one, and
    the inputs that captured it into them."""
    c: Builder | None = comp
    while c is not None:
        value, captured = c.env.get(name), c.captures.get(name)
        if isinstance(value, Traced) and captured is not None and value.node is captured[1]:
            if captured[0].op != "input":
                return captured[0]
        elif value is not None:
            return value.node if isinstance(value, Traced) else None
        c = c.parent
    return None
