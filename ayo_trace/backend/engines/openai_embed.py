"""An embedding model served over the OpenAI-compatible embeddings API (``/v1/embeddings``).

``embed`` sends the texts in requests of at most ``batch_size`` inputs (servers cap a request's
inputs; OpenAI's at 2048), concurrently within the endpoint's ``max_concurrency``, asks for plain
floats (``encoding_format="float"``; some servers cannot send base64) and puts the vectors back in
input order by the ``index`` each carries. ``dim`` is read at ``start`` from one probe request unless
given. ``normalize=True`` scales each vector to unit length (the vector store compares by cosine,
which does not need it). Connection, retries, timeouts and errors: ``openai_client``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import anyio

from ..._concurrency import gather
from ...errors import ConfigError, EngineError
from .base import EmbeddingEngine
from .openai_client import Endpoint, Limits, pick_model, translate


class OpenAIEmbedder(EmbeddingEngine):
    """Embedding engine on an OpenAI-compatible server (see the module docstring)."""

    def __init__(
        self,
        name: str = "openai-embed",
        model: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        api_key_env: str | None = None,
        max_concurrency: int = 16,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        dim: int | None = None,
        batch_size: int = 64,
        normalize: bool = False,
    ) -> None:
        super().__init__(name)
        self.endpoint = Endpoint.resolve(
            name,
            base_url=base_url,
            api_key=api_key,
            api_key_env=api_key_env,
            model=model,
            max_concurrency=max_concurrency,
            timeout_s=timeout_s,
            max_retries=max_retries,
        )
        if batch_size < 1 or (dim is not None and dim < 1):
            raise ConfigError(f"engine {name!r}: batch_size and dim must be at least 1")
        self.batch_size = batch_size
        self.normalize = normalize
        self._dim = dim
        self._client: Any = None
        self.model = ""
        self.limits = Limits(max_concurrency)
        self._counters = {"requests": 0, "texts": 0}

    async def start(self) -> None:
        client = self.endpoint.client()
        try:
            self.model, _ = await pick_model(client, self.endpoint, self.name)
            self._client = client
            if self._dim is None:
                self._dim = len((await self._request(["dimension probe"]))[0])
        except BaseException:
            self._client = None
            with anyio.CancelScope(shield=True):
                await client.close()
            raise

    async def stop(self) -> None:
        if self._client is not None:
            with anyio.CancelScope(shield=True):
                await self._client.close()
            self._client = None

    @property
    def dim(self) -> int:
        if self._dim is None:
            raise EngineError("engine is not started: its dimension is read at start", engine=self.name)
        return self._dim

    def stats(self) -> dict[str, Any]:
        return {**self._counters, "peak_requests_in_flight": self.limits.peak}

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if self._client is None:
            raise EngineError("engine is not started (use 'async with engine:')", engine=self.name)
        chunks = [list(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        parts = await gather(lambda c=c: self._request(c) for c in chunks)  # type: ignore[misc]
        vectors = [v for part in parts for v in part]
        self._counters["texts"] += len(texts)
        if vectors and any(len(v) != self.dim for v in vectors):
            raise EngineError(
                f"the server returned vectors of {len(vectors[0])} dimensions, not {self.dim}",
                engine=self.name,
            )
        return vectors

    async def _request(self, texts: list[str]) -> list[list[float]]:
        self._counters["requests"] += 1
        async with self.limits.request():
            try:
                reply = await self._client.embeddings.create(
                    model=self.model, input=texts, encoding_format="float"
                )
            except Exception as exc:
                raise translate(exc, self.name, f"embedding {len(texts)} texts") from exc
        rows = sorted(reply.data, key=lambda d: d.index)
        if len(rows) != len(texts):
            raise EngineError(f"{len(texts)} texts sent but {len(rows)} vectors returned", engine=self.name)
        vectors = [[float(x) for x in row.embedding] for row in rows]
        if self.normalize:
            vectors = [_unit(v) for v in vectors]
        return vectors


def _unit(v: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v] if norm > 0 else v


__all__ = ["OpenAIEmbedder"]
