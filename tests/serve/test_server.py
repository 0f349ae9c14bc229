"""``ayo serve`` as a real uvicorn process on localhost, driven with httpx: a JSON call, a streamed
call (SSE parsed), the graph, health, metrics, errors as problem JSON naming the line, deadlines,
overload answered 503 (or 429, an option) with Retry-After, and graceful shutdown with requests in flight."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest
from httpx_sse import aconnect_sse

from ayo_trace.serve.apps import load_workflow, placeholder_args

from .conftest import APP, Server

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

QUESTION = "why is the sky blue?"
LONG_ANSWER = (
    " Because the air scatters blue light more than red light, so blue light comes at us from every part"
    " of the sky and it looks blue."
)
WORKFLOWS = ("answer", "rag", "slow", "broken", "plan")


def app_module() -> Any:
    load_workflow(f"{APP}:answer")
    return next(m for k, m in sys.modules.items() if k.startswith("ayo_app_serve_app"))


def metric(text: str, name: str) -> float:
    """The value of the unlabelled sample ``name`` in Prometheus text."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no sample {name} in:\n{text}")


async def wait_until_serving(client: httpx.AsyncClient, n: int) -> None:
    """Poll /metrics until ``n`` queries are in service (counts, not time, decide)."""
    for _ in range(600):
        if metric((await client.get("/metrics")).text, "ayo_admission_serving") >= n:
            return
        await anyio.sleep(0.05)
    raise AssertionError(f"{n} queries never were in service")


async def test_a_json_call_answers_the_result(start_server: Callable[..., Server]) -> None:
    server = start_server(*WORKFLOWS)
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        r = await client.post("/workflows/answer", json={"args": {"question": QUESTION}})
        assert r.status_code == 200, r.text
        assert r.json() == {"result": LONG_ANSWER}
        positional = await client.post("/workflows/rag", json={"args": ["q", ["a b", "c d"]]})
        assert positional.status_code == 200 and positional.json()["result"].startswith(" scripted answer")


async def test_a_streamed_call_sends_tokens_before_the_result(start_server: Callable[..., Server]) -> None:
    server = start_server(*WORKFLOWS)
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=60) as client,
        aconnect_sse(client, "POST", "/workflows/answer/stream", json={"args": [QUESTION]}) as source,
    ):
        events = [(e.event, json.loads(e.data)) async for e in source.aiter_sse()]
    kinds = [k for k, _ in events]
    assert kinds[-1] == "result" and kinds.count("result") == 1
    tokens = [d["text"] for k, d in events if k == "token"]
    assert len(tokens) > 1, "the answer streams in several decode rounds"
    assert kinds.index("token") < kinds.index("result")
    assert "".join(tokens) == events[-1][1]["value"] == LONG_ANSWER
    started = [d for k, d in events if k == "node_started"]
    assert all(d["loc"] is None or d["loc"].startswith("serve_app.py:") for d in started)
    finished = next(d for k, d in events if k == "node_finished" and d["op"] == "llm_decode")
    assert finished["tokens_out"] > 0


async def test_a_structured_answer_streams_its_list_items_and_answers_json(
    start_server: Callable[..., Server],
) -> None:
    server = start_server(*WORKFLOWS)
    steps = ["boil water", "steep the tea", "pour"]
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=60) as client,
        aconnect_sse(client, "POST", "/workflows/plan/stream", json={"args": ["tea"]}) as source,
    ):
        events = [(e.event, json.loads(e.data)) async for e in source.aiter_sse()]
        plain = await client.post("/workflows/plan", json={"args": ["tea"]})
    assert plain.json() == {"result": {"title": "Tea", "steps": steps}}
    items = [d for k, d in events if k == "item"]
    assert [(d["field"], d["index"], d["value"]) for d in items] == [
        ("steps", i, s) for i, s in enumerate(steps)
    ]
    kinds = [k for k, _ in events]
    assert kinds.index("item") < len(kinds) - 1 - kinds[::-1].index("token"), "the first item came mid-decode"
    assert events[-1] == ("result", {"value": {"title": "Tea", "steps": steps}})


