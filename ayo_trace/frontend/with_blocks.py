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

A ``with`` of several items (``with Span("a") as s, timed("b"):``) means each item's ``with``
around the next one's: each manager entered in turn, and on the way out each one's ``__exit__``
handed what the one inside it let through. ``contextlib.ExitStack`` is that meaning as an object,
so the statement is rewritten as above with a stack for the manager, entering the first item
where ``__enter__`` was called (``s = ayo_with_0__.enter_context(Span("a"))``: a failure there
exits nothing) and the others at the top of the ``try`` body (a failure there exits those entered
before it); ``contextlib.suppress`` may be one of them (the stack exits it like the others). Only
with the header on one line (the new lines stand for it).
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
    stmt: cst.With, names: dict[str, Any], added: list[cst.CSTNode], count: int, suppress: list[bool]
) -> cst.FlattenSentinel[cst.BaseStatement] | None:
    """``stmt`` as the lines it stands for (above), or None where it stays. ``names``: the
    function's globals and closure; ``added``: the new lines standing for the line before them
    (``normalize.lines``); ``count``: how many ``with`` statements were rewritten before;
    ``suppress``: which items are ``contextlib.suppress`` (one alone is not this module's)."""
    several = len(stmt.items) > 1
    if stmt.asynchronous is not None or not all(
        (s and several) or _manager(item.item, names) for item, s in zip(stmt.items, suppress, strict=True)
    ):
        return None
    if not isinstance(stmt.body, cst.IndentedBlock) or not contains_await(stmt.body):
        return None
    if leaves_loop(stmt.body, (cst.Break, cst.Continue)) or any(
        isinstance(n, cst.Return | cst.Yield) for n in walk(stmt.body)
    ):
        return None
    code = cst.Module([]).code_for_node
    if several and code(stmt.with_changes(body=cst.SimpleStatementSuite([cst.Pass()]))).count("\n") > 1:
        return None
    manager, error = f"{PREFIX}{count}__", f"{PREFIX}{count}_error__"
    body = stmt.body
    if several:  # (`__import__`: the module need not import contextlib; the stack's `__enter__` is itself)
        made = cst.parse_statement(f"{manager} = __import__('contextlib').ExitStack()")
        entering = [
            f"{code(i.asname.name) + ' = ' if i.asname else ''}{manager}.enter_context({code(i.item)})"
            for i in stmt.items
        ]
        enter, *more = [cst.parse_statement(e) for e in entering]
        body = body.with_changes(body=[*more, *body.body])
        added.extend(more)
    else:
        item = stmt.items[0]
        made = cst.parse_statement(f"{manager} = {code(item.item)}")
        entered = f"{manager}.__enter__()"
        if item.asname is not None:
            entered = f"{code(item.asname.name)} = {entered}"
        enter = cst.parse_statement(entered)
    made = made.with_changes(leading_lines=stmt.leading_lines)
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
    made_try = cst.Try(body=body, handlers=[handler], orelse=otherwise)
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
