"""Hugging Face transformers engine: any causal LM directory, or a GGUF file dequantized once.

Each session keeps its own ``DynamicCache`` between prefills. A prefill tokenizes BOS + the whole
session text, crops the cache to the longest common token prefix with what it holds and runs the
model on the remaining tokens only, so split prefills give the logits of the unsplit prompt.

Sessions are computed one after another, not batched: their caches have different lengths, and
stacking them would need left padding with per-row positions and copying every cache into and out of
a padded batch at each step; on the 2-core CPU this engine targets the model's weight traffic, not
the batch size, dominates a decode step, so the loop is kept (``bench/llm.py`` measures it). The
cache uses plain full-length layers even for sliding-window models: the model's mask applies the
window, and only full layers can be cropped back to any length.

``gguf_file=`` loads a GGUF through transformers' dequantizer (about 40 s for Gemma 3 270M) and
saves the converted model and tokenizer under ``cache_dir()/hf/`` so later starts load it directly.
``threads`` is applied with ``torch.set_num_threads`` before every model call of this engine (torch's
pool is per process). Decoded tokens, ``release`` during decode and ``score`` behave as in
``LlamaCppEngine``.

Shared prefixes (``PrefillRequest.shared_prefix``, see ``_prefix_cache``): a kept prefix is the list
of its cache layers; a session forked from it gets new layer objects that point at the same key and
value tensors, copying nothing. That is safe because a ``DynamicLayer`` never writes into its tensors:
appending concatenates into new ones and cropping slices. ``prefix_cache_tokens`` bounds the tokens
kept (0: off); ``stats()["prefix_bytes_held"]`` is the memory of their tensors.
"""

from __future__ import annotations

import copy
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ...errors import ConfigError, EngineError, InvalidRequest, Overloaded
from ._decoding import (
    SerialWorker,
    Stopped,
    TextStream,
    WindowDetokenizer,
    check_decode_batch,
    decode_chunks,
    log_softmax_at,
    prefill_rounds,
    reuse_length,
    sample,
)
from ._prefix_cache import DEFAULT_PREFIX_TOKENS, PrefixCache, PrefixEntry
from .base import DecodeChunk, DecodeRequest, LLMEngine, PrefillRequest, PrefillResult, ScoreRequest
from .models import cache_dir, file_fingerprint

T = TypeVar("T")
_EOS_NAMES = ("<end_of_turn>", "<eos>", "</s>", "<|endoftext|>", "<|im_end|>", "<|eot_id|>")


@dataclass(eq=False)
class _Session:
    name: str
    text: str = ""
    tokens: list[int] = field(default_factory=list)  # exactly what ``cache`` holds
    cache: Any = None
    logits: np.ndarray | None = None
    stream: TextStream | None = None
    released: bool = False


