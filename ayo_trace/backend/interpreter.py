"""A minimal in-order interpreter for traced graphs: the reference for differential tests.

It runs the nodes one at a time in list order (which respects every edge, the graph being in
topological order) and map items one after another, calling the runtime's eager primitives, so
the value it computes is the value of the user's function run as plain Python. It knows nothing
of streams, sessions or batching; it runs traced graphs only (no lowered ops). It dispatches and
wraps user errors as the graph scheduler does (``dispatch.py``): each op runs on the method its
table entry names (``ops.handler_name``), the built-in primitives' on the runtime's eager
primitive of the same name, a generic one's on ``call_primitive``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..ir.graph import Graph, Node
from ..ir.ops import rerank_top_k, search_params
from ..ir.params import check_text, check_texts
from .control import run_loop, run_try
from .dispatch import generic_primitive, handler_for, run_user_code
from .user_context import UserContext

if TYPE_CHECKING:
    from .runtime import Runtime


class Interpreter:
    """``await Interpreter(rt).run(graph, inputs)``; the handler each traced op's table entry names
    (``op_<name>`` for the structural ops and the built-in primitives, ``call_primitive``)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.user = UserContext()

    async def run(self, graph: Graph, inputs: Mapping[str, Any]) -> Any:
        await self.rt.ensure_started()
        self.user = UserContext()  # (each run, a query: the context variables its code sees)
        values = [inputs[n.attrs.get("name", n.name)] for n in graph.inputs]
        try:
            return await self.run_graph(graph, values)
        finally:
            self.user.settle()

    async def run_graph(self, graph: Graph, inputs: Sequence[Any]) -> Any:
        env: dict[Node, Any] = dict(zip(graph.inputs, inputs, strict=True))
        for node in graph.nodes:
            if node.op == "input":
                continue
            env[node] = await handler_for(self, node)(node, [env[a] for a in node.args])
        return env[graph.output]

    async def op_const(self, node: Node, args: list[Any]) -> Any:
        return node.attrs["value"]

    async def op_getitem(self, node: Node, args: list[Any]) -> Any:
        return args[0][node.attrs["index"]]

    async def op_output(self, node: Node, args: list[Any]) -> Any:
        return args[0] if len(args) == 1 else tuple(args)

    async def op_python(self, node: Node, args: list[Any]) -> Any:
        return await run_user_code(node, args, self.user)

    async def op_break(self, node: Node, args: list[Any]) -> Any:
        return await run_user_code(node, args, self.user)

    async def op_llm(self, node: Node, args: list[Any]) -> Any:
        a = node.attrs
        return await self.rt.llm(a["template"].render(args), a["sampling"], a.get("parse"), a.get("engine"))

    async def op_embed(self, node: Node, args: list[Any]) -> Any:
        check_texts(args[0])  # (the primitives' own checks, as called eagerly)
        return await self.rt.embed(args[0], node.attrs.get("engine"))

    async def op_ingest(self, node: Node, args: list[Any]) -> Any:
        a = node.attrs
        return await self.rt.ingest(args[0], a["collection"], a.get("engine"), a.get("embed_engine"))

    async def op_search(self, node: Node, args: list[Any]) -> Any:
        a = node.attrs
        check_text(args[0], "query")
        return await self.rt.search(
            args[0], search_params(node, args), a.get("engine"), a.get("embed_engine")
        )

    async def op_rerank(self, node: Node, args: list[Any]) -> Any:
        check_text(args[0], "query")
        return await self.rt.rerank(args[0], args[1], rerank_top_k(node, args), node.attrs.get("engine"))

    async def call_primitive(self, node: Node, args: list[Any]) -> Any:
        """The generic handler (a registered primitive's): the eager call (``Runtime.call``) of its
        arguments."""
        spec = generic_primitive(node)
        return await self.rt.call(spec, spec.call_values(node, args))

    async def op_map(self, node: Node, args: list[Any]) -> Any:
        body: Graph = node.attrs["body"]
        return [await self.run_graph(body, [item, *args[1:]]) for item in args[0]]

    async def op_cond(self, node: Node, args: list[Any]) -> Any:
        branch: Graph = node.attrs["then"] if args[0] else node.attrs["orelse"]
        return await self.run_graph(branch, args[1:])

    async def _body(self, graph: Graph, inputs: list[Any], scope: str) -> Any:
        return await self.run_graph(graph, inputs)

    async def op_loop(self, node: Node, args: list[Any]) -> Any:
        return await run_loop(node, args, self._body)

    async def op_try(self, node: Node, args: list[Any]) -> Any:
        return await run_try(node, args, self._body)


async def interpret(rt: Runtime, graph: Graph, inputs: Mapping[str, Any]) -> Any:
    """Run a traced ``graph`` in order on ``rt`` (see ``Interpreter``)."""
    return await Interpreter(rt).run(graph, inputs)


run_in_order = interpret

__all__ = ["Interpreter", "interpret", "run_in_order"]