async def test_the_graph_is_what_wf_graph_prints(start_server: Callable[..., Server]) -> None:
    server = start_server(*WORKFLOWS)
    _, rag = load_workflow(f"{APP}:rag")
    args = placeholder_args(rag)
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        text = await client.get("/workflows/rag/graph")
        mermaid = await client.get("/workflows/rag/graph", params={"format": "mermaid", "optimized": "1"})
        dot = await client.get("/workflows/rag/graph", params={"format": "dot"})
        missing = await client.get("/workflows/nope/graph")
    assert text.text == str(rag.graph(**args))
    assert mermaid.text == rag.graph(**args, optimized=True).to_mermaid()
    assert dot.text == rag.graph(**args).to_dot()
    assert missing.status_code == 404


async def test_health_and_metrics(start_server: Callable[..., Server]) -> None:
    server = start_server(*WORKFLOWS)
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        health = await client.get("/healthz")
        assert health.json() == {"status": "ok", "workflows": sorted(WORKFLOWS)}
        for _ in range(3):
            assert (await client.post("/workflows/answer", json={"args": [QUESTION]})).status_code == 200
        text = (await client.get("/metrics")).text
    assert metric(text, "ayo_queries_total") == 3
    assert metric(text, "ayo_query_failures_total") == 0
    assert 'ayo_engine_requests_total{engine="llm",kind="llm",request="decode"}' in text
    assert 'ayo_engine_utilization{engine="slow_llm",kind="llm"}' in text
    # batch sizes, and the engines' own counters: prefix reuse and the sessions held (none after)
    assert 'ayo_engine_batch_size_batches_total{engine="llm",kind="llm",size="1"}' in text
    assert 'ayo_engine_prefix_hits_total{engine="llm",kind="llm"} 0.0' in text
    assert 'ayo_engine_sessions{engine="llm",kind="llm"} 0.0' in text
    assert 'ayo_engine_sessions{engine="embed"' not in text  # an embedder holds no sessions


async def test_an_error_is_problem_json_naming_the_node_and_line(start_server: Callable[..., Server]) -> None:
    server = start_server(*WORKFLOWS)
    line = app_module().BROKEN_LINE
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        r = await client.post("/workflows/broken", json={"args": [QUESTION]})
        bad = await client.post("/workflows/answer", json={"args": {"nope": 1}})
        unknown = await client.post("/workflows/nope", json={})
        async with aconnect_sse(
            client, "POST", "/workflows/broken/stream", json={"args": [QUESTION]}
        ) as source:
            streamed = [(e.event, json.loads(e.data)) async for e in source.aiter_sse()]
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == "urn:ayo-trace:error:UserCodeError"
    assert body["location"] == f"serve_app.py:{line}" and body["node"] == "ratio"
    assert "ZeroDivisionError" in body["detail"]
    assert bad.status_code == 400 and "nope" in bad.json()["detail"]  # (Python's own TypeError)
    assert unknown.status_code == 404
    assert streamed[-1][0] == "error" and streamed[-1][1]["location"] == f"serve_app.py:{line}"


async def test_a_deadline_from_the_body_or_header_answers_504(start_server: Callable[..., Server]) -> None:
    server = start_server(*WORKFLOWS)
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        body = await client.post("/workflows/slow", json={"args": [QUESTION], "deadline_s": 0.3})
        header = await client.post(
            "/workflows/slow", json={"args": [QUESTION]}, headers={"Ayo-Deadline": "0.3"}
        )
    for r in (body, header):
        assert r.status_code == 504, r.text
        assert r.json()["type"] == "urn:ayo-trace:error:QueryTimeout"
        assert r.json()["location"].startswith("serve_app.py:")


