"""Pure-Python pieces every LLM engine shares: turning generated tokens into text deltas.

Two detokenizers cover the two kinds of tokenizer API:

* ``ByteDetokenizer`` takes each token's raw bytes (llama.cpp's ``token_to_piece``) and returns the
  text those bytes complete. A multibyte UTF-8 character split across tokens is emitted once its last
  byte arrives, never as replacement characters.
* ``WindowDetokenizer`` works with a tokenizer that only decodes whole token lists (Hugging Face). It
  decodes a short window of recent tokens twice (with and without the newest ones) and emits the
  difference, holding text back while it ends in an incomplete character (U+FFFD).

``StopFilter`` sits after either: it never lets a stop string out, and holds back any tail of the text
that could still become one until it is known not to. ``TextStream`` chains a detokenizer, a stop
filter and the sampling limits into the per-session state a decode loop keeps; ``sample`` picks a
token from logits (argmax when greedy).

The plumbing the CPU engines share sits here too: ``SerialWorker`` runs their blocking model calls
one at a time off the event loop, ``common_prefix`` and ``prefill_rounds`` implement the session
contract's bookkeeping.
"""

from __future__ import annotations

import codecs
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import anyio
import numpy as np

from ...errors import InvalidRequest
from ...ir.params import SamplingParams
from .base import DecodeChunk

REPLACEMENT = "\ufffd"
T = TypeVar("T")


class Detokenizer(Protocol):
    def push(self, token: int) -> str:
        """Text completed by ``token``."""

    def finish(self) -> str:
        """Text still held when generation ends (incomplete characters become U+FFFD)."""


class ByteDetokenizer:
    """Incremental UTF-8 assembly of per-token byte pieces."""

    def __init__(self, piece: Callable[[int], bytes]) -> None:
        self._piece = piece
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def push(self, token: int) -> str:
        return self._decoder.decode(self._piece(token))

    def finish(self) -> str:
        return self._decoder.decode(b"", final=True)


class WindowDetokenizer:
    """Incremental detokenization through a whole-list ``decode`` (the vLLM/TGI offset scheme).

    ``prefix`` tokens (the prompt's tail) give the first generated token its left context, so that
    tokenizers which drop a leading space on the first token of a string still produce it.
    """

    def __init__(self, decode: Callable[[Sequence[int]], str], prefix: Sequence[int] = ()) -> None:
        self._decode = decode
        self._tokens: list[int] = list(prefix)[-6:]
        self._prefix_offset = 0
        self._read_offset = len(self._tokens)

    def push(self, token: int) -> str:
        self._tokens.append(token)
        return self._advance(final=False)

    def finish(self) -> str:
        return self._advance(final=True)

    def _advance(self, *, final: bool) -> str:
        before = self._decode(self._tokens[self._prefix_offset : self._read_offset])
        after = self._decode(self._tokens[self._prefix_offset :])
        if len(after) <= len(before) or (after.endswith(REPLACEMENT) and not final):
            return ""
        delta = after[len(before) :]
        self._prefix_offset = self._read_offset
        self._read_offset = len(self._tokens)
        return delta


class StopFilter:
    """Withholds stop strings and anything that may still turn into one.

    Invariant: the concatenation of everything ``push`` returned (plus ``flush`` when no stop was
    found) equals the full text cut at the start of the first stop string to be *completed*, read
    left to right (of stops completed at the same character, the one that starts first): what a
    generator that stops as soon as a stop string appears shows, whatever the chunking. With
    overlapping stops this is not always the earliest-starting one: in ``"aa猫a"`` with stops
    ``"猫"`` and ``"a猫a"``, ``"猫"`` completes first and the text is cut to ``"aa"``.
    """

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = tuple(s for s in stops if s)
        self._held = ""
        self.stopped = False

    def push(self, text: str) -> str:
        if self.stopped:
            return ""
        buf = self._held + text
        found = [(i + len(s), i) for s, i in ((s, buf.find(s)) for s in self._stops) if i >= 0]
        if found:
            _, cut = min(found)  # the stop that ends first; of those, the one that starts first
            self.stopped = True
            self._held = ""
            return buf[:cut]
        keep = self._partial_stop_len(buf)
        self._held = buf[len(buf) - keep :] if keep else ""
        return buf[: len(buf) - keep]

    def flush(self) -> str:
        held, self._held = self._held, ""
        return "" if self.stopped else held

    def _partial_stop_len(self, buf: str) -> int:
        """Length of the longest suffix of ``buf`` that is a proper prefix of some stop string."""
        longest = 0
        for stop in self._stops:
            for n in range(min(len(stop) - 1, len(buf)), longest, -1):
                if buf.endswith(stop[:n]):
                    longest = n
                    break
        return longest


