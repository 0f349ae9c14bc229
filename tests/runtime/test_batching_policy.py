"""The batching policy is a pure function: these tests run no event loop."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ayo_trace.backend.batching import EXPECTED_WAIT_S, Dispatch, Wait, Waiting, next_batch
from ayo_trace.backend.config import BatchPolicy

POLICY = BatchPolicy(max_batch=4, max_wait_s=0.01)


def test_an_empty_queue_waits_for_arrivals() -> None:
    assert next_batch([], POLICY, now=5.0) == Wait(None)


def test_a_lone_request_waits_until_max_wait() -> None:
    decision = next_batch([Waiting("prefill", arrival=1.0)], POLICY, now=1.004)
    assert isinstance(decision, Wait)
    assert decision.seconds == pytest.approx(0.006)


def test_a_request_that_waited_max_wait_runs_alone() -> None:
    assert next_batch([Waiting("prefill", arrival=1.0)], POLICY, now=1.01) == Dispatch((0,))


def test_zero_max_wait_dispatches_at_once() -> None:
    policy = BatchPolicy(max_batch=4, max_wait_s=0.0)
    assert next_batch([Waiting("embed", arrival=2.0)], policy, now=2.0) == Dispatch((0,))


def test_a_full_batch_runs_without_waiting() -> None:
    queue = [Waiting("prefill", arrival=1.0) for _ in range(5)]
    assert next_batch(queue, POLICY, now=1.0) == Dispatch((0, 1, 2, 3))


def test_larger_priority_goes_first_then_arrival() -> None:
    queue = [
        Waiting("prefill", priority=1.0, arrival=1.0),
        Waiting("prefill", priority=5.0, arrival=1.2),
        Waiting("prefill", priority=5.0, arrival=1.1),
        Waiting("prefill", priority=3.0, arrival=1.0),
        Waiting("prefill", priority=0.0, arrival=0.5),
    ]
    assert next_batch(queue, POLICY, now=1.2) == Dispatch((2, 1, 3, 0))


def test_token_budget_bounds_a_prefill_batch() -> None:
    policy = BatchPolicy(max_batch=8, max_wait_s=0.0, token_budget=100)
    queue = [Waiting("prefill", tokens=60), Waiting("prefill", tokens=30), Waiting("prefill", tokens=30)]
    assert next_batch(queue, policy, now=0.0) == Dispatch((0, 1))


def test_an_oversized_request_runs_alone() -> None:
    policy = BatchPolicy(max_batch=8, max_wait_s=1.0, token_budget=100)
    queue = [Waiting("prefill", tokens=500), Waiting("prefill", tokens=10)]
    assert next_batch(queue, policy, now=0.0) == Dispatch((0,))


def test_size_counts_texts_against_max_batch() -> None:
    queue = [Waiting("embed", size=3), Waiting("embed", size=2), Waiting("embed", size=1)]
    assert next_batch(queue, POLICY, now=0.0) == Dispatch((0,))


def test_requests_with_different_keys_never_share_a_batch() -> None:
    queue = [Waiting(("search", "a", 4), arrival=0.0), Waiting(("search", "b", 4), arrival=0.0)]
    decision = next_batch(queue, BatchPolicy(max_batch=4, max_wait_s=0.0), now=0.0)
    assert decision == Dispatch((0,))


def test_the_ready_group_with_the_best_head_runs() -> None:
    queue = [Waiting("decode", priority=1.0, arrival=0.0), Waiting("prefill", priority=9.0, arrival=0.0)]
    assert next_batch(queue, BatchPolicy(max_batch=4, max_wait_s=0.0), now=0.0) == Dispatch((1,))


def test_a_ready_group_runs_before_a_better_group_that_still_waits() -> None:
    queue = [Waiting("prefill", priority=9.0, arrival=1.0), Waiting("release", priority=0.0, urgent=True)]
    assert next_batch(queue, POLICY, now=1.0) == Dispatch((1,))


def test_decode_rounds_wait_for_every_expected_session() -> None:
    queue = [Waiting("decode", arrival=1.0), Waiting("decode", arrival=1.0)]
    waiting = next_batch(queue, POLICY, now=1.0, expected={"decode": 3})
    assert isinstance(waiting, Wait)
    assert next_batch([*queue, Waiting("decode", arrival=1.0)], POLICY, now=1.0, expected={"decode": 3}) == (
        Dispatch((0, 1, 2))
    )


def test_expected_members_are_awaited_at_most_the_expected_wait() -> None:
    policy = BatchPolicy(max_batch=8, max_wait_s=0.0)
    queue = [Waiting("decode", arrival=1.0)]
    decision = next_batch(queue, policy, now=1.0, expected={"decode": 2})
    assert decision == Wait(EXPECTED_WAIT_S)
    later = 1.0 + EXPECTED_WAIT_S + 1e-9
    assert next_batch(queue, policy, now=later, expected={"decode": 2}) == Dispatch((0,))


def test_unbatched_policy_runs_one_request_at_a_time() -> None:
    policy = BatchPolicy(max_batch=1, max_wait_s=0.0)
    queue = [Waiting("prefill") for _ in range(3)]
    assert next_batch(queue, policy, now=0.0) == Dispatch((0,))


waiting = st.builds(
    Waiting,
    key=st.sampled_from(["prefill", "decode", ("search", "kb", 3)]),
    priority=st.sampled_from([0.0, 1.0, 2.5]),
    arrival=st.floats(0.0, 1.0),
    size=st.integers(1, 5),
    tokens=st.integers(0, 50),
    urgent=st.booleans(),
)
policies = st.builds(
    BatchPolicy,
    max_batch=st.integers(1, 8),
    max_wait_s=st.sampled_from([0.0, 0.001, 0.5]),
    token_budget=st.one_of(st.none(), st.integers(1, 120)),
)


@settings(max_examples=300, deadline=None)
@given(queue=st.lists(waiting, max_size=12), policy=policies, now=st.floats(0.0, 2.0))
def test_every_decision_is_a_valid_batch_or_a_bounded_wait(
    queue: list[Waiting], policy: BatchPolicy, now: float
) -> None:
    decision = next_batch(queue, policy, now)
    if not queue:
        assert decision == Wait(None)
        return
    if isinstance(decision, Wait):
        assert decision.seconds is not None
        assert 0.0 <= decision.seconds <= max(policy.max_wait_s, EXPECTED_WAIT_S)
        assert policy.max_wait_s > 0
        return
    idx = decision.indices
    assert idx and len(set(idx)) == len(idx) and all(0 <= i < len(queue) for i in idx)
    chosen = [queue[i] for i in idx]
    assert len({w.key for w in chosen}) == 1
    if len(chosen) > 1:
        assert sum(w.size for w in chosen) <= policy.max_batch
        if policy.token_budget is not None:
            assert sum(w.tokens for w in chosen) <= policy.token_budget
    # the batch is the best-first prefix of its group: critical path first
    group = sorted(
        (i for i, w in enumerate(queue) if w.key == chosen[0].key),
        key=lambda i: (-queue[i].priority, queue[i].arrival, i),
    )
    assert list(idx) == group[: len(idx)]


@settings(max_examples=200, deadline=None)
@given(queue=st.lists(waiting, min_size=1, max_size=12), max_batch=st.integers(1, 8))
def test_without_a_wait_something_always_runs(queue: list[Waiting], max_batch: int) -> None:
    assert isinstance(next_batch(queue, BatchPolicy(max_batch=max_batch, max_wait_s=0.0), 0.0), Dispatch)
