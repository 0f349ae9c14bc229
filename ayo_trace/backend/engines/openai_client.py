"""What the OpenAI-compatible engines share: where the server is, the client, its limits and errors.

Both engines (``openai_llm.OpenAILLM``, ``openai_embed.OpenAIEmbedder``) talk to a server that speaks
the OpenAI HTTP API (``vllm serve``, llama.cpp's ``llama-server`` or llama-cpp-python's server,
SGLang, Ollama, a hosted API) through the ``openai`` package's ``AsyncOpenAI`` client:

* **Where**: ``base_url`` (e.g. ``http://localhost:8000/v1``), else ``$AYO_OPENAI_BASE_URL``, else
  ``$OPENAI_BASE_URL``. **Key**: ``api_key`` if given (keep it out of config files), else the
  variable named by ``api_key_env``, else ``$AYO_OPENAI_API_KEY``, else ``$OPENAI_API_KEY``, else a
  placeholder (local servers need none).
* **Retries**: the client's own (``max_retries``, 2 by default): exponential backoff with jitter
  from 0.5 s up to 8 s, honouring the server's ``Retry-After``, on connection errors, timeouts, 408,
  409, 429 and 5xx, and only before a response starts (a stream is never replayed halfway, which
  would duplicate text). It is the retry policy OpenAI maintains for exactly this API.
* **Timeouts**: ``timeout_s`` bounds each request (connect, and the wait for each read: for a
  stream, the gap between two events, not the whole stream).
* **Concurrency**: ``max_concurrency`` bounds the requests in flight at once (an open stream holds
  its place until it ends); see ``Limits``.

Errors are translated at the boundary: a request the server refuses as malformed (400, 413, 422:
a prompt longer than its context, say) is ``InvalidRequest``; a wrong key or URL (401, 403, 404) is
``ConfigError``; a rate limit or overload still failing after the retries (429, 503) is
``Overloaded``; anything else (a timeout, a refused connection, another 5xx) is ``EngineError``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio

from ...errors import AyoError, ConfigError, EngineError, InvalidRequest, Overloaded

KEY_VARIABLES = ("AYO_OPENAI_API_KEY", "OPENAI_API_KEY")
URL_VARIABLES = ("AYO_OPENAI_BASE_URL", "OPENAI_BASE_URL")
NO_KEY = "no-key"  # what the client sends when no key is configured (local servers check none)


@dataclass(frozen=True)
class Endpoint:
    """Where and how to reach one OpenAI-compatible server (see the module docstring)."""

    base_url: str
    api_key: str
    model: str = ""  # empty: the one model the server lists
    max_concurrency: int = 16
    timeout_s: float = 60.0
    max_retries: int = 2

    @classmethod
    def resolve(
        cls,
        engine: str,
        *,
        base_url: str | None,
        api_key: str | None,
        api_key_env: str | None,
        model: str | None,
        max_concurrency: int,
        timeout_s: float,
        max_retries: int,
    ) -> Endpoint:
        url = base_url or next((os.environ[v] for v in URL_VARIABLES if os.environ.get(v)), "")
        if not url:
            raise ConfigError(
                f"engine {engine!r}: no server URL; pass base_url= (e.g. 'http://localhost:8000/v1') "
                f"or set {' or '.join(URL_VARIABLES)}"
            )
        if api_key_env is not None and not os.environ.get(api_key_env):
            raise ConfigError(f"engine {engine!r}: api_key_env names ${api_key_env}, which is not set")
        names = (api_key_env,) if api_key_env is not None else KEY_VARIABLES
        key = api_key or next((os.environ[v] for v in names if os.environ.get(v)), NO_KEY)
        if max_concurrency < 1 or max_retries < 0 or not timeout_s > 0:
            raise ConfigError(
                f"engine {engine!r}: max_concurrency must be >= 1, max_retries >= 0 and timeout_s > 0"
            )
        return cls(url.rstrip("/"), key, model or "", max_concurrency, float(timeout_s), max_retries)

    def client(self) -> Any:
        """A new ``AsyncOpenAI`` client for this endpoint."""
        try:
            import openai
        except ImportError as exc:  # pragma: no cover - the extra is documented
            raise ConfigError(
                "the OpenAI-compatible engines need the 'openai' package (extra 'openai')"
            ) from exc
        return openai.AsyncOpenAI(
            base_url=self.base_url, api_key=self.api_key, timeout=self.timeout_s, max_retries=self.max_retries
        )


async def served_models(client: Any, engine: str) -> list[Any]:
    """The server's ``/v1/models`` entries (``ConfigError`` when the server cannot be reached)."""
    try:
        return [m async for m in client.models.list()]
    except Exception as exc:
        raise translate(exc, engine, "listing the served models") from exc


async def pick_model(client: Any, endpoint: Endpoint, engine: str) -> tuple[str, Any]:
    """The model name to send and its ``/v1/models`` entry (None when the server does not list it)."""
    models = await served_models(client, engine)
    if endpoint.model:
        return endpoint.model, next((m for m in models if m.id == endpoint.model), None)
    if len(models) != 1:
        raise ConfigError(
            f"engine {engine!r}: the server at {endpoint.base_url} serves {[m.id for m in models]}; "
            "pick one with model="
        )
    return models[0].id, models[0]


class Limits:
    """At most ``n`` requests in flight. A one-shot request holds a place while it runs
    (``request``); a stream holds one from when it opens until ``close`` (``open``/``close``, by
    owner, across calls and tasks)."""

    def __init__(self, n: int) -> None:
        self._limiter = anyio.CapacityLimiter(n)
        self.peak = 0

    @property
    def in_flight(self) -> int:
        return int(self._limiter.borrowed_tokens)

    @asynccontextmanager
    async def request(self) -> AsyncIterator[None]:
        async with self._limiter:
            self.peak = max(self.peak, self.in_flight)
            yield

    async def open(self, owner: object) -> None:
        await self._limiter.acquire_on_behalf_of(owner)
        self.peak = max(self.peak, self.in_flight)

    def close(self, owner: object) -> None:
        self._limiter.release_on_behalf_of(owner)


def translate(exc: BaseException, engine: str, doing: str) -> AyoError:
    """The ayo error for an exception the ``openai`` client raised while ``doing`` something."""
    import openai

    if isinstance(exc, AyoError):
        return exc
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        detail = f"{doing}: the server answered {status}: {_message(exc)}"
        if status in (400, 413, 422):
            return InvalidRequest(detail, engine=engine)
        if status in (401, 403, 404):
            return ConfigError(f"engine {engine!r}: {detail} (check base_url, model= and the API key)")
        if status in (429, 503):
            return Overloaded(detail, engine=engine)
        return EngineError(detail, engine=engine)
    if isinstance(exc, openai.APITimeoutError):
        return EngineError(f"{doing}: no answer within the timeout (timeout_s)", engine=engine)
    if isinstance(exc, openai.APIConnectionError):
        return EngineError(f"{doing}: cannot reach the server: {exc}", engine=engine)
    return EngineError(f"{doing}: {type(exc).__name__}: {exc}", engine=engine)


def _message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if body.get("message"):
            return str(body["message"])
    return str(getattr(exc, "message", exc))


__all__ = ["KEY_VARIABLES", "URL_VARIABLES", "Endpoint", "Limits", "pick_model", "served_models", "translate"]
