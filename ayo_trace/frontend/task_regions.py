"""Tasks that Python interleaves with the statements after them, run with those as written.

``t = asyncio.create_task(worker())``, then ``await queue.put(d)`` for each document, then ``await
t``: Python runs the task in turns with the workflow's statements, at their awaits; the graph would
run the task's call whole where the task is made. Where the two touch one object, one of them
changing it (``task_windows``), the statements from the one making the task to the last one
reading its name run as written, as one graph break: the task and those statements then take
turns exactly as in Python. This is the queue-worker idiom's shape (workers made, the queue
filled, the workers awaited or cancelled), and any task sharing state with the code that awaits it.

The stretch must be whole: every read of the task's name in the function lies in it (a task
awaited after the loop it was made in, or read by a closure, stays refused), and it must not jump
out (a ``break``/``continue`` of an enclosing loop); a ``return`` in it runs the rest of the
function as written where the statements are the function's own (``top``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from .state import _has, _in_scope, leaves_loop, walk
from .task_windows import Interleaved, _names

if TYPE_CHECKING:
    from .builder import Builder


def as_written(
    comp: Builder, stmts: list[cst.BaseStatement], i: int, err: Interleaved, *, top: bool
) -> list[cst.BaseStatement]:
    """Run ``stmts[i]`` (the line making ``err``'s task) up to the last statement of ``stmts`` that
    reads the task's name as one graph break; the statements after them. Where that stretch is not
    whole (the module's docstring), the rest of the function runs as written when ``stmts`` are its
    own (``top``), else ``err`` is raised; also where one of ``stmts`` stood in an ``async with`` of
    a lock (``locks.unwrapped``), which the code run as written would leave out."""
    line = stmts[i]
    name = err.name
    src = comp.src
    if not (isinstance(line, cst.SimpleStatementLine) and list(line.body) == [err.made]) or any(
        isinstance(src.parents.get(src.parents.get(s)), cst.With) for s in stmts[i:]
    ):
        raise err
    why = f"{err.why.split('. ')[0]}: the statements from line {src.loc(line).line} to "
    last = max((k for k in range(i + 1, len(stmts)) if name in _names(stmts[k])), default=None)
    region = stmts[i : last + 1] if name is not None and last is not None else []
    if not region or not _whole(comp, region, err.made, name) or _returns(region):
        if not top:
            raise err
        comp.rest_break(stmts[i:], why + "the end run as written, the task taking turns with them")
    assert last is not None
    why += f"line {src.loc(stmts[last]).line} run as written, the task taking turns with them"
    source = "".join(src.code(s) for s in region)
    comp.statement_break(cst.IndentedBlock(body=region), src.loc(line), why, source=source)
    return stmts[last + 1 :]


def _whole(comp: Builder, region: list[cst.BaseStatement], made_by: cst.CSTNode, name: str | None) -> bool:
    """Whether the task ``name`` made by ``made_by`` (``region``'s first statement) has finished, or is
    cancelled, at its end, out of the rest's reach: every read of ``name`` in the function is in
    ``region``, none in a function it defines, and each either awaits the tasks whole (``await
    t``, ``await asyncio.gather(*ts)``, ``await asyncio.wait(ts)`` for all of them, ``await
    asyncio.wait_for(t, 5)``), asks a task (``t.cancel()``, ``t.done()``), or loops over the list
    (``for w in ts: w.cancel()``, the loop's name read likewise); and ``region`` does not jump out
    of a loop around it."""
    if name is None or any(leaves_loop(s, (cst.Break, cst.Continue)) for s in region):
        return False
    everywhere = sum(1 for n in walk(comp.src.node.body) if isinstance(n, cst.Name) and n.value == name)
    reads = [n for s in region for n in walk(s, _in_scope) if isinstance(n, cst.Name) and n.value == name]
    if len(reads) != everywhere:
        return False  # (read elsewhere too: after a loop around it, in a function, another branch)
    made = [t.target for t in getattr(made_by, "targets", ())]
    return all(any(n is m for m in made) or _kept_in(comp, n, region) for n in reads)


_ASKS = frozenset({"cancel", "done", "cancelled", "result", "exception", "get_name"})
_WAITS = frozenset({"gather", "wait", "wait_for"})


def _kept_in(comp: Builder, n: cst.Name, region: list[cst.BaseStatement]) -> bool:
    """Whether this read of a task name leaves no task running past ``region`` (``_whole``)."""
    parents = comp.src.parents
    parent = parents.get(n)
    e: cst.CSTNode = n
    if isinstance(parent, cst.Await):
        return True
    if isinstance(parent, cst.Attribute) and parent.value is n and parent.attr.value in _ASKS:
        return isinstance(parents.get(parent), cst.Call)
    if isinstance(parent, cst.Attribute) and parent.attr.value == "values":  # (a dict of tasks)
        e = parents.get(parent)
        if not (isinstance(e, cst.Call) and not e.args):
            return False
        parent = parents.get(e)
    if isinstance(parent, cst.For | cst.CompFor) and parent.iter is e:
        target = parent.target
        if not isinstance(target, cst.Name):
            return False
        uses = [
            u
            for s in region
            for u in walk(s, _in_scope)
            if isinstance(u, cst.Name) and u.value == target.value and u is not target
        ]
        return all(_kept_in(comp, u, region) for u in uses)
    call = parents.get(parent) if isinstance(parent, cst.Arg) else None  # (`gather(t, *ts)`)
    if not (isinstance(call, cst.Call) and isinstance(parents.get(call), cst.Await)):
        return False
    func = call.func
    fn = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
    if fn not in _WAITS:
        return False
    if fn == "wait":  # (all of them: no `return_when` but ALL_COMPLETED, no `timeout`)
        for a in call.args:
            kw = a.keyword.value if a.keyword is not None else None
            if kw == "timeout" or (kw == "return_when" and "ALL_COMPLETED" not in comp.src.code(a.value)):
                return False
    return True


def _returns(region: list[cst.BaseStatement]) -> bool:
    return any(_has(s, cst.Return) for s in region)
