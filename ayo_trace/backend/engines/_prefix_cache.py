"""Shared prompt prefixes kept by an LLM engine and forked into new sessions (cross-query sharing).

Tracing knows, before any query arrives, the constant text a workflow's prompts start with; the
prefill-splitting pass sends it as a separate part marked ``PrefillRequest.shared``. An
engine that keeps a ``PrefixCache`` computes such a prefix once, keeps its KV state (whatever the
engine's ``state`` is: a llama.cpp sequence id, a list of cache tensors) and starts every later
session that asks for it from a fork of that state instead of recomputing it.

* Entries are keyed by the prompt's token ids (BOS included). An engine serves one model, so the
  ids and the engine instance together identify the KV state; two workflows whose prompts start
  with the same text share one entry. ``lookup`` also
  finds the held entry with the longest common token prefix (at least ``min_partial`` tokens): a
  new prefix that extends or diverges from a held one (the same instruction block followed by a
  different field name) forks that entry and computes only its own tail.
* The budget counts the tokens the entries hold. ``put`` evicts least recently used entries until
  the held tokens fit (the new entry itself when it alone is larger); ``pop_lru`` frees one for an
  engine that needs its resource (a sequence slot) back. Engines fork a session's state from an
  entry at once (a copy, or tensors nobody writes to), so an entry is never needed after the fork
  and any entry may be evicted between engine calls: a query that asks for an evicted prefix later
  misses and recomputes it.
* Single flight: engines run one call at a time (``SerialWorker``) and deduplicate the requests of a
  batch by key, so many queries asking for a new prefix at once compute it once.

Counters (``stats``): ``prefix_hits`` (sessions forked from an entry holding their whole prefix),
``prefix_misses`` (prefixes computed, ``prefix_partial_hits`` of them starting from a held entry's
common part), ``prefix_evictions``, ``prefix_tokens_reused`` (tokens forked instead of computed),
``prefix_entries``, ``prefix_tokens_held`` and ``prefix_budget_tokens``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from ._decoding import common_prefix

S = TypeVar("S")

DEFAULT_PREFIX_TOKENS = 8192
MIN_PARTIAL_TOKENS = 16


@dataclass(eq=False)
class PrefixEntry(Generic[S]):
    """One kept prefix: its token ids, text, the logits after its last token, and the engine's state."""

    tokens: tuple[int, ...]
    text: str
    logits: np.ndarray
    state: S


@dataclass(frozen=True)
class PrefixHit(Generic[S]):
    entry: PrefixEntry[S]
    n_common: int  # tokens of the request the entry holds; len(entry.tokens) when it holds them all

    @property
    def exact(self) -> bool:
        return self.n_common == len(self.entry.tokens)


class PrefixCache(Generic[S]):
    """LRU entries under a token budget; ``on_evict`` frees an evicted entry's engine state.

    ``budget_tokens=0`` turns sharing off: ``enabled`` is False and nothing is ever kept.
    """

    def __init__(
        self,
        budget_tokens: int = DEFAULT_PREFIX_TOKENS,
        on_evict: Callable[[PrefixEntry[S]], None] | None = None,
        *,
        min_partial: int = MIN_PARTIAL_TOKENS,
    ) -> None:
        if budget_tokens < 0:
            raise ValueError(f"prefix budget must be >= 0 tokens, got {budget_tokens}")
        self.budget_tokens = budget_tokens
        self.min_partial = min_partial
        self._on_evict = on_evict
        self._entries: OrderedDict[tuple[int, ...], PrefixEntry[S]] = OrderedDict()
        self._held = 0
        self.counters = dict.fromkeys(
            (
                "prefix_hits",
                "prefix_misses",
                "prefix_partial_hits",
                "prefix_evictions",
                "prefix_tokens_reused",
            ),
            0,
        )

    @property
    def enabled(self) -> bool:
        return self.budget_tokens > 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def tokens_held(self) -> int:
        return self._held

    def lookup(self, tokens: Sequence[int]) -> PrefixHit[S] | None:
        """The entry to fork a session that wants ``tokens`` from, counted as a hit or a miss.

        Exact: an entry holding exactly ``tokens``. Otherwise the entry sharing the longest common
        token prefix with them, if at least ``min_partial`` tokens (a miss that is a partial hit).
        The entry found becomes the most recently used.
        """
        key = tuple(tokens)
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            self.counters["prefix_hits"] += 1
            self.counters["prefix_tokens_reused"] += len(key)
            return PrefixHit(entry, len(key))
        self.counters["prefix_misses"] += 1
        best: PrefixHit[S] | None = None
        for e in self._entries.values():
            n = common_prefix(e.tokens, key)
            if n >= self.min_partial and (best is None or n > best.n_common):
                best = PrefixHit(e, n)
        if best is not None:
            self._entries.move_to_end(best.entry.tokens)
            self.counters["prefix_partial_hits"] += 1
            self.counters["prefix_tokens_reused"] += best.n_common
        return best

    def count_hit(self, n_tokens: int) -> None:
        """A session served from a prefix computed earlier in the same engine call."""
        self.counters["prefix_hits"] += 1
        self.counters["prefix_tokens_reused"] += n_tokens

    def put(self, entry: PrefixEntry[S]) -> None:
        """Keep ``entry`` (replacing one with the same tokens), then evict down to the budget."""
        old = self._entries.pop(entry.tokens, None)
        if old is not None:
            self._held -= len(old.tokens)
            self._evicted(old)
        self._entries[entry.tokens] = entry
        self._held += len(entry.tokens)
        while self._held > self.budget_tokens and self._entries:
            self.pop_lru()

    def pop_lru(self) -> PrefixEntry[S] | None:
        """Evict the least recently used entry (None when there is none)."""
        if not self._entries:
            return None
        _, entry = self._entries.popitem(last=False)
        self._held -= len(entry.tokens)
        self.counters["prefix_evictions"] += 1
        self._evicted(entry)
        return entry

    def count_dropped(self) -> None:
        """A computed prefix the engine could not keep (no resource left for it): an eviction."""
        self.counters["prefix_evictions"] += 1

    def clear(self, *, free: bool = True) -> None:
        """Forget every entry; ``free=False`` skips ``on_evict`` (the engine freed everything)."""
        entries = list(self._entries.values())
        self._entries.clear()
        self._held = 0
        if free:
            for e in entries:
                self._evicted(e)

    def entries(self) -> list[PrefixEntry[S]]:
        """The entries, least recently used first."""
        return list(self._entries.values())

    def stats(self) -> dict[str, Any]:
        return {
            **self.counters,
            "prefix_entries": len(self._entries),
            "prefix_tokens_held": self._held,
            "prefix_budget_tokens": self.budget_tokens,
        }

    def _evicted(self, entry: PrefixEntry[S]) -> None:
        if self._on_evict is not None:
            self._on_evict(entry)
