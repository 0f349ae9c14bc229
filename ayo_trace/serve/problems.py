"""Errors as RFC 9457 problem details (``application/problem+json``), from the ayo error tree.

::

    status  error (ayo_trace.errors)
    400     bad arguments: not JSON, not an object or list, not the workflow's parameters
    422     InvalidRequest (InvalidParams, UnknownCollection): input no engine can serve
    500     TraceError, UserCodeError, NodeError, other AyoError: the workflow's own code failed
    503     Overloaded by the runtime's admission bound: the callers sent more queries than
            ``max_active`` in service plus ``max_queue`` waiting (Retry-After: 1); 429 with
            ``overload_status=429``
    502     EngineError, EngineDied, StoreError: an engine failed
    503     Overloaded by an engine: its queue or its session slots are full, or a remote engine
            answered 429/503 (Retry-After: 1)
    504     QueryTimeout: the request's deadline expired

Both readings of "too many requests" are reasonable for the admission refusal: 429 says the
callers asked too much (a client library backs off and retries after ``Retry-After``), 503 says
the service is saturated (what load balancers count against a backend). ``overload_status``
chooses (503 by default, what the server answered before the option existed); an engine's refusal is the server's own capacity, so it is 503 either way.

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


OVERLOAD_STATUSES = (429, 503)


def refused_by_admission(exc: BaseException) -> bool:
    """Whether ``exc`` is the runtime's admission refusal (an ``Overloaded`` that names no engine)
    rather than an engine's (which names the engine whose queue or slots were full)."""
    return isinstance(exc, Overloaded) and exc.engine is None


def problem(exc: BaseException, overload_status: int = 503) -> dict[str, Any]:
    """The problem details of ``exc`` (a bad-argument error when it is no ``AyoError``);
    ``overload_status`` is the status of an admission refusal (429 or 503)."""
    status, title = 400, "Bad arguments"
    for cls, code, text in _STATUS:
        if isinstance(exc, cls):
            status, title = code, text
            break
    if refused_by_admission(exc):
        status, title = overload_status, "Too many requests" if overload_status == 429 else title
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


__all__ = ["OVERLOAD_STATUSES", "PROBLEM_JSON", "problem", "refused_by_admission"]