class TextStream:
    """Per-session decode state: token count, detokenizer, stop filter and finish reason.

    ``push`` takes one sampled token and returns the text it releases; once ``finish_reason`` is set
    the stream is done and later tokens are ignored. ``is_eos`` marks tokens that end generation
    without being shown.
    """

    def __init__(self, params: SamplingParams, detokenizer: Detokenizer) -> None:
        self.params = params
        self.n_generated = 0
        self.finish_reason: str | None = None
        self._detok = detokenizer
        self._stops = StopFilter(params.stop)
        self.rng = np.random.default_rng(params.seed)

    @property
    def done(self) -> bool:
        return self.finish_reason is not None

    def push(self, token: int, *, is_eos: bool) -> str:
        if self.done:
            return ""
        self.n_generated += 1
        if is_eos:
            return self.finish("stop")
        out = self._stops.push(self._detok.push(token))
        if self._stops.stopped:
            self.finish_reason = "stop"
        elif self.n_generated >= self.params.max_tokens:
            out += self.finish("length")
        return out

    def finish(self, reason: str) -> str:
        """End the stream (end of sequence, length, context full) and release held text."""
        if self.done:
            return ""
        self.finish_reason = reason
        return self._stops.push(self._detok.finish()) + self._stops.flush()


def sample(logits: np.ndarray, params: SamplingParams, rng: np.random.Generator) -> int:
    """Next token from one row of logits: argmax when greedy, else temperature and top-p sampling."""
    if params.greedy:
        return int(np.argmax(logits))
    scaled = logits.astype(np.float64) / params.temperature
    scaled -= scaled.max()
    probs = np.exp(scaled)
    probs /= probs.sum()
    if params.top_p < 1.0:
        order = np.argsort(-probs)
        cum = np.cumsum(probs[order])
        n_keep = int(np.searchsorted(cum, params.top_p)) + 1
        keep = order[:n_keep]
        kept = probs[keep] / probs[keep].sum()
        return int(keep[rng.choice(len(keep), p=kept)])
    return int(rng.choice(len(probs), p=probs))


def log_softmax_at(logits: np.ndarray, token: int) -> float:
    """``log softmax(logits)[token]`` computed stably in float64."""
    row = logits.astype(np.float64)
    peak = float(row.max())
    return float(row[token] - peak - math.log(float(np.exp(row - peak).sum())))


# --- engine plumbing -----------------------------------------------------------------------------


class Stopped(Exception):
    """Raised inside a worker call that stopped early because its caller was cancelled."""


class SerialWorker:
    """Runs an engine's blocking calls in worker threads, one at a time, without blocking the loop.

    ``call(fn, *args)`` runs ``fn(*args, stop)`` where ``stop`` is a ``threading.Event`` set once the
    caller is cancelled: the awaiting task returns at once (the thread is abandoned) and ``fn`` is
    expected to check ``stop`` between steps and return early. A lock, not only the limiter, keeps
    calls serial, because an abandoned thread may still be finishing its step when the next starts.
    ``call_shielded`` runs cleanup work (freeing sessions, unloading) to completion even if the
    caller is cancelled.
    """

    def __init__(self) -> None:
        self.limiter = anyio.CapacityLimiter(1)
        self._lock = threading.Lock()

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        stop = threading.Event()
        try:
            result: T = await anyio.to_thread.run_sync(
                self._run, fn, (*args, stop), abandon_on_cancel=True, limiter=self.limiter
            )
            return result
        finally:
            stop.set()

    async def call_shielded(self, fn: Callable[..., T], *args: Any) -> T:
        with anyio.CancelScope(shield=True):
            result: T = await anyio.to_thread.run_sync(self._run, fn, args, limiter=self.limiter)
        return result

    def _run(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        with self._lock:
            return fn(*args)


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token lists."""
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def reuse_length(held: Sequence[int], wanted: Sequence[int], *, have_logits: bool) -> int:
    """How many held tokens a prefill to ``wanted`` keeps: the common prefix, less one when nothing
    would be evaluated but the last token's logits are unknown (the cache holds more, or none kept)."""
    n = common_prefix(held, wanted)
    if n == len(wanted) and (n != len(held) or not have_logits):
        n -= 1
    return n


def prefill_rounds(sessions: Sequence[str]) -> list[list[int]]:
    """Indices of a prefill batch split into rounds that name each session at most once, in order."""
    rounds: list[list[int]] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(sessions):
        k = seen.get(name, -1) + 1
        seen[name] = k
        if k == len(rounds):
            rounds.append([])
        rounds[k].append(i)
    return rounds


def check_decode_batch(batch: Sequence[Any], held: Mapping[str, Any], engine: str) -> None:
    """Refuse a decode batch that names a session never prefilled, or one session twice."""
    unknown = [r.session for r in batch if r.session not in held]
    if unknown:
        raise InvalidRequest(f"decode of session(s) {unknown!r} that were never prefilled", engine=engine)
    if len({r.session for r in batch}) != len(batch):
        raise InvalidRequest("a decode batch names the same session twice", engine=engine)


def decode_chunks(sessions: Sequence[Any], texts: Sequence[str], counts: Sequence[int]) -> list[DecodeChunk]:
    """The ``DecodeChunk`` of each session after a decode call: its text and whether it ended
    (``abort`` for a session released while the call ran). Sessions carry ``released`` and ``stream``."""
    chunks: list[DecodeChunk] = []
    for s, text, n in zip(sessions, texts, counts, strict=True):
        if s.released:
            chunks.append(DecodeChunk(text="", done=True, finish_reason="abort", n_tokens=n))
            continue
        assert s.stream is not None
        reason = s.stream.finish_reason
        chunks.append(DecodeChunk(text=text, done=reason is not None, finish_reason=reason, n_tokens=n))
    return chunks
