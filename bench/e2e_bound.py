"""bench/e2e.py's (d), the critical-path lower bound: a query's optimized graph run with every node
forced one after another, and the longest path through its dependencies summed from the durations
each node took alone (see ``bench/e2e.py``'s docstring for what the bound assumes)."""

from __future__ import annotations

from typing import Any

import ayo_trace as ayo
from ayo_trace.ir.graph import Graph


def _events(rt: ayo.Runtime) -> list[dict[str, Any]]:
    return [e for e in rt.timeline().events if e.get("ph") == "X"]


def serialized(graph: Graph) -> Graph:
    """A copy of ``graph`` whose nodes run one after another in graph order (map items too)."""
    g = graph.copy()
    _chain(g)
    return g


def _chain(g: Graph) -> None:
    prev = None
    for n in list(g.nodes):
        if n.op == "map":
            n.attrs["concurrency"] = 1
            n.attrs.pop("stream_args", None)
        for sub in g.subgraphs(n):
            _chain(sub)
        if n.op in ("input", "const"):
            continue
        if prev is not None and prev not in n.args:
            g.set_after(n, [*n.after, prev])
        prev = n


def critical_path(
    graph: Graph, durations: dict[tuple[str, str], float], scope: str
) -> tuple[float, list[str]]:
    """Earliest finish of ``graph``'s output if every node took its measured duration and waited only
    for its dependencies; and the nodes on that path. Map items run at once; see the module docstring."""
    finish: dict[Any, float] = {}
    path: dict[Any, list[str]] = {}
    for n in graph.nodes:
        deps = [*n.args, *n.after]
        start_dep = max(deps, key=lambda d: finish[d], default=None)
        start = finish[start_dep] if start_dep is not None else 0.0
        via = path[start_dep] if start_dep is not None else []
        if n.op == "map":
            items = []
            i = 0
            while any(s == f"{scope}/{n.name}[{i}]" for s, _ in durations):
                items.append(critical_path(n.attrs["body"], durations, f"{scope}/{n.name}[{i}]"))
                i += 1
            longest = max(items, default=(0.0, []))
            src = n.args[0]
            if 0 in n.attrs.get("stream_args", ()) and src.attrs.get("stream"):
                others = [d for d in deps if d is not src]
                src_start = finish[src] - durations.get((scope, src.name), 0.0)
                candidates = [(finish[src], path[src]), (src_start + longest[0], [*via, *longest[1]])]
                candidates += [(finish[o] + longest[0], [*path[o], *longest[1]]) for o in others]
                finish[n], path[n] = max(candidates, key=lambda c: c[0])
            elif n.attrs.get("concurrency") == 1:
                finish[n] = start + sum(t for t, _ in items)
                path[n] = [*via, f"{n.name}[*]"]
            else:
                finish[n], path[n] = start + longest[0], [*via, *longest[1]]
            continue
        finish[n] = start + durations.get((scope, n.name), 0.0)
        path[n] = [*via, n.name] if n.op not in ("input", "const", "output", "python") else via
    out = graph.output
    return finish[out], path[out]