@pytest.mark.parametrize(
    ("flags", "status", "title"),
    [((), 503, "Overloaded"), (("--overload-status", "429"), 429, "Too many requests")],
)
async def test_a_request_past_the_admission_bound_is_refused_with_retry_after(
    start_server: Callable[..., Server], flags: tuple[str, ...], status: int, title: str
) -> None:
    server = start_server(*WORKFLOWS, extra=("--max-active", "1", "--max-queue", "0", *flags))
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        first: dict[str, httpx.Response] = {}

        async def call_slow() -> None:
            first["r"] = await client.post("/workflows/slow", json={"args": [QUESTION]})

        async with anyio.create_task_group() as tg:
            tg.start_soon(call_slow)
            await wait_until_serving(client, 1)
            refused = await client.post("/workflows/answer", json={"args": [QUESTION]})
            streamed = await client.post("/workflows/answer/stream", json={"args": [QUESTION]})
            refusals = metric((await client.get("/metrics")).text, "ayo_admission_refused_total")
        after = await client.post("/workflows/answer", json={"args": [QUESTION]})
    assert refused.status_code == status
    assert refused.headers["retry-after"] == "1"
    body = refused.json()
    assert body["type"] == "urn:ayo-trace:error:Overloaded" and body["title"] == title
    assert "max_active=1, max_queue=0" in body["detail"]
    # a stream refused before its response begins gets the refusal as its status, not an event
    assert streamed.status_code == status and streamed.headers["retry-after"] == "1"
    assert streamed.json()["type"] == "urn:ayo-trace:error:Overloaded"
    assert refusals == 2
    assert first["r"].status_code == 200
    assert after.status_code == 200


async def test_shutdown_lets_requests_in_flight_finish(start_server: Callable[..., Server]) -> None:
    server = start_server(*WORKFLOWS)
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        results: list[httpx.Response] = []

        async def call_slow() -> None:
            results.append(await client.post("/workflows/slow", json={"args": [QUESTION]}))

        async with anyio.create_task_group() as tg:
            for _ in range(2):
                tg.start_soon(call_slow)
            await wait_until_serving(client, 2)
            server.terminate()
    code, log = server.stop()
    assert [r.status_code for r in results] == [200, 200]
    assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has shut down
    assert "queries 2  failed 0  cancelled 0" in log
    assert log.index("ayo serve: stopping") < log.index("ayo serve: engines stopped")


async def test_shutdown_cancels_what_outlives_the_grace_period(start_server: Callable[..., Server]) -> None:
    server = start_server(*WORKFLOWS, extra=("--graceful-timeout", "1"))
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        outcome: list[Any] = []

        async def call_slow() -> None:
            try:
                outcome.append(await client.post("/workflows/slow", json={"args": [QUESTION]}))
            except httpx.TransportError as exc:
                outcome.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(call_slow)
            await wait_until_serving(client, 1)
            server.terminate()
    code, log = server.stop()
    # uvicorn answers a request it cancelled with a bare 500, or drops the connection
    assert isinstance(outcome[0], httpx.TransportError) or outcome[0].status_code == 500, outcome
    assert code in (0, -signal.SIGTERM)
    assert "ayo serve: engines stopped" in log
    assert "cancelled 1" in log, log
    assert "open LLM sessions: llm=0 slow_llm=0" in log


async def test_a_stream_whose_client_goes_away_is_cancelled(start_server: Callable[..., Server]) -> None:
    server = start_server(*WORKFLOWS)
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        async with aconnect_sse(
            client, "POST", "/workflows/slow/stream", json={"args": [QUESTION]}
        ) as source:
            async for event in source.aiter_sse():
                assert event.event == "node_started"
                break  # leaves the block: the connection closes while the answer decodes
        for _ in range(600):
            text = (await client.get("/metrics")).text
            if metric(text, "ayo_queries_cancelled_total") >= 1:
                break
            await anyio.sleep(0.05)
        assert metric(text, "ayo_queries_cancelled_total") == 1
        assert metric(text, "ayo_admission_serving") == 0
    _, log = server.stop()
    assert "open LLM sessions: llm=0 slow_llm=0" in log
