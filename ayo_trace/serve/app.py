"""The HTTP server: workflows behind a Starlette app, one ``Runtime`` serving every request.

Endpoints (``{name}`` is a workflow's name, the part after the colon of ``app.py:name``):

* ``POST /workflows/{name}``: body ``{"args": {...} | [...], "deadline_s": 2.5}`` (both optional;
  a request's ``Ayo-Deadline`` header, in seconds, is the same as ``deadline_s``); answers
  ``{"result": ...}``, or a problem (RFC 9457, ``problems.py``) naming the node and the line.
* ``POST /workflows/{name}/stream``: the same body; answers server-sent events, one per stream
  event (``event:`` its kind, ``data:`` its fields as JSON: ``node_started``, ``token``,
  ``node_finished``, then ``result``), or an ``error`` event holding the problem.
* ``GET /workflows/{name}/graph?format=text|mermaid|dot&optimized=1&args=<json>``: the graph as
  ``wf.graph(...)`` prints it (``str``, ``to_mermaid()``, ``to_dot()``).
* ``GET /healthz``: ``{"status": "ok", "workflows": [...]}`` once the engines are started.
* ``GET /metrics``: Prometheus text from ``rt.stats()`` (``metrics.py``).

All requests share one runtime, so concurrent queries batch together and share prompt prefixes.
Its admission bound (``max_active``, ``max_queue``) answers a request past it at once with
``overload_status`` (503 Service Unavailable, or 429 Too Many Requests), an engine that refuses
work (its queue or session slots full) with 503; both with ``Retry-After``.
The runtime starts with the app (lifespan) and stops after the server has drained: uvicorn lets
requests in flight finish (``--graceful-timeout`` bounds the wait; a request still running then is
cancelled, and its query's engine sessions are released), then the engines stop.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import asdict
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..backend.runtime import Runtime
from ..errors import AyoError
from ..frontend.workflow import Workflow
from ..host import CURRENT_RUNTIME
from .apps import AppError, placeholder_args, split_args, to_json
from .metrics import engine_reports, metrics_text
from .problems import OVERLOAD_STATUSES, PROBLEM_JSON, problem

log = logging.getLogger("ayo_trace.serve")

DEADLINE_HEADER = "ayo-deadline"
DRAIN_TIMEOUT_S = 10.0
RETRY_AFTER_S = "1"


def create_app(
    workflows: Mapping[str, Workflow], runtime: Runtime, *, overload_status: int = 503
) -> Starlette:
    """The ASGI app serving ``workflows`` (by name) on ``runtime`` (started and stopped with the app);
    ``overload_status`` (429 or 503) answers a request the runtime's admission bound refuses."""
    if overload_status not in OVERLOAD_STATUSES:
        raise ValueError(f"overload_status must be one of {OVERLOAD_STATUSES}, got {overload_status}")
    state = _State(dict(workflows), runtime, overload_status)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        log.info("ayo serve: engines started; serving %s", ", ".join(sorted(workflows)))
        try:
            yield
        finally:
            state.stopping = True
            await _drained(runtime)
            log.info("ayo serve: stopping\n%s", runtime.summary())
            log.info("ayo serve: open LLM sessions: %s", _open_sessions(runtime))
            await runtime.aclose()
            log.info("ayo serve: engines stopped")

    routes = [
        Route("/workflows/{name}", state.call, methods=["POST"]),
        Route("/workflows/{name}/stream", state.stream, methods=["POST"]),
        Route("/workflows/{name}/graph", state.graph, methods=["GET"]),
        Route("/healthz", state.health, methods=["GET"]),
        Route("/metrics", state.metrics, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def problem_response(
    exc: BaseException, status: int | None = None, overload_status: int = 503
) -> JSONResponse:
    body = problem(exc, overload_status)
    if status is not None:
        body["status"] = status
    headers = {"Retry-After": RETRY_AFTER_S} if body["status"] in (429, 503) else None
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_JSON, headers=headers)


class _State:
    def __init__(self, workflows: dict[str, Workflow], runtime: Runtime, overload_status: int) -> None:
        self.workflows = workflows
        self.runtime = runtime
        self.overload_status = overload_status
        self.stopping = False

    def _workflow(self, request: Request) -> Workflow:
        name = request.path_params["name"]
        wf = self.workflows.get(name)
        if wf is None:
            raise LookupError(f"no workflow named {name!r} (serving: {sorted(self.workflows)})")
        return wf

    async def _query(self, request: Request) -> tuple[Any, float | None]:
        """The bound query and its deadline from a request's body and headers."""
        wf = self._workflow(request)
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as exc:
            raise AppError(f"the body is not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise AppError('the body must be a JSON object: {"args": ..., "deadline_s": ...}')
        unknown = set(body) - {"args", "deadline_s"}
        if unknown:
            raise AppError(f"unknown fields {sorted(unknown)}: the body holds args and deadline_s")
        args, kwargs = split_args(body.get("args"))
        deadline = body.get("deadline_s", request.headers.get(DEADLINE_HEADER))
        deadline_s = None if deadline is None else _seconds(deadline)
        return wf.query(*args, **kwargs), deadline_s

    async def call(self, request: Request) -> Response:
        token = CURRENT_RUNTIME.set(self.runtime)
        try:
            query, deadline_s = await self._query(request)
            value = await query.run(deadline_s)
        except (LookupError, AyoError, AppError, TypeError, ValueError) as exc:
            return _request_problem(exc, self.overload_status)
        finally:
            CURRENT_RUNTIME.reset(token)
        return JSONResponse({"result": to_json(value)})

    async def stream(self, request: Request) -> Response:
        from sse_starlette.sse import EventSourceResponse

        token = CURRENT_RUNTIME.set(self.runtime)
        try:
            query, deadline_s = await self._query(request)
            # Refused now, the refusal is the response's status; a query admitted later than this
            # check and refused then (a race) ends its stream with an ``error`` event instead.
            if (refusal := self.runtime.refuse_if_full()) is not None:
                raise refusal
            events = query.stream(deadline_s)  # the run starts when the response is sent
        except (LookupError, AyoError, AppError, TypeError, ValueError) as exc:
            return _request_problem(exc, self.overload_status)
        finally:
            CURRENT_RUNTIME.reset(token)
        return EventSourceResponse(_sse(events, self.runtime, self.overload_status))

    async def graph(self, request: Request) -> Response:
        try:
            wf = self._workflow(request)
            args, kwargs = split_args(json.loads(request.query_params.get("args", "null")))
            if not args and not kwargs:
                kwargs = placeholder_args(wf)
            optimized = request.query_params.get("optimized", "0") not in ("0", "false", "no", "")
            graph = wf.graph(*args, optimized=optimized, **kwargs)
        except (LookupError, AyoError, AppError, TypeError, ValueError) as exc:
            return _request_problem(exc, self.overload_status)
        fmt = request.query_params.get("format", "text")
        if fmt not in GRAPH_FORMATS:
            return problem_response(AppError(f"format must be one of {sorted(GRAPH_FORMATS)}"), 400)
        return PlainTextResponse(GRAPH_FORMATS[fmt](graph))

    async def health(self, request: Request) -> Response:
        status = "stopping" if self.stopping else "ok"
        return JSONResponse(
            {"status": status, "workflows": sorted(self.workflows)}, status_code=503 if self.stopping else 200
        )

    async def metrics(self, request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST

        text = metrics_text(self.runtime.stats(), engine_reports(self.runtime.engines))
        return Response(text, media_type=CONTENT_TYPE_LATEST)


GRAPH_FORMATS: dict[str, Any] = {
    "text": str,
    "mermaid": lambda g: g.to_mermaid(),
    "dot": lambda g: g.to_dot(),
}


async def _sse(
    events: AsyncGenerator[Any, None], runtime: Runtime, overload_status: int
) -> AsyncGenerator[dict[str, str], None]:
    """Stream events as server-sent events; a failure becomes an ``error`` event (the HTTP status
    is already sent). The client going away closes ``events``, which cancels the query."""
    CURRENT_RUNTIME.set(runtime)  # the response's own task runs the query: it must find the runtime
    async with contextlib.aclosing(events):
        try:
            async for event in events:
                data = to_json(asdict(event))
                yield {"event": event.kind, "data": json.dumps(data)}
        except AyoError as exc:
            yield {"event": "error", "data": json.dumps(problem(exc, overload_status))}


async def _drained(runtime: Runtime, timeout_s: float = DRAIN_TIMEOUT_S) -> None:
    """Wait (boundedly) for the queries uvicorn cancelled to unwind and release their sessions:
    it sends the shutdown event without waiting for the tasks it cancelled."""
    with anyio.move_on_after(timeout_s):
        while runtime.active:  # noqa: ASYNC110  (nothing signals the count's changes)
            await anyio.sleep(0.01)


def _open_sessions(runtime: Runtime) -> str:
    """``name=count`` of the LLM sessions each engine still holds (engines that report them)."""
    counts = []
    for name, engines in runtime.engines.items():
        held = [e.stats().get("sessions") for e in engines if hasattr(e, "stats")]
        if held and all(isinstance(n, int) for n in held):
            counts.append(f"{name}={sum(int(n or 0) for n in held)}")
    return " ".join(counts) or "none reported"


def _seconds(value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError) as exc:
        raise AppError(f"a deadline is a number of seconds, got {value!r}") from exc
    if not 0 < seconds < math.inf:
        raise AppError(f"a deadline must be a positive number of seconds, got {value!r}")
    return seconds


__all__ = ["DEADLINE_HEADER", "GRAPH_FORMATS", "RETRY_AFTER_S", "create_app"]


def _request_problem(exc: Exception, overload_status: int = 503) -> Response:
    """The problem response for what a request's call, stream or graph raised before running: an
    unknown workflow 404, an ayo error its own status, a bad body or argument 400."""
    if isinstance(exc, LookupError):
        return problem_response(exc, 404)
    if isinstance(exc, AyoError):
        return problem_response(exc, overload_status=overload_status)
    return problem_response(exc, 400)
