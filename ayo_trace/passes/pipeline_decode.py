"""Decode pipelining: stream the items an LLM writes into the map that consumes them.

An ``llm_decode`` with a ``parse`` whose value is the iterable (``args[0]``) of a ``map`` gets
``stream=True``, and that map ``stream_args`` including 0: the runtime starts each item's body as
soon as the parser closes the item. Other users of the decode still receive the whole parsed list.
A decode without a streaming parser (a schema or a custom callable parses the whole text), or whose
items feed no map, is left alone. Bodies are handled too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..ir import Graph
from .manager import PassResult


def pipeline_graph(graph: Graph) -> bool:
    changed = False
    for n in graph.nodes:
        for body in graph.subgraphs(n):
            changed |= pipeline_graph(body)
        if n.op != "map" or not n.args:
            continue
        src = n.args[0]
        if src.op != "llm_decode" or not getattr(src.attrs.get("parse"), "streams", False):
            continue
        if not src.attrs.get("stream"):
            src.attrs["stream"] = True
            changed = True
        if 0 not in n.attrs.get("stream_args", ()):
            n.attrs["stream_args"] = tuple(sorted({*n.attrs.get("stream_args", ()), 0}))
            changed = True
    return changed


@dataclass(frozen=True)
class PipelineDecode:
    """Stream parsed LLM output items into the map over them."""

    name: ClassVar[str] = "pipeline_decode"

    def __call__(self, graph: Graph) -> PassResult:
        return PassResult(graph, pipeline_graph(graph))
