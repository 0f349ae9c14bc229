"""``EngineHost``, what runs inside each Ray actor, tested without Ray: it builds its engines from
configs, answers with its incarnation, and never serves a session opened by another incarnation."""

from __future__ import annotations

import pytest

import ayo_trace as ayo
from ayo_trace.backend.cluster.host import EngineHost
from ayo_trace.backend.config import EngineConfig
from ayo_trace.backend.engines.base import DecodeChunk, DecodeRequest, PrefillRequest, RerankRequest

from .scripted import respond

pytestmark = pytest.mark.anyio

LLM = EngineConfig("llm", kind="llm", backend="scripted", instances=2, options={"respond": respond})
RERANK = EngineConfig("rerank", kind="rerank", backend="likelihood", instances=2, options={"llm": "llm"})
SAMPLING = ayo.SamplingParams(max_tokens=4)


async def test_a_host_builds_its_engine_and_the_rerankers_beside_it() -> None:
    host = EngineHost([(LLM, 1), (RERANK, 0), (RERANK, 1)])

    reply = await host.describe()
    scores = await host.call("rerank#1", "score", ([RerankRequest("why?", ("a", "b"))],))

    assert reply.incarnation == host.incarnation and reply.error is None
    assert reply.value == {
        "llm#1": {"kind": "llm", "context_length": 4096, "max_sessions": None},
        "rerank#0": {"kind": "rerank"},
        "rerank#1": {"kind": "rerank"},
    }
    assert scores.error is None and len(scores.value[0]) == 2
    await host.stop()


async def test_a_host_serves_no_session_of_another_incarnation() -> None:
    host, other = EngineHost([(LLM, 0)]), "an earlier incarnation"
    await host.prefill("llm#0", [PrefillRequest("s", "Question: why?\n")], [None])

    reply = await host.decode(
        "llm#0", [DecodeRequest("s", SAMPLING), DecodeRequest("s", SAMPLING)], 8, [other, host.incarnation]
    )
    chained = await host.prefill("llm#0", [PrefillRequest("s", "more")], [other])
    await host.release("llm#0", ["s"], [other])  # must not free this incarnation's "s"
    after = await host.decode("llm#0", [DecodeRequest("s", SAMPLING)], 8, [host.incarnation])

    assert reply.lost == (0,) and reply.value[0] is None and isinstance(reply.value[1], DecodeChunk)
    assert chained.lost == (0,)
    assert after.error is None and isinstance(after.value[0], DecodeChunk)


async def test_a_host_reports_engine_errors_and_forwards_only_the_protocol() -> None:
    host = EngineHost([(LLM, 0)])

    unknown = await host.decode("llm#0", [DecodeRequest("nope", SAMPLING)], 8, [None])
    private = await host.call("llm#0", "respond", ("x",))

    assert isinstance(unknown.error, ayo.InvalidRequest) and "unknown session" in str(unknown.error)
    assert any("in the Ray actor" in note for note in unknown.error.__notes__)
    assert isinstance(private.error, ayo.EngineError) and "does not forward 'respond'" in str(private.error)
