"""llama.cpp engine (the CPU default): every session is a sequence of one shared llama context.

Sessions live as sequence ids of one ``llama_context`` created with ``n_seq_max`` sequences and a
non-unified KV cache of ``n_ctx`` cells per sequence. Saving and restoring whole context states per
session was measured to cost more than recomputing the prompt (see DESIGN.md), so nothing is ever
copied out: a prefill keeps the longest common token prefix of what the sequence holds and what
``tokenize(BOS + whole session text)`` gives, removes the rest with ``llama_memory_seq_rm`` and
evaluates the new tokens. Decode steps of many sessions go into one ``llama_batch`` with per-token
sequence ids, so they share a ``llama_decode`` call.

With a non-unified cache llama.cpp puts into one micro-batch only sequences whose ids follow each
other in the batch (``split_equal(..., sequential=true)``): a decode batch of sequences 4, 3 or 0, 2
runs as two weight passes, not one. So slots are handed out lowest first to sessions and highest
first to kept prefixes and to sessions prefilled ahead of time (which idle until their query reaches
them), which keeps the ids of the sessions decoding now dense, and a decode step lists its sessions
in ascending sequence order (measured on 2 cores: 8 sessions decode at ~185 tokens/s in
consecutive order against ~79 in descending order, the single-session rate). Sessions still end up
scattered as others open and close, so before each decode round the round's sessions are moved
onto consecutive free ids (``_gather``: a copy of the same KV bytes).

Contract details beyond ``base.py``:

* Decoded tokens stay in the sequence's KV but are not part of the session's text; prefilling the
  generated text afterwards reuses them through the common-prefix match.
* A session released while a decode of it is in flight ends that decode's chunk with
  ``done=True`` and ``finish_reason="abort"``; cancelling the awaiting task stops the worker within
  one step (prefill chunk or decode step).
* Shared prefixes (``PrefillRequest.shared_prefix``, see ``_prefix_cache``): a new session whose
  first request is marked shared starts from a copy of a kept prefix's sequence
  (``llama_memory_seq_cp``, a copy of that sequence's KV buffers, done by llama.cpp before the next
  ``llama_decode``) instead of recomputing it. A missed prefix is computed in the first session
  that asks for it, copied into a free sequence slot and kept; sessions of the same batch asking for
  it are copied from that session. Kept prefixes occupy sequence slots: a new session (or a score
  request) that finds no free slot evicts the least recently used prefix, and ``free_slots`` counts
  the slots held by prefixes as free. ``prefix_cache_tokens`` bounds the tokens kept (0: off).
* Batched decode is not bit-identical to single-sequence decode (llama.cpp's kernels reduce in a
  batch-dependent order), so exact-equality checks must decode one session per call.
* ``score`` evaluates each request alone in a spare sequence, freed afterwards (so a score does not
  depend on what else was in the batch); it needs at least one free sequence slot (``Overloaded``
  otherwise).
"""

from __future__ import annotations

import atexit
import bisect
import ctypes
import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio
import numpy as np

from ...errors import ConfigError, EngineError, InvalidRequest, Overloaded
from ._decoding import (
    ByteDetokenizer,
    SerialWorker,
    Stopped,
    TextStream,
    check_decode_batch,
    decode_chunks,
    log_softmax_at,
    prefill_rounds,
    reuse_length,
    sample,
)
from ._prefix_cache import DEFAULT_PREFIX_TOKENS, PrefixCache, PrefixEntry
from .base import DecodeChunk, DecodeRequest, LLMEngine, PrefillRequest, PrefillResult, ScoreRequest
from .models import default_gguf_path

T = TypeVar("T")
# One forward entry: (sequence id, token, position, key for the logits callback or None).
_Entry = tuple[int, int, int, Any]


@dataclass(eq=False)
class _Session:
    name: str
    seq: int
    text: str = ""
    tokens: list[int] = field(default_factory=list)  # exactly what the sequence's KV holds
    logits: np.ndarray | None = None  # logits after the last token of ``tokens``
    stream: TextStream | None = None
    released: bool = False


