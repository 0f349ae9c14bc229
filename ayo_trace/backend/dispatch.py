"""What both interpreters of graphs (the graph scheduler and the in-order ``Interpreter``) share,
so they dispatch and report alike: execution dispatches every op, built-in or registered, through
one table derived from the primitives' specs (``ops.handler_name``: a primitive's
``PrimitiveSpec.handler``, a structural op's ``op_<name>``) to the interpreter's method of that
name, looked up on the instance, so a subclass's method is the one called, like torch.fx's
``Interpreter``; user code in ``python`` and ``break`` nodes runs through ``run_user_code``, which
turns its errors into ``UserCodeError`` naming the node; and ``annotate`` names the node of any
other error.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import AyoError, NodeError, UserCodeError
from ..ir.code import PyCode, SourceLoc
from ..ir.graph import Node
from ..ir.ops import handler_name
from ..ir.spec import PrimitiveSpec, primitive_spec
from .control import HANDLING
from .user_context import UserContext

Handler = Callable[[Node, list[Any]], Awaitable[Any]]


def handler_for(interpreter: object, node: Node) -> Handler:
    """``interpreter``'s method that runs ``node`` (``ops.handler_name`` of its op); ``NodeError``
    when it has none."""
    name = handler_name(node.op)
    handler = getattr(interpreter, name, None) if name is not None else None
    if handler is None:
        raise NodeError(
            f"{type(interpreter).__name__} has no handler for op {node.op!r}"
            + (f" (its method {name})" if name is not None else ""),
            node=node.name,
            loc=where(node),
        )
    return handler


def generic_primitive(node: Node) -> PrimitiveSpec:
    """The spec of a node that the generic handler (``call_primitive``) runs: a primitive served by
    an engine method (``PrimitiveSpec.engine_method``); ``NodeError`` for one that has none."""
    spec = primitive_spec(node.op)
    if spec is None or spec.engine_method is None:
        raise NodeError(
            f"primitive {node.op!r} has no engine method for the generic handler to call "
            "(give its spec an engine_method, or a handler of its own)",
            node=node.name,
            loc=where(node),
        )
    return spec


async def run_user_code(node: Node, args: list[Any], user: UserContext | None = None) -> Any:
    """Call the user's code of a ``python`` or ``break`` node on ``args`` (awaiting what a break
    returns to be awaited). An ayo-trace error passes unchanged (a break may call primitives; a
    handler's `raise` re-raises the engine error it caught, which the caller catches as it would
    eagerly); any other error becomes a ``UserCodeError`` naming the node and its line, chained
    to it. In a ``try`` node's handler it runs as inside Python's ``except`` (``control.HANDLING``).
    ``user``: the query's context variables (``user_context``), which its code sees and sets
    (None: a copy of the running task's)."""
    code: PyCode = node.attrs["code"]
    handled = HANDLING.get()

    def call() -> Any:
        if handled is None:
            return code.resolve()(*args)
        traceback = handled.__traceback__  # in a handler's body: with the error it handles, as
        try:  # Python's `except` keeps it
            raise handled
        except BaseException:
            return code.resolve()(*args)
        finally:
            handled.__traceback__ = traceback

    user = user if user is not None else UserContext()  # (a node run alone: the context it is in)
    try:  # (called in this frame, not a nested coroutine: a `StopIteration` it raises stays one)
        value = await user.run_break(call) if node.op == "break" else user.call(call)
    except Exception as exc:
        if isinstance(exc, AyoError):
            raise
        raise UserCodeError(f"{type(exc).__name__}: {exc}", node=node.name, loc=where(node)) from exc
    except asyncio.CancelledError as exc:
        if not _raised_by_code(node):
            raise  # (the node itself is cancelled)
        raise UserCodeError(f"CancelledError: {exc}", node=node.name, loc=where(node)) from exc
    return value


def _raised_by_code(node: Node) -> bool:
    """Whether a ``CancelledError`` out of a break's code is the code's own (it awaited a task it
    cancelled, as ``t.cancel()`` then ``await t``), not the node's task being cancelled: a user
    error then, which a ``try`` node's ``except asyncio.CancelledError`` catches as Python's does."""
    if node.op != "break":
        return False
    try:
        task = asyncio.current_task()
    except RuntimeError:  # (not on asyncio)
        return False
    return task is not None and task.cancelling() == 0


def where(node: Node) -> SourceLoc | None:
    """The node's place in the user's code (its own, or its code's for python/break nodes)."""
    if node.loc is not None:
        return node.loc
    code = node.attrs.get("code")
    if isinstance(code, PyCode) and code.filename:
        return SourceLoc(code.filename, code.line)
    return None


def annotate(exc: Exception, node: Node) -> AyoError:
    """``exc`` as an ayo-trace error naming ``node`` and its ``file:line``.

    A ``NodeError`` (or an error already annotated, e.g. by a node in a map body) names the innermost
    node already and passes unchanged. Another ``AyoError`` keeps its type (so ``except Overloaded``
    works) and gains ``node``/``loc`` and a message prefix; anything else becomes a ``NodeError``.
    """
    if getattr(exc, "node", None) is not None and isinstance(exc, AyoError):
        return exc
    loc = where(node)
    if isinstance(exc, AyoError):
        new = copy.copy(exc)
        new.__cause__ = exc.__cause__
        text = str(exc.args[0]) if exc.args else type(exc).__name__
        at = f" ({loc})" if loc is not None else ""
        new.args = (f"node %{node.name}{at}: {text}", *exc.args[1:])
        new.node = node.name
        new.loc = loc
        new.__cause__ = exc
        return new
    err = NodeError(f"{type(exc).__name__}: {exc}", node=node.name, loc=loc)
    err.__cause__ = exc
    return err


__all__ = ["Handler", "annotate", "generic_primitive", "handler_for", "run_user_code", "where"]
