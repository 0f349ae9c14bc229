"""The seam below the frontend and the backend: what the user's objects reach at run time.

The frontend builds the objects users hold (workflows, ``DAG``s, the eager primitives), and those
must optimize graphs and reach a runtime; but the frontend imports neither ``passes`` nor
``backend`` (imports point one way: frontend → ir ← passes, backend → ir). So it calls the ``Host``
declared here, and the driver (``ayo_trace/driver.py``, above every layer) installs the one
implementation when ``ayo_trace`` is imported. ``CURRENT_RUNTIME`` is the runtime entered with
``async with`` in this context: the backend sets it, the eager primitives read it.

This module imports nothing of the package but the IR.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any, Protocol

from .ir.code import SourceLoc
from .ir.graph import Graph

CURRENT_RUNTIME: ContextVar[Any] = ContextVar("ayo_runtime", default=None)


class Host(Protocol):
    """What the frontend asks of the layers above it (implemented by ``driver.Driver``)."""

    def default_passes(self) -> Sequence[Any]:
        """The passes a workflow gets unless it says otherwise."""
        ...

    def optimize(self, graph: Graph, passes: Sequence[Any]) -> Graph:
        """``graph`` after ``passes`` (a new graph; ``graph`` is not changed)."""
        ...

    def explain(self, graph: Graph, passes: Sequence[Any]) -> str:
        """What each of ``passes`` changed in ``graph``, as text."""
        ...

    def runtime(self) -> Any:
        """The runtime of this context (``CURRENT_RUNTIME``), else the process default runtime."""
        ...

    def stream(
        self, run: Callable[[], Awaitable[Any]], answers: Iterable[SourceLoc]
    ) -> AsyncGenerator[Any, None]:
        """The events of ``run()``: node starts and ends, token deltas of the LLM calls at
        ``answers``, then the result (``backend/events.py``)."""
        ...


class _Installed:
    """Holds the one ``Host``; set once, when ``ayo_trace`` is imported."""

    host: Host | None = None


def install(host: Host) -> None:
    """Make ``host`` the one every frontend object calls (the driver does this on import)."""
    _Installed.host = host


def host() -> Host:
    """The installed ``Host``."""
    if _Installed.host is None:  # importing any ayo_trace module imports the package, which installs it
        raise RuntimeError("no ayo_trace host is installed: import ayo_trace")
    return _Installed.host


__all__ = ["CURRENT_RUNTIME", "Host", "host", "install"]
