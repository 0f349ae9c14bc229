"""One bad request never fails the requests batched with it (issue 17, point 1).

Specification, for every kind of engine call (LLM prefill, decode and score, embed, rerank,
search), batching on: among concurrent queries, those whose request poisons the engine's batch
fail, each with its own error naming its own node; every other query answers exactly what it
answers alone; and once a poisoned request has failed alone, no retry ever puts it into a batch
with other requests again.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import ayo_trace as ayo
from ayo_trace.backend import Runtime
from ayo_trace.backend.config import BatchPolicy
from ayo_trace.backend.engine_scheduler import EngineScheduler
from ayo_trace.backend.engines.base import PrefillRequest, RerankRequest, ScoreRequest
from ayo_trace.backend.engines.likelihood_rerank import LikelihoodReranker
from ayo_trace.ir import SamplingParams
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore

from ..runtime import graphs as G
from .poison import (
    POISON,
    NonAtomicPoisonLLM,
    PoisonEmbedder,
    PoisonLLM,
    PoisonReranker,
    PoisonStore,
    outcomes,
)

pytestmark = pytest.mark.anyio

KINDS = ["prefill", "decode", "score", "embed", "rerank", "search"]
# The node of the rag graph (tests/runtime/graphs.py) whose engine call each kind poisons.
FAILING_NODE = {
    "prefill": "answer",
    "decode": "answer",
    "score": "top",
    "embed": "hits",
    "rerank": "top",
    "search": "hits",
}
DOCS = [f"passage {i} about topic {i % 5}" for i in range(12)]
N_QUERIES = 32
BAD = {3, 17, 30}
POLICY = BatchPolicy(max_batch=64, max_wait_s=0.05)


def question(i: int) -> str:
    return f"question {i} about topic {i % 5}" + (f" {POISON}" if i in BAD else "")


def engines(kind: str) -> tuple[list[Any], Any]:
    """Scripted engines with the one for ``kind`` poisoned; returns them and the poisoned one."""
    embed = PoisonEmbedder() if kind == "embed" else ScriptedEmbedder("embed")
    llm = PoisonLLM(kind) if kind in ("prefill", "decode", "score") else ScriptedLLM("llm")
    if kind == "search":
        store: Any = PoisonStore(embed, [question(i) for i in range(N_QUERIES)])
    else:
        store = ScriptedStore("store")
    if kind == "score":
        rerank: Any = LikelihoodReranker(llm, name="rerank")
    else:
        rerank = PoisonReranker() if kind == "rerank" else ScriptedReranker("rerank")
    poisoned = {"embed": embed, "search": store, "rerank": rerank}.get(kind, llm)
    return [llm, embed, store, rerank], poisoned


def clean_engines(kind: str) -> list[Any]:
    llm = ScriptedLLM("llm")
    rerank: Any = LikelihoodReranker(llm, name="rerank") if kind == "score" else ScriptedReranker("rerank")
    return [llm, ScriptedEmbedder("embed"), ScriptedStore("store"), rerank]


async def run_queries(rt: Runtime, indices: list[int]) -> dict[int, Any]:
    out: dict[int, Any] = {}
    graph = G.rag("kb", top_k=3)

    async def one(i: int) -> None:
        try:
            out[i] = await rt.run(graph, {"docs": DOCS, "question": question(i)})
        except ayo.AyoError as exc:
            out[i] = exc

    async with anyio.create_task_group() as tg:
        for i in indices:
            tg.start_soon(one, i)
    return out


async def answers_alone(kind: str, indices: list[int]) -> dict[int, Any]:
    async with Runtime(engines=clean_engines(kind), batching=False) as rt:
        return {
            i: await rt.run(G.rag("kb", top_k=3), {"docs": DOCS, "question": question(i)}) for i in indices
        }


@pytest.mark.parametrize("retries", [1, 3])
@pytest.mark.parametrize("kind", KINDS)
async def test_only_the_poisoned_queries_of_a_batch_fail(kind: str, retries: int) -> None:
    all_engines, poisoned = engines(kind)
    good = [i for i in range(N_QUERIES) if i not in BAD]
    want = await answers_alone(kind, good)

    async with Runtime(engines=all_engines, batch=POLICY, retries=retries) as rt:
        got = await run_queries(rt, list(range(N_QUERIES)))

    assert poisoned.mixed_batches() >= 1, "the poisoned requests never shared a batch: nothing was tested"
    assert {i: got[i] for i in good} == want
    for i in BAD:
        err = got[i]
        assert isinstance(err, ayo.EngineError), repr(err)
        assert err.node == FAILING_NODE[kind]
        assert f"node %{FAILING_NODE[kind]} (graphs.py:" in str(err)
        assert "poisoned request in a batch of 1" in str(err)  # its own failure, alone
    assert poisoned.batches_with_poison_after_it_failed_alone() == []


async def test_a_failed_decode_batch_on_an_engine_without_atomic_decode_is_retried_member_by_member() -> None:
    # Its failed decode may have produced text no one received: the batch is not run again; every
    # member fails, and its query's retry (on a reopened session) decodes it alone.
    llm = NonAtomicPoisonLLM("decode")
    good = [i for i in range(N_QUERIES) if i not in BAD]
    want = await answers_alone("decode", good)
    engines = [llm, ScriptedEmbedder("embed"), ScriptedStore("store"), ScriptedReranker("rerank")]
    async with Runtime(engines=engines, batch=POLICY, retries=1) as rt:
        got = await run_queries(rt, list(range(N_QUERIES)))
    assert llm.mixed_batches() >= 1
    assert {i: got[i] for i in good} == want
    assert all(isinstance(got[i], ayo.EngineError) and got[i].node == "answer" for i in BAD)
    assert llm.batches_with_poison_after_it_failed() == []


# --- the engine scheduler itself, one kind of call at a time -----------------------------------------


async def decode_all(sched: EngineScheduler, session: str) -> str:
    parts: list[str] = []

    async def on_delta(delta: str) -> None:
        parts.append(delta)

    await sched.decode(session, SamplingParams(max_tokens=16), on_delta)
    return "".join(parts)


async def scheduler_round(
    sched: EngineScheduler, kind: str, items: list[str], embedder: Any = None
) -> list[Any]:
    """Every item's request to ``sched``, all at once; each result or error in item order."""
    engine = sched.engine
    if kind == "prefill":
        return await outcomes(
            [lambda i=i, t=t: sched.prefill(PrefillRequest(f"s{i}", t)) for i, t in enumerate(items)]
        )
    if kind == "decode":
        for i, t in enumerate(items):
            await engine.release([f"s{i}"])
            await engine.prefill([PrefillRequest(f"s{i}", t)])
        return await outcomes([lambda i=i: decode_all(sched, f"s{i}") for i in range(len(items))])
    if kind == "score":
        return await outcomes([lambda t=t: sched.score(ScoreRequest(t, " next")) for t in items])
    if kind == "embed":
        return await outcomes([lambda t=t: sched.embed([t]) for t in items])
    if kind == "rerank":
        return await outcomes([lambda t=t: sched.score(RerankRequest(t, ("a b", "text 1"))) for t in items])
    assert kind == "search"
    return await outcomes([lambda t=t: sched.search("kb", embedder.vector(t), 2) for t in items])


