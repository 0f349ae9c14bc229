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
* Shared prefixes (``PrefillRequest.shared``, see ``_prefix_cache``): a new session whose
  first request is marked shared starts from a copy of a kept prefix's sequence
  (``llama_memory_seq_cp``, a copy of that sequence's KV buffers, done by llama.cpp before the next
  ``llama_decode``) instead of recomputing it. A missed prefix is computed in the first session
  that asks for it, copied into a free sequence slot and kept; sessions of the same batch asking for
  it are copied from that session. Kept prefixes occupy sequence slots: a new session (or a score
  request) that finds no free slot evicts the least recently used prefix, and ``free_slots`` counts
  the slots held by prefixes as free. ``prefix_cache_tokens`` bounds the tokens kept (0: off).
* Batched decode is not bit-identical to single-sequence decode (llama.cpp's kernels reduce in a
  batch-dependent order), so exact-equality checks must decode one session per call.
* ``score`` evaluates each request in a spare sequence slot, freed afterwards; it needs at least one
  free slot (``Overloaded`` otherwise). With ``batching`` (the default) the requests of a call take
  every free slot and share ``llama_decode`` calls, and a prefill evaluates the k-th 64-token block
  of all its sessions in one call; with ``batching=False`` each request is evaluated alone, so its
  result does not depend on what else was in the call (``_session_llm``).
