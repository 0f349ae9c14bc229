"""Lists of coroutines built statement by statement, then spread into ``asyncio.gather``.

    coros = []                        # or [a(q), b(q)]
    coros.append(ayo.llm(...))        # straight-line appends and extends
    for h in hits:                    # a loop whose only statement appends a call
        coros.append(summarize(h.text))
    results = await asyncio.gather(*coros)

A coroutine runs only when awaited, so the calls run at the gather; this module binds ``coros`` to
``parallel.Deferred`` parts (each call; each ``extend``'s comprehension; each loop, a ``map`` of
its call over the loop's items), skips the statements that built the list, and the gather traces
the parts where it stands, in the list's order, as if written there: ``gather(a(q), b(q), *[...],
*[summarize(h.text) for h in hits])``. That is the same program only when nothing the calls read
changes between the line that made them and the gather, so a list is deferred only when:

* its name is used only by those statements and one ``*coros`` in a ``gather`` after them (not in a
  loop the list is not made in);
* the appends and extends stand in the block of the assignment (an ``if`` with a test known at
  trace time around one counts: it adds the call or not), and a loop's body is that one append;
* no name the calls read is bound again, or changed in place, after the list is made; the
  variable of a loop is not read after it.

Anything else is left as it was: the statements run as plain code and the gather is a graph
break, run eagerly as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import SourceLoc
from .closures import _assigned_after
from .control_flow import close_map, open_body, target_names
from .sites import changed_after
from .source import _names_in
from .state import _contains_node, ancestors, contains_await, walk
from .values import Static, Traced, Value

if TYPE_CHECKING:
    from .builder import Builder

Part = cst.BaseExpression | cst.For  # a call, a comprehension of calls, a loop appending a call


@dataclass(frozen=True)
class Deferred:
    """What ``coros = [f(x) for x in xs]`` binds when ``coros`` is only ever spread into ``gather``
    (or a list built statement by statement, ``built``): its parts, traced at the gather as if
    written there: calls, comprehensions of calls, loops appending a call."""

    parts: tuple[Part, ...]


def bound(value: Any, name: str, loc: SourceLoc) -> Any:
    """``value``, known at trace time, for code run as written to read as ``name``; a list of calls
    deferred to where it is gathered never is (the code would see the tracer's ``Deferred``, not
    Python's coroutines): refused, a tracer bug the rules above should have kept from happening."""
    if isinstance(value, Deferred):
        raise TraceError(
            f"`{name}`, a list of calls traced where it is gathered, is read by code run as written here; "
            "read it only in `asyncio.gather(*...)` or `asyncio.as_completed(...)`",
            loc=loc,
            construct="gather",
        )
    return value


def deferred(comp: Builder, e: cst.BaseExpression) -> tuple[Part, ...] | None:
    """The parts a name deferred (in this body or one around it: a gather in a ``try``)."""
    body: Builder | None = comp
    while isinstance(e, cst.Name) and body is not None and e.value not in body.env:
        body = body.parent
    if body is None or not isinstance(e, cst.Name):
        return None
    value = body.env[e.value]
    if isinstance(value, Static) and isinstance(value.value, Deferred):
        return value.value.parts
    return None


def defer(comp: Builder, small: cst.BaseSmallStatement, traceable: Any, consumes: Any) -> bool:
    """``coros = [f(x) for x in xs]`` (calls not awaited) whose name is read only as ``*coros`` in
    ``asyncio.gather`` calls (with no keyword but ``return_exceptions=True``), and whose
    comprehension reads no name assigned again later, or ``coros = [...]`` grown as ``built``
    says: bind its parts (a coroutine runs only when awaited, so creating them at the gather is the
    same), traced where it is gathered. ``traceable``: ``parallel``'s test of a call;
    ``consumes(call, arg)``: whether ``call`` runs the list's coroutines passed as ``arg``
    (``gather(*coros)``, ``asyncio.as_completed(coros)``). A list of tasks is deferred likewise;
    when the workflow waits before the gather, Python has started them at that wait, so what it
    does from there must not touch what they touch (``_started_early``, ``task_windows``)."""
    if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
        return False
    if _interleaving_tasks(comp, small.value):
        return False  # (Python's tasks, made where they stand: ``parallel._task_list``)
    if not _defer(comp, small, traceable, consumes):
        return False
    target = small.targets[0].target
    if isinstance(target, cst.Name) and _started_early(comp, small, target.value):
        from . import task_windows

        deferred = comp.env[target.value]
        assert isinstance(deferred, Static) and isinstance(deferred.value, Deferred)
        parts = [p for part in deferred.value.parts if (p := _task_part(comp, part)) is not None]
        task_windows.check_window(comp, small, target.value, parts, comp.src.loc(small), None, deferred=True)
    return True


def _interleaving_tasks(comp: Builder, made: cst.BaseExpression) -> bool:
    """Whether ``made`` is a comprehension of tasks whose calls take turns at their awaits on an
    object one of them changes: Python's tasks, which the gather cannot make as if written there."""
    from . import interleaving

    part = _task_part(comp, made) if isinstance(made, cst.ListComp | cst.DictComp) else None
    return part is not None and interleaving.conflict(comp, [part]) is not None


def _task_part(comp: Builder, part: Part) -> tuple[cst.Call, frozenset[str] | None] | None:
    """The call a deferred part makes a task of (``asyncio.create_task(f(x))``: ``f(x)``), with the
    names its items bind for a comprehension or a loop; None for a plain coroutine."""
    from . import interleaving
    from .asyncio_calls import is_create_task, only_arg

    made, items = _made_by(part)
    if isinstance(part, cst.For | cst.ListComp | cst.GeneratorExp | cst.DictComp):
        items = interleaving.items_of(part)
    if not (isinstance(made, cst.Call) and is_create_task(comp, made)):
        return None
    coro = only_arg(made)
    return (coro, items) if isinstance(coro, cst.Call) else None


def _defer(comp: Builder, small: cst.Assign, traceable: Any, consumes: Any) -> bool:
    from .unpacking import only_assignment

    target, value = small.targets[0].target, small.value
    if isinstance(target, cst.Name) and isinstance(value, cst.List):
        parts = built(comp, small, traceable, consumes)
        if parts is not None:
            comp.env[target.value] = Static(Deferred(parts))
        return parts is not None
    if isinstance(target, cst.Name) and isinstance(value, cst.DictComp):
        return _defer_dict(comp, small, target, value, traceable, consumes)
    if isinstance(target, cst.Name) and isinstance(value, cst.Call) and kept(comp, small, target, traceable):
        comp.env[target.value] = Static(Deferred((value,)))
        return True
    if not (isinstance(target, cst.Name) and isinstance(value, cst.ListComp | cst.GeneratorExp)):
        return False
    if isinstance(value.elt, cst.Await) or not traceable(value.elt):
        return False
    src = comp.src
    if (
        only_assignment(comp, target.value) is not value
        and (src.only_binding(target) or (None, None))[1] is not value
    ):
        return False  # (bound once; the loop below checks every read)
    catching = True  # (whether every gather of the list hands its calls' errors back)
    for n in walk(src.node.body):
        if isinstance(n, cst.Name) and n.value == target.value and n is not target:
            arg = src.parents.get(n)
            call = src.parents.get(arg)
            if not (isinstance(call, cst.Call) and consumes(call, arg)) or _repeats(src, n, small):
                return False
            if any(a.keyword is not None and not _returning_exceptions(comp, a, arg) for a in call.args):
                return False
            catching = catching and any(a.keyword is not None for a in call.args)
    if not catching and _raises_first(comp, [value]):
        return False  # (its gather runs as written: an early error is Python's gather's error)
    reads = set(src.free_names(value)[0])
    line = src.positions[small].end.line
    # (Python evaluates the calls' arguments where the list is made: an argument's content it reads
    # then, `f"{d} {notes}"`, must not change before the gather; an object handed bare may)
    bare = {
        n.value for n in walk(value) if isinstance(n, cst.Name) and isinstance(src.parents.get(n), cst.Arg)
    }
    content = {
        n.value
        for n in walk(value)
        if isinstance(n, cst.Name) and not isinstance(src.parents.get(n), cst.Arg)
    }
    if _assigned_after(src, line, reads) or changed_after(src, line, reads & (content | (reads - bare))):
        return False
    comp.env[target.value] = Static(Deferred((value,)))
    return True


def kept(comp: Builder, small: cst.Assign, target: cst.Name, traceable: Any) -> bool:
    """``pending = ask(q)`` (a call the tracer follows, not awaited), its name bound once and read
    once after, by ``await pending`` outside any loop around the assignment, no name the call
    reads bound again or changed in place before: the coroutine runs only when awaited, with the
    arguments it was made with, so the call is traced at the await (``kept_call``). The shape is
    checked before asking whether the tracer follows the call (asking may ask for a trace again:
    a loop unrolled, a parameter made static)."""
    from .asyncio_calls import is_create_task

    value = small.value
    src = comp.src
    if not isinstance(value, cst.Call) or (src.only_binding(target) or (None, None))[1] is not value:
        return False
    if any(isinstance(n, cst.Call) for a in value.args for n in walk(a)):
        return False  # (Python runs a call in its arguments where the coroutine is made)
    reads = [n for n in walk(src.node.body) if isinstance(n, cst.Name) and n.value == target.value]
    reads = [n for n in reads if n is not target]
    if (
        len(reads) != 1
        or not isinstance(src.parents.get(reads[0]), cst.Await)
        or _repeats(src, reads[0], small)
        or src.positions[reads[0]].start.line <= src.positions[small].end.line
    ):
        return False
    if is_create_task(comp, value) or not traceable(value):
        return False
    names = set(src.free_names(value)[0])
    line = src.positions[small].end.line
    return not (_assigned_after(src, line, names) or changed_after(src, line, names))


def kept_call(comp: Builder, e: cst.BaseExpression) -> cst.Call | None:
    """The call a kept coroutine ``e`` stands for (``pending`` of ``pending = ask(q)``: ``kept``)."""
    parts = deferred(comp, e) if isinstance(e, cst.Name) else None
    return parts[0] if parts is not None and len(parts) == 1 and isinstance(parts[0], cst.Call) else None


def _made_by(part: Any) -> tuple[cst.BaseExpression, frozenset[str] | None]:
    """What a deferred part makes (a call; a comprehension's element; the call a loop appends),
    and for one standing for many calls, names its items bind (none known here: empty)."""
    if isinstance(part, cst.For):
        (line,) = part.body.body
        assert isinstance(line, cst.SimpleStatementLine)
        (expr,) = line.body
        assert isinstance(expr, cst.Expr) and isinstance(expr.value, cst.Call)
        return expr.value.args[0].value, frozenset()
    if isinstance(part, cst.DictComp):
        return part.value, frozenset()
    if isinstance(part, cst.ListComp | cst.GeneratorExp):
        return part.elt, frozenset()
    return part, None


def _raises_first(comp: Builder, parts: Any) -> bool:
    """Whether a call of a deferred list's ``parts`` (calls, comprehensions, loops appending one;
    a task's call for ``create_task``) may raise before it first waits after one that may fail at
    a wait (``early_raises.raising_first``): the gather of them would run as written, so the list
    is made as written too (deferred, a gather that cannot trace it would be refused)."""
    from .asyncio_calls import is_create_task, only_arg
    from .early_raises import raising_first

    calls: list[tuple[cst.Call, frozenset[str] | None]] = []
    for part in parts:
        made, items = _made_by(part)
        call = only_arg(made) if isinstance(made, cst.Call) and is_create_task(comp, made) else made
        if isinstance(call, cst.Call):
            calls.append((call, items))
    return raising_first(comp, calls) is not None


def _returning_exceptions(comp: Builder, keyword: cst.Arg, spread: cst.Arg) -> bool:
    """Whether a keyword of the gather spreading the list (``spread``, ``*coros``) is
    ``return_exceptions=`` true when traced, which the gather traces (its calls' errors their
    values)."""
    if keyword.keyword is None or keyword.keyword.value != "return_exceptions" or spread.star != "*":
        return False
    found = comp.exprs.try_static(keyword.value)
    return found is not None and found.value is True


def _defer_dict(
    comp: Builder, small: cst.Assign, target: cst.Name, value: cst.DictComp, traceable: Any, consumes: Any
) -> bool:
    """``coros = {k: f(x) for ...}`` read first by one ``gather(*coros.values())`` standing after it
    in its block (``task_dicts``), then only after that gather: deferred to it. The gather's own
    statement may also read the dict's keys (``dict(zip(coros, await gather(*coros.values())))``):
    they are the same in the dict of finished calls the rest of the statement then reads."""
    src = comp.src
    keys: list[cst.Name] = []  # reads of the keys alone: in the gather's statement (checked below)
    gather_stmt: cst.CSTNode | None = None
    if isinstance(value.value, cst.Await) or not traceable(value.value) or value.for_in.asynchronous:
        return False
    if (src.only_binding(target) or (None, None))[1] is not value:
        return False
    block = src.parents.get(src.parents.get(small))
    gather_end = None
    reads = [n for n in walk(src.node.body) if isinstance(n, cst.Name) and n.value == target.value]
    for n in sorted(reads, key=lambda n: (src.positions[n].start.line, src.positions[n].start.column)):
        if n is target:
            continue
        if gather_end is not None and src.positions[n].start.line > gather_end:
            continue  # read after the gather: the finished calls' dict
        if _keys_only(comp, n):
            keys.append(n)
            continue
        values = src.parents.get(src.parents.get(n))  # `coros.values()`
        arg = src.parents.get(values)
        call = src.parents.get(arg)
        if not (
            gather_end is None
            and isinstance(values, cst.Call)
            and not values.args
            and isinstance(values.func, cst.Attribute)
            and values.func.attr.value == "values"
            and isinstance(arg, cst.Arg)
            and isinstance(call, cst.Call)
            and consumes(call, arg)
            and not any(a.keyword is not None for a in call.args)
            and not _repeats(src, n, small)
        ):
            return False
        stmt = next((a for a in ancestors(src, n) if src.parents.get(a) is block), None)
        if not isinstance(stmt, cst.SimpleStatementLine) or stmt.body is None:
            return False  # the gather is a statement of the dict's block (not in a branch of one)
        if src.positions[stmt].start.line <= src.positions[small].end.line:
            return False  # after it
        gather_end, gather_stmt = src.positions[stmt].end.line, stmt
    names = set(src.free_names(value)[0])
    if gather_stmt is None or _assigned_after(src, src.positions[small].end.line, names):
        return False
    if any(not src.within(n, gather_stmt) and src.positions[n].start.line <= gather_end for n in keys):
        return False  # (the keys read before the gather's statement: the dict is not made yet)
    comp.env[target.value] = Static(Deferred((value,)))
    return True


_KEY_READERS = (len, zip, list, sorted, tuple, set, enumerate, iter)


def _keys_only(comp: Builder, n: cst.Name) -> bool:
    """Whether read ``n`` of a dict sees its keys alone: ``n.keys()``, or ``n`` a positional
    argument of ``len``, ``zip``, ``list``, ``sorted``... (which iterate a dict's keys)."""
    src = comp.src
    parent = src.parents.get(n)
    call = src.parents.get(parent)
    if isinstance(parent, cst.Attribute) and parent.value is n and parent.attr.value == "keys":
        return isinstance(call, cst.Call) and call.func is parent and not call.args
    if not (isinstance(parent, cst.Arg) and parent.keyword is None and not parent.star):
        return False
    return isinstance(call, cst.Call) and any(comp.exprs.callee(call) is f for f in _KEY_READERS)


def _started_early(comp: Builder, small: cst.BaseSmallStatement, name: str) -> bool:
    """Whether the list (or dict) ``small`` makes holds tasks (``asyncio.create_task(f(x))``, made
    by it or appended later) and the workflow waits before it reads ``name`` next (its gather):
    Python starts the tasks at that wait, not at the gather where the graph runs them, so what the
    workflow does from there to the gather must not touch what they touch (``task_windows``)."""
    from .asyncio_calls import is_create_task

    src = comp.src
    if small not in src.positions:
        return False  # (a statement the tracer wrote: no list of tasks)

    def at(n: cst.CSTNode) -> tuple[int, int]:
        pos = src.positions[n].start
        return pos.line, pos.column

    start = at(small)

    def grows(n: cst.Name) -> bool:  # `tasks.append(...)`: the list being built, not its gather
        attr = src.parents.get(n)
        return isinstance(attr, cst.Attribute) and attr.value is n and attr.attr.value in ("append", "extend")

    reads = [
        at(n)
        for n in walk(src.node.body)
        if isinstance(n, cst.Name) and n.value == name and n in src.positions and not grows(n)
    ]
    after = [p for p in reads if p > start and p[0] > src.positions[small].end.line]
    end = min(after, default=None)
    if end is None:
        return False
    between = [n for n in walk(src.node.body) if n in src.positions and start <= at(n) < end]
    tasks = any(isinstance(n, cst.Call) and is_create_task(comp, n) for n in between)
    waits = [n for n in between if isinstance(n, cst.Await)]
    ends = [(src.positions[n].end.line, src.positions[n].end.column) for n in waits]
    return tasks and any(e < end for e in ends)  # (an await before the read, not one around it)


_REPEATING = (
    cst.For,
    cst.While,
    cst.FunctionDef,
    cst.Lambda,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
)


def _repeats(src: Any, n: cst.CSTNode, made: cst.CSTNode) -> bool:
    """Whether ``n`` sits in a loop (or a function, a comprehension) that ``made`` is not in: it may
    run more than once for one run of ``made`` (awaiting the same coroutines twice fails in Python;
    made again at each gather, they would not)."""
    around = {id(made), *(id(a) for a in ancestors(src, made))}
    path = [n, *ancestors(src, n)]
    for i, node in enumerate(path[1:], start=1):
        if id(node) in around:
            return False
        first_iterable = isinstance(node, cst.BaseComp) and i >= 2 and path[i - 2] is node.for_in.iter
        if first_iterable and path[i - 1] is getattr(node, "for_in", None):
            continue  # a comprehension's first iterable is evaluated once, where it stands
        if isinstance(node, cst.For) and path[i - 1] is node.iter:
            continue  # so is a `for` statement's (`for fut in asyncio.as_completed(coros):`)
        if isinstance(node, _REPEATING):
            return True
    return False


def built(
    comp: Builder, small: cst.BaseSmallStatement, traceable: Any, consumes: Any
) -> tuple[Part, ...] | None:
    """The parts of ``coros = [...]`` (``small``) when the list is deferred (module docstring), with
    its statements remembered in the trace's deps to be skipped; else None."""
    if not (isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.value, cst.List)):
        return None
    target = small.targets[0].target
    if not isinstance(target, cst.Name):
        return None
    src = comp.src
    line = src.parents.get(small)
    block = src.parents.get(line)
    if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1 or block is None:
        return None
    after = list(getattr(block, "body", ()))
    if line not in after:
        return None
    after = after[after.index(line) + 1 :]
    parts: list[tuple[int, Part]] = []
    for el in small.value.elements:
        if isinstance(el, cst.StarredElement) or not traceable(el.value):
            return None
        parts.append((src.positions[el].start.line, el.value))
    skip: list[cst.CSTNode] = []
    gather_at = None
    bound: set[str] = set()  # loop variables
    for n in _names_in(src.node.body):
        if n.value != target.value or n is target:
            continue
        parent = src.parents.get(n)
        if isinstance(parent, cst.Arg) and parent.star == "*" and parent.value is n:
            call = src.parents.get(parent)
            if gather_at is not None or not (isinstance(call, cst.Call) and consumes(call, parent)):
                return None
            if list(call.args) != [parent]:  # `gather(*coros)` alone: what `parallel` traces whole
                return None
            if _repeats(src, n, small):
                return None
            gather_at = src.positions[n].start.line
            continue
        found = _grown(comp, n, after, traceable)
        if found is None:
            return None
        stmt, part = found
        if part is not None:
            parts.append((src.positions[stmt].start.line, part))
            if isinstance(part, cst.For):
                bound |= set(target_names(part.target))
        skip.append(stmt)
    if gather_at is None or any(src.positions[s].end.line >= gather_at for s in skip):
        return None
    reads: set[str] = set()
    for _, part in parts:
        reads |= set(src.free_names(part)[0])
    reads -= bound | {target.value}  # (a loop's part reads the list it appends to)
    first = src.positions[small].start.line
    if _assigned_after(src, first, reads) or changed_after(src, first, reads):
        return None
    ordered = tuple(p for _, p in sorted(parts, key=lambda lp: lp[0]))
    if _raises_first(comp, ordered):
        return None  # (its gather runs as written: an early error is Python's gather's error)
    comp.deps.deferred.update(id(s) for s in skip)
    return ordered


