"""How ``loop`` and ``try`` nodes run, shared by the graph scheduler and the in-order interpreter.

Both runners pass ``run_body(graph, inputs, scope)``: run one body graph on those input values
(``scope`` names the run, so a loop's iterations and a try's handlers get LLM sessions of their own)
and return its output value. What the ops mean is in ``ir/ops.py`` and ``ir/blocks.py``.

A handler matches an error the way Python's ``except`` would match the error the user's code saw
when run eagerly: the runtime wraps a failing statement's exception in ``UserCodeError`` and
re-labels an engine's error with the node that failed, so matching (and the value bound by
``as e``) uses the original exception, not the wrapper (``user_exception``).
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from typing import Any

from ..errors import AyoError, NodeError, UserCodeError
from ..ir.blocks import as_values
from ..ir.graph import Graph, Node

RunBody = Callable[[Graph, list[Any], str], Awaitable[Any]]

# the error a handler's body is handling, as Python's ``except`` keeps it for the code it runs
# (``sys.exc_info()``, ``traceback.format_exc()``, a bare ``raise`` in a function it calls, the
# ``__context__`` of an error it raises): ``dispatch.run_user_code`` runs user code with it
HANDLING: ContextVar[BaseException | None] = ContextVar("ayo_handling", default=None)


def user_exception(exc: BaseException) -> BaseException:
    """The exception the user's code would have seen for ``exc`` in eager mode."""
    while True:
        cause = exc.__cause__
        if cause is None or getattr(exc, "node", None) is None:
            return exc
        if isinstance(exc, UserCodeError) or (type(exc) is NodeError and not isinstance(cause, AyoError)):
            exc = cause  # the runtime's wrapper around the user's own exception
        elif isinstance(exc, AyoError) and type(cause) is type(exc):
            exc = cause  # the same error, re-labelled with the node that failed
        else:
            return exc


async def run_loop(node: Node, args: Sequence[Any], run_body: RunBody) -> tuple[Any, ...]:
    """Run a ``loop`` node: the body in order until it says stop (or the items end). A ``while``
    whose body has run ``max_iterations`` times and still says go on fails with a ``NodeError``."""
    a = node.attrs
    body: Graph = a["body"]
    count = len(a["carried"])
    if a.get("item") is not None:
        items, state, captured = args[0], list(args[1 : 1 + count]), list(args[1 + count :])
        try:
            for i, item in enumerate(items):
                out = as_values(await run_body(body, [item, *state, *captured], f"[{i}]"), count + 1)
                state = list(out[1:])
                if not out[0]:
                    break
        finally:
            if a.get("closes") and isinstance(items, types.GeneratorType):
                # (the header's generator, left early by a `break`, a `return` or an error:
                # Python's loop drops it, which closes it; an error its `finally` raises then is
                # ignored, as Python ignores it)
                with contextlib.suppress(Exception):
                    items.close()
        return tuple(state)
    limit = a["max_iterations"]
    state, captured = list(args[:count]), list(args[count:])
    done = 0
    while True:
        out = as_values(await run_body(body, [*state, *captured], f"[{done}]"), count + 1)
        state = list(out[1:])
        if not out[0]:
            return tuple(state)
        done += 1
        if done >= limit:
            raise NodeError(
                f"the while loop's body ran {limit} times and its condition still holds "
                f"(max_iterations={limit}); bound the loop (`for step in range(n)`) or make "
                "its condition fail sooner",
                node=node.name,
                loc=node.loc,
            )


def _chain(raised: BaseException, handled: BaseException) -> None:
    """Give an error a handler raised without its code (a primitive's, at an await in it) the
    error handled as its ``__context__``, as Python's ``except`` gives every error raised in it
    (the handler's own code runs inside one already: ``dispatch.run_user_code``)."""
    seen = handled
    while seen is not None:  # (no cycle: Python leaves the context unset where it would make one)
        if seen is raised:
            return
        seen = seen.__context__  # type: ignore[assignment]
    if raised.__context__ is None:
        raised.__context__ = handled


async def run_try(node: Node, args: Sequence[Any], run_body: RunBody) -> tuple[Any, ...]:
    """Run a ``try`` node: body, then the first matching handler on an error, else ``orelse``;
    ``finalbody`` runs after all of them, also when an error propagates. Cancellation is never a
    handler's error, not even for a bare ``except`` (which, run eagerly, would swallow it), and
    skips ``finalbody``."""
    a = node.attrs
    count = len(a["names"])
    captured = list(args)
    finalbody: Graph | None = a.get("finalbody")
    try:
        try:
            out = as_values(await run_body(a["body"], captured, "/try"), count)
        except Exception as exc:
            err = user_exception(exc)
            if (outer := HANDLING.get()) is not None:  # (a `try` in a handler: raised inside its `except`)
                _chain(err, outer)
            for k, (handler, catch) in enumerate(zip(a["handlers"], a["catches"], strict=True)):
                if catch is None or isinstance(err, catch.resolve()()):
                    token = HANDLING.set(err)
                    try:
                        value = await run_body(handler, [err, *captured], f"/except{k}")
                    except Exception as raised:
                        _chain(user_exception(raised), err)
                        raise
                    finally:
                        HANDLING.reset(token)
                    out = as_values(value, count)
                    break
            else:
                raise
        else:
            orelse: Graph | None = a.get("orelse")
            if orelse is not None:
                out = as_values(await run_body(orelse, [*out, *captured], "/else"), count)
    except Exception:
        if finalbody is not None:
            await run_body(finalbody, captured, "/finally")
        raise
    if finalbody is not None:
        await run_body(finalbody, captured, "/finally")
    return out


__all__ = ["HANDLING", "RunBody", "run_loop", "run_try", "user_exception"]