"""

from __future__ import annotations

import atexit
import bisect
import ctypes
import functools
import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import numpy as np

from ...errors import ConfigError, EngineError, Overloaded
from ...ir.prompt import ChatTemplate
from ._decoding import ByteDetokenizer, Detokenizer, Stopped, log_softmax_at
from ._grammar import GrammarConstraint
from ._prefix_cache import DEFAULT_PREFIX_TOKENS, PrefixEntry
from ._session_llm import Session, SessionLLM, Work
from .base import ScoreRequest
from .models import default_gguf_path

# One forward entry: (sequence id, token, position, key for the logits callback or None).
_Entry = tuple[int, int, int, Any]


@dataclass(eq=False)
class _Session(Session):
    seq: int = -1  # the sequence id holding this session's KV


# Prompts are evaluated in blocks of this many tokens at fixed positions (0..63, 64..127, ...), at
# most one block of a sequence per llama_decode call. llama.cpp's CPU kernels round differently for
# different batch shapes, so this is what makes a prompt's KV and logits independent of how it was
# split into parts: a later part recomputes its first partial block. With ``batching=False`` a call
# holds one block of one sequence, so they are also independent of what else was prefilled.
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


class LlamaCppEngine(SessionLLM[_Session, int]):
    """LLM engine on llama-cpp-python's low-level API.

    ``model_path`` defaults to the shipped Gemma 3 270M GGUF. ``n_ctx`` is the context window of each
    session, ``n_seq_max`` the sequences held at once (a prefill that needs one more raises
    ``Overloaded``; the engine scheduler bounds concurrency below it; 24: 23 sessions and a spare for
    scores, so the 8 queries admitted on the CPU can hold two or three each, at 37 MB of KV a
    sequence: bench/RESULTS.md, "c=16 with 24 llama.cpp sequences"). ``threads`` sets llama.cpp's
    compute threads, ``n_batch`` the most tokens per ``llama_decode`` call. ``prefix_cache_tokens``
    bounds the tokens of shared prefixes kept for forking (0 turns prefix sharing off).
    ``batching=False`` evaluates every prefill and score request of a call alone (``_session_llm``).
    """

    context_hint = "start the engine with a larger n_ctx"

    def __init__(
        self,
        name: str = "llama.cpp",
        model_path: str | Path | None = None,
        *,
        n_ctx: int = 2048,
        n_seq_max: int = 24,
        n_batch: int = 512,
        threads: int = 2,
        gpu_layers: int = 0,
        prefix_cache_tokens: int = DEFAULT_PREFIX_TOKENS,
        batching: bool = True,
        verbose: bool = False,
        chat_template: str | None = None,
    ) -> None:
        if n_ctx < 8 or n_seq_max < 1 or n_batch < 1 or threads < 1:
            raise ConfigError(f"engine {name!r}: n_ctx, n_seq_max, n_batch and threads must be positive")
        super().__init__(name, prefix_cache_tokens=prefix_cache_tokens, batching=batching, n_ctx=n_ctx)
        self._model_path = Path(model_path) if model_path is not None else None
        self._n_seq_max = n_seq_max
        self._n_batch = n_batch
        self._threads = threads
        self._gpu_layers = gpu_layers
        self._verbose = verbose
        self._chat_source = chat_template
        self._free: list[int] = []  # free sequence ids, ascending
        self._llama: Any = None
        self._model: Any = None
        self._ctx: Any = None
        self._mem: Any = None
        self._vocab: Any = None
        self._batch: Any = None
        self._n_vocab = 0
        self._counters["sessions_moved"] = 0
        # Decode steps, and the weight passes they took: llama.cpp runs a step's sequences whose ids
        # are not consecutive as separate micro-batches (see the module docstring).
        self._counters["decode_steps"] = 0
        self._counters["decode_micro_batches"] = 0

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
    def _loaded(self) -> bool:
        return self._llama is not None

    @property
    def max_sessions(self) -> int:
        return max(1, self._n_seq_max - 1)  # one slot stays free for score()

    def _engine_stats(self) -> dict[str, Any]:
        return {
            "free_slots": len(self._free) + len(self.prefixes),  # a kept prefix yields its slot
            "prefix_slots": len(self.prefixes),
        }

    def cpu_threads(self) -> int:
        return self._threads

    async def score(self, batch: Sequence[ScoreRequest]) -> list[float]:
        self._require_started()
        if batch and not self._free and not len(self.prefixes):
            raise Overloaded("no free sequence slot to score in", engine=self.name)
        return await super().score(batch)

    async def seq_lengths(self) -> dict[str, int]:
        """Tokens each held session's sequence has in the KV cache, read from llama.cpp itself."""
        return await self._call(self._read_seq_lengths)

    # --- sessions as sequences -------------------------------------------------------------------

    def _check_room(self, new: list[str]) -> None:
        if len(new) > len(self._free) + len(self.prefixes):
            raise Overloaded(
                f"no free sequence slot for session(s) {new!r} ({self._n_seq_max} held)", engine=self.name
            )

    def _make_room(self, n_new: int) -> None:
        while len(self._free) < n_new and self.prefixes.pop_lru() is not None:
            pass

    def _open(self, name: str, *, ahead: bool) -> _Session:
        # A session prefilled ahead of time idles until its query reaches it: it takes the highest
        # slot, so the ids of the sessions decoding now stay dense at the bottom.
        return _Session(name, seq=self._free.pop() if ahead else self._free.pop(0))

    def _reuse(self, s: _Session, tokens: list[int]) -> int:
        n = super()._reuse(s, tokens)
        if n < len(tokens):
            n -= n % PREFILL_BLOCK  # recompute from the start of a partial block
        return n

    def _truncate(self, s: _Session, n: int) -> None:
        self._llama.llama_memory_seq_rm(self._mem, s.seq, n, -1)
        del s.tokens[n:]

    def _fork(self, s: _Session, state: int, tokens: Sequence[int], logits: np.ndarray) -> None:
        self._llama.llama_memory_seq_cp(self._mem, state, s.seq, -1, -1)
        s.tokens = list(tokens)
        s.logits = logits.copy()
        s.stream = None

    def _state_of(self, s: _Session) -> int:
        return s.seq

    def _keep(self, s: _Session) -> int | None:
        """Copy a shared prefix just computed in session ``s`` into a slot of its own."""
        if not self._free:
            self.prefixes.pop_lru()
        if not self._free:
            return None  # every slot holds a session
        seq = self._free.pop()  # highest: prefixes stay out of the sessions' id range
        self._llama.llama_memory_seq_cp(self._mem, s.seq, seq, -1, -1)
        return seq

    def _evict_prefix(self, entry: PrefixEntry[int]) -> None:
        if self._llama is not None:
            self._llama.llama_memory_seq_rm(self._mem, entry.state, -1, -1)
            bisect.insort(self._free, entry.state)

    async def _release_state(self, sessions: list[_Session]) -> None:
        await self._worker.call_shielded(self._drop, sessions)

    def _drop(self, sessions: list[_Session]) -> None:
        if self._llama is None:
            return
        for s in sessions:
            s.end_constraint()  # here, in the worker thread: never while a decode uses it
            self._llama.llama_memory_seq_rm(self._mem, s.seq, -1, -1)
            s.tokens.clear()
            s.logits = None
            bisect.insort(self._free, s.seq)

    def _read_seq_lengths(self, stop: threading.Event) -> dict[str, int]:
        pos_max = self._llama.llama_memory_seq_pos_max
        return {name: pos_max(self._mem, s.seq) + 1 for name, s in self._sessions.items()}

    # --- model calls -----------------------------------------------------------------------------

    def _compute(self, work: list[Work[_Session]], stop: threading.Event) -> None:
        per_session = [
            _aligned_blocks(
                [
                    (s.seq, t, len(s.tokens) + j, s if j == len(fresh) - 1 else None)
                    for j, t in enumerate(fresh)
                ]
            )
            for s, fresh in work
        ]
        by_seq = {s.seq: s for s, _ in work}
        for call in self._prefill_calls(per_session):
            self._counters["prefill_model_calls"] += 1
            n_done = self._forward(call, self._advance, stop)
            for seq, tok, _, _ in call[:n_done]:
                by_seq[seq].tokens.append(tok)
            self._counters["prompt_tokens_computed"] += n_done
            if n_done < len(call):
                raise Stopped

    def _prefill_calls(self, per_session: list[list[list[_Entry]]]) -> list[list[_Entry]]:
        """The ``llama_decode`` calls of a prefill: one block each without batching; with batching,
        the k-th blocks of all sessions together (at most one block of a sequence per call, in
        ascending sequence order), split to stay within ``n_batch`` tokens."""
        if not self.batching or len(per_session) < 2:
            return [block for blocks in per_session for block in blocks]
        calls: list[list[_Entry]] = []
        for k in range(max(len(blocks) for blocks in per_session)):
            current: list[_Entry] = []
            for block in sorted((b[k] for b in per_session if k < len(b)), key=lambda b: b[0][0]):
                if current and len(current) + len(block) > self._n_batch:
                    calls.append(current)
                    current = []
                current += block
            calls.append(current)
        return calls

    @staticmethod
    def _advance(s: _Session, row: np.ndarray) -> None:
        s.logits = row.copy()

    def _begin_decode(self, sessions: list[_Session]) -> None:
        self._gather(sessions)

    def _step(self, fed: list[tuple[_Session, int]], stop: threading.Event) -> None:
        entries: list[_Entry] = [(s.seq, tok, len(s.tokens), s) for s, tok in fed]
        entries.sort(key=lambda e: e[0])  # consecutive ids share one micro-batch (see above)
        self._counters["decode_steps"] += 1
        self._counters["decode_micro_batches"] += 1 + sum(
            1 for a, b in itertools.pairwise(entries) if b[0] != a[0] + 1
        )
        n_done = self._forward(entries, self._advance, stop)
        for _, tok, _, s in entries[:n_done]:
            s.tokens.append(tok)

    def _gather(self, decoding: list[_Session]) -> None:
        """Move the sessions about to decode onto consecutive sequence ids, so a step is one micro-batch.

        Sessions that open and close at different times leave the decoding ones scattered between
        sessions that are prefilling or idle (prefilled ahead of time) and kept prefixes. The window of
        ``len(decoding)`` ids that needs the fewest moves is chosen (the lowest among equals): each
        decoding session outside it moves into it, and each idle session or kept prefix inside it
        moves out, to the highest id free for it. A move is a ``llama_memory_seq_cp`` (a copy of that
        sequence's KV buffers, the same bytes) and a ``llama_memory_seq_rm`` of the old id; llama.cpp
        applies the queued copies in order before the next ``llama_decode``, and each move writes an
        id that is free at that point, so a chain of moves reads what the moves before it wrote. A
        cycle of moves (every target taken) goes through a free id. With no id free, the least
        recently used kept prefix is evicted first (a decode call of scattered sessions costs a weight
        pass per run of consecutive ids at every step, more than recomputing a prefix once); with no
        prefix either, the moves that are left are skipped and the step runs in several micro-batches
        (still correct).
        """
        k = len(decoding)
        ids = {s.seq for s in decoding}
        if k < 2 or max(ids) - min(ids) == k - 1:
            return
        if not self._free:  # every id held: a kept prefix yields its id (the moves need one free)
            self.prefixes.pop_lru()
        holders: dict[int, _Session | PrefixEntry[int]] = {
            s.seq: s for s in self._sessions.values() if s.seq not in ids
        }
        holders.update({e.state: e for e in self.prefixes.entries()})

        def cost(start: int) -> int:
            inside = range(start, start + k)
            return sum(i not in inside for i in ids) + sum(i in inside for i in holders)

        start = min(range(self._n_seq_max - k + 1), key=lambda st: (cost(st), st))
        window = range(start, start + k)
        plan: dict[int, int] = {}  # old id -> new id
        into = iter(i for i in window if i not in ids)
        for s in sorted(decoding, key=lambda s: s.seq):
            if s.seq not in window:
                plan[s.seq] = next(into)
        vacated = [i for i in plan if i not in window]
        outside = sorted(
            (i for i in [*self._free, *vacated] if i not in window), reverse=True
        )  # idle sessions and prefixes go on top
        evicted = sorted(i for i in holders if i in window)
        if len(evicted) > len(outside):  # cannot happen while sessions and prefixes fit the slots
            return
        for i, target in zip(evicted, outside, strict=False):
            plan[i] = target
        owner: dict[int, _Session | PrefixEntry[int]] = {**holders, **{s.seq: s for s in decoding}}
        n_moved = 0
        while plan:
            ready = [i for i, t in plan.items() if t in self._free]
            if not ready:  # a cycle: park one of its sessions on a free id outside the plan
                spare = [i for i in self._free if i not in plan.values()]
                if not spare:
                    break
                i = next(iter(plan))
                plan[spare[-1]] = plan.pop(i)
                self._move(owner, i, spare[-1])
                n_moved += 1
                continue
            for i in ready:
                self._move(owner, i, plan.pop(i))
                n_moved += 1
        self._counters["sessions_moved"] += n_moved

    def _move(self, owner: dict[int, _Session | PrefixEntry[int]], src: int, dst: int) -> None:
        """Move the KV state on sequence ``src`` (a session's or a kept prefix's) to free id ``dst``."""
        self._llama.llama_memory_seq_cp(self._mem, src, dst, -1, -1)
        self._llama.llama_memory_seq_rm(self._mem, src, -1, -1)
        self._free.remove(dst)
        bisect.insort(self._free, src)
        held = owner[dst] = owner.pop(src)
        if isinstance(held, _Session):
            held.seq = dst
        else:
            held.state = dst

    def _score(self, planned: list[tuple[list[int], list[int]]], stop: threading.Event) -> list[float]:
        """Each request in a spare sequence slot (taken from no session), cleared afterwards; with
        batching, as many requests per call as there are free slots."""
        if not self._free:
            self.prefixes.pop_lru()
        if not self._free:
            raise Overloaded("no free sequence slot to score in", engine=self.name)
        width = len(self._free) if self.batching else 1
        seqs = self._free[-width:]
        totals = [0.0] * len(planned)

        def add(key: tuple[int, int], row: np.ndarray) -> None:
            totals[key[0]] += log_softmax_at(row, key[1])

        for start in range(0, len(planned), width):
            group = list(enumerate(planned[start : start + width], start))
            entries: list[_Entry] = []
            for seq, (i, (ctx, cont)) in zip(seqs, group, strict=False):
                full = ctx + cont
                # logits at pos predict full[pos + 1]; only continuation targets are scored
                entries += [
                    (seq, tok, pos, (i, full[pos + 1]) if pos + 1 >= len(ctx) else None)
                    for pos, tok in enumerate(full[:-1])
                ]
            self._counters["score_model_calls"] += 1
            try:
                n_done = self._forward(entries, add, stop)
            finally:
                for seq in seqs[: len(group)]:
                    self._llama.llama_memory_seq_rm(self._mem, seq, -1, -1)
            self._counters["scored_tokens"] += n_done
            if n_done < len(entries):
                raise Stopped
        return totals

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

    # --- tokens ----------------------------------------------------------------------------------

    def _tokenize(self, text: str, *, bos: bool) -> list[int]:
        data = text.encode("utf-8")
        buf = (self._llama.llama_token * (len(data) + 2))()
        n = self._llama.llama_tokenize(self._vocab, data, len(data), buf, len(buf), bos, False)
        if n < 0:
            raise EngineError(f"tokenizing {len(data)} bytes failed", engine=self.name)
        return list(buf[:n])

    def chat_template(self) -> ChatTemplate | None:
        """``chat_template=`` if given, else the GGUF's ``tokenizer.chat_template``."""
        self._require_started()
        lib = self._llama
        source, origin = self._chat_source, f"chat_template= of engine {self.name!r}"
        if source is None:
            raw = lib.llama_model_chat_template(self._model, None)
            if not raw:
                return None
            source, origin = (
                raw.decode("utf-8"),
                f"tokenizer.chat_template of {self._model_path or 'the model'}",
            )
        bos, eos = lib.llama_vocab_bos(self._vocab), lib.llama_vocab_eos(self._vocab)
        piece = self._special_piece
        return ChatTemplate(
            source,
            piece(bos).decode("utf-8", "replace") if bos >= 0 else "",
            piece(eos).decode("utf-8", "replace") if eos >= 0 else "",
            origin,
        )

    def _constraint(self, params: Any) -> GrammarConstraint:
        return GrammarConstraint(self._llama, self._vocab, params.json_schema)

    def _specials_in(self, markup: str) -> list[tuple[str, int]]:
        lib = self._llama
        data = markup.encode("utf-8")
        buf = (lib.llama_token * (len(data) + 2))()
        n = lib.llama_tokenize(self._vocab, data, len(data), buf, len(buf), False, True)
        if n < 0:
            raise EngineError(f"tokenizing {len(data)} bytes failed", engine=self.name)
        control = lib.LLAMA_TOKEN_ATTR_CONTROL | lib.LLAMA_TOKEN_ATTR_UNKNOWN
        out = []
        for t in buf[:n]:
            if lib.llama_vocab_get_attr(self._vocab, t) & control:
                out.append((self._special_piece(t).decode("utf-8", "replace"), t))
        return out

    def _special_piece(self, token: int) -> bytes:
        buf = ctypes.create_string_buffer(128)
        n = self._llama.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, True)
        return buf.raw[: max(n, 0)]

    def _is_eos(self, token: int) -> bool:
        return bool(self._llama.llama_vocab_is_eog(self._vocab, token))

    def _detokenizer(self, s: _Session) -> Detokenizer:
        return ByteDetokenizer(self._piece)

    def _piece(self, token: int) -> bytes:
        buf = ctypes.create_string_buffer(64)
        n = self._llama.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, False)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = self._llama.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, False)
        return buf.raw[:n]
