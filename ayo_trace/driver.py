"""The driver: the one place that knows trace → optimize → run end to end.

It sits above every layer: the frontend traces (and never imports ``passes`` or ``backend``), the
passes optimize, the backend runs. The frontend's objects reach the other two through
``host.Host``; this module implements it with the pass manager and the runtime and installs it
when ``ayo_trace`` is imported.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from typing import Any

from . import host
from .backend.events import stream_events
from .backend.runtime import Runtime, current_runtime
from .ir.code import SourceLoc
from .ir.graph import Graph
from .passes import DEFAULT_PASSES, explain, run_passes


class Driver:
    """``host.Host`` over the pass manager and the runtime."""

    def default_passes(self) -> Sequence[Any]:
        return DEFAULT_PASSES

    def optimize(self, graph: Graph, passes: Sequence[Any]) -> Graph:
        return run_passes(graph, passes)

    def explain(self, graph: Graph, passes: Sequence[Any]) -> str:
        return str(explain(graph, tuple(passes)))

    def runtime(self) -> Runtime:
        return current_runtime()

    def stream(
        self, run: Callable[[], Awaitable[Any]], answers: Iterable[SourceLoc]
    ) -> AsyncGenerator[Any, None]:
        return stream_events(run, answers)


host.install(Driver())

__all__ = ["Driver"]
