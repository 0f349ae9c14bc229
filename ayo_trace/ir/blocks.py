"""The ops that hold graphs (``map``, ``cond``, ``loop``, ``try``), for the layers above the IR.

``named_bodies`` lists the graphs a node holds and ``bindings`` says which of its args each body
input receives (the layouts are tabled in ``structure``, where they are defined with the graph
structure that ``lint`` checks); passes that reason about bodies (effects, cost) ask here instead
of knowing each op's layout.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from .graph import Graph
from .structure import Node, bindings
from .structure import named_bodies as _named_bodies

BLOCK_OPS = frozenset({"map", "cond", "loop", "try"})


def named_bodies(node: Node) -> Iterator[tuple[str, Graph]]:
    """``(role, graph)`` for every graph ``node`` holds, in a stable order (roles: ``body``,
    ``then``, ``orelse``, ``except0``..., ``finally``). A node's bodies are of its graph's class:
    ``Graph`` for every graph the layers make or read."""
    for role, body in _named_bodies(node):
        yield role, cast(Graph, body)


def as_values(value: Any, count: int) -> tuple[Any, ...]:
    """The ``count`` values an output node of ``count`` args produced (it gives the value itself for
    one arg, a tuple for more, and ``None`` from a placeholder for none)."""
    if count == 1:
        return (value,)
    if count == 0:
        return ()
    return tuple(value)


__all__ = ["BLOCK_OPS", "as_values", "bindings", "named_bodies"]
