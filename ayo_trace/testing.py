"""Scripted engines: fast, deterministic stand-ins that keep the engine protocol exactly.

They exist for scheduler and pass tests (and benchmarks of the runtime's own overhead), never to
judge model quality. Each one:

* keeps the contracts of ``backend/engines/base.py`` (LLM sessions whose state depends only on
  their concatenated text, stop strings held back, ``max_tokens``, ``release``; a transactional,
  idempotent vector store),
* sleeps a configurable, batch-aware latency, so a batch of k requests costs less than k single
  requests and batching is observable in wall time,
* counts its calls and batch sizes (``calls``, ``batch_sizes``) for tests to assert on,
* keeps a history (``prompts``, ``released``, ``batch_sizes``) unless made with ``history=False``
  (load tests, whose memory must not grow with the number of queries),
* fails on demand: ``fail`` is a predicate over one request's text; a batch holding a request it
  accepts raises ``RuntimeError`` for the whole batch (as a real engine would).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import anyio
import numpy as np

from .backend.config import Backend, EngineConfig, register_backend
from .backend.engines.base import (
    DecodeChunk,
    DecodeRequest,
    EmbeddingEngine,
    Engine,
    LLMEngine,
    PrefillRequest,
    PrefillResult,
    RerankEngine,
    RerankRequest,
    ScoreRequest,
    Vector,
    VectorStore,
)
from .errors import InvalidRequest, StoreError, UnknownCollection
from .ir.params import Hit
from .ir.prompt import ChatTemplate

_TOKEN = re.compile(r"\s*\S+|\s+")
_WORD = re.compile(r"\w+")


def tokenize(text: str) -> list[str]:
    """Scripted tokens: runs of non-space with their leading space. ``"".join`` gives the text back."""
    return _TOKEN.findall(text)


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def default_response(prompt: str) -> str:
    """The deterministic default completion of ``prompt``."""
    digest = hashlib.sha1(prompt.encode()).hexdigest()
    return f" scripted answer {digest[:8]}"


class _Counting:
    """Call counters and the relevance score shared by the scripted engines."""

    history = True
    # A scripted call is a sleep of its scripted latency, usually none: not worth watching for a
    # deadline (``Engine.interruptible``). Subclasses that sleep for long say True.
    interruptible: ClassVar[bool] = False

    def _init_counts(self) -> None:
        self.calls: dict[str, int] = defaultdict(int)
        self.batch_sizes: dict[str, list[int]] = defaultdict(list)
        self.failures = 0

    def _count(self, method: str, size: int) -> None:
        self.calls[method] += 1
        if self.history:
            self.batch_sizes[method].append(size)

    async def _serve(
        self, op: str, seconds: float, *, items: int = 1, chars: int = 0, steps: int = 0, out_chars: int = 0
    ) -> None:
        """Spend one engine call's time: ``seconds``, the scripted latency. The call's sizes are
        passed too (``op``, the ``items`` in the batch, the ``chars`` of text it reads, the decode
        ``steps``, the ``out_chars`` of that text whose next-token distribution it computes: a
        score's continuation) for subclasses that compute their own time (the simulator's profile
        engines)."""
        await _sleep(seconds)

    def relevance(self, context: str, text: str) -> float:
        """The score of ``text`` given ``context`` (``overlap_score``; the simulator's profile engines
        remember each text's words)."""
        return overlap_score(context, text)

    def _check_fail(self, fail: Callable[[str], bool] | None, texts: Sequence[str], what: str) -> None:
        if fail is not None and any(fail(t) for t in texts):
            self.failures += 1
            raise RuntimeError(f"scripted {what} failure")


async def _sleep(seconds: float) -> None:
    # Always a checkpoint, even at zero latency, like any real engine call.
    await anyio.sleep(seconds) if seconds > 0 else await anyio.lowlevel.checkpoint()


# --- LLM -----------------------------------------------------------------------------------------


@dataclass
class _Decoding:
    text: str  # everything the model generates before it stops (max_tokens applied)
    ends: list[int]  # character offset in ``text`` after each generated token
    cut: int  # characters of ``text`` that may be shown (a stop string and what follows excluded)
    reason: str  # finish reason once every token is generated
    stops: tuple[str, ...]
    pos: int = 0  # tokens generated so far
    shown: int = 0  # characters returned so far

    def visible(self) -> int:
        """Characters that may be shown after ``pos`` tokens: never a stop string, and never a tail
        that could still become one (held back until it is known not to)."""
        done = self.pos >= len(self.ends)
        upto = min(self.cut, self.ends[self.pos - 1] if self.pos else 0)
        if done:
            return self.cut
        text = self.text[:upto]
        keep = 0
        for stop in self.stops:
            for n in range(min(len(stop) - 1, len(text)), keep, -1):
                if text.endswith(stop[:n]):
                    keep = n
                    break
        return upto - keep


def _plan_completion(completion: str, max_tokens: int, stops: tuple[str, ...]) -> _Decoding:
    tokens = tokenize(completion)
    ends: list[int] = []
    total = 0
    for t in tokens:
        total += len(t)
        ends.append(total)
    stops = tuple(s for s in stops if s)
    hits = [(i, len(s)) for s in stops if (i := completion.find(s)) >= 0]
    n_gen, reason, cut = len(tokens), "stop", len(completion)
    if len(tokens) > max_tokens:
        n_gen, reason = max_tokens, "length"
    if hits:
        first, length = min(hits)
        n_stop = next(n for n, e in enumerate(ends, 1) if e >= first + length)
        if n_stop <= max_tokens:
            n_gen, reason, cut = n_stop, "stop", first
    ends = ends[:n_gen]
    text = completion[: ends[-1]] if ends else ""
    return _Decoding(text=text, ends=ends, cut=min(cut, len(text)), reason=reason, stops=stops)


class ScriptedLLM(_Counting, LLMEngine):
    """An LLM whose completion of a session is ``respond(session text)``. Its decode checks for
    failures before any session advances (``atomic_decode``).

    ``respond`` is a function of the full prompt, a mapping from prompt to completion (prompts not in
    it get ``default_response``), or None for the default. A completion ends with end-of-sequence
    unless ``max_tokens`` or a stop string cut it first.

    Latency: a prefill call costs ``call_s + prefill_s_per_token * tokens in the batch``; a decode
    call costs ``call_s + decode_s_per_step * steps * (1 + batch_penalty * (k - 1))`` for k sessions,
    so k sessions decoding together cost far less than k decoding alone.

    ``chat_template``: what ``messages=`` renders with (None: the model has none).

    Shared prefixes: a new session's request marked ``shared`` whose text this engine has kept before
    costs no prefill time (a fork of the kept prefix); ``shared_prefixes`` counts the requests per
    prefix text, ``stats()`` the hits and misses.
    """

    atomic_decode = True

    def __init__(
        self,
        name: str = "llm",
        respond: Callable[[str], str] | Mapping[str, str] | None = None,
        *,
        prefill_s_per_token: float = 0.0,
        decode_s_per_step: float = 0.0,
        call_s: float = 0.0,
        batch_penalty: float = 0.1,
        context_length: int = 4096,
        fail: Callable[[str], bool] | None = None,
        history: bool = True,
        chat_template: ChatTemplate | None = None,
    ) -> None:
        super().__init__(name)
        self.template = chat_template
        self.history = history
        self._respond = respond
        self.prefill_s_per_token = prefill_s_per_token
        self.decode_s_per_step = decode_s_per_step
        self.call_s = call_s
        self.batch_penalty = batch_penalty
        self._context_length = context_length
        self.fail = fail
        self.sessions: dict[str, str] = {}
        self._decoding: dict[str, _Decoding] = {}
        self.released: list[str] = []
        self.peak_sessions = 0
        self.prompts: list[str] = []  # every session's text when its decode started
        self.shared_prefixes: dict[str, int] = defaultdict(int)
        self._kept: set[str] = set()  # shared prefix texts computed once
        self._prefix_counts = dict.fromkeys(("prefix_hits", "prefix_misses"), 0)
        self._init_counts()

    @property
    def context_length(self) -> int:
        return self._context_length

    def count_tokens(self, text: str) -> int:
        return len(tokenize(text))

    def chat_template(self) -> ChatTemplate | None:
        return self.template

    def respond(self, prompt: str) -> str:
        if self._respond is None:
            return default_response(prompt)
        if callable(self._respond):
            return self._respond(prompt)
        return self._respond.get(prompt, default_response(prompt))

    async def prefill(self, batch: Sequence[PrefillRequest]) -> list[PrefillResult]:
        self._count("prefill", len(batch))
        texts = {r.session: self.sessions.get(r.session, "") for r in batch}
        for r in batch:
            texts[r.session] += r.text
            if self.count_tokens(texts[r.session]) > self._context_length:
                raise InvalidRequest(
                    f"session {r.session!r} would hold {self.count_tokens(texts[r.session])} tokens, "
                    f"more than the context length {self._context_length}",
                    engine=self.name,
                )
        self._check_fail(self.fail, list(texts.values()), "prefill")
        n = [self.count_tokens(r.text) for r in batch]
        forked = [False] * len(batch)
        for i, r in enumerate(batch):
            key = r.text
            if not r.shared or r.session in self.sessions:
                continue
            self.shared_prefixes[key] += 1
            forked[i] = key in self._kept
            self._prefix_counts["prefix_hits" if forked[i] else "prefix_misses"] += 1
            self._kept.add(key)
        await self._serve(
            "prefill",
            self.call_s + self.prefill_s_per_token * sum(k for k, f in zip(n, forked, strict=True) if not f),
            items=len(batch),
            chars=sum(len(r.text) for r, f in zip(batch, forked, strict=True) if not f),
        )
        for r in batch:
            self.sessions[r.session] = self.sessions.get(r.session, "") + r.text
            self._decoding.pop(r.session, None)
        self.peak_sessions = max(self.peak_sessions, len(self.sessions))
        return [
            PrefillResult(n_tokens=0, n_cached=k) if f else PrefillResult(n_tokens=k)
            for k, f in zip(n, forked, strict=True)
        ]

    def _start(self, req: DecodeRequest) -> _Decoding:
        prompt = self.sessions[req.session]
        if self.history:
            self.prompts.append(prompt)
        return _plan_completion(self.respond(prompt), req.params.max_tokens, req.params.stop)

    async def decode(self, batch: Sequence[DecodeRequest], max_steps: int) -> list[DecodeChunk]:
        self._count("decode", len(batch))
        for r in batch:
            if r.session not in self.sessions:
                raise InvalidRequest(f"unknown session {r.session!r}", engine=self.name)
        self._check_fail(self.fail, [self.sessions[r.session] for r in batch], "decode")
        states = [self._decoding.get(r.session) or self._start(r) for r in batch]
        for r, st in zip(batch, states, strict=True):
            self._decoding[r.session] = st
        steps = max((min(max_steps, len(st.ends) - st.pos) for st in states), default=0)
        cost = self.decode_s_per_step * max(steps, 1) * (1 + self.batch_penalty * (len(batch) - 1))
        await self._serve("decode", self.call_s + cost, items=len(batch), steps=max(steps, 1))
        out: list[DecodeChunk] = []
        for r, st in zip(batch, states, strict=True):
            if self._decoding.get(r.session) is not st:  # released while the call ran
                out.append(DecodeChunk("", True, "abort"))
                continue
            n = min(max_steps, len(st.ends) - st.pos)
            st.pos += n
            done = st.pos >= len(st.ends)
            upto = st.visible()
            delta = st.text[st.shown : upto]
            st.shown = upto
            if done:
                self.sessions[r.session] += st.text[: st.cut]
                del self._decoding[r.session]
            out.append(DecodeChunk(delta, done, st.reason if done else None, n))
        return out

    async def release(self, sessions: Sequence[str]) -> None:
        self._count("release", len(sessions))
        for s in sessions:
            if self.sessions.pop(s, None) is not None and self.history:
                self.released.append(s)
            self._decoding.pop(s, None)

    async def score(self, batch: Sequence[ScoreRequest]) -> list[float]:
        self._count("score", len(batch))
        self._check_fail(self.fail, [r.context for r in batch], "score")
        await self._serve(
            "score",
            self.call_s + self.prefill_s_per_token * sum(self.count_tokens(r.context) for r in batch),
            items=len(batch),
            chars=sum(len(r.context) + len(r.continuation) for r in batch),
            out_chars=sum(len(r.continuation) for r in batch),
        )
        return [self.relevance(r.context, r.continuation) for r in batch]

    def stats(self) -> dict[str, Any]:
        return {
            "sessions": len(self.sessions),
            "peak_sessions": self.peak_sessions,
            "calls": dict(self.calls),
            **self._prefix_counts,
        }


def overlap_score(context: str, text: str) -> float:
    """A deterministic relevance score: the log of the share of ``text``'s words found in ``context``."""
    want = words(text)
    if not want:
        return 0.0
    have = set(words(context))
    share = sum(w in have for w in want) / len(want)
    return math.log(share + 1e-3)


# --- embedding, reranking ------------------------------------------------------------------------


class ScriptedEmbedder(_Counting, EmbeddingEngine):
    """Bag-of-words vectors hashed into ``dim`` buckets and normalized: texts that share words are
    near each other, so searches over scripted embeddings find sensible neighbours."""

    def __init__(
        self,
        name: str = "embed",
        *,
        dim: int = 32,
        call_s: float = 0.0,
        per_text_s: float = 0.0,
        fail: Callable[[str], bool] | None = None,
    ) -> None:
        super().__init__(name)
        self._dim = dim
        self.call_s = call_s
        self.per_text_s = per_text_s
        self.fail = fail
        self._init_counts()

    @property
    def dim(self) -> int:
        return self._dim

    def vector(self, text: str) -> list[float]:
        v = [0.0] * self._dim
        for w in words(text) or [text]:
            h = int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "little")
            v[h % self._dim] += 1.0 if (h >> 32) & 1 else -1.0
        norm = math.sqrt(sum(x * x for x in v))
        if norm == 0.0:
            return [1.0] + [0.0] * (self._dim - 1)
        return [x / norm for x in v]

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self._count("embed", len(texts))
        self._check_fail(self.fail, texts, "embed")
        await self._serve(
            "embed", self.call_s + self.per_text_s * len(texts), items=len(texts), chars=sum(map(len, texts))
        )
        return [self.vector(t) for t in texts]

    def stats(self) -> dict[str, Any]:
        return {"calls": dict(self.calls)}


