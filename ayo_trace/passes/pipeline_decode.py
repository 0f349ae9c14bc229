"""Decode pipelining: stream the items an LLM writes into the map that consumes them.

An ``llm_decode`` with a ``parse`` whose value is the iterable (``args[0]``) of a ``map`` gets
``stream=True``, and that map ``stream_args`` including 0: the runtime starts each item's body as
soon as the parser closes the item. Other users of the decode still receive the whole parsed list.

A map over a list field of a structured output (``for step in plan.steps``, where ``plan`` is an
``llm(..., parse=Plan)``; nested fields such as ``plan.section.items`` too) iterates a ``python``
node that reads the field: when the field's items stream exactly (``ir/field_streams.py``), that
node gets ``stream=True`` and ``stream_field`` (the field's key path), its decode ``stream=True``,
and the map ``stream_args`` including 0: the runtime streams that field's items from the decode
into the map. Several fields of one output each feed their own map; a read of any other field
(``plan.title``) still waits for the whole output.

A decode without a streaming parser (a custom callable parses the whole text), or whose items feed
no map, is left alone. Bodies are handled too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..ir import Graph, Node
from ..ir.field_streams import field_view
from .manager import PassResult


def pipeline_graph(graph: Graph) -> bool:
    changed = False
    for n in graph.nodes:
        for body in graph.subgraphs(n):
            changed |= pipeline_graph(body)
        if n.op != "map" or not n.args:
            continue
        src = n.args[0]
        view = field_view(src)
        if view is not None:
            decode, key = view
            changed |= _set(src, "stream_field", key) | _set(src, "stream", True)
        elif src.op == "llm_decode" and getattr(src.attrs.get("parse"), "streams", False):
            decode = src
        else:
            continue
        changed |= _set(decode, "stream", True)
        if 0 not in n.attrs.get("stream_args", ()):
            n.attrs["stream_args"] = tuple(sorted({*n.attrs.get("stream_args", ()), 0}))
            changed = True
    return changed


def _set(node: Node, key: str, value: object) -> bool:
    if node.attrs.get(key) == value:
        return False
    node.attrs[key] = value
    return True


@dataclass(frozen=True)
class PipelineDecode:
    """Stream parsed LLM output items into the map over them."""

    name: ClassVar[str] = "pipeline_decode"

    def __call__(self, graph: Graph) -> PassResult:
        return PassResult(graph, pipeline_graph(graph))
