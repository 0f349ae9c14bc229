"""``Graph`` and ``Node``: the IR that tracing produces, passes rewrite and the runtime runs.

A graph is plain data: a list of nodes in topological order. Nodes reference their inputs directly
(``args`` for data, ``after`` for effect order); every change goes through ``Graph`` methods, which
keep the users of each node consistent. ``lint()`` checks the invariants and prints the whole graph
in its error.
"""

from __future__ import annotations

import copy as _copy
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ..errors import GraphError
from .blocks import bindings, named_bodies
from .code import SourceLoc
from .ops import known_op

_NAME_OK = re.compile(r"[^0-9a-zA-Z_]+")


class Node:
    """One step of a graph. See ``ops`` for what ``op``, ``args`` and ``attrs`` mean per op."""

    __slots__ = ("after", "args", "attrs", "graph", "loc", "meta", "name", "op", "users")

    def __init__(
        self,
        graph: Graph,
        name: str,
        op: str,
        args: tuple[Node, ...],
        attrs: dict[str, Any],
        loc: SourceLoc | None,
        after: tuple[Node, ...],
    ) -> None:
        self.graph = graph
        self.name = name
        self.op = op
        self.args = args
        self.attrs = attrs
        self.loc = loc
        self.after = after
        self.meta: dict[str, Any] = {}
        self.users: dict[Node, None] = {}  # ordered set of nodes that read this one (args or after)

    @property
    def inputs(self) -> list[Node]:
        """The distinct upstream nodes of the data edges, in argument order."""
        return list(dict.fromkeys(self.args))

    def __repr__(self) -> str:
        return f"%{self.name}"


