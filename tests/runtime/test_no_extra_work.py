"""No extra work (issue 15): a prompt part run ahead of time yields to the critical work waiting for
a saturated engine, and is prefilled with its session's next part in one request (no extra call, no
seam); on an idle engine it still runs ahead (virtual time, one LLM call at a time, a prefill costs
0.1 s per scripted token). An optimized ingest embeds no more than the eager one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import pytest

import ayo_trace as ayo
from ayo_trace.backend import Runtime
from ayo_trace.backend.config import BatchPolicy
from ayo_trace.backend.engine_pool import EnginePool
from ayo_trace.backend.engine_scheduler import EngineScheduler
from ayo_trace.backend.engines.base import PrefillRequest
from ayo_trace.backend.policy import new_tag, serving
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore
from tests.util import run_in_new_loop

from .virtual import RecordingLLM, in_virtual_time

PREFIX = "Context:"  # one scripted token
LATE = " c c c c c"  # five


async def prefill_at(pool: EnginePool, at: float, name: str, text: str, ahead: bool, shared: bool) -> None:
    await anyio.sleep_until(at)
    await pool.prefill(PrefillRequest(f"{name}/answer", text, shared, ahead))


async def run(
    defer_ahead: bool, busy: bool, shared: bool = False
) -> tuple[list[list[str]], dict[str, float], int]:
    llm = RecordingLLM(prefill_s_per_token=0.1)
    pool = EnginePool("llm", "llm", [EngineScheduler(llm, BatchPolicy(max_batch=1, max_wait_s=0.0))])
    pool.defer_ahead = defer_ahead
    done: dict[str, float] = {}

    async def query(name: str, at: float, parts: list[tuple[float, str, bool]]) -> None:
        await anyio.sleep(at)
        with serving(new_tag(name)):
            for t, text, ahead in parts:
                await prefill_at(pool, t, name, text, ahead, shared and ahead)
        done[name] = anyio.current_time()

    async with anyio.create_task_group() as tg:
        if busy:  # two older queries' critical prefills: 1 s each
            tg.start_soon(query, "q1", 0.0, [(0.0, " a" * 10, False)])
            tg.start_soon(query, "q2", 0.1, [(0.1, " b" * 10, False)])
        # the new query: its constant prefix ahead at arrival, the rest when retrieval is done
        tg.start_soon(query, "q3", 0.2, [(0.2, PREFIX, True), (0.5, LATE, False)])
    return llm.prefills, done, pool.deferred_parts


def test_ahead_work_yields_to_waiting_critical_work_and_merges_into_the_next_part() -> None:
    prefills, done, deferred = in_virtual_time(run, True, True)
    assert prefills == [[" a" * 10], [" b" * 10], [PREFIX + LATE]]
    assert deferred == 1
    assert done == pytest.approx({"q1": 1.0, "q2": 2.0, "q3": 2.6})


def test_without_deferral_the_ahead_part_costs_a_call_of_its_own_on_the_busy_engine() -> None:
    prefills, done, deferred = in_virtual_time(run, False, True)
    assert prefills == [[" a" * 10], [" b" * 10], [PREFIX], [LATE]]
    assert deferred == 0
    assert done["q3"] == pytest.approx(2.6)  # the same here: the scripted engine recomputes no seam


def test_on_an_idle_engine_the_ahead_part_runs_ahead() -> None:
    prefills, done, deferred = in_virtual_time(run, True, False)
    assert prefills == [[PREFIX], [LATE]]
    assert deferred == 0
    assert done["q3"] == pytest.approx(1.0)  # 0.5 + five tokens: the prefix was done while retrieval ran


def test_a_shared_prefix_is_not_kept_aside_its_copy_is_cheap() -> None:
    """A constant prefix shared across queries is forked from the engine's kept copy: merged into the
    next part it would be computed again instead."""
    prefills, _, deferred = in_virtual_time(run, True, True, True)
    assert prefills == [[" a" * 10], [" b" * 10], [PREFIX], [LATE]]
    assert deferred == 0


@ayo.workflow
async def ingest_ask(question: str, docs: list[str]) -> str:
    await ayo.ingest(docs, collection="kb")
    hits = await ayo.search(question, collection="kb", top_k=2)
    context = "\n".join(h.text for h in hits)
    return await ayo.llm(f"Context:\n{context}\nQuestion: {question}\nAnswer:", max_tokens=8)


DOCS = [f"passage {i} about the sky and its colours" for i in range(8)]


def test_an_optimized_ingest_embeds_only_what_its_collection_lacks_as_eager_does() -> None:
    """``bench/heldout_like.py``'s ``ingest_ask`` at c=8 embedded 72 texts optimized against
    eager's 8: the lowered ingest (``embed`` + ``db_insert``) embedded every passage again on a
    collection that held them all. Unchunked, it now stays one ``ingest``."""

    async def texts_embedded(run: Callable[[], Awaitable[str]], embedder: ScriptedEmbedder) -> int:
        before = sum(embedder.batch_sizes["embed"])
        await run()
        return sum(embedder.batch_sizes["embed"]) - before

    async def main() -> tuple[int, int, int]:
        embedder = ScriptedEmbedder("embed")
        engines = [ScriptedLLM("llm"), embedder, ScriptedStore("store"), ScriptedReranker("rerank")]
        async with Runtime(engines=engines, batching=False):
            first = await texts_embedded(lambda: ingest_ask("why?", DOCS), embedder)
            eager = await texts_embedded(lambda: ingest_ask.eager("why?", DOCS), embedder)
            optimized = await texts_embedded(lambda: ingest_ask("why?", DOCS), embedder)
        return first, eager, optimized

    first, eager, optimized = run_in_new_loop(main)
    assert first == len(DOCS) + 1  # the passages, then the question
    assert eager == optimized == 1  # the collection holds the passages: the question alone


EXPAND_HEAD = (  # 245 characters, 48 tokens for llama.cpp's Gemma tokenizer: less than one block
    "Write three short search queries for each question, one per line.\n\n"
    "Question: How do I capitalize every word in a string?\n"
    "Queries:\nstring capitalize words\nstring.capwords\ntitle case a string\n\n"
)


@ayo.workflow
async def expand(question: str) -> list[str]:
    return await ayo.llm(f"{EXPAND_HEAD}Question: {question}\nQueries:\n", parse=ayo.lines, max_tokens=16)


def test_a_constant_head_shorter_than_a_prefill_block_costs_no_request_of_its_own() -> None:
    """``bench/heldout_like.py``'s query expansion: llama.cpp recomputes the partial 64-token block
    before a seam, so a 48-token head prefilled ahead (and forked from its kept copy) is computed
    again in full with the question: one more prefill request per query for no token saved. The
    default profile knows the block, so the optimized graph asks for one prefill, as eager does."""

    async def main() -> tuple[list[int], list[int]]:
        llm = ScriptedLLM("llm")
        engines = [llm, ScriptedEmbedder("embed"), ScriptedStore("store"), ScriptedReranker("rerank")]
        async with Runtime(engines=engines):
            await expand.eager("how do I sort a dict?")
            eager = list(llm.batch_sizes["prefill"])
            del llm.batch_sizes["prefill"]
            await expand("how do I sort a dict?")
            optimized = list(llm.batch_sizes["prefill"])
        return eager, optimized

    eager, optimized = run_in_new_loop(main)
    assert eager == optimized == [1]
