"""Checks of the whole function's source, run once before it is compiled: shapes refused wherever
they stand.

* A function made in a loop that awaits and kept past its turn (``loop_closures``).
* A generator expression that awaits (``"".join(await ask(d) for d in docs)``): inside an
  ``async def`` Python makes it an *async* generator, which ``join``, ``sum``, ``list``, ``any``
  or ``next`` cannot iterate (``TypeError``), so eager code never gets the value the graph would
  build (one an ``async for`` iterates is run as written; an ``await`` in its first iterable,
  ``" ".join(h.text for h in await ayo.search(q))``, is evaluated where the expression stands, so
  that one is a plain generator, traced). Refused with the fix: a list comprehension, ``[await ask(d) for d in docs]``, awaits each
  item (the tracer runs them at once, a ``map``).
* A comprehension that awaits with a walrus in it (``[await ask(ctx := ctx + d) for d in docs]``):
  the walrus binds the workflow's name item by item, in turn with the awaits; the graph runs the
  items at once. Refused with the fix: a ``for`` loop.
* A lazy iterator kept in a name (``ps = (ctx + d for d in docs)``, ``ps = map(lambda d: ctx + d,
  docs)``) whose generator or ``lambda`` reads a name the workflow assigns again after it: Python
  reads the name when the iterator is consumed, the graph where it is made. Refused with the fix
  (a list, ``[ctx + d for d in docs]``, is made at once).
* ``locals()``, ``vars()`` or ``dir()`` with no argument in the workflow's own code
  (``"{q} has {n} docs".format(**locals())``): in the graph each statement runs in a function of
  its own, which holds only the names it reads, so these would see other names than Python's.
  Refused with the fix: name the values (``.format(q=q, n=n)``).
* A ``global`` statement the rewrite left (``global_names``): declared in a branch or a loop, or a
  name it declares bound otherwise than by ``X = v``, ``X op= v`` or ``del X`` (a loop target, a
  tuple target, ``with ... as X``, a walrus, an import). Refused with the fix, before any other
  rule reads the name as the workflow's own.
"""

from __future__ import annotations

import libcst as cst

from ..errors import TraceError
from ..ir.code import SourceLoc
from . import loop_closures
from .closures import _assigned_after
from .source import FunctionSource
from .state import contains_await, walk

_SCOPE_READERS = frozenset({"locals", "vars", "dir"})
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


def _walrus(n: cst.CSTNode) -> bool:
    return any(isinstance(x, cst.NamedExpr) for x in walk(n, lambda x: isinstance(x, cst.Lambda)))


def _iterated_async(src: FunctionSource, n: cst.GeneratorExp) -> bool:
    """Whether ``n`` is what an ``async for`` iterates (``async for x in (await f(d) for d in docs)``,
    also in a comprehension): an async generator used as one (run as written, a graph break)."""
    parent = src.parents.get(n)
    return isinstance(parent, cst.For | cst.CompFor) and parent.asynchronous is not None and parent.iter is n


def _awaits_lazily(n: cst.GeneratorExp) -> bool:
    """Whether ``n`` awaits other than in its first iterable, which Python evaluates where the
    expression stands (``" ".join(h.text for h in await ayo.search(q))`` is a plain generator)."""
    first = n.for_in
    rest: list[cst.CSTNode | None] = [n.elt, *(i.test for i in first.ifs), first.inner_for_in]
    return any(part is not None and contains_await(part) for part in rest)


def check_all(src: FunctionSource) -> None:
    """Refuse what no graph can mean (above), naming the line and the fix."""
    loop_closures.check_all(src)
    for n in walk(src.node.body):
        if isinstance(n, cst.GeneratorExp) and _awaits_lazily(n) and not _iterated_async(src, n):
            raise TraceError(
                f"`{src.expr_code(n)}` is a generator expression that awaits: in an `async def` "
                "Python makes it an async generator, which `join`, `sum`, `list`, `any` or `next` "
                "cannot iterate (TypeError); write a list comprehension, `[await ... for ... in ...]`",
                loc=src.loc(n),
                construct="comprehension",
            )
        if isinstance(n, _COMPREHENSIONS) and contains_await(n) and _walrus(n):
            raise TraceError(
                f"`{src.expr_code(n)}` awaits and binds a name of the workflow with `:=` item by item; "
                "the graph runs its items at once: write it as a `for` loop",
                loc=src.loc(n),
                construct="comprehension",
            )
        if isinstance(n, cst.Assign):
            _check_lazy(src, n)
    for n in walk(src.node.body, lambda n: isinstance(n, cst.FunctionDef | cst.ClassDef | cst.Lambda)):
        if isinstance(n, cst.Global):
            raise TraceError(
                f"`{src.code(n).strip()}` cannot be traced: a workflow's `global` names are traced when "
                "the declaration is a line of its own at the top of the body and the workflow binds "
                "them only by `X = value`, `X += value` (any operator) or `del X`; here one is declared "
                "in a block or bound otherwise (a loop or tuple target, `as X`, `:=`, an import). "
                "Bind it so, or return the value and let the caller store it",
                loc=src.loc(n),
                construct="global",
            )
        if not (isinstance(n, cst.Call) and not n.args and isinstance(fn := n.func, cst.Name)):
            continue
        if fn.value in _SCOPE_READERS and fn.value in src.free_names(fn)[1]:  # (the builtin's name)
            raise TraceError(
                f"`{fn.value}()` reads the workflow's local names, which the graph does not keep in one "
                "place (each statement runs with only the names it reads); name the values instead "
                "(`.format(q=q, n=n)`, a dict of them)",
                loc=src.loc(n),
                construct="call",
            )


def _check_lazy(src: FunctionSource, stmt: cst.Assign) -> None:
    value = stmt.value
    lazy: list[cst.CSTNode] = []
    if isinstance(value, cst.GeneratorExp):
        lazy = [
            value.elt,
            *value.for_in.ifs,
            *([value.for_in.inner_for_in] if value.for_in.inner_for_in else []),
        ]
    elif (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Name)
        and value.func.value in ("map", "filter")
    ):
        lazy = [a.value for a in value.args if isinstance(a.value, cst.Lambda | cst.GeneratorExp)]
    reads = {n for part in lazy for n in src.free_names(part, value)[0]} - set(src.assigned_names(stmt))
    later = _assigned_after(src, src.positions[stmt].end.line, reads)
    if later:
        name, line = min(later.items(), key=lambda kv: kv[1])
        raise TraceError(
            f"`{src.expr_code(value)}` is consumed later and reads the workflow's `{name}` then, which is "
            f"assigned again at line {src.file_line(line)}: the graph reads it here; make a list now "
            "(`[... for ... in ...]`) or pass the value in",
            loc=src.loc(stmt),
            construct="closure",
        )


def refuse_outer_names(src: FunctionSource, small: cst.Global | cst.Nonlocal, loc: SourceLoc) -> None:
    """``global x`` or ``nonlocal x`` left in the code the compiler reads: refused."""
    raise TraceError(
        f"`{src.code(small).strip()}` cannot be traced: a workflow's graph cannot assign names outside "
        "itself; return the value instead",
        loc=loc,
        construct=type(small).__name__.lower(),
    )
