"""A plain ``with`` of a context manager around awaits, as the ``try`` it stands for.

``with Span("retrieve") as span: hits = await ayo.search(...)`` ran as written, a graph break
holding every await in its body. Python's ``with`` is (PEP 343) the manager made, its ``__enter__``
called, the body in a ``try`` whose failure is handed to ``__exit__`` (re-raised unless it returns
true) and whose success calls ``__exit__(None, None, None)``::

    with Span("retrieve") as span:          ayo_with_0__ = Span("retrieve")
        hits = await ayo.search(q, ...)     span = ayo_with_0__.__enter__()
                                            try:
                                                hits = await ayo.search(q, ...)
                                            except Exception as ayo_with_0_error__:
                                                if not ayo_with_0__.__exit__(type(ayo_with_0_error__),
                                                        ayo_with_0_error__, ayo_with_0_error__.__traceback__):
                                                    raise
                                            else:
                                                ayo_with_0__.__exit__(None, None, None)

which the tracer traces as it traces a ``try`` (``try_except``). Only where that means the same: one
item, made by calling a class of the user's or a library's that defines ``__enter__`` and
``__exit__`` (Python looks ``__exit__`` up before calling ``__enter__``: an object without it fails
the same in both), or a function ``contextlib.contextmanager`` made; a body that awaits, with no
``return``, ``break``, ``continue`` or ``yield`` (which would leave it past the ``else``). A
cancelled query (not an ``Exception``) leaves the manager unexited: the query is over.
"""

from __future__ import annotations

import contextlib
import inspect
from typing import Any

import libcst as cst

from .state import contains_await, leaves_loop, walk
from .try_loops import resolve

PREFIX = "ayo_with_"


def rewrite(
    stmt: cst.With, names: dict[str, Any], added: list[cst.CSTNode], count: int
) -> cst.FlattenSentinel[cst.BaseStatement] | None:
    """``stmt`` as the lines it stands for (above), or None where it stays. ``names``: the
    function's globals and closure; ``added``: the new lines standing for the line before them
    (``normalize.lines``); ``count``: how many ``with`` statements were rewritten before."""
    if stmt.asynchronous is not None or len(stmt.items) != 1 or not _manager(stmt.items[0].item, names):
        return None
    if not isinstance(stmt.body, cst.IndentedBlock) or not contains_await(stmt.body):
        return None
    if leaves_loop(stmt.body, (cst.Break, cst.Continue)) or any(
        isinstance(n, cst.Return | cst.Yield) for n in walk(stmt.body)
    ):
        return None
    item = stmt.items[0]
    manager, error = f"{PREFIX}{count}__", f"{PREFIX}{count}_error__"
    made = cst.parse_statement(f"{manager} = {cst.Module([]).code_for_node(item.item)}")
    made = made.with_changes(leading_lines=stmt.leading_lines)
    entered = f"{manager}.__enter__()"
    if item.asname is not None:
        entered = f"{cst.Module([]).code_for_node(item.asname.name)} = {entered}"
    enter = cst.parse_statement(entered)
    handling = cst.parse_statement(
        f"if not {manager}.__exit__(type({error}), {error}, {error}.__traceback__):\n    raise\n"
    )
    assert isinstance(handling, cst.If) and isinstance(handling.body, cst.IndentedBlock)
    exited = cst.parse_statement(f"{manager}.__exit__(None, None, None)")
    handler = cst.ExceptHandler(
        body=cst.IndentedBlock([handling]),
        type=cst.Name("Exception"),
        name=cst.AsName(cst.Name(error)),
        whitespace_after_except=cst.SimpleWhitespace(" "),
    )
    otherwise = cst.Else(body=cst.IndentedBlock([exited]))
    made_try = cst.Try(body=stmt.body, handlers=[handler], orelse=otherwise)
    added.extend([enter, made_try, handler, handling, handling.body.body[0], otherwise, exited])
    return cst.FlattenSentinel([made, enter, made_try])


def _manager(e: cst.BaseExpression, names: dict[str, Any]) -> bool:
    """Whether ``e`` calls a class defining ``__enter__`` and ``__exit__``, or a function
    ``contextlib.contextmanager`` made (what calling it makes is such an object)."""
    if not isinstance(e, cst.Call):
        return False
    fn = resolve(e.func, names)
    if isinstance(fn, type):
        return (
            fn is not contextlib.suppress
            and inspect.getattr_static(fn, "__enter__", None) is not None
            and inspect.getattr_static(fn, "__exit__", None) is not None
        )
    wrapped = getattr(fn, "__wrapped__", None)
    return (
        inspect.isfunction(fn)
        and inspect.isgeneratorfunction(wrapped)
        and fn.__code__ is contextlib.contextmanager(wrapped).__code__
    )
