"""Session admission: an LLM that holds few sessions serves many concurrent queries without failing
or deadlocking, prefills ahead of time are postponed when no slot is free, and every slot comes back."""

from __future__ import annotations

import anyio
import pytest

import ayo_trace as ayo
from ayo_trace.backend.engines.base import PrefillRequest
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore
from tests.frontend import shapes
from tests.util import run_in_new_loop

QUESTIONS = [f"how do generators work, case {i}" for i in range(8)]
DOCS = ["generators yield values lazily", "lists hold values", "coroutines await other coroutines"]


class FewSlotLLM(ScriptedLLM):
    """A scripted LLM that, like llama.cpp, holds a fixed number of sessions."""

    def __init__(self, slots: int) -> None:
        super().__init__("llm", lambda p: " search one\nsearch two\n")
        self.slots = slots

    @property
    def max_sessions(self) -> int:
        return self.slots

    async def prefill(self, batch):  # type: ignore[no-untyped-def]
        opened = {r.session for r in batch} - set(self.sessions)
        if len(self.sessions) + len(opened) > self.slots:
            raise ayo.Overloaded(f"{len(self.sessions)} sessions held", engine=self.name)
        return await super().prefill(batch)


def engines(slots: int) -> list[object]:
    return [FewSlotLLM(slots), ScriptedEmbedder("embed"), ScriptedStore("store"), ScriptedReranker("rerank")]


@pytest.mark.parametrize("slots", [1, 2, 3])
def test_many_queries_share_few_session_slots(slots: int) -> None:
    async def main() -> tuple[list[object], list[object], FewSlotLLM]:
        reference = []
        for q in QUESTIONS:
            async with ayo.Runtime(engines=engines(64), batching=False):
                reference.append(await shapes.answer.eager(q, DOCS))
        llm_engines = engines(slots)
        out: list[object] = [None] * len(QUESTIONS)
        async with ayo.Runtime(engines=llm_engines) as rt:

            async def one(i: int) -> None:
                out[i] = await shapes.answer(QUESTIONS[i], DOCS)

            with anyio.fail_after(30):  # a deadlock fails here instead of hanging the suite
                async with anyio.create_task_group() as tg:
                    for i in range(len(QUESTIONS)):
                        tg.start_soon(one, i)
            assert rt.stats()["failures"] == 0
        llm = llm_engines[0]
        assert isinstance(llm, FewSlotLLM)
        return out, reference, llm

    out, reference, llm = run_in_new_loop(main)
    assert out == reference
    assert llm.peak_sessions <= slots
    assert llm.sessions == {}


# A constant head of more than one 64-token block: split off and prefilled ahead at query start.
HEAD = "Answer the question from the summaries of its documents below, in a few words. " * 6 + "\n"


async def summarize_then_answer(question: str, docs: list[str]) -> str:
    summaries = [await ayo.llm(f"Text: {d}\nSummary:", max_tokens=3) for d in docs]
    context = " ".join(s.strip() for s in summaries)
    return await ayo.llm(f"{HEAD}Summaries: {context}\nQuestion: {question}\nAnswer:", max_tokens=3)


@pytest.mark.parametrize("slots", [1, 2, 3, 5])
def test_sessions_parked_ahead_give_their_slots_to_the_work_they_wait_for(slots: int) -> None:
    """Every query's answer session opens at query start to prefill its constant head, and its
    summaries (all at once: the map's items are independent) need slots too. Parked heads used to
    hold every slot while the summaries waited for one: a burst of 16 map-reduce queries hung on
    llama.cpp's 15 slots. Now a parked session gives its slot up and prefills its head again with
    the rest of its prompt."""
    wf = ayo.workflow(summarize_then_answer)
    assert "part=1, parts=2, shared" in str(wf.graph("q", DOCS, optimized=True))  # the head goes ahead

    async def main() -> tuple[list[object], list[object], FewSlotLLM, dict[str, object]]:
        reference = []
        async with ayo.Runtime(engines=engines(64), batching=False):
            for q in QUESTIONS:
                reference.append(await wf.eager(q, DOCS))
        llm_engines = engines(slots)
        out: list[object] = [None] * len(QUESTIONS)
        async with ayo.Runtime(engines=llm_engines) as rt:

            async def one(i: int) -> None:
                out[i] = await wf(QUESTIONS[i], DOCS)

            with anyio.fail_after(30):  # a deadlock fails here instead of hanging the suite
                async with anyio.create_task_group() as tg:
                    for i in range(len(QUESTIONS)):
                        tg.start_soon(one, i)
            stats = rt.stats()
        llm = llm_engines[0]
        assert isinstance(llm, FewSlotLLM)
        return out, reference, llm, stats

    out, reference, llm, stats = run_in_new_loop(main)
    assert out == reference
    assert stats["failures"] == 0
    assert llm.peak_sessions <= slots
    assert llm.sessions == {}
    evicted = stats["engines"]["llm"]["evicted_sessions"]
    assert evicted > 0
    # an evicted session's head is sent again as shared: forked from the kept copy, not recomputed
    (head,) = [text for text in llm.shared_prefixes if text.startswith(HEAD)]
    assert llm.shared_prefixes[head] == len(QUESTIONS) + evicted
    assert llm.stats()["prefix_misses"] == 1


def test_a_session_evicted_twice_keeps_every_part_of_its_prompt() -> None:
    """A three-part prompt whose first two parts run ahead, on one slot taken back twice: the engine
    ends up holding the whole prompt, the shared head forked first each time."""

    async def main() -> tuple[str, int]:
        llm = FewSlotLLM(1)
        async with ayo.Runtime(engines=[llm]) as rt:
            pool = rt.pool("llm")
            await pool.prefill(PrefillRequest("a", "HEAD ", shared=True, ahead=True))  # parks in the slot
            await pool.prefill(PrefillRequest("b", "b's prompt"))  # takes it back
            await pool.release("b")
            await pool.prefill(PrefillRequest("a", "middle ", ahead=True))  # the head again, then this
            await pool.prefill(PrefillRequest("c", "c's prompt"))  # takes it back again
            await pool.release("c")
            await pool.prefill(PrefillRequest("a", "late"))
            text = llm.sessions["a"]
            await pool.release("a")
            return text, pool.stats()["evicted_sessions"]

    text, evicted = run_in_new_loop(main)
    assert (text, evicted) == ("HEAD middle late", 2)
