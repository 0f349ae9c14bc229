"""``Graph``: the IR that tracing produces, passes rewrite and the runtime runs.

A graph is plain data (``structure``: ``Node`` and ``BaseGraph``, the nodes and the methods that
change them). ``Graph`` adds what reads a whole graph: ``lint()`` checks the invariants and prints
the whole graph in its error; ``str(graph)`` is the printer's text (``printer``), and
``to_mermaid``/``to_dot``/``to_json``/``from_json`` the exports (``export``). Those modules take
the structure, so the imports point one way: structure ← printer ← export ← graph.
"""

from __future__ import annotations

from ..errors import GraphError
from .export import from_json, to_dot, to_json, to_mermaid
from .printer import format_graph
from .spec import known_op
from .structure import BaseGraph, Node, bindings, named_bodies
from .template import Template


class Graph(BaseGraph):
    """A workflow as a DAG of nodes. ``nodes`` is in topological order; the last node is ``output``.
    See ``structure.BaseGraph`` for building and editing it."""

    # --- invariants ------------------------------------------------------------------------------

    def lint(self) -> None:
        """Raise ``GraphError`` (with the printed graph) unless every invariant holds."""
        problems = self._problems()
        if problems:
            raise GraphError("graph does not lint:\n  " + "\n  ".join(problems) + f"\n\n{self}")

    def _problems(self) -> list[str]:
        out: list[str] = []
        seen: set[Node] = set()
        names: set[str] = set()
        outputs = [n for n in self.nodes if n.op == "output"]
        if len(outputs) != 1:
            out.append(f"expected exactly one output node, found {len(outputs)}")
        elif self.nodes[-1] is not outputs[0]:
            out.append("the output node is not the last node")
        for n in self.nodes:
            where = f"%{n.name}"
            if n.graph is not self:
                out.append(f"{where} belongs to another graph")
            if not known_op(n.op):
                out.append(f"{where}: unknown op {n.op!r}")
            if n.name in names:
                out.append(f"{where}: duplicate name")
            names.add(n.name)
            for up in (*n.args, *n.after):
                if up not in seen:
                    out.append(f"{where} reads %{up.name}, which is not defined before it")
                if n not in up.users:
                    out.append(f"{where} reads %{up.name}, which does not list it as a user")
            for u in n.users:
                if n not in u.args and n not in u.after:
                    out.append(f"{where} lists %{u.name} as a user, which does not read it")
            for i in n.attrs.get("stream_args", ()):
                if not 0 <= i < len(n.args):
                    out.append(f"{where}: stream_args index {i} out of range")
                elif not n.args[i].attrs.get("stream"):
                    out.append(f"{where}: streams arg %{n.args[i].name}, which does not stream")
            tpl = n.attrs.get("template")
            if isinstance(tpl, Template):
                for h in tpl.holes:
                    if not 0 <= h.arg < len(n.args):
                        out.append(f"{where}: template hole refers to arg {h.arg}, out of range")
            if n.op == "input" and n.args:
                out.append(f"{where}: an input takes no args")
            if n.op == "map":
                body = n.attrs.get("body")
                if not isinstance(body, BaseGraph):
                    out.append(f"{where}: map without a body graph")
                elif len(body.inputs) != len(n.args):
                    out.append(f"{where}: map body has {len(body.inputs)} inputs for {len(n.args)} args")
            if n.op == "cond":
                for key in ("then", "orelse"):
                    body = n.attrs.get(key)
                    if not isinstance(body, BaseGraph):
                        out.append(f"{where}: cond without a {key} graph")
                    elif len(body.inputs) != len(n.args) - 1:
                        out.append(f"{where}: cond {key} has {len(body.inputs)} inputs for {len(n.args) - 1}")
            if n.op in ("loop", "try"):
                out.extend(_block_problems(n, where))
            for sub in self.subgraphs(n):
                out.extend(f"{where} body: {p}" for p in sub._problems())
            seen.add(n)
        return out

    # --- text and exports ------------------------------------------------------------------------

    def __str__(self) -> str:
        return format_graph(self)

    def to_mermaid(self) -> str:
        return to_mermaid(self)

    def to_dot(self) -> str:
        return to_dot(self)

    def to_json(self) -> str:
        return to_json(self)

    @staticmethod
    def from_json(text: str | bytes, *, trusted: bool = False) -> Graph:
        """The graph of a ``to_json`` text. A graph file is code (its ``python`` nodes run their
        source): it is refused with ``GraphError`` if it holds any unless ``trusted=True``."""
        return from_json(text, Graph, trusted=trusted)


def _block_problems(n: Node, where: str) -> list[str]:
    """The layout invariants of ``loop`` and ``try`` nodes (``blocks`` describes the layouts)."""
    out: list[str] = []
    bodies = list(named_bodies(n))
    if not any(role == "body" for role, _ in bodies):
        out.append(f"{where}: {n.op} without a body graph")
    for role, body in bodies:
        want = bindings(n, role, body)
        if any(i is not None and not 0 <= i < len(n.args) for i in want):
            out.append(f"{where}: {n.op} {role} has {len(body.inputs)} inputs for {len(n.args)} args")
    if n.op == "loop":
        carried = n.attrs.get("carried")
        if not isinstance(carried, tuple):
            out.append(f"{where}: loop without a carried-names tuple")
            return out
        loop_body = n.attrs.get("body")
        if isinstance(loop_body, BaseGraph):
            body = loop_body
            first = 1 if n.attrs.get("item") is not None else 0
            if len(body.inputs) < first + len(carried):
                out.append(f"{where}: loop body has fewer inputs than its item and carried names")
            outs = body.output.args if any(x.op == "output" for x in body.nodes) else ()
            if len(outs) != 1 + len(carried):
                out.append(f"{where}: loop body outputs {len(outs)} values, not go_on and {len(carried)}")
        limit = n.attrs.get("max_iterations")
        if n.attrs.get("item") is None and (not isinstance(limit, int) or limit < 1):
            out.append(f"{where}: loop max_iterations must be a positive int, not {limit!r}")
    else:
        handlers = n.attrs.get("handlers") or ()
        catches = n.attrs.get("catches") or ()
        if len(handlers) != len(catches):
            out.append(f"{where}: try has {len(handlers)} handlers for {len(catches)} catches")
        names = n.attrs.get("names")
        if not isinstance(names, tuple):
            out.append(f"{where}: try without a names tuple")
        for role, body in bodies:
            if role.startswith("except") and not body.inputs:
                out.append(f"{where}: try {role} takes no exception input")
    return out


__all__ = ["Graph", "Node"]
