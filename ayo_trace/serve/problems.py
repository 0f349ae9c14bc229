"""Errors as RFC 9457 problem details (``application/problem+json``), from the ayo error tree.

::

    status  error (ayo_trace.errors)
    400     bad arguments: not JSON, not an object or list, not the workflow's parameters
    422     InvalidRequest (InvalidParams, UnknownCollection): input no engine can serve
    500     TraceError, UserCodeError, NodeError, other AyoError: the workflow's own code failed
    502     EngineError, EngineDied, StoreError: an engine failed
    503     Overloaded: the runtime's admission queue or an engine queue is full (Retry-After: 1)
    504     QueryTimeout: the request's deadline expired

Each problem has ``type`` (``urn:ayo-trace:error:<ErrorClass>``), ``title``, ``status``,
``detail`` (the error's message) and, when the error happened in a node, ``node`` and ``location``
(the user's ``file:line``).
"""

from __future__ import annotations

from typing import Any

from ..errors import (
    AyoError,
    EngineError,
    InvalidRequest,
    Overloaded,
    QueryTimeout,
)

PROBLEM_JSON = "application/problem+json"
_STATUS: tuple[tuple[type[BaseException], int, str], ...] = (
    (Overloaded, 503, "Overloaded"),
    (QueryTimeout, 504, "Deadline expired"),
    (InvalidRequest, 422, "Request the engines cannot serve"),
    (EngineError, 502, "Engine failed"),
    (AyoError, 500, "Workflow failed"),
)


def problem(exc: BaseException) -> dict[str, Any]:
    """The problem details of ``exc`` (a bad-argument error when it is no ``AyoError``)."""
    status, title = 400, "Bad arguments"
    for cls, code, text in _STATUS:
        if isinstance(exc, cls):
            status, title = code, text
            break
    body: dict[str, Any] = {
        "type": f"urn:ayo-trace:error:{type(exc).__name__}",
        "title": title,
        "status": status,
        "detail": str(exc),
    }
    node, loc = getattr(exc, "node", None), getattr(exc, "loc", None)
    if node is not None:
        body["node"] = node
    if loc is not None:
        body["location"] = str(loc)
    return body


__all__ = ["PROBLEM_JSON", "problem"]
