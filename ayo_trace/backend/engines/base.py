"""The engine protocol: small, async, batch-oriented, one base class per kind of engine.

Engines are adapters around a real library (llama.cpp, transformers, vLLM, sentence-transformers,
PostgreSQL + pgvector). They are async context managers (``start`` loads the model or connects,
``stop`` frees it), take whole batches that an engine scheduler formed, and never see scheduler or
graph state: a request carries only what the engine needs. The heavy library of each engine is
imported inside its adapter module only, so importing this package stays cheap.

Contracts every LLM engine keeps (the test suite checks them on every engine):

* A *session* is engine-side state for one prompt, named by the caller (``PrefillRequest.session``).
  ``prefill`` appends a text segment to the session, creating the session on first use. The KV state
  after any sequence of prefills equals that of one prefill of the concatenated text: the engine
  tokenizes the session's whole text and recomputes only the tokens past the longest common prefix
  with what it holds, so a split at any character gives the same tokens, logits and greedy output as
  the unsplit prompt.
* ``decode`` advances each session by at most ``max_steps`` tokens and returns the text produced in
  this call; decoding continues across calls until a chunk says ``done`` (max_tokens reached, a stop
  string found, or end of sequence). Stop strings are never part of the text; text that could be the
  start of a stop string is held back until it is known not to be. Greedy decoding is deterministic.
* ``release`` frees sessions (unknown names are ignored) and aborts any work in flight for them.
* A request that can never be served (too long for the context window) raises ``InvalidRequest``
  and leaves the session as it was.
* Shared prefixes: the first request of a new session may be marked ``shared``; its text is then
  a prompt prefix that other sessions (other queries, other workflows) start with too. An engine
  that shares prefixes keeps that text's KV state, keyed by its token ids (never by the name), and
  starts later sessions asking for the same tokens from a copy of it; the session's KV state is still
  that of a prefill of its whole text, so outputs do not change. Many sessions asking at once get it
  computed once; kept prefixes live under a memory budget with LRU eviction, and a session never
  depends on a kept prefix after its first prefill, so an evicted prefix is simply computed again by
  the next session that asks. ``stats()`` reports ``prefix_hits``, ``prefix_misses``,
  ``prefix_evictions`` and ``prefix_tokens_held`` (``engines/_prefix_cache.py``). On a session that
  already exists the field is ignored, and engines without sharing ignore it.

Any engine may fail one request of a batch alone by returning an ``EngineError`` in that request's
place in the result list (the Ray proxies do so for a session lost with its actor); raising fails the
whole batch. A call that raises must leave every request of it as it was (a prefill commits a
session's text, and a decode advances a session, only when the call succeeds): the engine scheduler
then runs the batch again in halves to find the request at fault (``backend/isolation.py``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Self

from ...errors import ConfigError
from ...ir.params import Hit, SamplingParams
from ...ir.prompt import ChatTemplate

Vector = Sequence[float]


def require_asyncio(engine: str, needs: str) -> None:
    """Raise ``ConfigError`` unless an asyncio loop runs this task: for engines whose library only
    runs on asyncio (``needs`` names it), started from trio or another anyio backend."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise ConfigError(
            f"engine {engine!r} needs the asyncio backend ({needs}); run the runtime under asyncio "
            "(anyio.run(main) or asyncio.run(main)), not trio"
        ) from None


class Engine(ABC):
    """Base of all engines: a named async context manager with stats."""

    kind: ClassVar[str]
    # True when a call can take long enough that a deadline should interrupt it (work in a worker
    # thread, on a device, behind a network). The engine scheduler then watches a batch's leader for
    # cancellation (a task per batch, tens of microseconds); an engine whose calls end at once (the
    # zero-latency scripted ones) says False and its batches simply run to completion.
    interruptible: ClassVar[bool] = True

    def __init__(self, name: str) -> None:
        self.name = name

    async def start(self) -> None:  # noqa: B027 (an optional hook)
        """Load the model or connect. Called once by ``__aenter__``."""

    async def stop(self) -> None:  # noqa: B027 (an optional hook)
        """Free everything ``start`` took. Called once by ``__aexit__``."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def stats(self) -> dict[str, Any]:
        """Counters the engine keeps about itself (tokens computed, sessions held, ...)."""
        return {}

    def cpu_threads(self) -> int:
        """The threads of this process's CPU its calls compute on (0: none, the work runs on a GPU,
        another process or another machine). The runtime makes engines that would together
        oversubscribe the cores take turns (``backend/cpu_share.py``)."""
        return 0


# --- LLM -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrefillRequest:
    """Append ``text`` to ``session`` (created on first use) and compute its KV state.

    ``shared`` marks ``text`` as a cross-query prefix the session starts from; engines that support
    prefix sharing keep it (keyed by its tokens) and fork it instead of recomputing it. ``ahead`` marks a part prefilled ahead
    of time (a later part of the same prompt follows): the runtime may postpone it when the engine
    has no session slot free, and engines may ignore the flag.
    """

    session: str
    text: str
    shared: bool = False
    ahead: bool = False


@dataclass(frozen=True)
class PrefillResult:
    n_tokens: int  # tokens computed by this prefill
    n_cached: int = 0  # tokens reused instead of computed


@dataclass(frozen=True)
class DecodeRequest:
    session: str
    params: SamplingParams


@dataclass(frozen=True)
class DecodeChunk:
    text: str  # text produced by this call for this session (may be empty)
    done: bool
    # "stop" (stop string or end of sequence), "length" (max_tokens), "abort" (released mid-decode)
    finish_reason: str | None = None
    n_tokens: int = 0  # tokens generated by this call


@dataclass(frozen=True)
class ScoreRequest:
    """Log-likelihood of ``continuation`` given ``context`` (prefill-only work)."""

    context: str
    continuation: str


class LLMEngine(Engine):
    kind: ClassVar[str] = "llm"
    # True when a ``decode`` call that raises has advanced no session (everything that can fail is
    # checked before any session samples): the engine scheduler may then run a failed decode batch
    # again in halves. Otherwise every member of a failed decode batch fails (a decode may have
    # produced text no one received) and is retried alone, on a reopened session.
    atomic_decode: ClassVar[bool] = False

    @property
    @abstractmethod
    def context_length(self) -> int: ...

    @property
    def max_sessions(self) -> int | None:
        """How many sessions the engine can hold at once (None: no fixed limit). The runtime admits
        new sessions below this, so a burst of queries waits for a slot instead of failing."""
        return None

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` as a prompt would hold them (without BOS)."""

    def chat_template(self) -> ChatTemplate | None:
        """The model's chat template (what ``messages=`` renders with; the engine is started), or
        None when it has none. Engines whose model carries one override this."""
        return None

    @abstractmethod
    async def prefill(self, batch: Sequence[PrefillRequest]) -> list[PrefillResult]: ...

    @abstractmethod
    async def decode(self, batch: Sequence[DecodeRequest], max_steps: int) -> list[DecodeChunk]: ...

    @abstractmethod
    async def release(self, sessions: Sequence[str]) -> None: ...

    async def score(self, batch: Sequence[ScoreRequest]) -> list[float]:
        raise NotImplementedError(f"{type(self).__name__} cannot score continuations")