def scheduler_for(kind: str, items: list[str], poison: bool) -> tuple[EngineScheduler, Any]:
    embedder = ScriptedEmbedder("embed")
    engine: Any
    if kind in ("prefill", "decode", "score"):
        engine = PoisonLLM(kind) if poison else ScriptedLLM("llm")
    elif kind == "embed":
        engine = PoisonEmbedder() if poison else ScriptedEmbedder("embed")
    elif kind == "rerank":
        engine = PoisonReranker() if poison else ScriptedReranker("rerank")
    else:
        engine = PoisonStore(embedder, items) if poison else ScriptedStore("store")
    policy = POLICY if poison else BatchPolicy(max_batch=1, max_wait_s=0.0)
    return EngineScheduler(engine, policy, decode_steps=2), embedder


@pytest.mark.parametrize("kind", KINDS)
async def test_the_scheduler_bisects_a_failed_batch_and_quarantines_its_culprits(kind: str) -> None:
    bad = {2, 5}
    items = [f"text {i}" + (f" {POISON}" if i in bad else "") for i in range(8)]
    sched, embedder = scheduler_for(kind, items, poison=True)
    alone, alone_embedder = scheduler_for(kind, items, poison=False)
    if kind == "search":
        for s, e in ((sched, embedder), (alone, alone_embedder)):
            await s.engine.insert("kb", items, [e.vector(t) for t in items])

    first = await scheduler_round(sched, kind, items, embedder)
    want = await scheduler_round(alone, kind, items, alone_embedder)

    poisoned = sched.engine
    assert len(poisoned.batches[0]) == 8  # one batch held them all, and failed
    for i, res in enumerate(first):
        if i in bad:
            assert isinstance(res, ayo.EngineError) and "poisoned request in a batch of 1" in str(res), res
        else:
            assert res == want[i]
    # The same requests again: the culprits run alone at once, the others still batch together.
    n_batches = len(poisoned.batches)
    again = await scheduler_round(sched, kind, items, embedder)
    assert [isinstance(r, ayo.EngineError) for r in again] == [i in bad for i in range(8)]
    assert poisoned.batches_with_poison_after_it_failed_alone() == []
    assert sorted(len(b) for b in poisoned.batches[n_batches : n_batches + 3]) == [1, 1, 6]
