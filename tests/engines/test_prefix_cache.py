"""``PrefixCache``: the engine-independent bookkeeping of shared prefixes (LRU, budget, partial reuse)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ayo_trace.backend.engines._prefix_cache import PrefixCache, PrefixEntry


def entry(tokens: list[int], state: str = "") -> PrefixEntry[str]:
    return PrefixEntry(tuple(tokens), "", np.zeros(2), state or str(tokens[:3]))


def test_an_exact_prefix_is_a_hit_and_a_new_one_a_miss() -> None:
    cache: PrefixCache[str] = PrefixCache(100)
    assert cache.lookup([1, 2, 3]) is None
    cache.put(entry([1, 2, 3]))
    hit = cache.lookup([1, 2, 3])
    assert hit is not None and hit.exact
    assert (cache.stats()["prefix_hits"], cache.stats()["prefix_misses"]) == (1, 1)


def test_a_held_prefix_sharing_enough_tokens_seeds_a_new_one() -> None:
    cache: PrefixCache[str] = PrefixCache(100, min_partial=4)
    cache.put(entry([1, 2, 3, 4, 5, 6]))
    hit = cache.lookup([1, 2, 3, 4, 5, 9, 9])
    assert hit is not None and not hit.exact and hit.n_common == 5
    assert cache.lookup([1, 2, 3, 7]) is None  # three tokens in common: not worth a fork
    stats = cache.stats()
    assert (stats["prefix_misses"], stats["prefix_partial_hits"], stats["prefix_tokens_reused"]) == (2, 1, 5)


def test_least_recently_used_prefixes_leave_first_and_are_freed() -> None:
    freed: list[str] = []
    cache: PrefixCache[str] = PrefixCache(10, lambda e: freed.append(e.state))
    cache.put(entry([1] * 4, "a"))
    cache.put(entry([2] * 4, "b"))
    assert cache.lookup([1] * 4) is not None  # a is now the most recently used
    cache.put(entry([3] * 4, "c"))
    assert freed == ["b"]
    assert [e.state for e in cache.entries()] == ["a", "c"]
    assert cache.stats()["prefix_evictions"] == 1


def test_a_prefix_larger_than_the_budget_is_not_kept() -> None:
    freed: list[str] = []
    cache: PrefixCache[str] = PrefixCache(3, lambda e: freed.append(e.state))
    cache.put(entry([1, 2, 3, 4], "big"))
    assert len(cache) == 0 and freed == ["big"]


def test_a_zero_budget_turns_sharing_off() -> None:
    assert not PrefixCache(0).enabled
    with pytest.raises(ValueError):
        PrefixCache(-1)


@settings(max_examples=50, deadline=None)
@given(
    budget=st.integers(1, 20),
    ops=st.lists(st.tuples(st.integers(0, 5), st.integers(1, 8)), min_size=1, max_size=30),
)
def test_held_tokens_never_exceed_the_budget_and_evicted_entries_are_freed(
    budget: int, ops: list[tuple[int, int]]
) -> None:
    freed: list[PrefixEntry[str]] = []
    cache: PrefixCache[str] = PrefixCache(budget, freed.append)
    made = 0
    for first, length in ops:
        tokens = [first] * length
        if cache.lookup(tokens) is None:
            cache.put(entry(tokens))
            made += 1
        assert cache.tokens_held == sum(len(e.tokens) for e in cache.entries()) <= budget
    assert made == len(cache) + len(freed)
