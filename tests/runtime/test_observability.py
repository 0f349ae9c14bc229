"""Observability of content: an OpenTelemetry span per query and per node with op, location,
engine, batch size, queue wait and tokens (prompt and output text only when asked for), the same
token counts in ``rt.timeline()``, and ``rt.summary()``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import ayo_trace as ayo
from ayo_trace.backend import Runtime, otel
from ayo_trace.backend.events import NodeFinished
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore, tokenize

pytestmark = pytest.mark.anyio

ANSWER = " the sky is blue because air scatters blue light"


@ayo.workflow
async def rag(question: str, docs: list[str]) -> str:
    await ayo.ingest(docs, collection="kb")
    hits = await ayo.search(question, collection="kb", top_k=2)
    context = "\n".join(h.text for h in hits)
    return await ayo.llm(f"Context:\n{context}\nQuestion: {question}\nAnswer:", max_tokens=32)


@ayo.workflow
async def fails(question: str) -> str:
    answer = await ayo.llm(f"Q: {question}", max_tokens=8)
    return answer + 1  # type: ignore[operator]


DOCS = ["light scattering makes the sky blue", "cats sleep all day"]


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Spans go to an SDK provider of this test's own (not the process's global one)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(otel, "_provider", lambda: provider)
    yield exporter
    provider.shutdown()


@pytest.fixture
async def rt() -> AsyncIterator[Runtime]:
    engines = [
        ScriptedLLM("llm", lambda prompt: ANSWER),
        ScriptedEmbedder("embed"),
        ScriptedStore("store"),
        ScriptedReranker("rerank"),
    ]
    async with Runtime(engines=engines, batching=False) as runtime:
        yield runtime


def attrs(span: Any) -> dict[str, Any]:
    return dict(span.attributes or {})


async def test_one_span_per_node_with_its_attributes(rt: Runtime, spans: InMemorySpanExporter) -> None:
    events = [e async for e in rag.stream("why is the sky blue?", DOCS)]
    finished = [e for e in events if isinstance(e, NodeFinished)]
    got = spans.get_finished_spans()
    [query] = [s for s in got if s.name == "ayo.query"]
    nodes = [s for s in got if s.name.startswith("ayo.node ")]
    assert sorted(attrs(s)["ayo.node"] for s in nodes) == sorted(e.node for e in finished)
    assert all(s.parent is not None and s.parent.span_id == query.context.span_id for s in nodes)
    assert attrs(query)["ayo.workflow"] == "rag"
    by_node = {attrs(s)["ayo.node"]: attrs(s) for s in nodes}
    line = rag.fn.__code__.co_firstlineno
    decode = by_node["result"]
    assert decode["ayo.op"] == "llm_decode" and decode["ayo.location"] == f"test_observability.py:{line + 5}"
    assert decode["ayo.engine"] == "llm"
    assert decode["ayo.tokens_out"] == len(tokenize(ANSWER))
    assert decode["ayo.batch_size"] == 1 and decode["ayo.batches"] >= 1
    assert decode["ayo.queue_wait_s"] >= 0.0 and decode["ayo.ok"] is True
    prefill = by_node["result_prefill"]
    assert prefill["ayo.tokens_in"] > 0 and prefill["ayo.engine"] == "llm"
    assert by_node["ingest"]["ayo.engine"] == "store" and by_node["hits_embed"]["ayo.engine"] == "embed"
    assert by_node["context"]["ayo.op"] == "python" and "ayo.engine" not in by_node["context"]
    assert not any("ayo.prompt" in a or "ayo.output" in a for a in by_node.values())


async def test_prompts_and_outputs_only_when_asked_for(
    rt: Runtime, spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AYO_TRACE_RECORD_CONTENT", "1")
    answer = await rag("why is the sky blue?", DOCS)
    by_node = {attrs(s)["ayo.node"]: attrs(s) for s in spans.get_finished_spans() if s.name != "ayo.query"}
    assert by_node["result"]["ayo.output"] == answer == ANSWER
    assert by_node["result_prefill"]["ayo.prompt"].endswith("Question: why is the sky blue?\nAnswer:")


async def test_a_failed_node_span_is_an_error(rt: Runtime, spans: InMemorySpanExporter) -> None:
    with pytest.raises(ayo.UserCodeError):
        await fails("why?")
    failed = [s for s in spans.get_finished_spans() if s.status.status_code is StatusCode.ERROR]
    assert {s.name for s in failed} >= {"ayo.node python", "ayo.query"}


async def test_concurrent_queries_report_their_batches(spans: InMemorySpanExporter) -> None:
    llm = ScriptedLLM("llm", lambda prompt: ANSWER, decode_s_per_step=0.001)
    engines = [llm, ScriptedEmbedder("embed"), ScriptedStore("store"), ScriptedReranker("rerank")]
    async with Runtime(engines=engines) as runtime:
        async with anyio.create_task_group() as tg:
            for i in range(4):
                tg.start_soon(rag, f"question {i}", DOCS)
        on_llm = [attrs(s) for s in spans.get_finished_spans() if attrs(s).get("ayo.engine") == "llm"]
        batches = runtime.stats()["engines"]["llm"]["batch_sizes"]
    assert sum(a["ayo.op"] == "llm_decode" for a in on_llm) == 4
    # every LLM request belongs to one node: the nodes saw the batches the engine ran
    assert max(a["ayo.batch_size"] for a in on_llm) == max(batches)
    assert sum(a["ayo.batches"] for a in on_llm) == sum(size * n for size, n in batches.items())


async def test_no_spans_without_a_provider(rt: Runtime) -> None:
    assert not otel.enabled()
    assert await rag("why is the sky blue?", DOCS) == ANSWER


async def test_the_timeline_has_the_same_token_counts(rt: Runtime) -> None:
    events = [e async for e in rag.stream("why is the sky blue?", DOCS)]
    counted = {e.node: (e.tokens_in, e.tokens_out) for e in events if isinstance(e, NodeFinished)}
    recorded = {
        e["name"]: (e["args"]["tokens_in"], e["args"]["tokens_out"])
        for e in rt.timeline().events
        if e.get("ph") == "X" and "tokens_in" in e.get("args", {})
    }
    assert recorded == {n: c for n, c in counted.items() if c != (0, 0)}
    assert recorded["result"] == (0, len(tokenize(ANSWER)))
    assert recorded["result_prefill"][0] > 0


async def test_summary_is_a_short_table_of_the_stats(rt: Runtime) -> None:
    await rag("why is the sky blue?", DOCS)
    lines = rt.summary().splitlines()
    stats = rt.stats()
    assert lines[0].split() == [
        "engine", "kind", "requests", "batches", "mean", "batch", "max", "batch", "wait", "mean", "busy", "util",
    ]  # fmt: skip
    rows = {line.split()[0]: line.split() for line in lines[1:-1]}
    assert set(rows) == set(stats["engines"])
    llm = stats["engines"]["llm"]
    assert rows["llm"][2:4] == [str(sum(llm["requests"].values())), str(sum(llm["batches"].values()))]
    assert lines[-1].startswith(f"queries {stats['queries']}  failed 0  cancelled 0  nodes {stats['nodes']}")
