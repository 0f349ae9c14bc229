"""What both interpreters of graphs (the graph scheduler and the in-order ``Interpreter``) share,
so they dispatch and report alike: execution dispatches on the op name to the interpreter's
``op_<name>`` method (looked up on the instance, so a subclass's method is the one called, like
torch.fx's ``Interpreter``); user code in ``python`` and ``break`` nodes runs through
``run_user_code``, which turns its errors into ``UserCodeError`` naming the node; and ``annotate``
names the node of any other error.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import AyoError, NodeError, UserCodeError
from ..ir.code import PyCode, SourceLoc
from ..ir.graph import Node
from ..ir.spec import primitive_spec

Handler = Callable[[Node, list[Any]], Awaitable[Any]]


def handler_for(interpreter: object, node: Node) -> Handler:
    """``interpreter``'s ``op_<name>`` method for ``node``'s op, else, for a primitive served by an
    engine method (``PrimitiveSpec.engine_method``: a registered one), its generic
    ``call_primitive(spec, node, args)``; ``NodeError`` when it has neither."""
    handler = getattr(interpreter, f"op_{node.op}", None)
    spec = primitive_spec(node.op)
    generic = getattr(interpreter, "call_primitive", None)
    if handler is None and spec is not None and spec.engine_method is not None and generic is not None:
        return functools.partial(generic, spec)
    if handler is None:
        raise NodeError(
            f"{type(interpreter).__name__} has no handler for op {node.op!r}", node=node.name, loc=where(node)
        )
    return handler


async def run_user_code(node: Node, args: list[Any]) -> Any:
    """Call the user's code of a ``python`` or ``break`` node on ``args`` (awaiting what a break
    returns to be awaited). An ayo-trace error raised in a break passes unchanged (a break may call
    primitives); any other error becomes a ``UserCodeError`` naming the node and its line, chained
    to it."""
    code: PyCode = node.attrs["code"]
    try:
        value = code.resolve()(*args)
        if node.op == "break" and (code.is_async or hasattr(value, "__await__")):
            value = await value
    except Exception as exc:
        if isinstance(exc, AyoError) and node.op == "break":
            raise
        raise UserCodeError(f"{type(exc).__name__}: {exc}", node=node.name, loc=where(node)) from exc
    return value


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


__all__ = ["Handler", "annotate", "handler_for", "run_user_code", "where"]
