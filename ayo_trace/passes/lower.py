"""Lowering: traced primitives become the engine-level ops the other passes and the runtime schedule.

* ``llm`` → ``llm_prefill`` (named ``<llm>_prefill``, a one-part session keyed by the llm's name)
  + ``llm_decode`` (keeps the llm's name and users);
* ``ingest`` → ``embed`` (``<ingest>_embed``) + ``db_insert`` (keeps the name and users);
* ``search`` → ``embed`` (``<search>_embed``) + ``db_search`` (keeps the name and users).

The first new node takes over the original's program-order edges, so a lowered graph still runs in
program order. ``rerank`` stays. Bodies of ``map``/``cond`` are lowered too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..ir import Graph, Node
from .manager import PassResult


def _become(graph: Graph, node: Node, op: str, args: tuple[Node, ...], attrs: dict[str, Any]) -> None:
    """Turn ``node`` into ``op`` in place: it keeps its name, location and users."""
    node.op = op
    node.attrs = attrs
    graph.set_args(node, args)
    graph.set_after(node, ())


def _lower_node(graph: Graph, n: Node) -> bool:
    a = n.attrs
    if n.op == "llm":
        prefill = graph.add(
            "llm_prefill",
            n.args,
            {
                "session": n.name,
                "template": a["template"],
                "part": 1,
                "parts": 1,
                "chained": False,
                "engine": a.get("engine"),
            },
            loc=n.loc,
            name=f"{n.name}_prefill",
            after=n.after,
            before=n,
        )
        attrs = {
            "sampling": a["sampling"],
            "parse": a.get("parse"),
            "engine": a.get("engine"),
            "stream": False,
        }
        _become(graph, n, "llm_decode", (prefill,), attrs)
        return True
    if n.op in ("ingest", "search"):
        src = n.args[0]
        embed = graph.add(
            "embed",
            (src,),
            {"engine": a.get("embed_engine")},
            loc=n.loc,
            name=f"{n.name}_embed",
            after=n.after,
            before=n,
        )
        if n.op == "ingest":
            _become(
                graph,
                n,
                "db_insert",
                (src, embed),
                {"collection": a["collection"], "engine": a.get("engine")},
            )
        else:
            attrs = {"params": a["params"], "engine": a.get("engine")}
            if "top_k_arg" in a:  # a top_k known only at run time stays an arg, after the vector
                attrs["top_k_arg"] = 1
            _become(graph, n, "db_search", (embed, *n.args[1:]), attrs)
        return True
    return False


def lower_graph(graph: Graph) -> bool:
    changed = False
    for n in list(graph.nodes):
        for body in graph.subgraphs(n):
            changed |= lower_graph(body)
        changed |= _lower_node(graph, n)
    return changed


@dataclass(frozen=True)
class Lower:
    """``llm``/``ingest``/``search`` → their engine-level ops (see the module docstring)."""

    name: ClassVar[str] = "lower"

    def __call__(self, graph: Graph) -> PassResult:
        return PassResult(graph, lower_graph(graph))