# --- embedding, reranking, vector store ----------------------------------------------------------


class EmbeddingEngine(Engine):
    kind: ClassVar[str] = "embedding"

    @property
    @abstractmethod
    def dim(self) -> int: ...

    @abstractmethod
    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order; the whole list is one batch."""


@dataclass(frozen=True)
class RerankRequest:
    query: str
    passages: tuple[str, ...]


def scores_per_request(flat: Sequence[float], batch: Sequence[RerankRequest]) -> list[list[float]]:
    """``flat`` (a score per passage, the batch's requests' passages in order) as a list per request."""
    scores: list[list[float]] = []
    start = 0
    for request in batch:
        scores.append(list(flat[start : start + len(request.passages)]))
        start += len(request.passages)
    return scores


class RerankEngine(Engine):
    kind: ClassVar[str] = "rerank"

    @abstractmethod
    async def score(self, batch: Sequence[RerankRequest]) -> list[list[float]]:
        """A relevance score per passage of each request, higher is more relevant."""


class LLMScoredReranker(RerankEngine):
    """A reranker whose scores are an LLM's log-likelihoods (``llm.score``). The runtime calls
    ``score_with`` with its scheduler of ``llm`` as ``scorer`` when it schedules that LLM, so reranking
    shares the LLM's batches and priorities; ``score`` calls ``llm.score`` directly."""

    llm: LLMEngine

    async def score(self, batch: Sequence[RerankRequest]) -> list[list[float]]:
        return await self.score_with(batch, self.llm.score)

    @abstractmethod
    async def score_with(
        self,
        batch: Sequence[RerankRequest],
        scorer: Callable[[list[ScoreRequest]], Awaitable[Sequence[float]]],
    ) -> list[list[float]]:
        """``score``, with the LLM's log-likelihoods computed by ``scorer`` instead of ``llm.score``."""


class VectorStore(Engine):
    """Collections of (text, vector) rows. Inserting a text a collection already holds is a no-op,
    so ingestion is idempotent and safe to retry. Every insert is one transaction.

    A collection exists once an insert into it has committed, even an insert of no rows (which
    creates it empty); ``drop`` removes it. A search of a collection that does not exist raises
    ``UnknownCollection`` (a mistyped name must not look like an empty collection); a search of an
    empty one finds nothing. ``count`` of a missing collection is 0 and ``drop`` of one does nothing."""

    kind: ClassVar[str] = "vector_store"

    @abstractmethod
    async def insert(self, collection: str, texts: Sequence[str], vectors: Sequence[Vector]) -> int:
        """Insert rows in one transaction, creating the collection if needed (even for no rows);
        returns the number of new rows."""

    @abstractmethod
    async def insert_stream(
        self, collection: str, chunks: AsyncIterator[tuple[Sequence[str], Sequence[Vector]]]
    ) -> int:
        """Insert chunks as they arrive, all in one transaction committed after the last chunk."""

    @abstractmethod
    async def search(self, collection: str, vectors: Sequence[Vector], top_k: int) -> list[list[Hit]]:
        """Nearest rows by cosine distance for each query vector; ``Hit.score`` is the similarity.
        Raises ``UnknownCollection`` when ``collection`` does not exist."""

    @abstractmethod
    async def count(self, collection: str) -> int: ...

    async def held(self, collection: str, texts: Sequence[str]) -> set[str]:
        """Which of ``texts`` the collection holds already (none of a missing collection), so ingest
        embeds only the others. A store that cannot tell says none (everything is embedded)."""
        return set()

    @abstractmethod
    async def drop(self, collection: str) -> None: ...
