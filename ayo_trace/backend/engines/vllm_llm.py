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
call with ``RequestOutputKind.DELTA``, and pulls deltas from every session's stream concurrently, so
vLLM's scheduler batches them. vLLM runs ahead of the caller and merges the deltas a slow reader has
not taken yet, so the token ids it delivers go through a per-session queue: each call consumes at most
``max_steps`` of them, and text comes from the same ``TextStream`` (window detokenizer and stop filter)
as the CPU engines, never from vLLM's merged text. Stop strings also go to vLLM, so generation stops.
``release`` aborts the session's in-flight request (a decode pulling it at that moment returns what it
has with ``finish_reason="abort"``). Cancelling a ``decode`` call cancels the pull, which makes vLLM
abort that request. ``AsyncLLM`` needs the asyncio backend. The requests of one call run
concurrently under ``fail_fast``, so an error (an ``InvalidRequest`` above all, which the engine
scheduler isolates to its one request) reaches the caller as itself, never in an ``ExceptionGroup``.

``parse=`` a pydantic model, a JSON schema or a list (``SamplingParams.json_schema``) constrains the
decode request through vLLM's structured outputs (``vllm_structured.py``); a schema vLLM refuses
fails that decode with ``InvalidRequest``. Not yet run on a GPU (tested on a fake vLLM; the GPU
contract test has a case for it).