# Prompts are evaluated in blocks of this many tokens at fixed positions (0..63, 64..127, ...), one
# sequence per llama_decode call. llama.cpp's CPU kernels round differently for different batch
# shapes, so this is what makes a prompt's KV and logits independent of how it was split into parts
# (and of what else was prefilled at the same time): a later part recomputes its first partial block.
PREFILL_BLOCK = 64


def _aligned_blocks(entries: list[_Entry]) -> list[list[_Entry]]:
    """``entries`` (sequence, token, position, key) grouped by sequence and position block."""
    blocks: dict[tuple[int, int], list[_Entry]] = {}
    for e in entries:
        blocks.setdefault((e[0], e[2] // PREFILL_BLOCK), []).append(e)
    return list(blocks.values())


@functools.cache
def _close_devnull_at_exit() -> None:
    """llama-cpp-python opens ``/dev/null`` twice at import and never closes it, which prints a
    ``ResourceWarning`` at interpreter exit; close both files then (nothing runs llama.cpp after)."""
    from llama_cpp import _utils

    for name in ("outnull_file", "errnull_file"):
        f = getattr(_utils, name, None)
        if f is not None:
            atexit.register(f.close)


def cpu_has_amx() -> bool:
    """Whether this CPU has AMX tiles. ggml's AMX matmul (an "extra buffer type" that llama.cpp uses
    for weights when the CPU has AMX) segfaults in the first ``llama_decode`` on such CPUs with
    llama-cpp-python 0.3.36 built from source (seen in gdb: ``ggml_backend_amx_mul_mat``), so the
    engine loads weights without extra buffer types there (plain CPU buffers, same results)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return any(line.startswith("flags") and " amx_tile" in line for line in f)
    except OSError:
        return False


class LlamaCppEngine(LLMEngine):
    """LLM engine on llama-cpp-python's low-level API.

    ``model_path`` defaults to the shipped Gemma 3 270M GGUF. ``n_ctx`` is the context window of each
    session, ``n_seq_max`` the number of sessions held at once (a prefill that needs one more raises
    ``Overloaded``; the engine scheduler bounds concurrency below it). ``threads`` sets llama.cpp's
    compute threads, ``n_batch`` the most tokens per ``llama_decode`` call. ``prefix_cache_tokens``
    bounds the tokens of shared prefixes kept for forking (0 turns prefix sharing off).
    """

    def __init__(
        self,
        name: str = "llama.cpp",
        model_path: str | Path | None = None,
        *,
        n_ctx: int = 2048,
        n_seq_max: int = 16,
        n_batch: int = 512,
        threads: int = 2,
        gpu_layers: int = 0,
        prefix_cache_tokens: int = DEFAULT_PREFIX_TOKENS,
        verbose: bool = False,
    ) -> None:
        super().__init__(name)
        if n_ctx < 8 or n_seq_max < 1 or n_batch < 1 or threads < 1:
            raise ConfigError(f"engine {name!r}: n_ctx, n_seq_max, n_batch and threads must be positive")
        if prefix_cache_tokens < 0:
            raise ConfigError(f"engine {name!r}: prefix_cache_tokens must be >= 0")
        self._model_path = Path(model_path) if model_path is not None else None
        self._n_ctx = n_ctx
        self._n_seq_max = n_seq_max
        self._n_batch = n_batch
        self._threads = threads
        self._gpu_layers = gpu_layers
        self._verbose = verbose
        self._worker = SerialWorker()
        self._sessions: dict[str, _Session] = {}
        self._free: list[int] = []  # free sequence ids, ascending
        self.prefixes: PrefixCache[int] = PrefixCache(prefix_cache_tokens, self._evict_prefix)
        self._llama: Any = None
        self._model: Any = None
        self._ctx: Any = None
        self._mem: Any = None
        self._vocab: Any = None
        self._batch: Any = None
        self._n_vocab = 0
        self._counters = dict.fromkeys(
            (
                "prompt_tokens_computed",
                "prompt_tokens_cached",
                "generated_tokens",
                "scored_tokens",
                "sessions_moved",
            ),
            0,
        )

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        path = self._model_path
        if path is None:
            path = await anyio.to_thread.run_sync(default_gguf_path)
        await self._worker.call_shielded(self._load, path)

    async def stop(self) -> None:
        await self._worker.call_shielded(self._free_all)

    def _load(self, path: Path) -> None:
        import llama_cpp
        from llama_cpp import _logger

        _close_devnull_at_exit()
        _logger.set_verbose(self._verbose)
        if not path.exists():
            raise ConfigError(f"engine {self.name!r}: model file {path} does not exist")
        lib = llama_cpp
        mparams = lib.llama_model_default_params()
        mparams.n_gpu_layers = self._gpu_layers
        mparams.use_extra_bufts = not cpu_has_amx()
        model = lib.llama_model_load_from_file(str(path).encode(), mparams)
        if not model:
            raise ConfigError(f"engine {self.name!r}: llama.cpp could not load {path}")
        cparams = lib.llama_context_default_params()
        cparams.n_ctx = self._n_ctx * self._n_seq_max
        cparams.n_seq_max = self._n_seq_max
        cparams.kv_unified = False  # every sequence gets its own n_ctx cells
        cparams.swa_full = True  # sliding-window layers must keep all cells for partial seq_rm
        cparams.n_batch = self._n_batch
        cparams.n_ubatch = min(self._n_batch, 512)
        cparams.n_outputs_max = 0
        cparams.n_outputs_max_per_seq = 0
        cparams.n_threads = self._threads
        cparams.n_threads_batch = self._threads
        cparams.no_perf = True
        ctx = lib.llama_init_from_model(model, cparams)
        if not ctx:
            lib.llama_model_free(model)
            raise ConfigError(f"engine {self.name!r}: llama.cpp could not create a context")
        self._llama, self._model, self._ctx = lib, model, ctx
        self._mem = lib.llama_get_memory(ctx)
        self._vocab = lib.llama_model_get_vocab(model)
        self._n_vocab = lib.llama_vocab_n_tokens(self._vocab)
        self._n_ctx = lib.llama_n_ctx_seq(ctx)
        self._batch = lib.llama_batch_init(self._n_batch, 0, 1)
        self._free = list(range(self._n_seq_max))

    def _free_all(self) -> None:
        lib = self._llama
        if lib is None:
            return
        lib.llama_batch_free(self._batch)
        lib.llama_free(self._ctx)
        lib.llama_model_free(self._model)
        self._llama = self._ctx = self._model = self._mem = self._vocab = None
        for s in self._sessions.values():
            s.released = True
        self._sessions.clear()
        self.prefixes.clear(free=False)
        self._free = []

    # --- protocol --------------------------------------------------------------------------------

    @property
    def context_length(self) -> int:
        return self._n_ctx

    @property
    def max_sessions(self) -> int:
        return max(1, self._n_seq_max - 1)  # one slot stays free for score()

    def count_tokens(self, text: str) -> int:
        self._require_started()
        return len(self._tokenize(text, bos=False))

    def stats(self) -> dict[str, Any]:
        return {
            **self._counters,
            **self.prefixes.stats(),
            "sessions": len(self._sessions),
            "free_slots": len(self._free) + len(self.prefixes),  # a kept prefix yields its slot
            "prefix_slots": len(self.prefixes),
            "kv_tokens": sum(len(s.tokens) for s in self._sessions.values()),
        }

    async def prefill(self, batch: Sequence[PrefillRequest]) -> list[PrefillResult]:
        self._require_started()
        results: list[PrefillResult | None] = [None] * len(batch)
        for idx in prefill_rounds([r.session for r in batch]):
            round_ = [(i, batch[i]) for i in idx]
            new = [r.session for _, r in round_ if r.session not in self._sessions]
            if len(new) > len(self._free) + len(self.prefixes):
                raise Overloaded(
                    f"no free sequence slot for session(s) {new!r} ({self._n_seq_max} held)",
                    engine=self.name,
                )
            plans = await self._call(self._plan_prefill, [r for _, r in round_], len(new))
            ahead = {r.session for _, r in round_ if r.ahead}
            for s in new:  # slots are taken only once every request of the round is known valid
                # A session prefilled ahead of time idles until its query reaches it: it takes the
                # highest slot, so the ids of the sessions decoding now stay dense at the bottom.
                self._sessions[s] = _Session(s, self._free.pop() if s in ahead else self._free.pop(0))
            sessions = [self._sessions[r.session] for _, r in round_]
            shared = [r.shared_prefix is not None and r.session in new for _, r in round_]
            done = await self._call(self._run_prefill, sessions, plans, shared)
            for (i, _), res in zip(round_, done, strict=True):
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
            await self._worker.call_shielded(self._drop, gone)

    async def score(self, batch: Sequence[ScoreRequest]) -> list[float]:
        self._require_started()
        if not batch:
            return []
        if not self._free and not len(self.prefixes):
            raise Overloaded("no free sequence slot to score in", engine=self.name)
        return await self._call(self._run_score, list(batch))

    async def seq_lengths(self) -> dict[str, int]:
        """Tokens each held session's sequence has in the KV cache, read from llama.cpp itself."""
        return await self._call(self._read_seq_lengths)

    # --- worker-thread side ----------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._worker.call(self._started, fn, *args)

    def _started(self, fn: Callable[..., T], *args: Any) -> T:
        if self._llama is None:  # stopped while this call waited for the context
            raise EngineError("engine is not started", engine=self.name)
        return fn(*args)

    def _plan_prefill(
        self, reqs: list[PrefillRequest], n_new: int, stop: threading.Event
    ) -> list[tuple[str, list[int]]]:
        """Tokenize every request's whole session text; once all fit, free ``n_new`` slots."""
        plans = []
        for r in reqs:
            held = self._sessions.get(r.session)
            text = (held.text if held else "") + r.text
            tokens = self._tokenize(text, bos=True)
            if len(tokens) > self._n_ctx:
                raise InvalidRequest(
                    f"session {r.session!r}: prompt of {len(tokens)} tokens does not fit the context "
                    f"window of {self._n_ctx} tokens; shorten it or start the engine with a larger n_ctx",
                    engine=self.name,
                )
            plans.append((text, tokens))
        while len(self._free) < n_new and self.prefixes.pop_lru() is not None:
            pass
        return plans

    def _run_prefill(
        self,
        sessions: list[_Session],
        plans: list[tuple[str, list[int]]],
        shared: list[bool],
        stop: threading.Event,
    ) -> list[PrefillResult]:
        entries: list[_Entry] = []
        results: list[PrefillResult] = []
        leaders: dict[tuple[int, ...], _Session] = {}  # shared prefixes computed by this call
        followers: list[tuple[int, _Session, _Session]] = []
        for s, (_, tokens), share in zip(sessions, plans, shared, strict=True):
            if s.released:  # released while this prefill waited for the context; its slot is gone
                results.append(PrefillResult(n_tokens=0))
                continue
            if share and self.prefixes.enabled:
                key = tuple(tokens)
                if key in leaders:  # asked for twice in one batch: computed once, copied after
                    followers.append((len(results), s, leaders[key]))
                    results.append(PrefillResult(n_tokens=0, n_cached=len(tokens)))
                    continue
                hit = self.prefixes.lookup(tokens)
                if hit is not None:
                    self._fork(hit.entry.state, s, hit.entry.tokens, hit.entry.logits)
                if hit is None or not hit.exact:
                    leaders[key] = s
            n_common = reuse_length(s.tokens, tokens, have_logits=s.logits is not None)
            if n_common < len(tokens):
                n_common -= n_common % PREFILL_BLOCK  # recompute from the start of a partial block
            if n_common < len(s.tokens):
                self._llama.llama_memory_seq_rm(self._mem, s.seq, n_common, -1)
                del s.tokens[n_common:]
                s.logits = None
            s.stream = None
            fresh = tokens[n_common:]
            entries += [
                (s.seq, t, n_common + j, s if j == len(fresh) - 1 else None) for j, t in enumerate(fresh)
            ]
            results.append(PrefillResult(n_tokens=len(fresh), n_cached=n_common))
            self._counters["prompt_tokens_cached"] += n_common
        by_seq = {s.seq: s for s in sessions}
        for block in _aligned_blocks(entries):
            n_done = self._forward(block, self._advance, stop)
            for seq, tok, _, _ in block[:n_done]:
                by_seq[seq].tokens.append(tok)
            self._counters["prompt_tokens_computed"] += n_done
            if n_done < len(block):
                raise Stopped
        for s, (text, _) in zip(sessions, plans, strict=True):
            s.text = text
        for i, s, leader in followers:
            self._fork(leader.seq, s, leader.tokens, leader.logits)
            self.prefixes.count_hit(len(leader.tokens))
            self._counters["prompt_tokens_cached"] += results[i].n_cached
        for leader in leaders.values():
            self._keep_prefix(leader)
        return results

    def _fork(self, seq: int, s: _Session, tokens: Sequence[int], logits: np.ndarray | None) -> None:
        """Make session ``s`` hold what sequence ``seq`` holds (``tokens``, then ``logits``)."""
        self._llama.llama_memory_seq_cp(self._mem, seq, s.seq, -1, -1)
        s.tokens = list(tokens)
        s.logits = None if logits is None else logits.copy()
        s.stream = None

    def _keep_prefix(self, s: _Session) -> None:
        """Copy a shared prefix just computed in session ``s`` into a slot of its own and keep it."""
        if not self._free:
            self.prefixes.pop_lru()
        if not self._free or s.logits is None:
            self.prefixes.count_dropped()  # every slot holds a session: computed, not kept
            return
        seq = self._free.pop()  # highest: prefixes stay out of the sessions' id range
        self._llama.llama_memory_seq_cp(self._mem, s.seq, seq, -1, -1)
        self.prefixes.put(PrefixEntry(tuple(s.tokens), s.text, s.logits.copy(), seq))

    def _evict_prefix(self, entry: PrefixEntry[int]) -> None:
        if self._llama is not None:
            self._llama.llama_memory_seq_rm(self._mem, entry.state, -1, -1)
            bisect.insort(self._free, entry.state)

    @staticmethod
    def _advance(s: _Session, row: np.ndarray) -> None:
        s.logits = row.copy()

    def _run_decode(
        self, sessions: list[_Session], params: list[Any], max_steps: int, stop: threading.Event
    ) -> list[DecodeChunk]:
        for s, p in zip(sessions, params, strict=True):
            if s.stream is None:
                s.stream = TextStream(p, ByteDetokenizer(self._piece))
        self._gather([s for s in sessions if not s.released and not (s.stream and s.stream.done)])
        texts = [""] * len(sessions)
        counts = [0] * len(sessions)
        for _ in range(max_steps):
            entries: list[_Entry] = []
            for i, s in enumerate(sessions):
                stream = s.stream
                if s.released or stream is None or stream.done:
                    continue
                if s.logits is None or len(s.tokens) >= self._n_ctx:
                    texts[i] += stream.finish("length")
                    continue
                tok = sample(s.logits, stream.params, stream.rng)
                counts[i] += 1
                texts[i] += stream.push(tok, is_eos=bool(self._llama.llama_vocab_is_eog(self._vocab, tok)))
                if not stream.done:
                    entries.append((s.seq, tok, len(s.tokens), s))
            if not entries or stop.is_set():
                break
            entries.sort(key=lambda e: e[0])  # consecutive ids share one micro-batch (see above)
            n_done = self._forward(entries, self._advance, stop)
            for _, tok, _, s in entries[:n_done]:
                s.tokens.append(tok)
        self._counters["generated_tokens"] += sum(counts)
        return decode_chunks(sessions, texts, counts)

    def _gather(self, decoding: list[_Session]) -> None:
        """Move the sessions about to decode onto consecutive sequence ids, so a step is one micro-batch.

        Sessions that open and close at different times leave the decoding ones scattered between
        sessions that are prefilling or idle. The window of ``len(decoding)`` ids made only of free ids
        and decoding sessions' ids that needs the fewest moves is chosen; each session outside it is
        copied into a free id of the window (``llama_memory_seq_cp``: a copy of that sequence's KV
        buffers, done by llama.cpp before the next ``llama_decode``, the same bytes) and its old id
        freed. No copy reads an id another copy writes, so the copies' order does not matter.
        """
        k = len(decoding)
        ids = {s.seq for s in decoding}
        if k < 2 or max(ids) - min(ids) == k - 1:
            return
        allowed = ids | set(self._free)
        best: tuple[int, int] | None = None  # (moves, window start)
        for start in range(self._n_seq_max - k + 1):
            window = range(start, start + k)
            if all(i in allowed for i in window):
                moves = sum(1 for i in ids if i not in window)
                if best is None or moves < best[0]:
                    best = (moves, start)
        if best is None:
            return  # no window free of other sessions and prefixes: decode in several micro-batches
        window = range(best[1], best[1] + k)
        targets = [i for i in window if i not in ids]
        movers = [s for s in decoding if s.seq not in window]
        for s, target in zip(movers, targets, strict=True):
            self._llama.llama_memory_seq_cp(self._mem, s.seq, target, -1, -1)
            self._llama.llama_memory_seq_rm(self._mem, s.seq, -1, -1)
            self._free.remove(target)
            bisect.insort(self._free, s.seq)
            s.seq = target
        self._counters["sessions_moved"] += len(movers)

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
        totals = [0.0] * len(reqs)
        if not self._free:
            self.prefixes.pop_lru()
        if not self._free:
            raise Overloaded("no free sequence slot to score in", engine=self.name)
        seq = self._free[-1]  # a spare slot, used and cleared per request (taken from no session)

        def add(key: tuple[int, int], row: np.ndarray) -> None:
            totals[key[0]] += log_softmax_at(row, key[1])

        for i, (ctx, cont) in enumerate(planned):
            full = ctx + cont
            # logits at pos predict full[pos + 1]; only continuation targets are scored
            entries: list[_Entry] = [
                (seq, tok, pos, (i, full[pos + 1]) if pos + 1 >= len(ctx) else None)
                for pos, tok in enumerate(full[:-1])
            ]
            try:
                n_done = self._forward(entries, add, stop)
            finally:
                self._llama.llama_memory_seq_rm(self._mem, seq, -1, -1)
            self._counters["scored_tokens"] += n_done
            if n_done < len(entries):
                raise Stopped
        return totals

    def _drop(self, sessions: list[_Session]) -> None:
        if self._llama is None:
            return
        for s in sessions:
            self._llama.llama_memory_seq_rm(self._mem, s.seq, -1, -1)
            s.tokens.clear()
            s.logits = None
            bisect.insort(self._free, s.seq)

    def _read_seq_lengths(self, stop: threading.Event) -> dict[str, int]:
        pos_max = self._llama.llama_memory_seq_pos_max
        return {name: pos_max(self._mem, s.seq) + 1 for name, s in self._sessions.items()}

    def _forward(
        self, entries: list[_Entry], on_logits: Callable[[Any, np.ndarray], None], stop: threading.Event
    ) -> int:
        """Evaluate entries in ``n_batch``-sized llama_decode calls; returns how many were evaluated.

        ``on_logits(key, row)`` gets a view of the logits of every entry whose key is not None; the
        view is valid only during the call. Stops early (between calls) when ``stop`` is set.
        """
        lib, batch = self._llama, self._batch
        for start in range(0, len(entries), self._n_batch):
            if stop.is_set():
                return start
            chunk = entries[start : start + self._n_batch]
            batch.n_tokens = len(chunk)
            for j, (seq, tok, pos, key) in enumerate(chunk):
                batch.token[j] = tok
                batch.pos[j] = pos
                batch.n_seq_id[j] = 1
                batch.seq_id[j][0] = seq
                batch.logits[j] = key is not None
            rc = lib.llama_decode(self._ctx, batch)
            if rc != 0:
                raise EngineError(f"llama_decode failed with status {rc}", engine=self.name)
            for j, (_, _, _, key) in enumerate(chunk):
                if key is not None:
                    ptr = lib.llama_get_logits_ith(self._ctx, j)
                    on_logits(key, np.ctypeslib.as_array(ptr, shape=(self._n_vocab,)))
        return len(entries)

    def _tokenize(self, text: str, *, bos: bool) -> list[int]:
        data = text.encode("utf-8")
        buf = (self._llama.llama_token * (len(data) + 2))()
        n = self._llama.llama_tokenize(self._vocab, data, len(data), buf, len(buf), bos, False)
        if n < 0:
            raise EngineError(f"tokenizing {len(data)} bytes failed", engine=self.name)
        return list(buf[:n])

    def _piece(self, token: int) -> bytes:
        buf = ctypes.create_string_buffer(64)
        n = self._llama.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, False)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = self._llama.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, False)
        return buf.raw[:n]

    def _require_started(self) -> None:
        if self._llama is None:
            raise EngineError("engine is not started (use 'async with engine:')", engine=self.name)
