"""``ayo serve`` on the real CPU engines (llama.cpp on the shipped Gemma GGUF, the bundled MiniLM
embedder, an embedded pgvector store, the LLM-likelihood reranker): the naive RAG example's answer
streams over SSE before its result, and equals the JSON call's."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from httpx_sse import aconnect_sse

from tests.examples.conftest import load_example

from .conftest import ROOT, Server

pytestmark = [pytest.mark.anyio, pytest.mark.real, pytest.mark.slow]


@pytest.fixture
def real_config() -> Iterator[Path]:
    # Not under pytest's tmp_path (see tests/fixtures/retrieval.py: PostgreSQL runs as another user).
    root = Path(tempfile.mkdtemp(prefix="ayo-test-serve-"))
    config = root / "engines.toml"
    config.write_text(
        f"""
[[engine]]
name = "llm"
kind = "llm"
backend = "llama_cpp"
threads = 2
options = {{ n_ctx = 1024, n_seq_max = 4 }}

[[engine]]
name = "embed"
kind = "embedding"
backend = "sentence_transformers"
threads = 2

[[engine]]
name = "store"
kind = "vector_store"
backend = "pgvector"
options = {{ data_dir = "{root / "pgdata"}" }}

[[engine]]
name = "rerank"
kind = "rerank"
backend = "likelihood"
options = {{ llm = "llm" }}
"""
    )
    yield config
    shutil.rmtree(root, ignore_errors=True)


async def test_naive_rag_streams_over_http_on_the_real_engines(
    start_server: Callable[..., Server], real_config: Path
) -> None:
    inputs = load_example("naive_rag").SMALL_INPUTS
    server = start_server(
        f"{ROOT / 'examples' / 'naive_rag.py'}:naive_rag", config=real_config, extra=("--no-batching",)
    )
    async with httpx.AsyncClient(base_url=server.url, timeout=600) as client:
        plain = await client.post("/workflows/naive_rag", json={"args": inputs})
        async with aconnect_sse(
            client, "POST", "/workflows/naive_rag/stream", json={"args": inputs}
        ) as source:
            events = [(e.event, json.loads(e.data)) async for e in source.aiter_sse()]
        metrics = (await client.get("/metrics")).text
    assert plain.status_code == 200, plain.text
    kinds = [k for k, _ in events]
    assert "token" in kinds and kinds.index("token") < kinds.index("result") == len(kinds) - 1
    text = "".join(d["text"] for k, d in events if k == "token")
    assert text == events[-1][1]["value"] == plain.json()["result"]
    assert text.strip()
    assert 'ayo_engine_requests_total{engine="llm",kind="llm",request="decode"}' in metrics
