"""``Node`` and ``BaseGraph``: the structure of a graph and the methods that change it.

A graph is plain data: a list of nodes in topological order. Nodes reference their inputs directly
(``args`` for data, ``after`` for effect order); every change goes through the graph's methods,
which keep the users of each node consistent. This module is the bottom of the IR's graph types:
what reads a whole graph (the printer, the exports, ``lint``) imports it, and ``graph.Graph``, the
class every layer uses, adds those readings as methods on top of it.

The ops that hold graphs (``map``, ``cond``, ``loop``, ``try``), the graphs they hold
(``named_bodies``), and the arg of the node each body input is bound to (``bindings``):

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

import copy as _copy
import heapq
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Self, cast

from ..errors import GraphError
from .code import SourceLoc
from .spec import known_op

_NAME_OK = re.compile(r"[^0-9a-zA-Z_]+")


class Node:
    """One step of a graph. See ``ops`` for what ``op``, ``args`` and ``attrs`` mean per op."""

    __slots__ = ("after", "args", "attrs", "graph", "loc", "meta", "name", "op", "users")

    def __init__(
        self,
        graph: BaseGraph,
        name: str,
        op: str,
        args: tuple[Node, ...],
        attrs: dict[str, Any],
        loc: SourceLoc | None,
        after: tuple[Node, ...],
    ) -> None:
        # the graph that holds it: a ``graph.Graph`` (typed Any: this module sits below that class)
        self.graph: Any = graph
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


class BaseGraph:
    """A workflow as a DAG of nodes: the data and the methods that change it. ``nodes`` is in
    topological order; the last node is ``output``. ``graph.Graph`` adds what reads the whole graph
    (``lint``, the text and the exports); the graphs a node holds are of its graph's class."""

    def __init__(self, name: str = "graph") -> None:
        self.name = name
        self.nodes: list[Node] = []
        self.statics: dict[str, Any] = {}  # static arguments the trace was specialized on
        # parameters the trace specialized on because the graph needs their value as a constant:
        # name -> where (a call with another value traces again)
        self.guards: dict[str, str] = {}
        self._names: set[str] = set()

    def __repr__(self) -> str:
        return f"<Graph {self.name!r}: {len(self.nodes)} nodes>"

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

    def subgraphs(self, node: Node) -> list[Self]:
        """Every graph ``node`` holds (see ``named_bodies``)."""
        return [cast(Self, g) for _, g in named_bodies(node)]

    def walk(self) -> Iterator[Node]:
        """Every node, including those of nested bodies (map, cond), depth first."""
        for n in self.nodes:
            yield n
            for sub in self.subgraphs(n):
                yield from sub.walk()

    def copy(self) -> Self:
        """A deep copy: new nodes, same attrs values (bodies copied too), meta copied shallowly."""
        g = type(self)(self.name)
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


def _copy_value(v: Any) -> Any:
    if isinstance(v, BaseGraph):
        return v.copy()
    if isinstance(v, tuple) and any(isinstance(x, BaseGraph) for x in v):
        return tuple(_copy_value(x) for x in v)
    return v


def named_bodies(node: Node) -> Iterator[tuple[str, BaseGraph]]:
    """``(role, graph)`` for every graph ``node`` holds, in a stable order (roles: ``body``,
    ``then``, ``orelse``, ``except0``..., ``finally``; ``bindings`` says what each body's
    inputs receive)."""
    for key in ("body", "then", "orelse"):
        g = node.attrs.get(key)
        if isinstance(g, BaseGraph):
            yield key, g
    for i, g in enumerate(node.attrs.get("handlers") or ()):
        if isinstance(g, BaseGraph):
            yield f"except{i}", g
    g = node.attrs.get("finalbody")
    if isinstance(g, BaseGraph):
        yield "finally", g


def bindings(node: Node, role: str, body: BaseGraph) -> list[int | None]:
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


__all__ = ["BaseGraph", "Node", "bindings", "named_bodies"]
