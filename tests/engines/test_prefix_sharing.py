"""Cross-query prefix sharing on the real CPU engines (``_prefix_cache`` and its use in the engines).

A session whose first request is marked ``shared`` starts from a kept copy of that prefix:
llama.cpp copies the prefix's sequence, transformers reuses its cache tensors. Every test runs on
both engines. The llama.cpp engine here has 12 sequence slots (the session fixture has 8): eight
concurrent sessions plus the kept prefixes must fit. Each test uses instruction blocks of its own
(a tag in the first line), so prefixes kept by earlier tests never turn its misses into hits.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import pytest

import ayo_trace as ayo
from ayo_trace.backend import Runtime
from ayo_trace.backend.engines.base import LLMEngine, PrefillRequest
from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine
from ayo_trace.ir.params import SamplingParams
from tests.fixtures.llm import LLM_CONTEXT

from .sessions import generate as decode_to_end

pytestmark = [pytest.mark.real, pytest.mark.anyio]

PARAMS = SamplingParams(max_tokens=8, stop=("\n",))
INSTRUCTIONS = (
    "You answer questions about European geography. Read the context, then answer the question "
    "in a few words, without explanations. If the context does not say, answer from what you know.\n"
    "Question: What is the capital of Italy?\nAnswer: Rome\n\n"
)
REST = (
    "Context: The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris.\n"
    "Question: In which city is the Eiffel Tower?\nAnswer:"
)
QUESTIONS = (
    "Context: Berlin is the largest city of Germany.\nQuestion: What is the capital of Germany?\nAnswer:",
    "Context: Madrid lies on the river Manzanares.\nQuestion: What is the capital of Spain?\nAnswer:",
)


@pytest.fixture(scope="module")
async def wide_llama() -> AsyncIterator[LlamaCppEngine]:
    async with LlamaCppEngine(n_ctx=LLM_CONTEXT, n_seq_max=12, threads=2) as engine:
        yield engine


@pytest.fixture(scope="module", params=["llama", "transformers"])
def engine(request: pytest.FixtureRequest) -> LLMEngine:
    name = "wide_llama" if request.param == "llama" else "transformers_engine"
    engine: LLMEngine = request.getfixturevalue(name)
    return engine


def instructions(tag: str = "") -> str:
    """An instruction block of its own: a new prefix for every tag."""
    tag = tag or uuid.uuid4().hex[:6]
    return f"Task set {tag}.\n{INSTRUCTIONS}"


@contextmanager
def budget(engine: LLMEngine, tokens: int) -> Iterator[None]:
    cache = engine.prefixes  # type: ignore[attr-defined]
    old, cache.budget_tokens = cache.budget_tokens, tokens
    try:
        yield
    finally:
        cache.budget_tokens = old


def delta(engine: LLMEngine, before: dict[str, Any]) -> dict[str, int]:
    after = engine.stats()
    return {k: after[k] - before[k] for k in after if isinstance(after[k], int) and k in before}


async def generate(engine: LLMEngine, session: str) -> str:
    return await decode_to_end(engine, session, PARAMS)


async def answer(engine: LLMEngine, session: str, parts: list[str], shared: bool) -> str:
    """Prefill ``parts`` in order (the first marked shared when ``shared``) and decode."""
    for i, part in enumerate(parts):
        await engine.prefill([PrefillRequest(session, part, shared and i == 0)])
    return await generate(engine, session)


async def test_a_forked_session_answers_like_a_full_prefill(engine: LLMEngine, sid) -> None:
    prefix = instructions("fork")
    full = await answer(engine, sid(), [prefix + REST], shared=False)
    split = await answer(engine, sid(), [prefix, REST], shared=False)
    await engine.prefill([PrefillRequest(sid(), prefix, True)])  # computes it, or forks it again
    forked = sid()
    before = engine.stats()
    (res,) = await engine.prefill([PrefillRequest(forked, prefix, True)])
    assert (res.n_tokens, res.n_cached) == (0, engine.count_tokens(prefix) + 1)  # + BOS
    assert delta(engine, before)["prefix_hits"] == 1
    await engine.prefill([PrefillRequest(forked, REST)])
    assert await generate(engine, forked) == split == full
    assert full.strip() == "Paris"


@pytest.mark.parametrize("batched", [True, False], ids=["one-batch", "separate-calls"])
async def test_eight_concurrent_queries_compute_a_new_prefix_once(engine: LLMEngine, sid, batched) -> None:
    prefix = instructions()
    n_prefix = engine.count_tokens(prefix) + 1
    names = [sid() for _ in range(8)]
    before = engine.stats()
    results: list[Any] = [None] * 8
    if batched:
        results = await engine.prefill([PrefillRequest(n, prefix, True) for n in names])
    else:

        async def one(i: int) -> None:
            (results[i],) = await engine.prefill([PrefillRequest(names[i], prefix, True)])

        async with anyio.create_task_group() as tg:
            for i in range(8):
                tg.start_soon(one, i)
    d = delta(engine, before)
    assert (d["prefix_misses"], d["prefix_hits"]) == (1, 7)
    assert d["prompt_tokens_computed"] == n_prefix
    assert sorted(r.n_tokens for r in results) == [0] * 7 + [n_prefix]
    if batched:  # the session that computed the prefix and one copied from it answer alike
        computed = next(n for n, r in zip(names, results, strict=True) if r.n_tokens)
        copied = next(n for n, r in zip(names, results, strict=True) if not r.n_tokens)
        outs = []
        for name in (computed, copied):
            await engine.prefill([PrefillRequest(name, REST)])
            outs.append(await generate(engine, name))
        assert outs[0] == outs[1] and outs[0].strip() == "Paris"


async def test_eviction_under_a_small_budget_keeps_every_answer_right(engine: LLMEngine, sid) -> None:
    a, b = instructions(), instructions()
    want = {p: await answer(engine, sid(), [p, QUESTIONS[i]], shared=False) for i, p in enumerate((a, b))}
    room = max(engine.count_tokens(a), engine.count_tokens(b)) + 1
    before = engine.stats()
    with budget(engine, room):  # one prefix fits, never two
        for p in (a, a, b, a):
            assert await answer(engine, sid(), [p, QUESTIONS[p == b]], shared=True) == want[p]
            assert engine.stats()["prefix_tokens_held"] <= room
    d = delta(engine, before)
    # a: computed, then forked; b: computed (evicts a); a: computed again (evicts b)
    assert (d["prefix_misses"], d["prefix_hits"]) == (3, 1)
    assert d["prefix_evictions"] >= 2  # and older prefixes held past this budget


async def test_two_prompts_with_the_same_instruction_block_share_it(engine: LLMEngine, sid) -> None:
    block = instructions()
    rag, direct = block + "Context: ", block + "Question: "
    await engine.prefill([PrefillRequest(sid(), rag, True)])
    before = engine.stats()
    got = await answer(engine, sid(), [direct, "What is the capital of France?\nAnswer:"], shared=True)
    d = delta(engine, before)
    assert (d["prefix_misses"], d["prefix_partial_hits"]) == (1, 1)
    # Only the new tail (and a token or two at the seam) is computed.
    assert d["prefix_tokens_reused"] >= engine.count_tokens(block) - 1
    assert got.strip() == "Paris"


async def test_sharing_off_computes_every_prefix(engine: LLMEngine, sid) -> None:
    prefix = instructions()
    before = engine.stats()
    with budget(engine, 0):
        await engine.prefill([PrefillRequest(sid(), prefix, True) for _ in range(2)])
    d = delta(engine, before)
    assert d["prefix_hits"] == d["prefix_misses"] == 0
    assert d["prompt_tokens_computed"] == 2 * (engine.count_tokens(prefix) + 1)


async def test_llama_sessions_take_the_slots_of_kept_prefixes(wide_llama: LlamaCppEngine) -> None:
    prefix = instructions()
    held = [f"slot-{uuid.uuid4().hex[:6]}"]
    try:
        await wide_llama.prefill([PrefillRequest(held[0], prefix, True)])
        assert wide_llama.stats()["prefix_slots"] >= 1
        held += [f"slot-{uuid.uuid4().hex[:6]}" for _ in range(wide_llama.stats()["free_slots"])]
        await wide_llama.prefill([PrefillRequest(n, "Hi") for n in held[1:]])
        stats = wide_llama.stats()
        assert (stats["prefix_slots"], stats["free_slots"], stats["sessions"]) == (0, 0, 12)
    finally:
        await wide_llama.release(held)
    # The evicted prefix is computed again for the next query that asks for it.
    before = wide_llama.stats()
    name = f"again-{uuid.uuid4().hex[:6]}"
    try:
        assert (await answer(wide_llama, name, [prefix, REST], shared=True)).strip() == "Paris"
    finally:
        await wide_llama.release([name])
    assert delta(wide_llama, before)["prefix_misses"] == 1


# One more example than INSTRUCTIONS: the workflows' constant head must outgrow one 64-token prefill
# block (the default LLM profile's) by the cost model's estimate to be split off and shared.
WORKFLOW_INSTRUCTIONS = INSTRUCTIONS + "Question: What is the capital of Spain?\nAnswer: Madrid\n\n"


@ayo.workflow
async def rag_answer(question: str, context: str) -> str:
    return await ayo.llm(
        f"{WORKFLOW_INSTRUCTIONS}Context: {context}\nQuestion: {question}\nAnswer:", max_tokens=8, stop="\n"
    )


@ayo.workflow
async def direct_answer(question: str) -> str:
    return await ayo.llm(f"{WORKFLOW_INSTRUCTIONS}Question: {question}\nAnswer:", max_tokens=8, stop="\n")


@pytest.mark.slow
async def test_traced_workflows_share_their_instruction_block_on_llama_cpp() -> None:
    """Four concurrent queries of one workflow, then one of another with the same instruction
    block, on a runtime without cross-request batching (so outputs compare exactly)."""
    rag = [
        {
            "question": f"What is the capital of country {i}?",
            "context": f"The capital of country {i} is City{i}.",
        }
        for i in range(4)
    ]
    direct = [{"question": "What is the capital of France?"}]
    outputs: dict[bool, list[Any]] = {}
    stats: dict[str, Any] = {}
    for share in (False, True):
        llm = LlamaCppEngine("llm", n_ctx=LLM_CONTEXT, n_seq_max=12, threads=2)
        async with Runtime(
            engines=[llm], own_engines=True, progress=False, batching=False, share_prefixes=share
        ) as rt:
            got: list[Any] = []
            for wf, batch in ((rag_answer, rag), (direct_answer, direct)):
                got += await run_all(rt, wf, batch)
            outputs[share] = got
            stats = llm.stats()
    assert outputs[True][:4] == outputs[False][:4]
    # The direct prompts' prefix is computed from the rag prompts' kept block: a different split.
    assert [o.split()[:1] for o in outputs[True][4:]] == [o.split()[:1] for o in outputs[False][4:]]
    assert (stats["prefix_misses"], stats["prefix_hits"], stats["prefix_partial_hits"]) == (2, 3, 1)


async def run_all(rt: Runtime, wf: Any, batch: list[dict[str, str]]) -> list[Any]:
    """Run the optimized graph of ``wf`` on every input at once; outputs in input order."""
    out: list[Any] = [None] * len(batch)

    async def one(i: int) -> None:
        out[i] = await rt.run(wf.graph(**batch[i], optimized=True), batch[i])

    async with anyio.create_task_group() as tg:
        for i in range(len(batch)):
            tg.start_soon(one, i)
    return out
