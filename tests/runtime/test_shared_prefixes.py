"""The runtime marks a workflow's constant prompt prefix as shared (and stops when told not to).

Runs on the scripted LLM, whose shared-prefix model counts the requests per key and charges no
prefill time for a prefix it has seen (``ayo_trace.testing.ScriptedLLM``). The engines' own sharing
is tested on the real engines in ``tests/engines/test_prefix_sharing.py``.
"""

from __future__ import annotations

import anyio
import pytest

import ayo_trace as ayo
from ayo_trace.backend import Runtime
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedStore

from .conftest import respond

pytestmark = pytest.mark.anyio

# Long enough (about 80 tokens by the cost model's estimate) to be worth a part of its own on an
# engine that recomputes a partial 64-token block after a seam (the default LLM profile's).
BLOCK = (
    "Answer from the context in one short line. Name the function to use and its arguments, "
    "nothing else. Never invent a name; say so when the context does not answer. Prefer the "
    "standard library; quote the name exactly as the context writes it, with its module.\n"
)


@ayo.workflow
async def rag(question: str) -> str:
    hits = await ayo.search(question, collection="kb", top_k=1)
    return await ayo.llm(f"{BLOCK}Context: {hits[0].text}\nQuestion: {question}\nAnswer:", max_tokens=8)


@ayo.workflow
async def summarize(text: str) -> str:
    return await ayo.llm(f"{BLOCK}Context: {text}\nSummary:", max_tokens=8)


async def run_queries(share: bool, n: int = 6) -> tuple[ScriptedLLM, list[str]]:
    llm = ScriptedLLM("llm", respond, prefill_s_per_token=0.001)
    engines = [llm, ScriptedEmbedder("embed"), ScriptedStore("store")]
    out: list[str] = [""] * (n + 1)
    async with Runtime(engines=engines, share_prefixes=share) as rt:
        await rt.ingest(["json.dumps turns an object into a JSON string."], collection="kb")

        async def one(i: int) -> None:
            out[i] = await rag(f"How do I write JSON, take {i}?")

        async with anyio.create_task_group() as tg:
            for i in range(n):
                tg.start_soon(one, i)
        out[n] = await summarize("json.dumps turns an object into a JSON string.")
    return llm, out


async def test_every_query_asks_for_the_constant_prefix_marked_shared() -> None:
    llm, _ = await run_queries(share=True)
    key = f"{BLOCK}Context: "
    # Two workflows whose prompts start with the same text ask for the same prefix.
    assert dict(llm.shared_prefixes) == {key: 7}
    assert (llm.stats()["prefix_misses"], llm.stats()["prefix_hits"]) == (1, 6)


async def test_share_prefixes_false_sends_no_shared_prefix_and_changes_no_answer() -> None:
    off, answers_off = await run_queries(share=False)
    _, answers_on = await run_queries(share=True)
    assert dict(off.shared_prefixes) == {}
    assert answers_off == answers_on