def _grown(
    comp: Builder, n: cst.Name, block: list[cst.CSTNode], traceable: Any
) -> tuple[cst.CSTNode, Part | None] | None:
    """For a mention ``n`` of the list in ``coros.append(call)``/``coros.extend(comprehension)``:
    the statement of the block that runs it and the part it adds (None: an ``if`` known false);
    None when it is another use."""
    src = comp.src
    attr = src.parents.get(n)
    call = src.parents.get(attr)
    if not (
        isinstance(attr, cst.Attribute)
        and attr.value is n
        and attr.attr.value in ("append", "extend")
        and isinstance(call, cst.Call)
        and call.func is attr
        and len(call.args) == 1
        and call.args[0].keyword is None
        and not call.args[0].star
    ):
        return None
    arg = call.args[0].value
    expr = src.parents.get(call)
    line = src.parents.get(expr)
    if not (isinstance(expr, cst.Expr) and isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1):
        return None
    if attr.attr.value == "append":
        if not traceable(arg):
            return None
        part: Part = arg
    else:
        if not (isinstance(arg, cst.ListComp | cst.GeneratorExp) and traceable(arg.elt)):
            return None
        if arg.for_in.asynchronous is not None or contains_await(arg.for_in):
            return None
        part = arg
    if line in block:
        return line, part
    inner = src.parents.get(line)
    holder = src.parents.get(inner)
    if not (isinstance(inner, cst.IndentedBlock) and list(inner.body) == [line] and holder in block):
        return None
    if isinstance(holder, cst.If) and holder.orelse is None:
        test = comp.exprs.try_static(holder.test)
        if test is None:
            return None
        return holder, part if test.value else None
    if (
        isinstance(holder, cst.For)
        and attr.attr.value == "append"
        and holder.asynchronous is None
        and holder.orelse is None
        and not contains_await(holder.iter)
        and not _read_later(comp, holder, set(target_names(holder.target)))
    ):
        return holder, holder
    return None


