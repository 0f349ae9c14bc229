"""Lowering: traced primitives become the engine-level ops the other passes and the runtime schedule.

Each primitive's spec says what it lowers to (``PrimitiveSpec.lowers_to`` and its ``lower`` hook;
the built-in ones are listed in ``ir/builtin_primitives.py``: ``llm`` → ``llm_prefill`` +
``llm_decode``, ``ingest`` → ``embed`` + ``db_insert``, ``search`` → ``embed`` + ``db_search``). A
primitive whose spec lowers to nothing (``rerank``, a registered one) stays, and so does a node
marked ``whole`` (an ``ingest`` that stage decomposition found no gain in splitting). Bodies of
blocks are lowered too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..ir import Graph, primitive_spec
from .manager import PassResult


def lower_graph(graph: Graph) -> bool:
    changed = False
    for n in list(graph.nodes):
        for body in graph.subgraphs(n):
            changed |= lower_graph(body)
        spec = primitive_spec(n.op)
        if spec is not None and spec.lower is not None and not n.attrs.get("whole"):
            spec.lower(graph, n)
            changed = True
    return changed


@dataclass(frozen=True)
class Lower:
    """Each primitive → the engine-level ops its spec lowers it to (see the module docstring)."""

    name: ClassVar[str] = "lower"

    def __call__(self, graph: Graph) -> PassResult:
        return PassResult(graph, lower_graph(graph))
