"""Hugging Face transformers engine: any causal LM directory, or a GGUF file dequantized once.
``parse=`` constraints mask the tokens a JSON schema does not allow next (``_schema_tokens.py``).

Each session keeps its own ``DynamicCache`` between prefills. A prefill tokenizes BOS + the whole
session text, crops the cache to the longest common token prefix with what it holds and runs the
model on the remaining tokens only, so split prefills give the logits of the unsplit prompt.

Prefills and scores run request by request with ``batching=False``; with ``batching`` (the
default) the sessions of one prefill call run as one batch (their caches left-padded into one, the
new tokens right-padded after them) and so do the requests of one score call (left-padded), which
makes results depend on the batch (``_session_llm``). The sessions of one decode call step together
as one batch: their caches are copied into one left-padded cache when the call starts (and back when
it ends or a session leaves the batch), so each step reads the weights once for all of them. A decode step
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

Shared prefixes (``PrefillRequest.shared``, see ``_prefix_cache``): a kept prefix is the list
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
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import ConfigError, EngineError, Overloaded
from ...ir.prompt import ChatTemplate
from ._decoding import Detokenizer, Stopped, WindowDetokenizer, log_softmax_at
from ._prefix_cache import DEFAULT_PREFIX_TOKENS
from ._schema_tokens import SchemaConstraint, Vocabulary, constraint_for
from ._schema_tokens import available as schema_tokens_available
from ._session_llm import Session, SessionLLM, Work
from ._special import hf_chat_template, hf_specials_in
from .models import cache_dir, file_fingerprint

_EOS_NAMES = ("<end_of_turn>", "<eos>", "</s>", "<|endoftext|>", "<|im_end|>", "<|eot_id|>")
# The most requests (scores) or sessions (prefills) one batched model call takes.
BATCH_WIDTH = 8


@dataclass(eq=False)
class _Session(Session):
    cache: Any = None  # a DynamicCache holding exactly ``tokens``


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


class TransformersEngine(SessionLLM[_Session, list[Any]]):
    """LLM engine on ``transformers``' ``AutoModelForCausalLM`` (CPU by default, float32).

    ``model`` is a model directory (or a folder holding ``gguf_file``); ``max_sessions`` bounds the
    sessions held at once (``Overloaded`` past it); ``max_context`` caps the context window below the
    model's own; ``prefix_cache_tokens`` bounds the tokens of shared prefixes kept (0: no sharing);
    ``batching=False`` evaluates every prefill and score request of a call alone (``_session_llm``).
    """

    context_hint = "raise max_context"

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
        batching: bool = True,
        device: str = "cpu",
        chat_template: str | None = None,
    ) -> None:
        if model is None and gguf_file is None:
            raise ConfigError(f"engine {name!r}: pass a model directory or gguf_file=")
        super().__init__(name, prefix_cache_tokens=prefix_cache_tokens, batching=batching, n_ctx=max_context)
        self._source = Path(model) if model is not None else None
        self._gguf = Path(gguf_file) if gguf_file is not None else None
        self._threads = threads
        self._max_sessions = max_sessions
        self._max_context = max_context
        self._device = device
        self._chat_source = chat_template
        self._torch: Any = None
        self._model: Any = None
        self._tok: Any = None
        self._vocabulary: Vocabulary | None = None  # for parse= constraints, built on first use
        self._eos: frozenset[int] = frozenset()
        self._model_dir: Path | None = None
        self._stack: _Stack | None = None  # the decode call's batch, while one runs
        self._stacking = False

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        await self._worker.call_shielded(self._load)

    def cpu_threads(self) -> int:
        return self._threads if self._device.startswith("cpu") else 0

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
        self._vocabulary = Vocabulary(tok) if schema_tokens_available() else None
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
    def _loaded(self) -> bool:
        return self._model is not None

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

    def _engine_stats(self) -> dict[str, Any]:
        held = {
            id(t): t for e in self.prefixes.entries() for layer in e.state for t in (layer.keys, layer.values)
        }
        return {
            "prefix_bytes_held": sum(t.numel() * t.element_size() for t in held.values() if t is not None)
        }

    def _model_context(self) -> AbstractContextManager[Any]:
        self._torch.set_num_threads(self._threads)
        return self._torch.inference_mode()  # grad mode is per thread

    # --- sessions as caches ----------------------------------------------------------------------

    def _check_room(self, new: list[str]) -> None:
        if len(self._sessions) + len(new) > self._max_sessions:
            raise Overloaded(f"no room for session(s) {new!r} ({self._max_sessions} held)", engine=self.name)

    def _open(self, name: str, *, ahead: bool) -> _Session:
        return _Session(name)

    def _truncate(self, s: _Session, n: int) -> None:
        if n <= 0 or s.cache is None:
            s.cache, s.tokens = None, []
        else:
            s.cache.crop(n - len(s.tokens))
            del s.tokens[n:]

    def _fork(self, s: _Session, state: list[Any], tokens: Sequence[int], logits: np.ndarray) -> None:
        """``s`` gets a cache whose layers share the kept prefix's tensors (nothing writes into them)."""
        s.cache = self._new_cache()
        s.cache.layers = [copy.copy(layer) for layer in state]
        s.tokens = list(tokens)
        s.logits = logits.copy()
        s.stream = None

    def _state_of(self, s: _Session) -> list[Any]:
        layers: list[Any] = s.cache.layers
        return layers

    def _keep(self, s: _Session) -> list[Any] | None:
        return [copy.copy(layer) for layer in s.cache.layers]

    async def _release_state(self, sessions: list[_Session]) -> None:
        for s in sessions:  # an in-flight decode drops them at its next step
            s.cache = s.logits = None
            s.tokens = []
            s.end_constraint()

    # --- model calls -----------------------------------------------------------------------------

    def _compute(self, work: list[Work[_Session]], stop: threading.Event) -> None:
        width = BATCH_WIDTH if self.batching else 1
        for start in range(0, len(work), width):
            if stop.is_set():
                raise Stopped
            group = work[start : start + width]
            self._counters["prefill_model_calls"] += 1
            if len(group) > 1:
                self._prefill_stacked(group)
                continue
            ((s, fresh),) = group
            if s.cache is None:
                s.cache = self._new_cache()
            s.logits = self._forward(s, fresh)
            s.tokens += fresh
            self._counters["prompt_tokens_computed"] += len(fresh)

    def _prefill_stacked(self, group: list[Work[_Session]]) -> None:
        """Prefill several sessions in one model call.

        Row ``i`` holds session ``i``'s cache left-padded to the widest (``c_i`` tokens, ending at
        column ``Wc``) and then its new tokens right-padded to the longest (``n_i`` tokens from column
        ``Wc``), so every real token keeps its distance in cache slots to every earlier one (what a
        sliding window measures) and no padding sits before a real query of its row. Position ids
        continue each session's own; the attention mask hides the padding. Each session then gets
        its own cache back (its real columns) and the logits of its last new token.
        """
        torch = self._torch
        held = [len(s.tokens) if s.cache is not None else 0 for s, _ in group]
        news = [len(fresh) for _, fresh in group]
        wc, wn = max(held), max(news)
        cache = self._new_cache()
        if wc:
            ref = next(s.cache for (s, _), c in zip(group, held, strict=True) if c)
            cache.layers = []
            for li, ref_layer in enumerate(ref.layers):
                keys, values = [], []
                for (s, _), c in zip(group, held, strict=True):
                    if c:
                        layer = s.cache.layers[li]
                        keys.append(torch.nn.functional.pad(layer.keys, (0, 0, wc - c, 0)))
                        values.append(torch.nn.functional.pad(layer.values, (0, 0, wc - c, 0)))
                    else:
                        shape = (1, ref_layer.keys.shape[1], wc, ref_layer.keys.shape[3])
                        keys.append(ref_layer.keys.new_zeros(shape))
                        values.append(ref_layer.values.new_zeros(shape))
                stacked = copy.copy(ref_layer)
                stacked.keys, stacked.values = torch.cat(keys), torch.cat(values)
                cache.layers.append(stacked)
        pad_id = self._tok.pad_token_id or 0
        ids = torch.full((len(group), wn), pad_id, dtype=torch.long)
        mask = torch.zeros(len(group), wc + wn, dtype=torch.long)
        positions = torch.zeros(len(group), wn, dtype=torch.long)
        for row, ((_, fresh), c, n) in enumerate(zip(group, held, news, strict=True)):
            ids[row, :n] = torch.tensor(fresh)
            mask[row, wc - c : wc + n] = 1
            positions[row] = torch.arange(c, c + wn)
        last = sorted({n - 1 for n in news})
        logits = self._padded_logits(ids, mask, positions, torch.tensor(last, device=self._device), cache)
        for row, ((s, fresh), c, n) in enumerate(zip(group, held, news, strict=True)):
            cols = torch.cat([torch.arange(wc - c, wc), torch.arange(wc, wc + n)]).to(self._device)
            mine = self._new_cache()
            mine.layers = []
            for layer in cache.layers:
                own = copy.copy(layer)
                own.keys = layer.keys[row : row + 1].index_select(2, cols)
                own.values = layer.values[row : row + 1].index_select(2, cols)
                mine.layers.append(own)
            s.cache = mine
            s.logits = logits[row, last.index(n - 1)].copy()
            s.tokens += fresh
            self._counters["prompt_tokens_computed"] += n

    def _begin_decode(self, sessions: list[_Session]) -> None:
        self._stack = None
        self._stacking = len(sessions) > 1

    def _step(self, fed: list[tuple[_Session, int]], stop: threading.Event) -> None:
        if not self._stacking:
            for s, tok in fed:
                s.logits = self._forward(s, [tok])
                s.tokens.append(tok)
            return
        self._stack = self._restack(self._stack, [s for s, _ in fed])
        self._forward_stack(self._stack, [tok for _, tok in fed])

    def _end_decode(self, failed: bool) -> None:
        stack, self._stack = self._stack, None
        if stack is None:
            return
        if failed:  # its caches may be half-updated: the sessions recompute on their next prefill
            for s in stack.sessions:
                s.cache, s.logits, s.tokens = None, None, []
        else:
            self._unstack(stack, stack.sessions)

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
            return self._make_stack(sessions)
        if stack.sessions == sessions:
            return stack
        keep = [i for i, s in enumerate(stack.sessions) if s in sessions]
        self._unstack(stack, [s for s in stack.sessions if s not in sessions])
        stack.cache.batch_select_indices(self._torch.tensor(keep, device=self._device))
        stack.mask = stack.mask[keep]
        stack.sessions = sessions
        return stack

    def _make_stack(self, sessions: list[_Session]) -> _Stack:
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

    def _score(self, planned: list[tuple[list[int], list[int]]], stop: threading.Event) -> list[float]:
        width = BATCH_WIDTH if self.batching else 1
        totals: list[float] = []
        for start in range(0, len(planned), width):
            if stop.is_set():
                raise Stopped
            group = planned[start : start + width]
            self._counters["score_model_calls"] += 1
            for (ctx, cont), rows in zip(group, self._score_rows(group), strict=True):
                totals.append(sum(log_softmax_at(row, t) for row, t in zip(rows, cont, strict=True)))
                self._counters["scored_tokens"] += len(ctx) + len(cont)
        return totals

    def _score_rows(self, group: list[tuple[list[int], list[int]]]) -> list[np.ndarray]:
        """For each (context, continuation): the logits that predict each continuation token, from
        one model call (several requests: left-padded, with their own position ids)."""
        torch = self._torch
        if len(group) == 1:
            ((ctx, cont),) = group
            ids = torch.tensor([ctx + cont], device=self._device)
            out = self._model(input_ids=ids, use_cache=False, logits_to_keep=len(cont) + 1)
            return [out.logits[0, :-1].float().cpu().numpy()]
        lengths = [len(ctx) + len(cont) for ctx, cont in group]
        width = max(lengths)
        keep = max(len(cont) for _, cont in group) + 1
        ids = torch.full((len(group), width), self._tok.pad_token_id or 0, dtype=torch.long)
        mask = torch.zeros(len(group), width, dtype=torch.long)
        for row, ((ctx, cont), n) in enumerate(zip(group, lengths, strict=True)):
            ids[row, width - n :] = torch.tensor(ctx + cont)
            mask[row, width - n :] = 1
        logits = self._padded_logits(ids, mask, (mask.cumsum(-1) - 1).clamp(min=0), keep)
        return [logits[row, keep - 1 - len(cont) : keep - 1] for row, (_, cont) in enumerate(group)]

    def _padded_logits(self, ids: Any, mask: Any, positions: Any, keep: Any, cache: Any = None) -> np.ndarray:
        """One model call on a padded batch (on top of ``cache``, which it extends, if given): the
        logits kept by ``keep`` (``logits_to_keep``: a count of last positions, or their indices)."""
        out = self._model(
            input_ids=ids.to(self._device),
            attention_mask=mask.to(self._device),
            position_ids=positions.to(self._device),
            cache=cache,
            use_cache=cache is not None,
            logits_to_keep=keep,
        )
        logits: np.ndarray = out.logits.float().cpu().numpy()
        return logits

    def _forward(self, s: _Session, tokens: list[int]) -> np.ndarray:
        """Run ``tokens`` through the model on top of the session's cache; the last token's logits."""
        ids = self._torch.tensor([tokens], device=self._device)
        out = self._model(input_ids=ids, cache=s.cache, use_cache=True, logits_to_keep=1)
        logits: np.ndarray = out.logits[0, -1].float().cpu().numpy()
        return logits

    def _new_cache(self) -> Any:
        from transformers import DynamicCache

        return DynamicCache()  # full layers only: croppable at any length (see module docstring)

    # --- tokens ----------------------------------------------------------------------------------

    def _tokenize(self, text: str, *, bos: bool) -> list[int]:
        ids: list[int] = self._tok(text, add_special_tokens=bos, split_special_tokens=True)["input_ids"]
        return ids

    def chat_template(self) -> ChatTemplate | None:
        """``chat_template=`` if given, else the tokenizer's ``chat_template``."""
        self._require_started()
        return hf_chat_template(self._tok, self._chat_source, self.name)

    def _specials_in(self, markup: str) -> list[tuple[str, int]]:
        return hf_specials_in(self._tok, markup)

    def _constraint(self, params: Any) -> SchemaConstraint | None:
        return constraint_for(self._vocabulary, params.json_schema, self.name)

    def _is_eos(self, token: int) -> bool:
        return token in self._eos

    def _detokenizer(self, s: _Session) -> Detokenizer:
        return WindowDetokenizer(self._decode_tokens, s.tokens[1:])

    def _decode_tokens(self, tokens: Sequence[int]) -> str:
        text: str = self._tok.decode(list(tokens), skip_special_tokens=True)
        return text