class ScriptedReranker(_Counting, RerankEngine):
    """Scores a passage by the share of the query's words it contains (``overlap_score``)."""

    def __init__(
        self,
        name: str = "rerank",
        *,
        call_s: float = 0.0,
        per_passage_s: float = 0.0,
        fail: Callable[[str], bool] | None = None,
    ) -> None:
        super().__init__(name)
        self.call_s = call_s
        self.per_passage_s = per_passage_s
        self.fail = fail
        self._init_counts()

    async def score(self, batch: Sequence[RerankRequest]) -> list[list[float]]:
        self._count("score", len(batch))
        self._check_fail(self.fail, [r.query for r in batch], "rerank")
        pairs = sum(len(r.passages) for r in batch)
        chars = sum(len(r.query) * len(r.passages) + sum(map(len, r.passages)) for r in batch)
        await self._serve("score", self.call_s + self.per_passage_s * pairs, items=pairs, chars=chars)
        return [[self.relevance(p, r.query) for p in r.passages] for r in batch]


# --- vector store --------------------------------------------------------------------------------


@dataclass
class _Row:
    id: int
    text: str
    vector: list[float]


class ScriptedStore(_Counting, VectorStore):
    """An in-memory vector store with the real store's contract.

    Rows are deduplicated by text within a collection (inserting a text again is a no-op), every
    ``insert`` is all-or-nothing, and ``insert_stream`` commits only after its last chunk: if the
    chunk iterator raises or the call is cancelled, nothing it received is visible. An insert creates
    its collection, even an insert of no rows; a search of a collection never created (or dropped)
    raises ``UnknownCollection``.
    """

    def __init__(
        self,
        name: str = "store",
        *,
        call_s: float = 0.0,
        fail: Callable[[str], bool] | None = None,
    ) -> None:
        super().__init__(name)
        self.call_s = call_s
        self.fail = fail
        self.collections: dict[str, list[_Row]] = {}
        self._matrices: dict[str, tuple[int, np.ndarray, np.ndarray]] = {}
        self._next_id = 1
        self.transactions = 0
        self._init_counts()

    def _validate(self, texts: Sequence[str], vectors: Sequence[Vector]) -> None:
        if len(texts) != len(vectors):
            raise StoreError(f"{len(texts)} texts but {len(vectors)} vectors", engine=self.name)
        dims = {len(v) for v in vectors}
        if len(dims) > 1:
            raise StoreError(f"vectors of different dimensions {sorted(dims)}", engine=self.name)

    def _commit(self, collection: str, texts: Sequence[str], vectors: Sequence[Vector]) -> int:
        rows = self.collections.setdefault(collection, [])
        if rows and vectors and len(rows[0].vector) != len(vectors[0]):
            raise StoreError(
                f"collection {collection!r} holds {len(rows[0].vector)}-dim vectors, got {len(vectors[0])}",
                engine=self.name,
            )
        seen = {r.text for r in rows}
        new = 0
        for t, v in zip(texts, vectors, strict=True):
            if t in seen:
                continue
            seen.add(t)
            rows.append(_Row(self._next_id, t, list(v)))
            self._next_id += 1
            new += 1
        self.transactions += 1
        return new

    async def insert(self, collection: str, texts: Sequence[str], vectors: Sequence[Vector]) -> int:
        self._count("insert", len(texts))
        self._validate(texts, vectors)
        self._check_fail(self.fail, texts, "insert")
        await self._serve("insert", self.call_s, items=len(texts))
        return self._commit(collection, texts, vectors)

    async def held(self, collection: str, texts: Sequence[str]) -> set[str]:
        rows = {r.text for r in self.collections.get(collection, ())}
        return {t for t in texts if t in rows}

    async def insert_stream(
        self, collection: str, chunks: AsyncIterator[tuple[Sequence[str], Sequence[Vector]]]
    ) -> int:
        self._count("insert_stream", 1)
        texts: list[str] = []
        vectors: list[Vector] = []
        async for chunk_texts, chunk_vectors in chunks:
            self._validate(chunk_texts, chunk_vectors)
            self._check_fail(self.fail, chunk_texts, "insert")
            if self.history:
                self.batch_sizes["insert_stream_chunk"].append(len(chunk_texts))
            texts.extend(chunk_texts)
            vectors.extend(chunk_vectors)
            await self._serve("insert", self.call_s, items=len(chunk_texts))
        return self._commit(collection, texts, vectors)

    async def search(self, collection: str, vectors: Sequence[Vector], top_k: int) -> list[list[Hit]]:
        self._count("search", len(vectors))
        await self._serve("search", self.call_s, items=len(vectors))
        rows = self.collections.get(collection)
        if rows is None:
            raise UnknownCollection(collection, engine=self.name)
        out: list[list[Hit]] = []
        if not rows:
            return [[] for _ in vectors]
        matrix, ids = self._matrix(collection, rows)
        for q in vectors:
            qv = np.asarray(q, dtype=np.float64)
            norm = float(np.linalg.norm(qv))
            sims = matrix @ (qv / norm) if norm else np.zeros(len(rows))
            best = np.lexsort((ids, -sims))[:top_k]  # most similar first, ties by row id
            out.append([Hit(rows[i].text, float(sims[i]), rows[i].id, collection) for i in best.tolist()])
        return out

    def _matrix(self, collection: str, rows: list[_Row]) -> tuple[np.ndarray, np.ndarray]:
        """Row vectors, normalized, and row ids, cached until the collection changes."""
        cached = self._matrices.get(collection)
        if cached is not None and cached[0] == len(rows):
            return cached[1], cached[2]
        m = np.asarray([r.vector for r in rows], dtype=np.float64)
        norms = np.linalg.norm(m, axis=1, keepdims=True)
        m = np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)
        ids = np.asarray([r.id for r in rows], dtype=np.int64)
        self._matrices[collection] = (len(rows), m, ids)
        return m, ids

    async def count(self, collection: str) -> int:
        return len(self.collections.get(collection, []))

    async def drop(self, collection: str) -> None:
        self.collections.pop(collection, None)
        self._matrices.pop(collection, None)

    def stats(self) -> dict[str, Any]:
        return {"collections": {k: len(v) for k, v in self.collections.items()}, "calls": dict(self.calls)}


