"""The ops that hold graphs (``map``, ``cond``, ``loop``, ``try``): their bodies, and what each body's
inputs receive.

Passes that reason about bodies (effects, cost) ask here which of a node's args a body input is
bound to, instead of knowing each op's layout:

=========== ====================================== ==============================================
op          body: inputs                           bound to
=========== ====================================== ==============================================
map         body: (item, *captured)                args (iterable, *captured), one to one
cond        then/orelse: (*captured)               args[1:] (args[0] is the predicate)
loop        body: (item?, *carried, *captured)     args (iterable?, *init, *captured), one to one
try         body: (*captured)                      args, one to one
            handlers[k]: (exc, *captured)          the exception, then args
            orelse: (*names, *captured)            the body's outputs, then args
            finalbody: (*captured)                 args, one to one
=========== ====================================== ==============================================
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .graph import Graph, Node

BLOCK_OPS = frozenset({"map", "cond", "loop", "try"})


def named_bodies(node: Node) -> Iterator[tuple[str, Graph]]:
    """``(role, graph)`` for every graph ``node`` holds, in a stable order (roles: ``body``,
    ``then``, ``orelse``, ``except0``..., ``finally``)."""
    from .graph import Graph

    for key in ("body", "then", "orelse"):
        g = node.attrs.get(key)
        if isinstance(g, Graph):
            yield key, g
    for i, g in enumerate(node.attrs.get("handlers") or ()):
        if isinstance(g, Graph):
            yield f"except{i}", g
    g = node.attrs.get("finalbody")
    if isinstance(g, Graph):
        yield "finally", g


def bindings(node: Node, role: str, body: Graph) -> list[int | None]:
    """For each input of ``body`` (the graph ``node`` holds under ``role``), the index of the arg of
    ``node`` it receives, or None when it receives something else (an exception, a body output)."""
    count = len(body.inputs)
    if node.op == "cond":
        return [i + 1 for i in range(count)]
    if node.op == "try" and role.startswith("except"):
        return [None, *range(count - 1)]
    if node.op == "try" and role == "orelse":
        names = len(node.attrs.get("names") or ())
        return [None] * names + list(range(count - names))
    return list(range(count))


def as_values(value: Any, count: int) -> tuple[Any, ...]:
    """The ``count`` values an output node of ``count`` args produced (it gives the value itself for
    one arg, a tuple for more, and ``None`` from a placeholder for none)."""
    if count == 1:
        return (value,)
    if count == 0:
        return ()
    return tuple(value)
