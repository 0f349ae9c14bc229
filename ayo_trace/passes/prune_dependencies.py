"""Dependency pruning: keep only real data dependencies and the order effects need.

A traced graph chains every statement to the one before it (program order). This pass first removes
dead nodes (no data users, no effect, no engine call, no statement of the user's code, which may
raise: ``first = docs[0]``; not an input or the output), then replaces every ``after``
edge with the order edges ``effects.conflicts`` demands between pairs of statements, in program
order (the order of ``graph.nodes``). Edges already implied by other paths are left out, so each
node lists only the latest conflicting statements it does not otherwise wait for. The output keeps
order edges to the effects it does not otherwise wait for, so a query (or a map item) finishes only
after all its effects. Bodies of ``map``/``cond`` are pruned first, each on its own.

A node whose change is seen after a failure keeps its order after every statement before it: any
of them may fail, and eagerly the change then never happens. That is an effect, a break, an insert
into a collection or a change in place of a value the graph was given (an input, a module-level
object): the caller sees them after the query failed (``HISTORY.append(q)`` after two calls: when
the second fails in its decode, eager code never appended). Inside a ``try`` body (and the bodies
of the nodes in it) so is any change in place, as the handlers and the code after the ``try`` see
it (``log.append("ok")`` after two calls: when the first fails, eager code's ``log`` has no
``"ok"``). A call to an engine is never dead: eagerly, one whose value nothing reads still fails
the query, and what follows it never runs (``await ask(q)`` of a helper that notes before and after
its LLM call, its answer dropped); the output waits for it as for an effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..ir import Graph, Node
from ..ir.blocks import named_bodies
from .effects import NOT_STATEMENTS, Access, access, conflicts, memoized
from .manager import PassResult


def _remove_dead(graph: Graph, accs: dict[Node, Access]) -> bool:
    live: set[Node] = set()
    work = [n for n in graph.nodes if n.op in ("input", "output") or accs[n].keeps_alive]
    while work:
        n = work.pop()
        if n in live:
            continue
        live.add(n)
        work.extend(n.args)
    dead = [n for n in graph.nodes if n not in live]
    if not dead:
        return False
    for n in graph.nodes:
        if any(a not in live for a in n.after):
            graph.set_after(n, [a for a in n.after if a in live])
    for n in reversed(dead):
        graph.set_after(n, ())
    for n in reversed(dead):
        graph.erase(n)
    return True


def _seen_outside(node: Node, acc: Access, *, guarded: bool) -> bool:
    """True when what ``node`` changes stays visible after a failure of a statement before it
    (so it must not happen before they all succeed): an effect, an insert into a collection, a
    change in place of a value the graph was given (an input, a module-level object); inside a
    ``try`` body, a change in place of any value (the handlers see it)."""
    if acc.effect or acc.writes:
        return True
    if guarded:
        return bool(acc.changes)
    return any(node.args[i].op in ("input", "const") for i in acc.changes)


def order_edges(
    graph: Graph, accs: dict[Node, Access], *, guarded: bool = False
) -> dict[Node, tuple[Node, ...]]:
    """The ``after`` edges every node of ``graph`` needs, in program order, without implied ones;
    ``guarded``: the graph runs inside a ``try`` body (see the module's doc)."""
    stmts = [n for n in graph.nodes if n.op not in NOT_STATEMENTS]
    ancestors: dict[Node, set[Node]] = {}
    edges: dict[Node, tuple[Node, ...]] = {}
    for n in graph.nodes:
        seen: set[Node] = set()
        for p in n.args:
            seen |= {p} | ancestors[p]
        keep: list[Node] = []
        if n.op == "output":
            candidates = [s for s in reversed(stmts) if accs[s].keeps_alive]
        elif n.op in NOT_STATEMENTS:
            candidates = []
        else:
            earlier = stmts[: stmts.index(n)]
            changes = _seen_outside(n, accs[n], guarded=guarded)
            candidates = [a for a in reversed(earlier) if changes or conflicts(a, accs[a], n, accs[n])]
        for a in candidates:
            if a not in seen:
                keep.append(a)
                seen |= {a} | ancestors[a]
        ancestors[n] = seen
        edges[n] = tuple(reversed(keep))
    return edges


def prune_graph(graph: Graph, *, guarded: bool = False) -> bool:
    changed = False
    for n in graph.nodes:
        for role, body in named_bodies(n):
            changed |= prune_graph(body, guarded=guarded or (n.op == "try" and role == "body"))
    accs = {n: access(n) for n in graph.nodes}
    changed |= _remove_dead(graph, accs)
    for n, after in order_edges(graph, accs, guarded=guarded).items():
        if after != n.after:
            graph.set_after(n, after)
            changed = True
    return changed


@dataclass(frozen=True)
class PruneDependencies:
    """Drop program-order edges that no data or effect needs, then dead nodes."""

    name: ClassVar[str] = "prune_dependencies"

    def __call__(self, graph: Graph) -> PassResult:
        with memoized():
            return PassResult(graph, prune_graph(graph))
