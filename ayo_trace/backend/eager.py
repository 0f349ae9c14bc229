"""The eager primitives of a ``Runtime``: what ``ayo.llm`` and its kin call when they run at once
(in ``eager`` mode, in a graph break, outside any workflow).

Each is one ``EngineClient`` call inside ``Runtime.serve`` (a query of its own, unless it runs
within one), the same call a traced node makes, so a traced node computes exactly what the eager
call does. ``Runtime`` inherits them; they need only its client, ``ensure_started`` and ``serve``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from ..ir.params import Hit, SamplingParams, SearchParams
from ..ir.parsers import Parser
from ..ir.spec import PrimitiveSpec

if TYPE_CHECKING:
    from .engine_client import EngineClient
    from .policy import QueryTag


class EagerPrimitives:
    """``llm``, ``embed``, ``ingest``, ``search``, ``rerank``, and ``call`` for a registered
    primitive, on the runtime's engine client."""

    if TYPE_CHECKING:
        client: EngineClient
        _eager_ids: Iterator[int]

        async def ensure_started(self) -> None: ...

        def serve(
            self, query_id: str | None = None, work: float = 0.0, deadline_s: float | None = None
        ) -> AbstractAsyncContextManager[QueryTag]: ...

    async def llm(
        self, prompt: str, sampling: SamplingParams, parse: Parser | None = None, engine: str | None = None
    ) -> str | list[Any]:
        """Complete ``prompt``; with ``parse``, the list of parsed items."""
        await self.ensure_started()
        session = self.client.session(f"eager/{next(self._eager_ids)}", engine)
        async with self.serve():  # a query of its own, unless within one
            return await self.client.generate(session, prompt, sampling, parse, 0.0)

    async def embed(self, texts: str | list[str], engine: str | None = None) -> Any:
        """A vector for a string, a list of vectors for a list of strings."""
        await self.ensure_started()
        async with self.serve():  # a query of its own, unless within one
            return await self.client.embed(texts, engine, 0.0)

    async def ingest(
        self, passages: list[str], collection: str, engine: str | None = None, embed_engine: str | None = None
    ) -> int:
        """Embed ``passages`` and insert them into ``collection`` in one transaction; new rows."""
        await self.ensure_started()
        async with self.serve():  # a query of its own, unless within one
            return await self.client.ingest(passages, collection, engine, embed_engine, 0.0)

    async def search(
        self, query: str, params: SearchParams, engine: str | None = None, embed_engine: str | None = None
    ) -> list[Hit]:
        """The ``params.top_k`` passages of ``params.collection`` nearest to ``query``, best first."""
        await self.ensure_started()
        async with self.serve():  # a query of its own, unless within one
            return await self.client.search(query, params, engine, embed_engine, 0.0)

    async def call(self, spec: PrimitiveSpec, values: Mapping[str, Any]) -> Any:
        """One call of the registered primitive ``spec`` with its arguments by name (see
        ``EngineClient.call``)."""
        await self.ensure_started()
        async with self.serve():  # a query of its own, unless within one
            return await self.client.call(spec, values, 0.0)

    async def rerank(
        self, query: str, passages: list[str | Hit], top_k: int, engine: str | None = None
    ) -> list[Hit]:
        """The ``top_k`` most relevant passages, best first; str passages become ``Hit(text, score)``."""
        await self.ensure_started()
        async with self.serve():  # a query of its own, unless within one
            return await self.client.rerank(query, passages, top_k, engine, 0.0)


__all__ = ["EagerPrimitives"]
