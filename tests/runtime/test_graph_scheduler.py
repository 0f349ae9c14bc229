"""The graph scheduler runs traced and lowered graphs (docs/ir-conventions.md) on scripted engines."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from ayo_trace.backend import Runtime, current_runtime
from ayo_trace.backend.interpreter import interpret
from ayo_trace.errors import EngineError, InvalidRequest, NodeError, QueryTimeout, UserCodeError
from ayo_trace.ir import SamplingParams, SearchParams
from ayo_trace.testing import ScriptedLLM

from . import graphs as G
from .conftest import Engines

pytestmark = pytest.mark.anyio

Q = "why is the sky blue?"
DOCS = ["the sky is blue because air scatters blue light", "grass is green", "the sea reflects the sky"]


async def test_a_traced_chain_computes_what_eager_calls_compute(rt: Runtime) -> None:
    p = SamplingParams(max_tokens=32)
    a = await rt.llm(f"Q: {Q}\nA:", p)
    assert await rt.run(G.chain(), {"question": Q}) == await rt.llm(f"Summarize: {a}", p)


@pytest.mark.parametrize("concurrency", [1, None, 2])
async def test_map_results_are_in_item_order(rt: Runtime, concurrency: int | None) -> None:
    out = await rt.run(G.expansion(concurrency), {"question": Q})
    subs = await rt.llm(f"Expand: {Q}", SamplingParams(max_tokens=32), parse=G.lines)
    assert out == [await rt.llm(f"Answer: {s}", SamplingParams(max_tokens=32)) for s in subs]


@pytest.mark.parametrize("stream", [True, False])
async def test_lowered_graphs_compute_what_traced_graphs_compute(rt: Runtime, stream: bool) -> None:
    traced = await rt.run(G.expansion(), {"question": Q})
    assert await rt.run(G.expansion_lowered(stream=stream), {"question": Q}) == traced


async def test_a_prompt_prefilled_in_parts_equals_the_whole_prompt(rt: Runtime, engines: Engines) -> None:
    assert await rt.run(G.split_prompt(), {"question": Q}) == await rt.run(
        G.unsplit_prompt(), {"question": Q}
    )
    assert engines.llm.prompts[0] == engines.llm.prompts[1]


async def test_rag_traced_equals_interpreted_equals_eager(rt: Runtime) -> None:
    inputs = {"docs": DOCS, "question": "why is the sky blue"}
    traced = await rt.run(G.rag("kb1"), inputs)
    assert await interpret(rt, G.rag("kb2"), inputs) == traced
    await rt.ingest(DOCS, "kb3")
    hits = await rt.search("why is the sky blue", SearchParams("kb3", 3))
    top = await rt.rerank("why is the sky blue", hits, 2)
    context = "\n".join(h.text for h in top)
    eager = await rt.llm(
        f"Context: {context}\nQuestion: why is the sky blue\nAnswer:", SamplingParams(max_tokens=32)
    )
    assert traced == eager


async def test_cond_runs_the_chosen_branch(rt: Runtime) -> None:
    assert await rt.run(G.branch(), {"x": "hi"}) == "short"
    assert await rt.run(G.branch(), {"x": "a long one"}) == await rt.llm("Long: a long one", G.SAMPLING)


async def test_a_stream_edge_starts_items_before_the_producer_finishes(engines: Engines) -> None:
    engines.llm.decode_s_per_step = 0.01
    async with Runtime(engines=engines.all(), batching=False, decode_steps=2) as rt:
        out = await rt.run(G.expansion_lowered(stream=True), {"question": Q})
        events = rt.timeline().events
    assert len(out) == 3
    producer = next(e for e in events if e.get("name") == "subs" and e["ph"] == "X")
    first_item = min(e["ts"] for e in events if e.get("args", {}).get("scope", "").endswith("answers[0]"))
    assert first_item < producer["ts"] + producer["dur"]


async def test_without_streaming_items_wait_for_the_whole_list(engines: Engines) -> None:
    engines.llm.decode_s_per_step = 0.01
    async with Runtime(engines=engines.all(), batching=False, decode_steps=2) as rt:
        await rt.run(G.expansion_lowered(stream=False), {"question": Q})
        events = rt.timeline().events
    producer = next(e for e in events if e.get("name") == "subs" and e["ph"] == "X")
    first_item = min(e["ts"] for e in events if e.get("args", {}).get("scope", "").endswith("answers[0]"))
    assert first_item >= producer["ts"] + producer["dur"]


async def test_map_concurrency_one_runs_items_one_at_a_time_in_order(engines: Engines) -> None:
    engines.llm.decode_s_per_step = 0.002
    async with Runtime(engines=engines.all(), batching=False) as rt:
        await rt.run(G.expansion(concurrency=1), {"question": Q})
        assert engines.llm.peak_sessions == 1
    answers = [p for p in engines.llm.prompts if p.startswith("Answer:")]
    assert answers == [
        f"Answer: {s}" for s in ("what is light scattering", "which colors scatter most", "how thick is air")
    ]


async def test_map_without_a_concurrency_bound_runs_items_together(engines: Engines) -> None:
    engines.llm.decode_s_per_step = 0.002
    async with Runtime(engines=engines.all(), batching=False) as rt:
        await rt.run(G.expansion(concurrency=None), {"question": Q})
    assert engines.llm.peak_sessions == 3


async def test_a_chunked_embed_streams_into_one_insert_transaction(rt: Runtime, engines: Engines) -> None:
    docs = [f"doc {i}" for i in range(5)]
    assert await rt.run(G.stream_ingest("kb", chunk=2), {"docs": docs}) == 5
    assert engines.store.transactions == 1
    assert engines.store.batch_sizes["insert_stream_chunk"] == [2, 2, 1]
    assert engines.embed.batch_sizes["embed"] == [2, 2, 1]


async def test_a_failing_embed_stream_inserts_nothing(engines: Engines) -> None:
    engines.embed.fail = lambda t: t == "doc 3"
    async with Runtime(engines=engines.all(), batching=False, retries=0) as rt:
        with pytest.raises(EngineError) as info:
            await rt.run(G.stream_ingest("kb", chunk=2), {"docs": [f"doc {i}" for i in range(5)]})
    assert info.value.node == "vectors"  # type: ignore[attr-defined]
    assert engines.store.collections.get("kb", []) == []


async def test_the_query_deadline_names_the_running_node(engines: Engines) -> None:
    engines.llm.decode_s_per_step = 0.05
    async with Runtime(engines=engines.all(), batching=False) as rt:
        with pytest.raises(QueryTimeout) as info:
            await rt.run(G.chain(), {"question": Q}, deadline_s=0.12)
        assert engines.llm.sessions == {}
    assert info.value.node == "answer"
    assert "graphs.py:" in str(info.value)


async def test_a_node_timeout_names_that_node(rt: Runtime, engines: Engines) -> None:
    engines.llm.decode_s_per_step = 0.05
    g = G.chain()
    G.nodes(g)["summary"].meta["timeout"] = 0.05
    with pytest.raises(QueryTimeout) as info:
        await rt.run(g, {"question": Q})
    assert info.value.node == "summary"


async def test_user_code_errors_name_the_node_and_chain_the_cause(rt: Runtime) -> None:
    def boom(x: str) -> str:
        raise ValueError(f"bad {x}")

    with pytest.raises(UserCodeError) as info:
        await rt.run(G.python_chain(boom), {"x": "input"})
    assert info.value.node == "v"
    assert isinstance(info.value.__cause__, ValueError)
    assert "graphs.py:" in str(info.value) and "bad input" in str(info.value)


async def test_engine_errors_keep_their_type_and_name_node_and_line(engines: Engines) -> None:
    engines.llm.fail = lambda prompt: "Summarize" in prompt
    async with Runtime(engines=engines.all(), batching=False, retries=0) as rt:
        with pytest.raises(EngineError) as info:
            await rt.run(G.chain(), {"question": Q})
    err = info.value
    assert err.node == "summary" and err.engine == "llm"  # type: ignore[attr-defined]
    assert "node %summary (graphs.py:" in str(err)
    assert engines.llm.sessions == {}


class Flaky(ScriptedLLM):
    """Fails its first ``failures`` prefill calls."""

    def __init__(self, failures: int) -> None:
        super().__init__("llm")
        self.left = failures

    async def prefill(self, batch: Any) -> Any:
        if self.left:
            self.left -= 1
            self.calls["failed_prefill"] += 1
            raise RuntimeError("flaky")
        return await super().prefill(batch)


async def test_idempotent_nodes_are_retried(engines: Engines) -> None:
    flaky = Flaky(failures=1)
    async with Runtime(engines=[flaky, engines.embed, engines.store, engines.rerank], retries=1) as rt:
        assert await rt.run(G.unsplit_prompt(), {"question": Q})  # `llm` is idempotent
    assert flaky.calls["failed_prefill"] == 1 and flaky.calls["prefill"] == 1


async def test_lowered_llm_nodes_are_retried_too(engines: Engines) -> None:
    async with Runtime(engines=[Flaky(failures=0), engines.embed, engines.store, engines.rerank]) as rt:
        want = await rt.run(G.split_prompt(), {"question": Q})
    flaky = Flaky(failures=1)
    async with Runtime(engines=[flaky, engines.embed, engines.store, engines.rerank], retries=3) as rt:
        assert await rt.run(G.split_prompt(), {"question": Q}) == want  # llm_prefill reopens its session
    assert flaky.calls["failed_prefill"] == 1 and flaky.calls["prefill"] >= 1
    assert flaky.sessions == {}


async def test_invalid_requests_are_not_retried(engines: Engines) -> None:
    engines.llm._context_length = 3
    async with Runtime(engines=engines.all(), retries=3) as rt:
        with pytest.raises(InvalidRequest):
            await rt.run(G.unsplit_prompt(), {"question": Q})
    assert engines.llm.calls["prefill"] == 1


async def test_a_graph_break_runs_primitives_eagerly_on_the_same_runtime(rt: Runtime) -> None:
    seen: list[Any] = []

    async def fn(x: str) -> Any:
        seen.append(current_runtime(default=False))
        return await current_runtime().llm(f"Q: {x}", G.SAMPLING)

    assert await rt.run(G.with_break(fn), {"x": "hi"}) == await rt.llm("Q: hi", G.SAMPLING)
    assert seen == [rt]


async def test_a_missing_input_is_named(rt: Runtime) -> None:
    with pytest.raises(NodeError, match="missing input 'question'"):
        await rt.run(G.chain(), {})


async def test_a_cancelled_query_releases_its_sessions(engines: Engines) -> None:
    engines.llm.decode_s_per_step = 0.01
    async with Runtime(engines=engines.all()) as rt:
        with anyio.move_on_after(0.1):
            await rt.run(G.expansion(concurrency=None), {"question": Q})
        assert engines.llm.sessions == {}
        assert rt.stats()["cancelled"] == 1
