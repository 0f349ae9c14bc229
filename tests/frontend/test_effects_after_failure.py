"""A change the caller sees after a query failed happens only if eager code would have made it.

Eager code stops at the first statement that raises, so an effect after it (a module list
appended to, a value the caller passed changed in place, rows inserted into a collection) never
happens. The optimized graph runs statements at once when no data orders them; one whose change
outlives the query now waits for every statement before it (``passes/prune_dependencies.py``).
Each workflow here fails in an engine's prefill, in its decode (after the prefill succeeded) or in
a plain check, and each run must leave the answer or error, the module's state, the caller's list
and the collection's rows that eager code leaves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.backend.engines.base import DecodeChunk, DecodeRequest
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedStore
from tests.util import outcome

pytestmark = pytest.mark.anyio

HISTORY: list[str] = []
COUNTS: dict[str, int] = {}


class Stats:
    def __init__(self) -> None:
        self.calls = 0


STATS = Stats()


def check(text: str) -> None:
    if "bad" in text:
        raise ValueError(f"invalid: {text[:20]}")


@ayo.workflow
async def appends_after_two_calls(q: str, seen: list[str]) -> str:
    a = await ayo.llm(q, max_tokens=2)
    b = await ayo.llm("then " + a + q, max_tokens=2)
    HISTORY.append(q)
    return b


@ayo.workflow
async def changes_the_callers_list(q: str, seen: list[str]) -> str:
    a = await ayo.llm(q, max_tokens=2)
    seen.append(q)
    return a


@ayo.workflow
async def ingests_after_a_call(q: str, seen: list[str]) -> str:
    a = await ayo.llm(q, max_tokens=2)
    await ayo.ingest([q], collection="log")
    return a


@ayo.workflow
async def counts_in_module_objects(q: str, seen: list[str]) -> str:
    a = await ayo.llm(q, max_tokens=2)
    COUNTS[q] = COUNTS.get(q, 0) + 1
    STATS.calls += 1
    return a


async def record(q: str) -> str:
    reply = await ayo.llm("Record: " + q, max_tokens=2)
    HISTORY.append(reply)
    return reply


@ayo.workflow
async def a_helper_records(q: str, seen: list[str]) -> str:
    first = await ayo.llm(q, max_tokens=2)
    check(q)
    second = await record("fine")
    return first + second


@ayo.workflow
async def effects_in_a_loop(q: str, seen: list[str]) -> list[str]:
    out = []
    for part in (q, "fine"):
        out.append(await ayo.llm(part, max_tokens=2))
        seen.append(part)
    HISTORY.extend(out)
    return out


WORKFLOWS = [
    appends_after_two_calls,
    changes_the_callers_list,
    ingests_after_a_call,
    counts_in_module_objects,
    a_helper_records,
    effects_in_a_loop,
]


class FailsInDecode(ScriptedLLM):
    """Prefills every prompt, then fails the decode of a session whose text holds ``FAIL``."""

    async def decode(self, batch: Sequence[DecodeRequest], max_steps: int) -> list[DecodeChunk]:
        if any("FAIL" in self.sessions.get(r.session, "") for r in batch):
            raise RuntimeError("scripted decode failure")
        return await super().decode(batch, max_steps)


def engine(where: str) -> ScriptedLLM:
    if where == "decode":
        return FailsInDecode("llm", prefill_s_per_token=0.002, decode_s_per_step=0.002)
    return ScriptedLLM("llm", fail=lambda p: "FAIL" in p, prefill_s_per_token=0.002, decode_s_per_step=0.002)


async def left_behind(run: Any, q: str, where: str) -> tuple[Any, ...]:
    HISTORY.clear()
    COUNTS.clear()
    STATS.calls = 0
    seen: list[str] = []
    store = ScriptedStore("store")
    async with ayo.Runtime([engine(where), ScriptedEmbedder("embed"), store], batching=False, retries=0):
        await ayo.ingest([], collection="log")
        answer = await outcome(run, q, seen)
    rows = sorted(r.text for r in store.collections.get("log", ()))
    return answer, list(HISTORY), dict(COUNTS), STATS.calls, seen, rows


@pytest.mark.parametrize("wf", WORKFLOWS, ids=[wf.fn.__name__ for wf in WORKFLOWS])
@pytest.mark.parametrize("where", ["prefill", "decode"])
@pytest.mark.parametrize("q", ["FAIL " + "pad " * 20, "bad", "fine"])
async def test_a_change_seen_outside_waits_for_the_statements_before_it(wf: Any, where: str, q: str) -> None:
    eager = await left_behind(wf.eager, q, where)
    assert await left_behind(ayo.workflow(wf.fn, passes=[]), q, where) == eager
    assert await left_behind(wf, q, where) == eager


def test_every_workflow_here_traces_whole() -> None:
    for wf in WORKFLOWS:
        assert not [n for n in wf.graph("q", []).walk() if n.op == "break"], wf.fn.__name__