class Graph:
    """A workflow as a DAG of nodes. ``nodes`` is in topological order; the last node is ``output``."""

    def __init__(self, name: str = "graph") -> None:
        self.name = name
        self.nodes: list[Node] = []
        self.statics: dict[str, Any] = {}  # static arguments the trace was specialized on
        # parameters the trace specialized on because the graph needs their value as a constant:
        # name -> where (a call with another value traces again)
        self.guards: dict[str, str] = {}
        self._names: set[str] = set()

    # --- building --------------------------------------------------------------------------------

    def _fresh(self, hint: str) -> str:
        base = _NAME_OK.sub("_", hint).strip("_") or "v"
        if base[0].isdigit():
            base = "v" + base
        name, i = base, 1
        while name in self._names:
            name = f"{base}_{i}"
            i += 1
        self._names.add(name)
        return name

    def add(
        self,
        op: str,
        args: Sequence[Node] = (),
        attrs: dict[str, Any] | None = None,
        *,
        loc: SourceLoc | None = None,
        name: str | None = None,
        after: Sequence[Node] = (),
        before: Node | None = None,
    ) -> Node:
        """Create a node at the end (or just ``before`` a node) and return it."""
        if not known_op(op):
            raise GraphError(f"unknown op {op!r}")
        node = Node(self, self._fresh(name or op), op, tuple(args), dict(attrs or {}), loc, tuple(after))
        for up in (*node.args, *node.after):
            up.users[node] = None
        if before is None:
            self.nodes.append(node)
        else:
            self.nodes.insert(self.nodes.index(before), node)
        return node

    @property
    def inputs(self) -> list[Node]:
        return [n for n in self.nodes if n.op == "input"]

    @property
    def output(self) -> Node:
        for n in reversed(self.nodes):
            if n.op == "output":
                return n
        raise GraphError(f"graph {self.name!r} has no output node")

    def find(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    # --- editing ---------------------------------------------------------------------------------

    def set_args(self, node: Node, args: Sequence[Node]) -> None:
        old = (*node.args, *node.after)
        node.args = tuple(args)
        self._relink(node, old)

    def set_after(self, node: Node, after: Sequence[Node]) -> None:
        old = (*node.args, *node.after)
        node.after = tuple(dict.fromkeys(a for a in after if a is not node))
        self._relink(node, old)

    def _relink(self, node: Node, old: Iterable[Node]) -> None:
        for up in old:
            up.users.pop(node, None)
        for up in (*node.args, *node.after):
            up.users[node] = None

    def replace_all_uses(self, old: Node, new: Node) -> None:
        """Every node that read ``old`` (data or order) reads ``new`` instead."""
        for user in list(old.users):
            user_args = tuple(new if a is old else a for a in user.args)
            user_after = tuple(new if a is old else a for a in user.after)
            self.set_args(user, user_args)
            self.set_after(user, user_after)

    def erase(self, node: Node) -> None:
        """Remove a node that nothing reads any more."""
        if node.users:
            raise GraphError(f"cannot erase %{node.name}: still used by {list(node.users)}")
        for up in (*node.args, *node.after):
            up.users.pop(node, None)
        self.nodes.remove(node)
        self._names.discard(node.name)

    def move_before(self, node: Node, anchor: Node) -> None:
        self.nodes.remove(node)
        self.nodes.insert(self.nodes.index(anchor), node)

    def toposort(self) -> None:
        """Reorder ``nodes`` topologically, keeping the current order where edges allow (stable)."""
        index = {n: i for i, n in enumerate(self.nodes)}
        pending = {n: len(set((*n.args, *n.after))) for n in self.nodes}
        import heapq

        ready = [(index[n], n.name) for n in self.nodes if pending[n] == 0]
        heapq.heapify(ready)
        by_name = {n.name: n for n in self.nodes}
        out: list[Node] = []
        while ready:
            _, name = heapq.heappop(ready)
            n = by_name[name]
            out.append(n)
            for u in n.users:
                pending[u] -= 1
                if pending[u] == 0:
                    heapq.heappush(ready, (index[u], u.name))
        if len(out) != len(self.nodes):
            raise GraphError(f"graph {self.name!r} has a cycle\n{self}")
        # keep the output last
        out.sort(key=lambda n: n.op == "output")
        self.nodes = out

    # --- reading ---------------------------------------------------------------------------------

    def edges(self) -> Iterator[tuple[Node, Node, str]]:
        """``(src, dst, kind)`` for every edge; kind is ``data``, ``stream`` or ``order``."""
        for dst in self.nodes:
            streamed = set(dst.attrs.get("stream_args", ()))
            seen: set[Node] = set()
            for i, src in enumerate(dst.args):
                if src in seen:
                    continue
                seen.add(src)
                yield src, dst, "stream" if i in streamed else "data"
            for src in dst.after:
                yield src, dst, "order"

    def subgraphs(self, node: Node) -> list[Graph]:
        """Every graph ``node`` holds (see ``blocks.named_bodies``)."""
        return [g for _, g in named_bodies(node)]

    def walk(self) -> Iterator[Node]:
        """Every node, including those of nested bodies (map, cond), depth first."""
        for n in self.nodes:
            yield n
            for sub in self.subgraphs(n):
                yield from sub.walk()

    def copy(self) -> Graph:
        """A deep copy: new nodes, same attrs values (bodies copied too), meta copied shallowly."""
        g = Graph(self.name)
        g.statics = dict(self.statics)
        g.guards = dict(self.guards)
        mapping: dict[Node, Node] = {}
        for n in self.nodes:
            attrs = {k: _copy_value(v) for k, v in n.attrs.items()}
            m = g.add(
                n.op,
                [mapping[a] for a in n.args],
                attrs,
                loc=n.loc,
                name=n.name,
                after=[mapping[a] for a in n.after],
            )
            m.meta = _copy.copy(n.meta)
            mapping[n] = m
        return g

    # --- invariants ------------------------------------------------------------------------------

    def lint(self) -> None:
        """Raise ``GraphError`` (with the printed graph) unless every invariant holds."""
        problems = self._problems()
        if problems:
            raise GraphError("graph does not lint:\n  " + "\n  ".join(problems) + f"\n\n{self}")

    def _problems(self) -> list[str]:
        from .template import Template

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
                if not isinstance(body, Graph):
                    out.append(f"{where}: map without a body graph")
                elif len(body.inputs) != len(n.args):
                    out.append(f"{where}: map body has {len(body.inputs)} inputs for {len(n.args)} args")
            if n.op == "cond":
                for key in ("then", "orelse"):
                    body = n.attrs.get(key)
                    if not isinstance(body, Graph):
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
        from .printer import format_graph

        return format_graph(self)

    def __repr__(self) -> str:
        return f"<Graph {self.name!r}: {len(self.nodes)} nodes>"

    def to_mermaid(self) -> str:
        from .export import to_mermaid

        return to_mermaid(self)

    def to_dot(self) -> str:
        from .export import to_dot

        return to_dot(self)

    def to_json(self) -> str:
        from .export import to_json

        return to_json(self)

    @staticmethod
    def from_json(text: str | bytes, *, trusted: bool = False) -> Graph:
        """The graph of a ``to_json`` text. A graph file is code (its ``python`` nodes run their
        source): it is refused with ``GraphError`` if it holds any unless ``trusted=True``."""
        from .export import from_json

        return from_json(text, trusted=trusted)


def _copy_value(v: Any) -> Any:
    if isinstance(v, Graph):
        return v.copy()
    if isinstance(v, tuple) and any(isinstance(x, Graph) for x in v):
        return tuple(_copy_value(x) for x in v)
    return v


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
        if isinstance(loop_body, Graph):
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
