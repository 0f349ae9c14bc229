"""The base of the CPU LLM engines that keep sessions in memory (llama.cpp, transformers).

Both run their model calls one at a time in a worker thread (``SerialWorker``) and keep, per
session, its text, the token ids its KV state holds and the logits after the last of them. What
they share lives here: the protocol methods, prefill rounds (tokenize the whole session text, keep
the longest common token prefix with what the session holds, compute the rest), shared prefixes
(fork a kept prefix, compute a missed one once per call and keep it), the decode loop (sample,
detokenize, stop) and score planning. An engine supplies only what differs: tokenization, how a
session's KV state is created, cut, forked and kept, and the model calls
(``_compute``, ``_step``, ``_score``).

``batching`` (an engine option, True by default, as the runtime's): when a call carries several
requests, the engine may evaluate their prompts (prefills of several sessions, likelihood scores)
in shared model calls, which is faster but makes results depend on the batch (kernels round
differently for different batch shapes, as every serving engine's do). With ``batching=False``
each request is evaluated alone, so results do not depend on what else was in the call. A call of
one request is evaluated the same way in both modes, which is what a runtime with
``batching=False`` sends (one request per engine call), so its results are exact either way.
Decode steps of several sessions always share a model call.
"""

from __future__ import annotations

import contextlib
import threading
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np

from ...errors import ConfigError, EngineError, InvalidRequest
from ...ir.prompt import Prompt
from ._decoding import (
    Detokenizer,
    SerialWorker,
    TextStream,
    check_decode_batch,
    decode_chunks,
    prefill_rounds,
    reuse_length,
    sample,
)
from ._prefix_cache import PrefixCache, PrefixEntry
from ._special import tokenize_prompt
from .base import DecodeChunk, DecodeRequest, LLMEngine, PrefillRequest, PrefillResult, ScoreRequest

T = TypeVar("T")
P = TypeVar("P")  # the engine's state of a kept prefix

COUNTERS = (
    "prompt_tokens_computed",
    "prompt_tokens_cached",
    "generated_tokens",
    "scored_tokens",
    "prefill_model_calls",  # model calls made by prefills (one per session and block without batching)
    "score_model_calls",  # model calls made by scores (one per request without batching)
)


@dataclass(eq=False)
class Session:
    """One session's state; engines subclass it with where its KV state lives."""

    name: str
    text: str = ""
    tokens: list[int] = field(default_factory=list)  # exactly what the session's KV state holds
    logits: np.ndarray | None = None  # logits after the last token of ``tokens``
    stream: TextStream | None = None
    constraint: Any = None  # the engine's constrained-decoding state (``_constraint``) while decoding
    released: bool = False

    def end_constraint(self) -> None:
        # taken before it is closed: a release on the event loop and a decode's end in the worker
        # thread may both end it (closing twice is harmless; neither sees it half-ended)
        c, self.constraint = self.constraint, None
        if c is not None:
            c.close()


S = TypeVar("S", bound=Session)
# A prefill plan: the session's whole text and its token ids (BOS first).
Plan = tuple[str, list[int]]
# Fresh tokens of one session to evaluate on top of what it holds.
Work = tuple[S, list[int]]


