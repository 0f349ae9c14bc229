"""An LLM served over the OpenAI-compatible completions API (``/v1/completions``).

The server keeps no per-caller state, so a session here is bookkeeping on our side: its text and,
once decoding starts, one streamed completion request of that whole text. What the protocol lets
us do, and how the engine contract (``base.py``) maps onto it:

* **Split prefill rides on the server's automatic prefix caching** (vLLM's, SGLang's radix cache,
  llama.cpp's per-slot prompt cache). A prefill marked ``ahead`` (the constant prefix that
  ``passes/split_prefill.py`` prefills as soon as a query starts), and the first prefill of a session
  marked ``shared``, send a one-token request (``max_tokens=1``) of the session's text
  so far: the server computes that prefix and keeps it. Other prefills send nothing; the first
  ``decode`` sends the whole prompt, and the server reuses whatever it holds of it. Concurrent
  sessions warming the same text share one request (``prefix_hits`` counts the sessions that joined
  one, ``prefix_misses`` those that sent one). ``PrefillResult`` reports what the server says it
  computed and reused (``usage.prompt_tokens_details.cached_tokens`` where the server reports it,
  vLLM with ``--enable-prompt-tokens-details``; else every token counts as computed), and 0 for a
  prefill that sent nothing. ``warm=False`` turns warming off (every prefill sends nothing).
* ``decode`` streams the completion (``stream=True``) with the session's ``SamplingParams``
  (``max_tokens``, ``temperature``, ``top_p``, ``seed``, ``stop``); each call consumes at most
  ``max_steps`` stream events (one token each on vLLM and llama.cpp, so ``n_tokens`` counts events)
  and leaves the stream open for the next call. Stop strings go to the server, which stops there,
  and through the same ``StopFilter`` as the in-process engines, so a stop string is never part of
  the text and text that may start one is held back whatever the server does. ``release``
  cancels a decode pulling the session at that moment (its chunk ends with ``finish_reason="abort"``)
  and closes the stream, which makes the server stop generating.
* ``score`` asks for the log-probabilities of the prompt's own tokens (``echo=True``, ``logprobs=0``,
  ``max_tokens=1``) of ``context + continuation`` sent as one text, and sums those of the tokens that
  overlap the continuation. vLLM and llama.cpp's servers answer this; servers that refuse ``echo``
  with logprobs (OpenAI's hosted chat models) cannot score, and the likelihood reranker cannot use
  them (use a cross-encoder then). The text is tokenized as one string, so a token that straddles
  the boundary counts for the continuation; the in-process engines tokenize the two parts apart.
* Token counts: the protocol has no tokenizer call, and ``count_tokens`` is synchronous. With
  ``tokenizer=`` (a GGUF file, read vocabulary-only with llama.cpp, or a Hugging Face tokenizer
  folder) counts are exact and a prompt longer than ``context_length`` is refused at prefill with
  ``InvalidRequest``, before any request; without one they are an estimate (UTF-8 bytes / 3, rounded
  up: more than the real count for English text) and the server's own refusal (HTTP 400) is
  ``InvalidRequest`` at the request that carried the prompt.
* Sessions need no memory of ours beyond their text, but a decoding session holds an open request:
  ``max_sessions`` is ``max_concurrency - 1``, so the runtime admits no more sessions than requests
  may be open, and one place stays free for one-shot requests (warming, scoring), which therefore
  never wait behind streams that only the next decode call would advance.

The client's connection pool belongs to the event loop that started the engine (the runtime restarts
the engine in a new loop: ``loop_bound``). What cannot be done through the protocol is listed in
``docs/remote-engines.md``.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from ..._concurrency import fail_fast, gather
from ...errors import ConfigError, EngineError, InvalidRequest
from ...ir.params import SamplingParams
from ._decoding import StopFilter, check_decode_batch
from .base import DecodeChunk, DecodeRequest, LLMEngine, PrefillRequest, PrefillResult, ScoreRequest
from .openai_client import Endpoint, Limits, pick_model, translate

DEFAULT_CONTEXT = 2048  # when neither context_length= nor the server's model list says


@dataclass(eq=False)
class _Decoding:
    """The decode state of one session: its open stream and what it has released."""

    params: SamplingParams
    stops: StopFilter
    stream: Any = None  # the openai AsyncStream, while open
    events: Any = None  # its async iterator
    finish_reason: str | None = None
    scope: anyio.CancelScope | None = None  # a decode pulling this stream now
    events_seen: int = 0
    reopened: bool = False  # (a connection dropped before the first event is tried once more)

    @property
    def done(self) -> bool:
        return self.finish_reason is not None

    def push(self, text: str) -> str:
        out = self.stops.push(text)
        if self.stops.stopped:
            self.finish_reason = "stop"
        return out

    def finish(self, reason: str) -> str:
        if self.done:
            return ""
        self.finish_reason = reason
        return self.stops.flush()


@dataclass(eq=False)
class _Session:
    name: str
    text: str = ""
    decoding: _Decoding | None = None


class OpenAILLM(LLMEngine):
    """LLM engine on an OpenAI-compatible server (see the module docstring).

    ``model`` is the served model's name (empty: the one the server lists). ``base_url``,
    ``api_key``, ``api_key_env``, ``max_concurrency``, ``timeout_s`` and ``max_retries`` are
    described in ``openai_client``. ``context_length`` defaults to the server's ``max_model_len``
    (vLLM lists it), else 2048. ``tokenizer`` makes ``count_tokens`` exact; ``warm=False`` sends
    nothing ahead of the decode. ``extra_body`` is merged into every completion request, for a
    server's own sampling fields: llama-cpp-python's server applies ``repeat_penalty=1.1`` unless
    told otherwise (even to greedy decoding), so give it ``{"repeat_penalty": 1.0}`` to decode as
    ``SamplingParams`` say (vLLM and OpenAI apply no penalty by default).
    """

    def __init__(
        self,
        name: str = "openai",
        model: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        api_key_env: str | None = None,
        max_concurrency: int = 16,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        context_length: int | None = None,
        tokenizer: str | Path | None = None,
        warm: bool = True,
        extra_body: Mapping[str, Any] | None = None,
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
        if max_concurrency < 2:
            raise ConfigError(f"engine {name!r}: an LLM needs max_concurrency >= 2 (a stream and a request)")
        if context_length is not None and context_length < 8:
            raise ConfigError(f"engine {name!r}: context_length must be at least 8")
        self.warm = warm
        self.extra_body = dict(extra_body or {})
        self._context_option = context_length
        self._context = context_length or DEFAULT_CONTEXT
        self._tokenizer_path = Path(tokenizer) if tokenizer is not None else None
        self._tokenize: Any = None  # text -> token ids (no BOS), when a tokenizer is given
        self._client: Any = None
        self.model = ""
        self.limits = Limits(max_concurrency)
        self._sessions: dict[str, _Session] = {}
        self._warming: dict[str, anyio.Event] = {}
        self._counters = dict.fromkeys(
            (
                "requests",
                "warm_requests",
                "prompt_tokens_computed",
                "prompt_tokens_cached",
                "generated_tokens",
                "scored_tokens",
                "prefix_hits",
                "prefix_misses",
            ),
            0,
        )

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._tokenizer_path is not None:
            self._tokenize = await anyio.to_thread.run_sync(load_tokenizer, self._tokenizer_path, self.name)
        client = self.endpoint.client()
        try:
            self.model, entry = await pick_model(client, self.endpoint, self.name)
        except BaseException:
            await client.close()
            raise
        served = getattr(entry, "max_model_len", None) if entry is not None else None
        if self._context_option is None and isinstance(served, int) and served > 0:
            self._context = served
        self._client = client

    async def stop(self) -> None:
        if self._client is None:
            return
        with anyio.CancelScope(shield=True):
            await self.release(list(self._sessions))
            await self._client.close()
        self._client = None

    # --- protocol --------------------------------------------------------------------------------

    @property
    def context_length(self) -> int:
        return self._context

    @property
    def max_sessions(self) -> int:
        return self.endpoint.max_concurrency - 1

    @property
    def exact_tokens(self) -> bool:
        """Whether ``count_tokens`` is exact (a ``tokenizer`` was given) rather than an estimate."""
        return self._tokenize is not None

    def count_tokens(self, text: str) -> int:
        if self._tokenize is not None:
            return len(self._tokenize(text))
        return math.ceil(len(text.encode("utf-8")) / 3)

    def stats(self) -> dict[str, Any]:
        open_streams = sum(1 for s in self._sessions.values() if s.decoding and s.decoding.stream)
        return {
            **self._counters,
            "sessions": len(self._sessions),
            "streams_open": open_streams,
            "requests_in_flight": self.limits.in_flight,
            "peak_requests_in_flight": self.limits.peak,
        }

    async def prefill(self, batch: Sequence[PrefillRequest]) -> list[PrefillResult]:
        self._require_started()
        texts: dict[str, str] = {}
        plans: list[tuple[str, str, bool]] = []  # (session, its text after this request, warm it)
        for r in batch:
            held = self._sessions.get(r.session)
            new = held is None and r.session not in texts
            text = texts.get(r.session, held.text if held else "") + r.text
            texts[r.session] = text
            if self._tokenize is not None and self.count_tokens(text) + 1 > self._context:
                raise InvalidRequest(
                    f"session {r.session!r}: prompt of {self.count_tokens(text) + 1} tokens does not fit "
                    f"the context window of {self._context} tokens; shorten it or raise context_length "
                    "(and the server's)",
                    engine=self.name,
                )
            plans.append((r.session, text, self.warm and (r.ahead or (new and r.shared))))
        results: list[PrefillResult] = [PrefillResult(n_tokens=0)] * len(plans)

        async def warm(i: int) -> None:
            results[i] = await self._warm(plans[i][1])

        async with fail_fast() as tasks:  # an InvalidRequest reaches the caller as itself
            for i, (_, _, send) in enumerate(plans):
                if send:
                    tasks.start_soon(warm, i)
        # Only now, once every request succeeded: a failure above left every session as it was.
        for name, text in texts.items():
            s = self._sessions.setdefault(name, _Session(name))
            s.text = text
            if s.decoding is not None:  # prompted again after decoding: the next decode starts anew
                await self._close(s.decoding)
                s.decoding = None
        return results

    async def decode(self, batch: Sequence[DecodeRequest], max_steps: int) -> list[DecodeChunk]:
        self._require_started()
        check_decode_batch(batch, self._sessions, self.name)
        steps = max(1, max_steps)
        return await gather(
            functools.partial(self._pull, self._sessions[r.session], r.params, steps) for r in batch
        )

    async def release(self, sessions: Sequence[str]) -> None:
        for name in dict.fromkeys(sessions):
            s = self._sessions.pop(name, None)
            if s is None or s.decoding is None:
                continue
            if s.decoding.scope is not None:  # a decode is pulling it: that decode ends it ("abort")
                s.decoding.scope.cancel()
            else:
                with anyio.CancelScope(shield=True):
                    await self._close(s.decoding)

    async def score(self, batch: Sequence[ScoreRequest]) -> list[float]:
        self._require_started()
        totals = [0.0] * len(batch)

        async def one(i: int, r: ScoreRequest) -> None:
            if r.continuation:
                totals[i] = await self._score_one(r)

        async with fail_fast() as tasks:
            for i, r in enumerate(batch):
                tasks.start_soon(one, i, r)
        return totals

    # --- requests --------------------------------------------------------------------------------

    async def _warm(self, text: str) -> PrefillResult:
        """Send ``text`` with ``max_tokens=1`` so the server caches it; concurrent asks share one."""
        flight = self._warming.get(text)
        if flight is not None:
            await flight.wait()
            self._counters["prefix_hits"] += 1
            return PrefillResult(n_tokens=0, n_cached=0)
        done = self._warming[text] = anyio.Event()
        try:
            self._counters["prefix_misses"] += 1
            self._counters["warm_requests"] += 1
            reply = await self._complete(text, max_tokens=1, doing="warming a prompt prefix")
        finally:
            del self._warming[text]
            done.set()
        computed, cached = self._usage(reply)
        return PrefillResult(n_tokens=computed, n_cached=cached)

    async def _score_one(self, r: ScoreRequest) -> float:
        full = r.context + r.continuation
        reply = await self._complete(
            full, max_tokens=1, echo=True, logprobs=0, doing="scoring a continuation"
        )
        logprobs = reply.choices[0].logprobs if reply.choices else None
        offsets = getattr(logprobs, "text_offset", None)
        values = getattr(logprobs, "token_logprobs", None)
        tokens = getattr(logprobs, "tokens", None)
        if not offsets or values is None or tokens is None:
            raise EngineError(
                "the server returned no prompt log-probabilities (echo=True, logprobs=0): it cannot "
                "score continuations; rerank with a cross-encoder instead",
                engine=self.name,
            )
        total, n = 0.0, 0
        for start, token, value in zip(offsets, tokens, values, strict=False):
            if start >= len(full):  # the token generated after the prompt
                break
            if start + len(token) > len(r.context) and value is not None:
                total += float(value)
                n += 1
        self._counters["scored_tokens"] += n
        return total

    async def _complete(self, prompt: str, *, max_tokens: int, doing: str, **extra: Any) -> Any:
        self._counters["requests"] += 1
        async with self.limits.request():
            try:
                reply = await self._client.completions.create(
                    model=self.model,
                    prompt=prompt,
                    max_tokens=max_tokens,
                    temperature=0.0,
                    extra_body=self.extra_body or None,
                    **extra,
                )
            except Exception as exc:
                raise translate(exc, self.name, doing) from exc
        return reply

    def _usage(self, reply: Any) -> tuple[int, int]:
        """(prompt tokens computed, prompt tokens the server reused) of a reply, as it reports them."""
        usage = getattr(reply, "usage", None)
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        details = getattr(usage, "prompt_tokens_details", None)
        cached = min(prompt, int(getattr(details, "cached_tokens", 0) or 0))
        self._counters["prompt_tokens_computed"] += prompt - cached
        self._counters["prompt_tokens_cached"] += cached
        return prompt - cached, cached

    # --- decoding --------------------------------------------------------------------------------

    async def _pull(self, s: _Session, params: SamplingParams, max_steps: int) -> DecodeChunk:
        d = s.decoding
        if d is None:
            d = s.decoding = _Decoding(params, StopFilter(params.stop))
        if d.done:
            return DecodeChunk(text="", done=True, finish_reason=d.finish_reason)
        text, n = "", 0
        try:
            with anyio.CancelScope() as scope:
                d.scope = scope  # release() cancels it, from the start of the request on
                if d.stream is None:
                    await self._open(s.text, d)
                while n < max_steps and not d.done:
                    try:
                        event = await anext(d.events)
                    except StopAsyncIteration:
                        if not d.events_seen:  # llama-cpp-python's server on a prompt too long
                            raise _ended_empty(self.name, None) from None
                        text += d.finish("stop")  # the stream ended without a finish reason
                        break
                    d.events_seen += 1
                    for choice in event.choices or ():
                        n += 1
                        text += d.push(choice.text or "")
                        if choice.finish_reason and not d.done:
                            reason = choice.finish_reason
                            text += d.finish(reason if reason in ("length", "abort") else "stop")
        except anyio.get_cancelled_exc_class():
            d.finish_reason = "abort"  # the caller was cancelled: the held text is dropped
            with anyio.CancelScope(shield=True):
                await self._close(d)
            raise
        except Exception as exc:
            d.finish_reason = "abort"
            answered = d.stream is not None  # (the server answered the request: it is reachable)
            with anyio.CancelScope(shield=True):
                await self._close(d)
            if answered and not d.events_seen and _dropped(exc):
                if not d.reopened and not n:  # (a connection the server dropped under load: once
                    d.reopened, d.finish_reason = True, None  # more, on a new one; nothing was sent)
                    return await self._pull(s, params, max_steps)
                # (the same server, the same prompt, closing the connection instead under load)
                raise _ended_empty(self.name, exc) from exc
            raise translate(exc, self.name, f"decoding session {s.name!r}") from exc
        finally:
            d.scope = None
            self._counters["generated_tokens"] += n
        if scope.cancelled_caught:  # released while this call pulled it
            d.finish_reason = "abort"
            text = ""
        if d.done:
            with anyio.CancelScope(shield=True):
                await self._close(d)
        return DecodeChunk(text=text, done=d.done, finish_reason=d.finish_reason, n_tokens=n)

    async def _open(self, prompt: str, d: _Decoding) -> None:
        """Start the streamed completion of ``prompt``; it holds a place in ``limits`` until closed."""
        p = d.params
        await self.limits.open(d)
        self._counters["requests"] += 1
        try:
            d.stream = await self._client.completions.create(
                model=self.model,
                prompt=prompt,
                max_tokens=p.max_tokens,
                temperature=p.temperature,
                top_p=p.top_p,
                seed=p.seed,
                stop=list(p.stop) or None,
                stream=True,
                extra_body=self.extra_body or None,
            )
        except BaseException as exc:
            self.limits.close(d)
            if isinstance(exc, Exception):
                raise translate(exc, self.name, "starting a decode") from exc
            raise
        d.events = aiter(d.stream)

    async def _close(self, d: _Decoding) -> None:
        """Close ``d``'s stream (the server stops generating) and give its place back."""
        stream, d.stream, d.events = d.stream, None, None
        if stream is None:
            return
        self.limits.close(d)
        with contextlib.suppress(Exception):  # a connection already broken is closed enough
            await stream.close()

    def _require_started(self) -> None:
        if self._client is None:
            raise EngineError("engine is not started (use 'async with engine:')", engine=self.name)