_SCRIPTED: dict[str, type[Engine]] = {
    "llm": ScriptedLLM,
    "embedding": ScriptedEmbedder,
    "rerank": ScriptedReranker,
    "vector_store": ScriptedStore,
}


def build_scripted(config: EngineConfig, name: str, built: Mapping[str, Engine]) -> Engine:
    """The ``"scripted"`` backend's factory: the scripted engine of ``config.kind``, made with
    ``config.options`` (the other config fields mean nothing to a scripted engine)."""
    return _SCRIPTED[config.kind](name=name, **config.options)


# Importing this module makes ``EngineConfig(..., backend="scripted")`` buildable (tests do).
register_backend("scripted", Backend("any", build_scripted))


def scripted_engines(**llm_kwargs: Any) -> list[Any]:
    """One scripted engine of each kind under the default names (llm, embed, store, rerank)."""
    return [
        ScriptedLLM("llm", **llm_kwargs),
        ScriptedEmbedder("embed"),
        ScriptedStore("store"),
        ScriptedReranker("rerank"),
    ]


__all__ = [
    "ScriptedEmbedder",
    "ScriptedLLM",
    "ScriptedReranker",
    "ScriptedStore",
    "build_scripted",
    "default_response",
    "overlap_score",
    "scripted_engines",
    "tokenize",
]