class TransformersEngine(LLMEngine):
    """LLM engine on ``transformers``' ``AutoModelForCausalLM`` (CPU by default, float32).

    ``model`` is a model directory (or a folder holding ``gguf_file``); ``max_sessions`` bounds the
    sessions held at once (``Overloaded`` past it); ``max_context`` caps the context window below the
    model's own; ``prefix_cache_tokens`` bounds the tokens of shared prefixes kept (0: no sharing).
    """

    def __init__(
        self,
        name: str = "transformers",
        model: str | Path | None = None,
        *,
        gguf_file: str | Path | None = None,
        threads: int = 2,
        max_sessions: int = 16,
        max_context: int = 4096,
        prefix_cache_tokens: int = DEFAULT_PREFIX_TOKENS,
        device: str = "cpu",
    ) -> None:
        super().__init__(name)
        if model is None and gguf_file is None:
            raise ConfigError(f"engine {name!r}: pass a model directory or gguf_file=")
        if prefix_cache_tokens < 0:
            raise ConfigError(f"engine {name!r}: prefix_cache_tokens must be >= 0")
        self._source = Path(model) if model is not None else None
        self._gguf = Path(gguf_file) if gguf_file is not None else None
        self._threads = threads
        self._max_sessions = max_sessions
        self._max_context = max_context
        self._device = device
        self._worker = SerialWorker()
        self._sessions: dict[str, _Session] = {}
        self.prefixes: PrefixCache[list[Any]] = PrefixCache(prefix_cache_tokens)
        self._torch: Any = None
        self._model: Any = None
        self._tok: Any = None
        self._eos: frozenset[int] = frozenset()
        self._n_ctx = max_context
        self._counters = dict.fromkeys(
            ("prompt_tokens_computed", "prompt_tokens_cached", "generated_tokens", "scored_tokens"), 0
        )

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        await self._worker.call_shielded(self._load)

    async def stop(self) -> None:
        await self._worker.call_shielded(self._unload)

    def _load(self) -> None:
        import torch
        import transformers

        torch.set_num_threads(self._threads)
        path = self._resolve_model_dir(transformers)
        try:
            tok = transformers.AutoTokenizer.from_pretrained(path)
            model: Any = transformers.AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"engine {self.name!r}: cannot load a causal LM from {path}: {exc}") from exc
        model.to(self._device).eval()
        eos = set()
        for ids in (model.generation_config.eos_token_id, tok.eos_token_id):
            eos.update(ids if isinstance(ids, list) else [ids] if ids is not None else [])
        vocab = tok.get_vocab()
        eos.update(vocab[n] for n in _EOS_NAMES if n in vocab)
        n_ctx = getattr(model.config.get_text_config(), "max_position_embeddings", None) or self._max_context
        self._torch, self._model, self._tok = torch, model, tok
        self._eos = frozenset(eos)
        self._n_ctx = min(n_ctx, self._max_context)

    def _resolve_model_dir(self, transformers: Any) -> Path:
        """The directory to load: the model folder, or the cached conversion of the GGUF file."""
        if self._gguf is None:
            assert self._source is not None
            return self._source
        gguf = self._gguf if self._source is None else self._source / self._gguf
        if not gguf.is_file():
            raise ConfigError(f"engine {self.name!r}: GGUF file {gguf} does not exist")
        target = cache_dir() / "hf" / file_fingerprint(gguf)
        if (target / "config.json").is_file():
            return target
        import torch

        model = transformers.AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, dtype=torch.float32
        )
        tok = transformers.AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # The weights are plain float32 tensors once loaded; drop the GGUF marker that blocks saving.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        # Write next to the target and rename, so concurrent starts never see half a model.
        tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:6]}")
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        try:
            tmp.rename(target)
        except OSError:  # another process finished first
            shutil.rmtree(tmp, ignore_errors=True)
        return target

    def _unload(self) -> None:
        for s in self._sessions.values():
            s.released = True
        self._sessions.clear()
        self.prefixes.clear()
        self._model = self._tok = self._torch = None

    # --- protocol --------------------------------------------------------------------------------

    @property
    def context_length(self) -> int:
        return self._n_ctx

    def count_tokens(self, text: str) -> int:
        self._require_started()
        return len(self._tokenize(text, bos=False))

    def stats(self) -> dict[str, Any]:
        held = {
            id(t): t for e in self.prefixes.entries() for layer in e.state for t in (layer.keys, layer.values)
        }
        return {
            **self._counters,
            **self.prefixes.stats(),
            "prefix_bytes_held": sum(t.numel() * t.element_size() for t in held.values() if t is not None),
            "sessions": len(self._sessions),
            "kv_tokens": sum(len(s.tokens) for s in self._sessions.values()),
        }

    async def prefill(self, batch: Sequence[PrefillRequest]) -> list[PrefillResult]:
        self._require_started()
        results: list[PrefillResult | None] = [None] * len(batch)
        for idx in prefill_rounds([r.session for r in batch]):
            reqs = [batch[i] for i in idx]
            new = [r.session for r in reqs if r.session not in self._sessions]
            if len(self._sessions) + len(new) > self._max_sessions:
                raise Overloaded(
                    f"no room for session(s) {new!r} ({self._max_sessions} held)", engine=self.name
                )
            plans = await self._call(self._plan_prefill, reqs)
            for name in new:
                self._sessions[name] = _Session(name)
            sessions = [self._sessions[r.session] for r in reqs]
            shared = [r.shared_prefix is not None and r.session in new for r in reqs]
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
        for name in dict.fromkeys(sessions):
            s = self._sessions.pop(name, None)
            if s is not None:
                s.released = True  # an in-flight decode drops it at its next step
                s.cache = s.logits = None
                s.tokens = []

    async def score(self, batch: Sequence[ScoreRequest]) -> list[float]:
        self._require_started()
        return await self._call(self._run_score, list(batch))

    # --- worker-thread side ----------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._worker.call(self._in_model_context, fn, *args)

    def _in_model_context(self, fn: Callable[..., T], *args: Any) -> T:
        if self._torch is None:
            raise EngineError("engine is not started", engine=self.name)
        self._torch.set_num_threads(self._threads)
        with self._torch.inference_mode():  # grad mode is per thread
            return fn(*args)

    def _plan_prefill(self, reqs: list[PrefillRequest], stop: threading.Event) -> list[tuple[str, list[int]]]:
        plans = []
        for r in reqs:
            held = self._sessions.get(r.session)
            text = (held.text if held else "") + r.text
            tokens = self._tokenize(text, bos=True)
            if len(tokens) > self._n_ctx:
                raise InvalidRequest(
                    f"session {r.session!r}: prompt of {len(tokens)} tokens does not fit the context "
                    f"window of {self._n_ctx} tokens; shorten it or raise max_context",
                    engine=self.name,
                )
            plans.append((text, tokens))
        return plans

    def _run_prefill(
        self,
        sessions: list[_Session],
        plans: list[tuple[str, list[int]]],
        shared: list[bool],
        stop: threading.Event,
    ) -> list[PrefillResult]:
        results = []
        for s, (text, tokens), share in zip(sessions, plans, shared, strict=True):
            if s.released:
                results.append(PrefillResult(n_tokens=0))
                continue
            if stop.is_set():
                raise Stopped
            keep = False
            if share and self.prefixes.enabled:
                # Sessions run one after another, so a prefix kept by one is a hit for the next.
                hit = self.prefixes.lookup(tokens)
                if hit is not None:
                    s.cache = self._fork_cache(hit.entry.state)
                    s.tokens = list(hit.entry.tokens)
                    s.logits = hit.entry.logits.copy()
                keep = hit is None or not hit.exact
            n_common = reuse_length(s.tokens, tokens, have_logits=s.logits is not None)
            if n_common <= 0 or s.cache is None:
                n_common, s.cache, s.tokens = 0, self._new_cache(), []
            elif n_common < len(s.tokens):
                s.cache.crop(n_common - len(s.tokens))
                del s.tokens[n_common:]
            s.stream = None
            fresh = tokens[n_common:]
            if fresh:  # nothing to run when a fork already holds every token (and its logits)
                s.logits = self._forward(s, fresh)
            s.tokens += fresh
            s.text = text
            results.append(PrefillResult(n_tokens=len(fresh), n_cached=n_common))
            self._counters["prompt_tokens_computed"] += len(fresh)
            self._counters["prompt_tokens_cached"] += n_common
            if keep and s.logits is not None:
                layers = [copy.copy(layer) for layer in s.cache.layers]
                self.prefixes.put(PrefixEntry(tuple(s.tokens), text, s.logits.copy(), layers))
        return results

    def _fork_cache(self, layers: list[Any]) -> Any:
        """A cache whose layers share the kept prefix's tensors (nothing writes into them)."""
        cache = self._new_cache()
        cache.layers = [copy.copy(layer) for layer in layers]
        return cache

    def _run_decode(
        self, sessions: list[_Session], params: list[Any], max_steps: int, stop: threading.Event
    ) -> list[DecodeChunk]:
        for s, p in zip(sessions, params, strict=True):
            if s.stream is None:
                s.stream = TextStream(p, WindowDetokenizer(self._decode_tokens, s.tokens[1:]))
        texts = [""] * len(sessions)
        counts = [0] * len(sessions)
        for _ in range(max_steps):
            progressed = False
            for i, s in enumerate(sessions):
                stream = s.stream
                if stop.is_set() or s.released or stream is None or stream.done:
                    continue
                if s.logits is None or s.cache is None or len(s.tokens) >= self._n_ctx:
                    texts[i] += stream.finish("length")
                    continue
                tok = sample(s.logits, stream.params, stream.rng)
                counts[i] += 1
                texts[i] += stream.push(tok, is_eos=tok in self._eos)
                if not stream.done:
                    s.logits = self._forward(s, [tok])
                    s.tokens.append(tok)
                    progressed = True
            if not progressed:
                break
        self._counters["generated_tokens"] += sum(counts)
        return decode_chunks(sessions, texts, counts)

    def _run_score(self, reqs: list[ScoreRequest], stop: threading.Event) -> list[float]:
        torch = self._torch
        totals = []
        for r in reqs:
            if stop.is_set():
                raise Stopped
            ctx = self._tokenize(r.context, bos=True)
            cont = self._tokenize(r.continuation, bos=False)
            if len(ctx) + len(cont) > self._n_ctx:
                raise InvalidRequest(
                    f"score request of {len(ctx) + len(cont)} tokens does not fit the context window "
                    f"of {self._n_ctx} tokens",
                    engine=self.name,
                )
            if not cont:
                totals.append(0.0)
                continue
            ids = torch.tensor([ctx + cont], device=self._device)
            out = self._model(input_ids=ids, use_cache=False, logits_to_keep=len(cont) + 1)
            rows = out.logits[0, :-1].float().cpu().numpy()
            totals.append(sum(log_softmax_at(row, t) for row, t in zip(rows, cont, strict=True)))
            self._counters["scored_tokens"] += len(ctx) + len(cont)
        return totals

    def _forward(self, s: _Session, tokens: list[int]) -> np.ndarray:
        """Run ``tokens`` through the model on top of the session's cache; the last token's logits."""
        ids = self._torch.tensor([tokens], device=self._device)
        out = self._model(input_ids=ids, cache=s.cache, use_cache=True, logits_to_keep=1)
        logits: np.ndarray = out.logits[0, -1].float().cpu().numpy()
        return logits

    def _new_cache(self) -> Any:
        from transformers import DynamicCache

        return DynamicCache()  # full layers only: croppable at any length (see module docstring)

    def _tokenize(self, text: str, *, bos: bool) -> list[int]:
        ids: list[int] = self._tok(text, add_special_tokens=bos)["input_ids"]
        return ids

    def _decode_tokens(self, tokens: Sequence[int]) -> str:
        text: str = self._tok.decode(list(tokens), skip_special_tokens=True)
        return text

    def _require_started(self) -> None:
        if self._model is None:
            raise EngineError("engine is not started (use 'async with engine:')", engine=self.name)