def load_tokenizer(path: Path, engine: str) -> Any:
    """``text -> token ids`` (no BOS, special tokens as text) for a GGUF file (its vocabulary only,
    through llama.cpp) or a Hugging Face tokenizer folder (through transformers)."""
    if not path.exists():
        raise ConfigError(f"engine {engine!r}: tokenizer {path} does not exist")
    if path.suffix == ".gguf":
        from llama_cpp import Llama

        from .llama_cpp import _close_devnull_at_exit

        _close_devnull_at_exit()
        vocab = Llama(str(path), vocab_only=True, verbose=False)
        return lambda text: vocab.tokenize(text.encode("utf-8"), add_bos=False, special=False)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    return lambda text: tok.encode(text, add_special_tokens=False)


__all__ = ["DEFAULT_CONTEXT", "OpenAILLM", "load_tokenizer"]


def _ended_empty(engine: str, exc: BaseException | None) -> EngineError:
    """A stream the server answered and then ended, or closed, before its first event: what
    llama-cpp-python's server does with a prompt longer than its context."""
    how = "ended the stream" if exc is None else f"closed the connection ({exc})"
    return EngineError(
        f"the server {how} without any event (a prompt longer than its context?)", engine=engine
    )


def _dropped(exc: BaseException) -> bool:
    import openai

    return isinstance(exc, openai.APIConnectionError) and not isinstance(exc, openai.APITimeoutError)
