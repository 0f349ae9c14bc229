"""``simulate(seed=...)``: trio runs the tasks ready at one virtual instant in an order it draws at
random, and that order can decide which requests join a batch. A seed fixes the draw: the same
call predicts the same latencies however trio's generator was left. Checked on query expansion
(three rewritten queries ready at once, embedded as one batch or as two, by the order the three
tasks reach the embedder)."""

from __future__ import annotations

import random
from typing import Any

import pytest

import ayo_trace as ayo
from bench import simulate_validate as V
from bench import workflows as W

trio_run = pytest.importorskip("trio._core._run", reason="trio is in the 'dev' extra")

QUERIES = W.QUERIES[:2]
SCRIPT = V.Script(
    chars_per_token=4.0,
    answers={"expanded_rag": {q.question: "the answer" for q in QUERIES}},
    # as the scripted LLM writes them (bench/e2e_engines.py): lines cut off by the token limit
    rewrites={
        "expanded_rag": dict(
            zip(
                [q.question for q in QUERIES],
                ["How do I\nserialize a Python\nobject to a", "How do\nI copy\na whole"],
                strict=True,
            )
        )
    },
)


async def setup(rt: ayo.Runtime) -> None:
    await rt.ingest(W.knowledge_base(), W.KB_COLLECTION)
    for q in QUERIES:
        await rt.ingest(list(W.docs_for(q.module)), W.collection_for(q))


def run(seed: int | None) -> tuple[float, ...]:
    result = ayo.simulate(
        W.make_workflows(None)["expanded_rag"],
        lambda i: W.inputs_for("expanded_rag", QUERIES[i % len(QUERIES)]),
        profile=V.scripted_profile(1),
        concurrency=1,
        queries=2,
        respond=SCRIPT.of("expanded_rag"),
        setup=setup,
        seed=seed,
    )
    assert result.completed == 2, result.errors
    return result.latencies


def disturb(rng: Any, salt: int) -> None:
    rng.seed(random.Random(salt).random())
    trio_run._ALLOW_DETERMINISTIC_SCHEDULING = bool(salt % 2)  # as hypothesis's plugin may have left it


def test_a_seed_gives_the_same_prediction_however_trios_generator_was_left() -> None:
    rng, allowed = trio_run._r, trio_run._ALLOW_DETERMINISTIC_SCHEDULING
    try:
        by_seed: dict[int, set[tuple[float, ...]]] = {}
        for salt in range(4):
            for seed in range(4):
                disturb(rng, 10 * salt + seed)
                state = rng.getstate()
                by_seed.setdefault(seed, set()).add(run(seed))
                assert rng.getstate() == state  # the seeded run leaves trio's generator as it was
        assert all(len(predictions) == 1 for predictions in by_seed.values()), by_seed
        # (Until the calls of engines whose calls can take long ran in a task of their own, which the
        # batch's leader waits for, some seeds batched the three embeds differently here; since,
        # the three reach the embedder in one order whatever trio draws, so every seed predicts the
        # same: what a seed fixes is still checked above, each seed alike over trio's states.)
    finally:
        trio_run._ALLOW_DETERMINISTIC_SCHEDULING = allowed


def test_without_a_seed_the_order_stays_trios_own() -> None:
    state = trio_run._r.getstate()
    assert len(run(None)) == 2
    assert trio_run._r.getstate() != state  # trio drew from its generator: nothing was seeded
