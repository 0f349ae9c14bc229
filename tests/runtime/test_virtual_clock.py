"""Busy times, utilization and the timeline are measured on the event loop's clock, so under a
virtual clock (trio's ``MockClock``: tests, the simulator) they are the virtual service times."""

from __future__ import annotations

import dataclasses
from typing import Any

import anyio
import pytest

import ayo_trace as ayo
from ayo_trace.backend import Runtime
from ayo_trace.passes import DEFAULT_PASSES, DEFAULT_PROFILES, SplitPrefill
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore

from .virtual import in_virtual_time


@ayo.workflow
async def embed_twice(text: str) -> Any:
    a = await ayo.embed(text)
    b = await ayo.embed(text + " again")
    return [a, b]


async def two_embeds() -> tuple[dict[str, Any], list[dict[str, Any]], float]:
    engines = [
        ScriptedLLM("llm"),
        ScriptedEmbedder("embed", call_s=1.0),
        ScriptedStore("store"),
        ScriptedReranker("rerank"),
    ]
    async with Runtime(engines=engines) as rt:
        await anyio.sleep(2.0)  # idle time counts against utilization
        await embed_twice.eager("hello")  # one after the other
        events = [e for e in rt.timeline().events if e.get("ph") == "X"]
        return rt.stats()["engines"]["embed"], events, anyio.current_time()


def test_busy_time_utilization_and_timeline_are_virtual_seconds() -> None:
    embed, events, now = in_virtual_time(two_embeds)
    assert now == pytest.approx(4.0)
    assert embed["busy_s"] == pytest.approx(2.0)
    assert embed["utilization"] == pytest.approx(0.5)
    batches = [e for e in events if e["pid"] == 2]
    assert [(e["ts"], e["dur"]) for e in batches] == [(2e6, 1e6), (3e6, 1e6)]


# Split on an engine that resumes a prompt at any token, as the scripted LLM does: the default
# profile's 64-token blocks would leave this short a head in one part with the rest.
NO_BLOCK = {**DEFAULT_PROFILES, "llm": dataclasses.replace(DEFAULT_PROFILES["llm"], prefill_block=0)}
ANY_TOKEN = [SplitPrefill(profiles=NO_BLOCK) if isinstance(p, SplitPrefill) else p for p in DEFAULT_PASSES]


@ayo.workflow(passes=ANY_TOKEN)
async def embed_then_answer(text: str) -> Any:
    v = await ayo.embed(text)
    return await ayo.llm(f"{text} {len(v)}", max_tokens=4)


async def traced() -> list[dict[str, Any]]:
    engines = [
        ScriptedLLM("llm", call_s=0.5),
        ScriptedEmbedder("embed", call_s=1.0),
        ScriptedStore("store"),
        ScriptedReranker("rerank"),
    ]
    async with Runtime(engines=engines) as rt:
        await embed_then_answer("hello")
        return [e for e in rt.timeline().events if e.get("ph") == "X" and e["pid"] == 1]


def test_node_times_in_the_timeline_are_virtual_seconds() -> None:
    nodes = {e["name"]: e for e in in_virtual_time(traced)}
    assert nodes["v"]["ts"] == 0 and nodes["v"]["dur"] == pytest.approx(1e6)
    # the constant prompt head is prefilled during the embedding, the rest after it
    first, second = nodes["result_prefill_p1"], nodes["result_prefill_p2"]
    assert (first["ts"], first["dur"]) == (0, pytest.approx(0.5e6))
    assert (second["ts"], second["dur"]) == (pytest.approx(1e6), pytest.approx(0.5e6))