Shared prefixes (``PrefillRequest.shared``) ride on the same prefix cache: it already shares
every full block of a common token prefix across requests, so a shared prefix computed once stays
cached (under vLLM's own memory management and LRU eviction of free blocks; no budget of ours) for
every later session. What the adapter adds is single flight: requests of new sessions for the same
prefix token ids wait while the first one computes it, then send theirs and hit the cache, instead
of all computing it in the same scheduler step. A hit is read from vLLM's own per-request metric
(``num_cached_tokens`` covers every full block of the prefix but the one holding its last token,
which vLLM always recomputes) and counted in ``stats()["prefix_hits"]``/``["prefix_misses"]``. Ran on
the lent H100 (vLLM 0.25.1, the tiny random Llama): eight sessions asking for a new prefix at once,
in one batch or in concurrent calls, gave one miss and seven hits by that metric. vLLM is imported only inside this module; its tests skip
where vLLM or CUDA is missing.
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import os
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from ..._concurrency import fail_fast, gather
from ...errors import ConfigError, EngineError, InvalidRequest
from ...ir.params import SamplingParams
from ...ir.prompt import ChatTemplate, Prompt
from ._decoding import TextStream, WindowDetokenizer
from ._special import hf_chat_template, hf_specials_in, tokenize_prompt
from .base import (
    DecodeChunk,
    DecodeRequest,
    LLMEngine,
    PrefillRequest,
    PrefillResult,
    ScoreRequest,
    require_asyncio,
)
from .vllm_structured import structured_outputs

# A token vLLM delivered and the caller has not consumed yet. ``end`` is set on the last token of a
# finished request (vLLM's finish_reason and stop_reason); ``token`` is None for a finish with no token.
_Pending = tuple[int | None, tuple[str, Any] | None]


@dataclass(eq=False)
class _Session:
    name: str
    text: str = ""
    tokens: list[int] = field(default_factory=list)
    out: TextStream | None = None  # decode state, from the first decode call on
    stream: AsyncIterator[Any] | None = None  # the running vLLM request, if any
    request_id: str | None = None
    pending: deque[_Pending] = field(default_factory=deque)
    pulling: bool = False  # a decode call is awaiting ``stream`` right now


class VLLMEngine(LLMEngine):
    """LLM engine on vLLM's ``AsyncLLM``.

    ``model`` is a Hugging Face model directory or name (nothing is downloaded when
    ``HF_HUB_OFFLINE=1``); ``engine_kwargs`` go to ``AsyncEngineArgs`` unchanged (``enforce_eager``,
    ``dtype``, ``compilation_config``, ...).
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
            (
                "prompt_tokens_computed",
                "prompt_tokens_cached",
                "generated_tokens",
                "scored_tokens",
                "prefix_hits",
                "prefix_misses",
            ),
            0,
        )
        self._block_size = int(self._engine_kwargs.get("block_size") or 16)
        self._prefix_flights: dict[tuple[int, ...], anyio.Event] = {}

    async def start(self) -> None:
        require_asyncio(self.name, "vLLM's AsyncLLM")
        try:
            import vllm
            from vllm.engine.arg_utils import AsyncEngineArgs
            from vllm.v1.engine.async_llm import AsyncLLM
        except ImportError as exc:
            raise ConfigError(f"engine {self.name!r}: vLLM is not installed (extra 'vllm')") from exc
        if importlib.util.find_spec("flashinfer") is None:
            # vLLM 0.25's sampler imports FlashInfer unless told not to; without it (a slim install, as
            # on the lent H100) the engine core dies at start. Torch's top-k/top-p sampler is used then.
            os.environ.setdefault("VLLM_USE_FLASHINFER_SAMPLER", "0")
        args = AsyncEngineArgs(
            model=self._model_name,
            enable_prefix_caching=True,
            max_model_len=self._max_model_len,
            gpu_memory_utilization=self._gpu_memory_utilization,
            **self._engine_kwargs,
        )
        # Blocks the event loop while vLLM loads the model, compiles and captures CUDA graphs (tens of
        # seconds, once): AsyncLLM must be built on the loop that will run its output handler.
        try:
            self._llm = AsyncLLM.from_engine_args(args)
        except Exception as exc:
            raise EngineError(
                f"vLLM failed to start on {self._model_name!r}: {exc}", engine=self.name
            ) from exc
        self._tok = self._llm.get_tokenizer()
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

    # --- prefill ---------------------------------------------------------------------------------

    async def prefill(self, batch: Sequence[PrefillRequest]) -> list[PrefillResult]:
        self._require_started()
        plans: list[tuple[_Session, str, list[int]]] = []
        texts: dict[str, str] = {}
        shared: list[bool] = []
        for r in batch:
            held = self._sessions.get(r.session)
            shared.append(r.shared and held is None and r.session not in texts)
            text = Prompt.join([texts.get(r.session, held.text if held else ""), r.text])
            texts[r.session] = text
            tokens = tokenize_prompt(text, True, lambda t, b: self._tokenize(t, bos=b), self._specials_in)
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

        async def in_order(mine: list[int]) -> None:
            for i in mine:
                s, _, tokens = plans[i]
                params = self._vllm.SamplingParams(
                    max_tokens=1, temperature=0.0, output_kind=self._output_kind("FINAL_ONLY")
                )
                if shared[i]:
                    final = await self._prefill_shared(tokens, params)
                else:
                    final = await self._run_to_end(tokens, params)
                cached = min(int(final.num_cached_tokens or 0), len(tokens))
                await self._close_stream(s)
                s.out = None
                results[i] = PrefillResult(n_tokens=len(tokens) - cached, n_cached=cached)
                self._counters["prompt_tokens_computed"] += len(tokens) - cached
                self._counters["prompt_tokens_cached"] += cached

        # Requests naming the same session run in order; different sessions run concurrently.
        order: dict[str, list[int]] = {}
        for i, (s, _, _) in enumerate(plans):
            order.setdefault(s.name, []).append(i)
        async with fail_fast() as tasks:  # an InvalidRequest reaches the caller as itself
            for mine in order.values():
                tasks.start_soon(in_order, mine)
        for s, text, tokens in plans:  # only now: a failure above left every session's text as it was
            s.text, s.tokens = text, tokens
        return [r for r in results if r is not None]

    async def _prefill_shared(self, tokens: list[int], params: Any) -> Any:
        """Prefill a shared prefix, once at a time per token ids; counts a prefix-cache hit or miss."""
        key = tuple(tokens)
        flight = self._prefix_flights.get(key)
        if flight is not None:  # another session is computing this prefix: wait, then hit the cache
            await flight.wait()
            final = await self._run_to_end(tokens, params)
        else:
            done = self._prefix_flights[key] = anyio.Event()
            try:
                final = await self._run_to_end(tokens, params)
            finally:
                del self._prefix_flights[key]
                done.set()
        cached = int(final.num_cached_tokens or 0)
        full_blocks = (len(tokens) - 1) // self._block_size * self._block_size
        self._counters["prefix_hits" if full_blocks and cached >= full_blocks else "prefix_misses"] += 1
        return final

    # --- decode ----------------------------------------------------------------------------------

    async def decode(self, batch: Sequence[DecodeRequest], max_steps: int) -> list[DecodeChunk]:
        self._require_started()
        unknown = [r.session for r in batch if r.session not in self._sessions]
        if unknown:
            raise InvalidRequest(
                f"decode of session(s) {unknown!r} that were never prefilled", engine=self.name
            )
        steps = max(1, max_steps)
        return await gather(
            functools.partial(self._pull, self._sessions[r.session], r.params, steps) for r in batch
        )

    async def _pull(self, s: _Session, params: SamplingParams, max_steps: int) -> DecodeChunk:
        if s.out is None:
            s.out = TextStream(params, WindowDetokenizer(self._decode_tokens, s.tokens[1:]))
            self._start_request(s, params)
        out = s.out
        text, n = "", 0
        try:
            while n < max_steps and not out.done:
                if not s.pending:
                    if s.stream is None:  # vLLM's request ended without a final output
                        text += out.finish("stop")
                        break
                    await self._receive(s)
                    continue
                token, end = s.pending.popleft()
                if token is not None:
                    n += 1
                    eos = end is not None and end[0] == "stop" and not isinstance(end[1], str)
                    text += out.push(token, is_eos=eos)
                if end is not None and not out.done:
                    text += out.finish(end[0] if end[0] in ("length", "abort") else "stop")
        except anyio.get_cancelled_exc_class():
            # vLLM aborts a request whose generate() is cancelled; the held text is dropped.
            out.finish("abort")
            s.stream = s.request_id = None
            raise
        finally:
            self._counters["generated_tokens"] += n
        if out.done and s.stream is not None:
            await self._close_stream(s)  # our stop filter or max_tokens ended it first
        return DecodeChunk(text=text, done=out.done, finish_reason=out.finish_reason, n_tokens=n)

    def _start_request(self, s: _Session, params: SamplingParams) -> None:
        s.request_id = f"{s.name}-d{next(self._ids)}"
        vparams = self._vllm.SamplingParams(
            max_tokens=params.max_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            seed=params.seed,
            stop=list(params.stop) or None,
            output_kind=self._output_kind("DELTA"),
            **self._constraint(params),
        )
        prompt = self._vllm.TokensPrompt(prompt_token_ids=s.tokens)
        s.stream = aiter(self._llm.generate(prompt, vparams, s.request_id))
        s.pending.clear()

    async def _receive(self, s: _Session) -> None:
        """Wait for vLLM's next delta of ``s`` and queue its tokens."""
        assert s.stream is not None
        s.pulling = True
        try:
            result = await anext(s.stream)
        except StopAsyncIteration:
            s.stream = s.request_id = None
            return
        except ValueError as exc:  # vLLM's request validation (a schema its grammars cannot express, ...)
            s.stream = s.request_id = None
            raise InvalidRequest(f"vLLM refused the decode of {s.name!r}: {exc}", engine=self.name) from exc
        finally:
            s.pulling = False
        completion = result.outputs[0]
        ids = list(completion.token_ids)
        s.pending.extend((t, None) for t in ids)
        if result.finished:
            end = (completion.finish_reason or "stop", completion.stop_reason)
            if ids:
                s.pending[-1] = (ids[-1], end)
            else:
                s.pending.append((None, end))
            s.stream = s.request_id = None  # the generator has returned; nothing to abort or close

    async def release(self, sessions: Sequence[str]) -> None:
        for name in dict.fromkeys(sessions):
            s = self._sessions.pop(name, None)
            if s is None:
                continue
            with anyio.CancelScope(shield=True):
                if s.pulling and s.request_id is not None:
                    # A decode is awaiting this stream: vLLM's abort ends it with a final "abort"
                    # output, which that decode returns; it cannot be closed from here meanwhile.
                    await self._llm.abort(s.request_id)
                else:
                    await self._close_stream(s)

    # --- scoring ---------------------------------------------------------------------------------

    async def score(self, batch: Sequence[ScoreRequest]) -> list[float]:
        self._require_started()
        totals = [0.0] * len(batch)

        async def one(i: int, r: ScoreRequest) -> None:  # raises InvalidRequest for that request
            ctx = self._tokenize(r.context, bos=True)
            cont = self._tokenize(r.continuation, bos=False)
            if len(ctx) + len(cont) >= self._max_model_len:
                raise InvalidRequest(
                    f"score request of {len(ctx) + len(cont)} tokens does not fit the context window "
                    f"of {self._max_model_len} tokens",
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

        async with fail_fast() as tasks:
            for i, r in enumerate(batch):
                tasks.start_soon(one, i, r)
        return totals

    # --- helpers ---------------------------------------------------------------------------------

    async def _run_to_end(self, tokens: list[int], params: Any) -> Any:
        request_id = f"ayo-{next(self._ids)}"
        final = None
        try:
            async for out in self._llm.generate(
                self._vllm.TokensPrompt(prompt_token_ids=tokens), params, request_id
            ):
                final = out
        except ValueError as exc:  # vLLM's input validation (prompt too long, ...)
            raise InvalidRequest(f"vLLM refused request {request_id}: {exc}", engine=self.name) from exc
        if final is None:
            raise EngineError(f"vLLM returned no output for request {request_id}", engine=self.name)
        return final

    async def _close_stream(self, s: _Session) -> None:
        """Abort the session's running request, if any, and close its generator."""
        stream, request_id = s.stream, s.request_id
        s.stream = s.request_id = None
        s.pending.clear()
        if request_id is not None:
            await self._llm.abort(request_id)
        if stream is not None and hasattr(stream, "aclose"):
            await stream.aclose()

    def _constraint(self, params: SamplingParams) -> dict[str, Any]:
        """vLLM's structured outputs for ``parse=`` (``vllm_structured.py``), as keyword arguments."""
        fields = structured_outputs(params)
        if fields is None:
            return {}
        from vllm.sampling_params import StructuredOutputsParams

        return {"structured_outputs": StructuredOutputsParams(**fields)}

    def _output_kind(self, name: str) -> Any:
        from vllm.sampling_params import RequestOutputKind

        return getattr(RequestOutputKind, name)

    def _tokenize(self, text: str, *, bos: bool) -> list[int]:
        ids: list[int] = self._tok.encode(text, add_special_tokens=bos, split_special_tokens=True)
        return ids

    def chat_template(self) -> ChatTemplate | None:
        """The tokenizer's ``chat_template`` (vLLM serves HF models)."""
        self._require_started()
        return hf_chat_template(self._tok, None, self.name)

    def _specials_in(self, markup: str) -> list[tuple[str, int]]:
        return hf_specials_in(self._tok, markup)

    def _decode_tokens(self, tokens: Sequence[int]) -> str:
        text: str = self._tok.decode(list(tokens), skip_special_tokens=True)
        return text

    def _require_started(self) -> None:
        if self._llm is None:
            raise EngineError("engine is not started (use 'async with engine:')", engine=self.name)
