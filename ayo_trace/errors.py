"""The one exception tree of ayo-trace.

::

    AyoError
    ├── TraceError          user code that cannot be traced (names the construct, file:line, the fix)
    ├── GraphError          a graph that breaks an IR invariant (``Graph.lint``)
    ├── PassError           a pass that failed or produced an invalid graph (names the pass)
    ├── ConfigError         an engine or runtime configuration that cannot work
    ├── NodeError           a node failed while running (names the node and the user's file:line)
    │   ├── QueryTimeout    a query's deadline or a node's timeout expired
    │   └── UserCodeError   the user's own code, run as a ``python`` node, raised
    └── EngineError         an engine failed or refused a request
        ├── Overloaded      an engine queue is full; the request was refused, not queued
        ├── InvalidRequest  a request the engine can never serve (prompt too long, wrong dimension)
        ├── StoreError      the vector store refused or failed an operation
        └── EngineDied      an engine (or its Ray actor) died while serving the request

Errors from libraries are translated at the boundary into the most specific error here, chained with
``from``. Every error raised while running a node carries that node's name and source location.
"""

from __future__ import annotations

from typing import Any


class AyoError(Exception):
    """Base of every error ayo-trace raises on purpose.

    ``node`` and ``loc`` name the node that was running and its place in the user's code, when the
    error happened while a graph ran (the runtime fills them in; they stay None otherwise).
    """

    node: str | None = None
    loc: Any = None


class TraceError(AyoError):
    """User code that cannot be traced.

    The message names the construct, the user's ``file:line`` and the way out.
    """

    def __init__(self, message: str, *, loc: Any = None, construct: str | None = None) -> None:
        self.loc = loc
        self.construct = construct
        where = f"{loc}: " if loc is not None else ""
        super().__init__(f"{where}{message}")


class GraphError(AyoError):
    """A graph that breaks an IR invariant. The message includes the printed graph."""


class PassError(AyoError):
    """A pass failed or produced a graph that does not lint. Names the pass."""

    def __init__(self, message: str, *, pass_name: str) -> None:
        self.pass_name = pass_name
        super().__init__(f"pass {pass_name!r}: {message}")


class ConfigError(AyoError):
    """An engine or runtime configuration that cannot work."""


class EngineError(AyoError):
    """An engine failed or refused a request."""

    def __init__(self, message: str, *, engine: str | None = None) -> None:
        self.engine = engine
        prefix = f"engine {engine!r}: " if engine else ""
        super().__init__(f"{prefix}{message}")


class Overloaded(EngineError):
    """An engine's queue is full: the request was refused rather than queued without bound."""


class InvalidRequest(EngineError):
    """A request that the engine can never serve, e.g. a prompt longer than the context window."""


class StoreError(EngineError):
    """The vector store refused or failed an operation; nothing was half-written."""


class EngineDied(EngineError):
    """The engine, or the actor hosting it, died while serving the request."""


class NodeError(AyoError):
    """A node failed while running. ``node`` and ``loc`` say which one and where in the user's code."""

    def __init__(self, message: str, *, node: str, loc: Any = None) -> None:
        self.node = node
        self.loc = loc
        where = f" ({loc})" if loc is not None else ""
        super().__init__(f"node %{node}{where}: {message}")


class QueryTimeout(NodeError):
    """A query's deadline, or a node's timeout, expired. ``node`` is the node that was running."""


class UserCodeError(NodeError):
    """The user's own code, run as a ``python`` node, raised; the original is chained as ``__cause__``."""


__all__ = [
    "AyoError",
    "ConfigError",
    "EngineDied",
    "EngineError",
    "GraphError",
    "InvalidRequest",
    "NodeError",
    "Overloaded",
    "PassError",
    "QueryTimeout",
    "StoreError",
    "TraceError",
    "UserCodeError",
]
