"""vLLM engine (GPU): the v1 ``AsyncLLM`` with automatic prefix caching.

vLLM keeps no per-caller state between requests, so a session here is bookkeeping on our side: its
text, its token ids and, once decoding starts, one running ``generate()`` stream. Split prefill rides
on vLLM's prefix cache: each ``prefill`` sends the whole session so far as token ids with
``max_tokens=1``, which computes and caches its KV blocks; the next prefill (and the decode request)
send the longer token list, and vLLM reuses every full cached block. ``PrefillResult.n_cached`` and
``stats()["prompt_tokens_cached"]`` report vLLM's own ``RequestOutput.num_cached_tokens``. Hits are
whole blocks (``block_size``, 16 by default), and blocks can be evicted under memory pressure, so a
split prefill is a hint, never a guarantee; results are the same either way.

``decode(batch, max_steps)`` keeps one ``generate()`` stream per session, started on its first decode
call with ``RequestOutputKind.DELTA``, and pulls up to ``max_steps`` tokens' worth of deltas from every
session's stream concurrently. Stop strings go to vLLM (so generation stops) and through the same
``StopFilter`` as the CPU engines. ``release`` aborts the session's in-flight request. Cancelling a
``decode`` call cancels the pull, which makes vLLM abort that request; the session then reports
``finish_reason="abort"``. ``shared_prefix`` is ignored: vLLM's prefix cache shares any common prefix
on its own. vLLM is imported only inside this module; its tests skip where vLLM or CUDA is missing.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from ...errors import ConfigError, EngineError, InvalidRequest
from ...ir.params import SamplingParams
from ._decoding import StopFilter
from .base import DecodeChunk, DecodeRequest, LLMEngine, PrefillRequest, PrefillResult, ScoreRequest


@dataclass(eq=False)
class _Session:
    name: str
    text: str = ""
    tokens: list[int] = field(default_factory=list)
    stream: AsyncIterator[Any] | None = None
    request_id: str | None = None
    stops: StopFilter | None = None
    n_generated: int = 0
    finish_reason: str | None = None


class VLLMEngine(LLMEngine):
    """LLM engine on vLLM's ``AsyncLLM``.

    ``model`` is a Hugging Face model directory or name (nothing is downloaded when
    ``HF_HUB_OFFLINE=1``); ``engine_kwargs`` go to ``AsyncEngineArgs`` unchanged.
    """

    def __init__(
        self,
        name: str = "vllm",
        model: str | Path = "",
        *,
        max_model_len: int = 4096,
        gpu_memory_utilization: float = 0.5,
        engine_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(name)
        if not model:
            raise ConfigError(f"engine {name!r}: VLLMEngine needs a model directory or name")
        self._model_name = str(model)
        self._max_model_len = max_model_len
        self._gpu_memory_utilization = gpu_memory_utilization
        self._engine_kwargs = dict(engine_kwargs or {})
        self._llm: Any = None
        self._vllm: Any = None
        self._tok: Any = None
        self._sessions: dict[str, _Session] = {}
        self._ids = itertools.count()
        self._counters = dict.fromkeys(
            ("prompt_tokens_computed", "prompt_tokens_cached", "generated_tokens", "scored_tokens"), 0
        )

    async def start(self) -> None:
        try:
            import vllm
            from vllm.engine.arg_utils import AsyncEngineArgs
            from vllm.v1.engine.async_llm import AsyncLLM
        except ImportError as exc:
            raise ConfigError(f"engine {self.name!r}: vLLM is not installed (extra 'vllm')") from exc
        args = AsyncEngineArgs(
            model=self._model_name,
            enable_prefix_caching=True,
            max_model_len=self._max_model_len,
            gpu_memory_utilization=self._gpu_memory_utilization,
            **self._engine_kwargs,
        )
        self._llm = AsyncLLM.from_engine_args(args)
        tok = self._llm.get_tokenizer()
        self._tok = await tok if inspect.isawaitable(tok) else tok
        self._vllm = vllm

    async def stop(self) -> None:
        if self._llm is not None:
            with anyio.CancelScope(shield=True):
                await self.release(list(self._sessions))
            self._llm.shutdown()
            self._llm = None

    @property
    def context_length(self) -> int:
        return self._max_model_len

    def count_tokens(self, text: str) -> int:
        self._require_started()
        return len(self._tokenize(text, bos=False))

    def stats(self) -> dict[str, Any]:
        return {**self._counters, "sessions": len(self._sessions)}

    async def prefill(self, batch: Sequence[PrefillRequest]) -> list[PrefillResult]:
        self._require_started()
        plans: list[tuple[_Session, str, list[int]]] = []
        texts: dict[str, str] = {}
        for r in batch:
            held = self._sessions.get(r.session)
            text = texts.get(r.session, held.text if held else "") + r.text
            texts[r.session] = text
            tokens = self._tokenize(text, bos=True)
            if len(tokens) >= self._max_model_len:
                raise InvalidRequest(
                    f"session {r.session!r}: prompt of {len(tokens)} tokens does not fit the context "
                    f"window of {self._max_model_len} tokens; shorten it or raise max_model_len",
                    engine=self.name,
                )
            plans.append((held or _Session(r.session), text, tokens))
        for s, _, _ in plans:
            self._sessions.setdefault(s.name, s)
        results: list[PrefillResult | None] = [None] * len(plans)

        async def one(i: int, s: _Session, text: str, tokens: list[int]) -> None:
            params = self._vllm.SamplingParams(
                max_tokens=1, temperature=0.0, output_kind=self._output_kind("FINAL_ONLY")
            )
            final = await self._run_to_end(tokens, params)
            cached = min(int(getattr(final, "num_cached_tokens", 0) or 0), len(tokens))
            s.text, s.tokens = text, tokens
            await self._reset_stream(s)
            results[i] = PrefillResult(n_tokens=len(tokens) - cached, n_cached=cached)
            self._counters["prompt_tokens_computed"] += len(tokens) - cached
            self._counters["prompt_tokens_cached"] += cached

        # Requests naming the same session run in order; different sessions run concurrently.
        async with anyio.create_task_group() as tg:
            for s in {s.name: s for s, _, _ in plans}.values():
                mine = [(i, p) for i, p in enumerate(plans) if p[0].name == s.name]
                tg.start_soon(self._prefill_in_order, one, mine)
        return [r for r in results if r is not None]

    async def _prefill_in_order(
        self, one: Any, mine: list[tuple[int, tuple[_Session, str, list[int]]]]
    ) -> None:
        for i, (s, text, tokens) in mine:
            await one(i, s, text, tokens)

    async def decode(self, batch: Sequence[DecodeRequest], max_steps: int) -> list[DecodeChunk]:
        self._require_started()
        unknown = [r.session for r in batch if r.session not in self._sessions]
        if unknown:
            raise InvalidRequest(
                f"decode of session(s) {unknown!r} that were never prefilled", engine=self.name
            )
        chunks: list[DecodeChunk | None] = [None] * len(batch)

        async def pull(i: int, r: DecodeRequest) -> None:
            chunks[i] = await self._pull(self._sessions[r.session], r.params, max(1, max_steps))

        async with anyio.create_task_group() as tg:
            for i, r in enumerate(batch):
                tg.start_soon(pull, i, r)
        return [c for c in chunks if c is not None]

    async def _pull(self, s: _Session, params: SamplingParams, max_steps: int) -> DecodeChunk:
        if s.finish_reason is not None:
            return DecodeChunk(text="", done=True, finish_reason=s.finish_reason)
        if s.stream is None:
            s.request_id = f"{s.name}-d{next(self._ids)}"
            s.stops = StopFilter(params.stop)
            vparams = self._vllm.SamplingParams(
                max_tokens=params.max_tokens,
                temperature=params.temperature,
                top_p=params.top_p,
                seed=params.seed,
                stop=list(params.stop),
                output_kind=self._output_kind("DELTA"),
            )
            prompt = self._vllm.TokensPrompt(prompt_token_ids=s.tokens)
            s.stream = aiter(self._llm.generate(prompt, vparams, s.request_id))
        assert s.stops is not None
        text, n = "", 0
        try:
            while n < max_steps:
                try:
                    out = await anext(s.stream)
                except StopAsyncIteration:
                    s.finish_reason = s.finish_reason or "stop"
                    break
                completion = out.outputs[0]
                n += len(completion.token_ids)
                text += s.stops.push(completion.text)
                if out.finished:
                    reason = completion.finish_reason or "stop"
                    s.finish_reason = "abort" if reason == "abort" else reason
                    text += s.stops.flush()
                    break
                if s.stops.stopped:
                    s.finish_reason = "stop"
                    await self._reset_stream(s, keep_result=True)
                    break
        except anyio.get_cancelled_exc_class():
            s.finish_reason = "abort"  # vLLM aborts a request whose stream is cancelled
            raise
        finally:
            s.n_generated += n
            self._counters["generated_tokens"] += n
        done = s.finish_reason is not None
        return DecodeChunk(text=text, done=done, finish_reason=s.finish_reason, n_tokens=n)

    async def release(self, sessions: Sequence[str]) -> None:
        for name in dict.fromkeys(sessions):
            s = self._sessions.pop(name, None)
            if s is not None:
                with anyio.CancelScope(shield=True):
                    await self._reset_stream(s)

    async def score(self, batch: Sequence[ScoreRequest]) -> list[float]:
        self._require_started()
        totals = [0.0] * len(batch)

        async def one(i: int, r: ScoreRequest) -> None:
            ctx = self._tokenize(r.context, bos=True)
            cont = self._tokenize(r.continuation, bos=False)
            if len(ctx) + len(cont) >= self._max_model_len:
                raise InvalidRequest(
                    f"score request of {len(ctx) + len(cont)} tokens does not fit the context window",
                    engine=self.name,
                )
            if not cont:
                return
            params = self._vllm.SamplingParams(
                max_tokens=1, temperature=0.0, prompt_logprobs=0, output_kind=self._output_kind("FINAL_ONLY")
            )
            final = await self._run_to_end(ctx + cont, params)
            logprobs = final.prompt_logprobs or []
            for pos, tok in enumerate(cont, start=len(ctx)):
                totals[i] += float(logprobs[pos][tok].logprob)
            self._counters["scored_tokens"] += len(ctx) + len(cont)

        async with anyio.create_task_group() as tg:
            for i, r in enumerate(batch):
                tg.start_soon(one, i, r)
        return totals

    # --- helpers ---------------------------------------------------------------------------------

    async def _run_to_end(self, tokens: list[int], params: Any) -> Any:
        request_id = f"ayo-{next(self._ids)}"
        final = None
        async for out in self._llm.generate(
            self._vllm.TokensPrompt(prompt_token_ids=tokens), params, request_id
        ):
            final = out
        if final is None:
            raise EngineError(f"vLLM returned no output for request {request_id}", engine=self.name)
        return final

    async def _reset_stream(self, s: _Session, *, keep_result: bool = False) -> None:
        """Abort the session's running request, if any; unless ``keep_result``, forget its outcome
        too, so the next decode starts a new request on the session's current prompt."""
        stream, request_id = s.stream, s.request_id
        s.stream = s.request_id = None
        if request_id is not None:
            await self._llm.abort(request_id)
        if stream is not None and hasattr(stream, "aclose"):
            await stream.aclose()
        if not keep_result:
            s.finish_reason, s.stops, s.n_generated = None, None, 0

    def _output_kind(self, name: str) -> Any:
        from vllm.sampling_params import RequestOutputKind

        return getattr(RequestOutputKind, name)

    def _tokenize(self, text: str, *, bos: bool) -> list[int]:
        ids: list[int] = self._tok(text, add_special_tokens=bos)["input_ids"]
        return ids

    def _require_started(self) -> None:
        if self._llm is None:
            raise EngineError("engine is not started (use 'async with engine:')", engine=self.name)