def _read_later(comp: Builder, stmt: cst.For, names: set[str]) -> bool:
    """Whether code after loop ``stmt`` (skipped: its variable is never bound) may read one of
    ``names`` as the loop left it; a later ``for`` binding the name reads its own in its body."""
    src = comp.src
    found = False
    for s in src.node.body.body:
        if found:
            rebinds = isinstance(s, cst.For) and names <= set(target_names(s.target))
            if names & set(src.free_names(s.iter if rebinds else s)[0]):  # type: ignore[union-attr]
                return True
        found = found or s is stmt or _contains_node(s, stmt)
    return False


def consumed(comp: Builder, stmt: cst.CSTNode) -> bool:
    """Whether ``stmt`` built a deferred list (``built``): its parts are traced at the gather."""
    return id(stmt) in comp.deps.deferred


def loop_map(comp: Builder, stmt: cst.For, loc: SourceLoc, hint: str) -> Value:
    """A ``map`` over the items of loop ``stmt`` awaiting the call its one statement appends."""
    (line,) = stmt.body.body
    assert isinstance(line, cst.SimpleStatementLine)
    (expr,) = line.body
    assert isinstance(expr, cst.Expr) and isinstance(expr.value, cst.Call)
    call = expr.value.args[0].value
    body = open_body(comp, stmt, loc)
    child = body[1]
    out = child.materialize(child.exprs.await_expr(cst.Await(expression=call), loc, ""), loc, "item")
    child.graph.add("output", [out])
    return Traced(close_map(comp, stmt, body, loc, hint))