class SessionLLM(LLMEngine, Generic[S, P]):
    """Base of session-keeping CPU LLM engines. See the module docstring."""

    # How a too-long prompt's error tells the user to make room (the engine's own option).
    context_hint: ClassVar[str] = "start the engine with a larger context"

    def __init__(self, name: str, *, prefix_cache_tokens: int, batching: bool, n_ctx: int) -> None:
        super().__init__(name)
        if prefix_cache_tokens < 0:
            raise ConfigError(f"engine {name!r}: prefix_cache_tokens must be >= 0")
        self.batching = batching
        self._n_ctx = n_ctx
        self._worker = SerialWorker()
        self._sessions: dict[str, S] = {}
        self.prefixes: PrefixCache[P] = PrefixCache(prefix_cache_tokens, self._evict_prefix)
        self._counters = dict.fromkeys(COUNTERS, 0)

    # --- what an engine supplies ------------------------------------------------------------------

    @property
    @abstractmethod
    def _loaded(self) -> bool:
        """Whether the model is loaded (between ``start`` and ``stop``)."""

    @abstractmethod
    def _tokenize(self, text: str, *, bos: bool) -> list[int]:
        """Token ids of ``text`` as plain text: special tokens are never parsed in it."""

    @abstractmethod
    def _specials_in(self, markup: str) -> list[tuple[str, int]]:
        """The special tokens of chat-template markup text, in order, as (text, id)."""

    def _tokenize_prompt(self, text: str, *, bos: bool) -> list[int]:
        """Token ids of a session's text: special tokens parsed in its markup only (``_special``)."""
        return tokenize_prompt(text, bos, lambda t, b: self._tokenize(t, bos=b), self._specials_in)

    @abstractmethod
    def _is_eos(self, token: int) -> bool: ...

    @abstractmethod
    def _detokenizer(self, s: S) -> Detokenizer:
        """A fresh detokenizer for what ``s`` generates next."""

    @abstractmethod
    def _check_room(self, new: list[str]) -> None:
        """Raise ``Overloaded`` unless sessions ``new`` can be opened now (before any work)."""

    @abstractmethod
    def _open(self, name: str, *, ahead: bool) -> S:
        """A new session (``ahead``: prefilled ahead of time, it idles until its query reaches it)."""

    @abstractmethod
    def _truncate(self, s: S, n: int) -> None:
        """Make ``s`` hold its first ``n`` tokens only (worker thread)."""

    @abstractmethod
    def _fork(self, s: S, state: P, tokens: Sequence[int], logits: np.ndarray) -> None:
        """Make ``s`` hold the prefix ``state`` holds (``tokens``, then ``logits``) (worker thread)."""

    @abstractmethod
    def _state_of(self, s: S) -> P:
        """The state of session ``s`` that ``_fork`` copies from (worker thread)."""

    @abstractmethod
    def _keep(self, s: S) -> P | None:
        """A copy of ``s``'s state to keep as a prefix, or None when there is no room (worker thread)."""

    def _evict_prefix(self, entry: PrefixEntry[P]) -> None:
        """Free the state of an evicted prefix."""

    @abstractmethod
    def _compute(self, work: list[Work[S]], stop: threading.Event) -> None:
        """Evaluate each session's fresh tokens on top of what it holds: append them to its
        ``tokens``, set its ``logits``, count ``prompt_tokens_computed``; raise ``Stopped`` when
        ``stop`` is set between model calls (worker thread)."""

    def _constraint(self, params: Any) -> Any:
        """Constrained-decoding state for ``params.json_schema`` (``mask(logits, greedy)``,
        ``accept(token)``, ``close()``), or None: this engine decodes unconstrained and the
        output is only validated."""
        return None

    def _begin_decode(self, sessions: list[S]) -> None:
        """Called before a decode call's first step with the sessions that will step."""

    @abstractmethod
    def _step(self, fed: list[tuple[S, int]], stop: threading.Event) -> None:
        """One decode step: feed each session its token (append it, set its logits)."""

    def _end_decode(self, failed: bool) -> None:
        """Called when a decode call ends (``failed``: by an exception)."""

    @abstractmethod
    def _score(self, planned: list[tuple[list[int], list[int]]], stop: threading.Event) -> list[float]:
        """Log-likelihood of each continuation (non-empty) given its context, as token ids."""

    async def _release_state(self, sessions: list[S]) -> None:
        """Free the KV state of released sessions (already marked released and forgotten)."""

    def _model_context(self) -> contextlib.AbstractContextManager[Any]:
        """Entered around every model call in the worker thread."""
        return contextlib.nullcontext()

    def _engine_stats(self) -> dict[str, Any]:
        return {}

    # --- protocol --------------------------------------------------------------------------------

    @property
    def context_length(self) -> int:
        return self._n_ctx

    def count_tokens(self, text: str) -> int:
        self._require_started()
        return len(self._tokenize(text, bos=False))

    def stats(self) -> dict[str, Any]:
        return {
            **self._counters,
            **self.prefixes.stats(),
            "sessions": len(self._sessions),
            "kv_tokens": sum(len(s.tokens) for s in self._sessions.values()),
            **self._engine_stats(),
        }

    async def prefill(self, batch: Sequence[PrefillRequest]) -> list[PrefillResult]:
        self._require_started()
        results: list[PrefillResult | None] = [None] * len(batch)
        for idx in prefill_rounds([r.session for r in batch]):
            reqs = [batch[i] for i in idx]
            new = [r.session for r in reqs if r.session not in self._sessions]
            self._check_room(new)
            plans = await self._call(self._plan_prefill, reqs, len(new))
            ahead = {r.session for r in reqs if r.ahead}
            for name in new:  # opened only once every request of the round is known valid
                self._sessions[name] = self._open(name, ahead=name in ahead)
            sessions = [self._sessions[r.session] for r in reqs]
            shared = [r.shared and r.session in new for r in reqs]
            done = await self._call(self._run_prefill, sessions, plans, shared)
            for i, res in zip(idx, done, strict=True):
                results[i] = res
        return [r for r in results if r is not None]

    async def decode(self, batch: Sequence[DecodeRequest], max_steps: int) -> list[DecodeChunk]:
        self._require_started()
        check_decode_batch(batch, self._sessions, self.name)
        sessions = [self._sessions[r.session] for r in batch]
        return await self._call(self._run_decode, sessions, [r.params for r in batch], max(1, max_steps))

    async def release(self, sessions: Sequence[str]) -> None:
        gone = [self._sessions.pop(s) for s in dict.fromkeys(sessions) if s in self._sessions]
        for s in gone:
            s.released = True  # seen by an in-flight decode at its next step
        if gone:
            await self._release_state(gone)

    async def score(self, batch: Sequence[ScoreRequest]) -> list[float]:
        self._require_started()
        if not batch:
            return []
        return await self._call(self._run_score, list(batch))

    # --- worker-thread side ----------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._worker.call(self._in_context, fn, *args)

    def _in_context(self, fn: Callable[..., T], *args: Any) -> T:
        if not self._loaded:  # stopped while this call waited for the worker
            raise EngineError("engine is not started", engine=self.name)
        with self._model_context():
            return fn(*args)

    def _make_room(self, n_new: int) -> None:
        """Free resources for ``n_new`` sessions about to open (worker thread, requests valid)."""

    def _plan_prefill(self, reqs: list[PrefillRequest], n_new: int, stop: threading.Event) -> list[Plan]:
        """Tokenize every request's whole session text; once all fit, make room for ``n_new``."""
        plans = []
        for r in reqs:
            held = self._sessions.get(r.session)
            text = Prompt.join([held.text if held else "", r.text])
            tokens = self._tokenize_prompt(text, bos=True)
            if len(tokens) > self._n_ctx:
                raise InvalidRequest(
                    f"session {r.session!r}: prompt of {len(tokens)} tokens does not fit the context "
                    f"window of {self._n_ctx} tokens; shorten it or {self.context_hint}",
                    engine=self.name,
                )
            plans.append((text, tokens))
        self._make_room(n_new)
        return plans

    def _reuse(self, s: S, tokens: list[int]) -> int:
        """How many of the tokens ``s`` holds a prefill to ``tokens`` keeps."""
        return reuse_length(s.tokens, tokens, have_logits=s.logits is not None)

    def _run_prefill(
        self, sessions: list[S], plans: list[Plan], shared: list[bool], stop: threading.Event
    ) -> list[PrefillResult]:
        work: list[Work[S]] = []
        results: list[PrefillResult] = []
        leaders: dict[tuple[int, ...], S] = {}  # shared prefixes computed by this call
        followers: list[tuple[int, S, S]] = []
        for s, (_, tokens), share in zip(sessions, plans, shared, strict=True):
            if s.released:  # released while this prefill waited for the worker
                results.append(PrefillResult(n_tokens=0))
                continue
            if share and self.prefixes.enabled:
                key = tuple(tokens)
                if key in leaders:  # asked for twice in one call: computed once, copied after
                    followers.append((len(results), s, leaders[key]))
                    results.append(PrefillResult(n_tokens=0, n_cached=len(tokens)))
                    continue
                hit = self.prefixes.lookup(tokens)
                if hit is not None:
                    self._fork(s, hit.entry.state, hit.entry.tokens, hit.entry.logits)
                if hit is None or not hit.exact:
                    leaders[key] = s
            n_common = self._reuse(s, tokens)
            if n_common < len(s.tokens):
                self._truncate(s, n_common)
                s.logits = None
            s.stream = None
            s.end_constraint()
            work.append((s, tokens[n_common:]))
            results.append(PrefillResult(n_tokens=len(tokens) - n_common, n_cached=n_common))
            self._counters["prompt_tokens_cached"] += n_common
        self._compute([(s, fresh) for s, fresh in work if fresh], stop)
        for s, (text, _) in zip(sessions, plans, strict=True):
            s.text = text
        for i, s, leader in followers:
            assert leader.logits is not None
            self._fork(s, self._state_of(leader), leader.tokens, leader.logits)
            self.prefixes.count_hit(len(leader.tokens))
            self._counters["prompt_tokens_cached"] += results[i].n_cached
        for leader in leaders.values():
            state = self._keep(leader) if leader.logits is not None else None
            if state is None:
                self.prefixes.count_dropped()  # computed, but no room to keep it
            else:
                assert leader.logits is not None
                self.prefixes.put(PrefixEntry(tuple(leader.tokens), leader.text, leader.logits.copy(), state))
        return results

    def _run_decode(
        self, sessions: list[S], params: list[Any], max_steps: int, stop: threading.Event
    ) -> list[DecodeChunk]:
        for s, p in zip(sessions, params, strict=True):
            if s.stream is None:
                s.stream = TextStream(p, self._detokenizer(s))
                s.constraint = self._constraint(p) if p.json_schema else None
        self._begin_decode([s for s in sessions if not s.released and not (s.stream and s.stream.done)])
        texts = [""] * len(sessions)
        counts = [0] * len(sessions)
        failed = True
        try:
            for _ in range(max_steps):
                if stop.is_set():
                    break
                fed: list[tuple[S, int]] = []
                for i, s in enumerate(sessions):
                    stream = s.stream
                    if s.released or stream is None or stream.done:
                        continue
                    if s.logits is None or len(s.tokens) >= self._n_ctx:
                        texts[i] += stream.finish("length")
                        continue
                    logits = s.logits
                    constraint = s.constraint  # read once: a release may end it meanwhile
                    if constraint is not None:
                        logits = constraint.mask(logits, stream.params.greedy)
                    tok = sample(logits, stream.params, stream.rng)
                    if constraint is not None:
                        constraint.accept(tok)
                    counts[i] += 1
                    texts[i] += stream.push(tok, is_eos=self._is_eos(tok))
                    if not stream.done:
                        fed.append((s, tok))
                if not fed:
                    break
                self._step(fed, stop)
            failed = False
        finally:
            self._end_decode(failed)
            self._counters["generated_tokens"] += sum(counts)
            for s in sessions:
                if s.released or s.stream is None or s.stream.done:
                    s.end_constraint()
        return decode_chunks(sessions, texts, counts)

    def _run_score(self, reqs: list[ScoreRequest], stop: threading.Event) -> list[float]:
        planned = []
        for r in reqs:
            ctx = self._tokenize(r.context, bos=True)
            cont = self._tokenize(r.continuation, bos=False)
            if len(ctx) + len(cont) > self._n_ctx:
                raise InvalidRequest(
                    f"score request of {len(ctx) + len(cont)} tokens does not fit the context window "
                    f"of {self._n_ctx} tokens",
                    engine=self.name,
                )
            planned.append((ctx, cont))
        scored = [i for i, (_, cont) in enumerate(planned) if cont]  # an empty continuation: 0.0
        totals = [0.0] * len(reqs)
        for i, total in zip(scored, self._score([planned[i] for i in scored], stop), strict=True):
            totals[i] = total
        return totals

    def _require_started(self) -> None:
        if not self._loaded:
            raise EngineError("engine is not started (use 'async with engine:')", engine=self.name)


__all__ = ["COUNTERS", "Plan", "Session", "SessionLLM", "Work"]
