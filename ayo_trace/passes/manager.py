"""The pass protocol and the pass manager.

A pass is a configurable object (a frozen dataclass) with a ``name`` and ``__call__(graph) ->
PassResult``. Like torch.fx passes, a pass rewrites the graph it is given in place and returns it;
``run_passes`` hands the first pass a copy, so the caller's graph never changes, and lints the graph
after every pass. Passes that read the cost model take ``profiles``; when a pass's own ``profiles``
is None, ``run_passes(..., profiles=...)`` supplies them.

After the last pass, ``run_passes`` runs the cost analysis (``cost.annotate``) on the result, so
every node the runtime runs, including those a pass created (split prompt parts), carries the
``meta["remaining"]`` its engine requests are prioritized by.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..errors import GraphError, PassError
from ..ir import Graph
from .cost import Profiles, annotate, critical_path


@dataclass(frozen=True)
class PassResult:
    """What a pass returns: the graph (rewritten in place) and whether anything changed."""

    graph: Graph
    changed: bool


class Pass(Protocol):
    """A graph rewrite. ``name`` is what errors and ``explain`` call it."""

    @property
    def name(self) -> str: ...

    def __call__(self, graph: Graph) -> PassResult: ...


def configure(p: Pass, profiles: Profiles | None) -> Pass:
    """``p`` with ``profiles`` filled in where it takes profiles and has none of its own."""
    if profiles is None or not dataclasses.is_dataclass(p) or isinstance(p, type):
        return p
    names = {f.name for f in dataclasses.fields(p)}
    if "profiles" in names and getattr(p, "profiles", None) is None:
        return dataclasses.replace(p, profiles=profiles)
    return p


def apply_pass(p: Pass, graph: Graph) -> PassResult:
    """Run one pass on ``graph`` (in place), lint the result; any failure is a ``PassError``."""
    name = getattr(p, "name", type(p).__name__)
    try:
        result = p(graph)
    except PassError:
        raise
    except Exception as exc:
        raise PassError(f"raised {type(exc).__name__}: {exc}", pass_name=name) from exc
    if not isinstance(result, PassResult):
        raise PassError(f"returned {type(result).__name__}, not a PassResult", pass_name=name)
    try:
        result.graph.lint()
    except GraphError as exc:
        raise PassError(f"produced a graph that does not lint: {exc}", pass_name=name) from exc
    return result


def run_passes(graph: Graph, passes: Sequence[Pass], *, profiles: Profiles | None = None) -> Graph:
    """Run ``passes`` in order on a copy of ``graph`` and return the result (lints after each pass).

    An empty list returns an unchanged copy: the unoptimized, program-order baseline. Either way
    the result is annotated by the cost analysis (see the module docstring).
    """
    g = graph.copy()
    for p in passes:
        g = apply_pass(configure(p, profiles), g).graph
    try:
        annotate(g, profiles)
    except Exception as exc:
        raise PassError(f"raised {type(exc).__name__}: {exc}", pass_name="cost") from exc
    return g


def _describe(graph: Graph, profiles: Profiles | None) -> str:
    seconds, names = critical_path(graph.copy(), profiles)
    return f"{seconds:.3f} s: " + " -> ".join(f"%{n}" for n in names)


def explain(graph: Graph, passes: Sequence[Pass], *, profiles: Profiles | None = None) -> str:
    """What each pass did to ``graph``: for every pass that changed it, the printed graph before
    and after as a full-context diff (``-`` lines before, ``+`` lines after), and the estimated
    critical path before and after the whole pipeline. ``graph`` is not changed."""
    g = graph.copy()
    out = [f"estimated critical path before: {_describe(g, profiles)}"]
    for p in passes:
        before = str(g)
        result = apply_pass(configure(p, profiles), g)
        g = result.graph
        after = str(g)
        if not result.changed:
            out.append(f"\n== {p.name}: no change")
            continue
        out.append(f"\n== {p.name}")
        a, b = before.splitlines(), after.splitlines()
        out.extend(difflib.unified_diff(a, b, "before", "after", n=max(len(a), len(b)), lineterm=""))
    out.append(f"\nestimated critical path after: {_describe(g, profiles)}")
    return "\n".join(out)
