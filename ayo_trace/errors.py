"""The one exception tree of ayo-trace.

::

    AyoError
    ├── TraceError          user code that cannot be traced (names the construct, file:line, the fix)
    ├── GraphError          a graph that breaks an IR invariant (``Graph.lint``)
    ├── PassError           a pass that failed or produced an invalid graph (names the pass)
    ├── ConfigError         an engine or runtime configuration that cannot work
    │   └── NoChatTemplate  ``messages=`` for an engine with no chat template
    ├── OutputError         an LLM's output that its ``parse=`` rejects (not valid for the schema)
    ├── NodeError           a node failed while running (names the node and the user's file:line)
    │   ├── QueryTimeout    a query's deadline or a node's timeout expired
    │   └── UserCodeError   the user's own code, run as a ``python`` node, raised
    └── EngineError         an engine failed or refused a request
        ├── Overloaded      an engine queue is full; the request was refused, not queued
        ├── InvalidRequest  a request the engine can never serve (prompt too long, wrong dimension)
        │   ├── InvalidParams   a parameter value that is out of range (also a ``ValueError``)
        │   └── UnknownCollection   a search of a collection that was never created
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

    def __reduce__(self) -> tuple[Any, ...]:
        # The default rebuilds an exception as ``cls(*args)``, which fails for subclasses with required
        # keyword-only arguments (``NodeError(message, node=...)``); rebuild from args and attributes
        # instead, so ``copy.copy`` and pickling (Ray) give an equal, separate error of the same type.
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(cls: type[AyoError], args: tuple[Any, ...], state: dict[str, Any]) -> AyoError:
    err = cls.__new__(cls, *args)
    err.args = args
    err.__dict__.update(state)
    return err


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


class NoChatTemplate(ConfigError):
    """``messages=`` for an LLM engine whose model has no chat template and was given none."""


class OutputError(AyoError):
    """An LLM's output that its ``parse=`` rejects: not JSON, not valid for the schema, or the custom
    parser raised (chained as ``__cause__``). ``text`` is the output."""

    def __init__(self, message: str, *, text: str = "") -> None:
        super().__init__(message)
        self.text = text


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


class InvalidParams(InvalidRequest, ValueError):
    """A parameter that no engine can serve: ``max_tokens=0``, a negative or non-finite temperature,
    text that is not valid Unicode. Raised where the value is made, before any request is batched;
    ``param`` names the parameter. It is also a ``ValueError``, as a bad argument value is."""

    def __init__(self, message: str, *, param: str | None = None, engine: str | None = None) -> None:
        self.param = param
        super().__init__(message, engine=engine)


class UnknownCollection(InvalidRequest):
    """A search of a collection that was never created (or was dropped): a mistyped name would
    otherwise find nothing, silently. ``collection`` names it. Ingesting into a collection creates it,
    even an empty ingest (which makes it empty: a search of it then finds nothing, as it should).

    Like every ``InvalidRequest`` it is not retried; it fails every search in its batch (they all
    name the same collection), none of which is at fault alone."""

    def __init__(self, collection: str, *, engine: str | None = None) -> None:
        self.collection = collection
        super().__init__(
            f"collection {collection!r} does not exist: ingest into it first "
            f"(ayo.ingest(passages, collection={collection!r}); an empty list creates it empty), "
            "or check the name",
            engine=engine,
        )


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
    """A query's deadline, or a node's timeout, expired. ``node`` is the node that was running, or
    None when the deadline expired while no node ran (the message then says so)."""

    def __init__(self, message: str, *, node: str | None, loc: Any = None) -> None:
        if node is not None:
            super().__init__(message, node=node, loc=loc)
            return
        self.node = None
        self.loc = loc
        AyoError.__init__(self, f"{message} (no node was running)")


class UserCodeError(NodeError):
    """The user's own code, run as a ``python`` node, raised; the original is chained as ``__cause__``."""


__all__ = [
    "AyoError",
    "ConfigError",
    "EngineDied",
    "EngineError",
    "GraphError",
    "InvalidParams",
    "InvalidRequest",
    "NoChatTemplate",
    "NodeError",
    "OutputError",
    "Overloaded",
    "PassError",
    "QueryTimeout",
    "StoreError",
    "TraceError",
    "UnknownCollection",
    "UserCodeError",
]
