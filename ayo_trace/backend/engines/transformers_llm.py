"""Hugging Face transformers engine: any causal LM directory, or a GGUF file dequantized once.

Each session keeps its own ``DynamicCache`` between prefills. A prefill tokenizes BOS + the whole
session text, crops the cache to the longest common token prefix with what it holds and runs the
model on the remaining tokens only, so split prefills give the logits of the unsplit prompt.

Prefills and scores run session by session. The sessions of one decode call step together as one
batch: their caches are copied into one left-padded cache when the call starts (and back when it ends
or a session leaves the batch), so each step reads the weights once for all of them. A decode step
on the CPU is bound by that weight traffic, above all Gemma 3's 262k-token float32 output projection,
which on a handful of rows is also taken as ``weight @ x.T`` (``_tall_projection``, 2-4x faster than
``linear`` with torch's MKL). A batched session may round differently from a lone one, so a greedy
continuation can drift after some tokens (as with llama.cpp). The cache uses plain full-length layers
even for sliding-window models: the model's mask applies the window, and only full layers can be
cropped back to any length.

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
import functools
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


_TALL_ROWS = 32  # up to this many rows, the output projection is taken as weight @ x.T


def _tall_projection(linear: Any, x: Any) -> Any:
    """``linear(x)`` for the output projection (vocabulary logits), as ``weight @ x.T`` for few rows.

    ``torch.nn.functional.linear`` on a handful of rows against Gemma 3's 262144 x 640 float32 matrix
    runs 2-4x slower on the CPU than the same product taken the other way round: measured with torch
    2.13's MKL on this project's 2-core machine, 2 to 8 rows took 100-130 ms as ``linear`` and 25-50 ms
    as ``mm(weight, x.T)``, and one row (a matrix-vector product) about 58 ms against 30-42 ms for two
    copies of it as a matrix product. The result is the same product up to rounding. More rows (a
    prefill keeping every logit, a long score) use ``linear``. Installed as the module's ``forward``,
    so the module, its weights and their tying stay as they are.
    """
    import torch

    rows = x.reshape(-1, x.shape[-1])
    n = rows.shape[0]
    if n > _TALL_ROWS:
        return torch.nn.functional.linear(x, linear.weight, linear.bias)
    if n == 1:
        rows = torch.cat([rows, rows])
    out = torch.mm(linear.weight, rows.T).T[:n]
    if linear.bias is not None:
        out = out + linear.bias
    return out.reshape(*x.shape[:-1], out.shape[-1])


@dataclass(eq=False)
class _Stack:
    """Sessions decoding as one batch: their caches left-padded into one cache, and its attention mask
    (0 on padding; one column per cache slot)."""

    sessions: list[_Session]
    cache: Any
    mask: Any


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
        self._model_dir: Path | None = None
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
        self._model_dir = path
        try:
            tok = transformers.AutoTokenizer.from_pretrained(path)
            model: Any = transformers.AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"engine {self.name!r}: cannot load a causal LM from {path}: {exc}") from exc
        model.to(self._device).eval()
        head = model.get_output_embeddings()
        if self._device == "cpu" and type(head) is torch.nn.Linear:
            head.forward = functools.partial(_tall_projection, head)  # type: ignore[method-assign]
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

    @property
    def max_sessions(self) -> int:
        return self._max_sessions

    @property
    def model_dir(self) -> Path:
        """The Hugging Face directory the model was loaded from (for a GGUF, its cached conversion,
        which other engines such as vLLM can load too). Known once the engine has started."""
        if self._model_dir is None:
            raise EngineError("engine is not started (use 'async with engine:')", engine=self.name)
        return self._model_dir

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
        committed: list[tuple[_Session, str]] = []  # texts set once every session is done
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
            committed.append((s, text))
            results.append(PrefillResult(n_tokens=len(fresh), n_cached=n_common))
            self._counters["prompt_tokens_computed"] += len(fresh)
            self._counters["prompt_tokens_cached"] += n_common
            if keep and s.logits is not None:
                layers = [copy.copy(layer) for layer in s.cache.layers]
                self.prefixes.put(PrefixEntry(tuple(s.tokens), text, s.logits.copy(), layers))
        for s, text in committed:  # a failure above left every session's text as it was
            s.text = text
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
        stack: _Stack | None = None
        try:
            for _ in range(max_steps):
                if stop.is_set():
                    break
                fed: list[tuple[_Session, int]] = []
                for i, s in enumerate(sessions):
                    stream = s.stream
                    if s.released or stream is None or stream.done:
                        continue
                    if s.logits is None or s.cache is None or len(s.tokens) >= self._n_ctx:
                        texts[i] += stream.finish("length")
                        continue
                    tok = sample(s.logits, stream.params, stream.rng)
                    counts[i] += 1
                    texts[i] += stream.push(tok, is_eos=tok in self._eos)
                    if not stream.done:
                        fed.append((s, tok))
                if not fed:
                    break
                if len(sessions) == 1:
                    s, tok = fed[0]
                    s.logits = self._forward(s, [tok])
                    s.tokens.append(tok)
                    continue
                stack = self._restack(stack, [s for s, _ in fed])
                self._forward_stack(stack, [tok for _, tok in fed])
        except BaseException:
            if stack is not None:  # its caches may be half-updated: the sessions recompute on prefill
                for s in stack.sessions:
                    s.cache, s.logits, s.tokens = None, None, []
                stack = None
            raise
        finally:
            if stack is not None:
                self._unstack(stack, stack.sessions)
            self._counters["generated_tokens"] += sum(counts)
        return decode_chunks(sessions, texts, counts)

    # Sessions of one decode call run each step as one batch: their caches are copied once into a
    # left-padded batched cache (``_Stack``), stepped together, and copied back when a session leaves
    # the batch or the call ends. A step then reads the weights once for the whole batch, which is
    # what a decode step on this engine's CPU is bound by (the float32 output projection alone is
    # 670 MB for Gemma 3's 262k-token vocabulary). Each row gets its own position ids; the attention
    # mask hides its padding, and a sliding window is measured in cache slots, which padding shifts
    # equally for the query and the keys.

    def _restack(self, stack: _Stack | None, sessions: list[_Session]) -> _Stack:
        """``stack`` narrowed to ``sessions`` (a subset of its own, in order), or a new stack of them."""
        if stack is None:
            return self._stack(sessions)
        if stack.sessions == sessions:
            return stack
        keep = [i for i, s in enumerate(stack.sessions) if s in sessions]
        self._unstack(stack, [s for s in stack.sessions if s not in sessions])
        stack.cache.batch_select_indices(self._torch.tensor(keep, device=self._device))
        stack.mask = stack.mask[keep]
        stack.sessions = sessions
        return stack

    def _stack(self, sessions: list[_Session]) -> _Stack:
        torch = self._torch
        pad = torch.nn.functional.pad
        lengths = [len(s.tokens) for s in sessions]
        width = max(lengths)
        cache = self._new_cache()
        cache.layers = []
        for layers in zip(*(s.cache.layers for s in sessions), strict=True):
            layer = copy.copy(layers[0])
            layer.keys = torch.cat(
                [pad(x.keys, (0, 0, width - n, 0)) for x, n in zip(layers, lengths, strict=True)]
            )
            layer.values = torch.cat(
                [pad(x.values, (0, 0, width - n, 0)) for x, n in zip(layers, lengths, strict=True)]
            )
            cache.layers.append(layer)
        mask = torch.ones(len(sessions), width, dtype=torch.long, device=self._device)
        for row, n in enumerate(lengths):
            mask[row, : width - n] = 0
        return _Stack(list(sessions), cache, mask)

    def _unstack(self, stack: _Stack, sessions: list[_Session]) -> None:
        """Give ``sessions`` (members of ``stack``) their own caches back, without the padding."""
        width = int(stack.mask.shape[1])
        for row, s in enumerate(stack.sessions):
            if s not in sessions or s.released:
                continue
            start = width - len(s.tokens)
            cache = self._new_cache()
            cache.layers = []
            for layer in stack.cache.layers:
                mine = copy.copy(layer)
                mine.keys = layer.keys[row : row + 1, :, start:].clone()
                mine.values = layer.values[row : row + 1, :, start:].clone()
                cache.layers.append(mine)
            s.cache = cache

    def _forward_stack(self, stack: _Stack, tokens: list[int]) -> None:
        """One step of every session in ``stack``, each fed its token; sets their logits."""
        torch = self._torch
        stack.mask = torch.cat([stack.mask, stack.mask.new_ones(len(tokens), 1)], dim=1)
        ids = torch.tensor([[t] for t in tokens], device=self._device)
        positions = torch.tensor([[len(s.tokens)] for s in stack.sessions], device=self._device)
        out = self._model(
            input_ids=ids,
            attention_mask=stack.mask,
            position_ids=positions,
            cache=stack.cache,
            use_cache=True,
            logits_to_keep=1,
        )
        logits = out.logits[:, -1].float().cpu().numpy()
        for row, (s, tok) in enumerate(zip(stack.sessions, tokens, strict=True)):
            s.logits = logits[row]
            s.tokens.append(tok)

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
