"""Real engines as Ray actors: the bundled MiniLM embedder, and llama.cpp with the likelihood
reranker beside it in its actor, load in their actors' processes and give the same vectors and the
same naive RAG answers as in-process."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ayo_trace as ayo

pytest.importorskip("ray")  # before anything that imports it

from ayo_trace.backend.cluster.ray_engines import RemoteEmbedder, RemoteLLM, RemoteReranker
from ayo_trace.backend.config import EngineConfig
from ayo_trace.backend.engines.likelihood_rerank import LikelihoodReranker
from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine
from ayo_trace.backend.engines.sentence_transformers import SentenceTransformerEmbedder

from ..examples.conftest import load_example
from ..fixtures.llm import LLM_CONTEXT
from .common import default_runtime, run_all
from .scripted import configs

pytestmark = [pytest.mark.ray, pytest.mark.real, pytest.mark.anyio]

QUESTIONS = ("How do I copy a file's permission bits?", "How do I remove a directory tree?")
TEXTS = ["How do I copy a file?", "shutil.copytree copies a directory tree.", "Paris is in France."]


async def test_minilm_embedder_as_an_actor_equals_in_process(
    ray_cluster: Any, embedder: SentenceTransformerEmbedder
) -> None:
    example = load_example("naive_rag")
    inputs = [{"question": q, "docs": example.SMALL_INPUTS["docs"]} for q in QUESTIONS]
    real_embed = EngineConfig("embed", kind="embedding", backend="sentence_transformers", threads=2)
    scripted = [c for c in configs(llm_instances=1) if c.name != "embed"]

    async with ayo.Runtime(engines=[*scripted, embedder], batching=False) as local:
        with default_runtime(local):
            expected = [await example.naive_rag(**x) for x in inputs]
    async with ayo.Runtime(engines=[*scripted, real_embed], cluster="ray") as remote:
        assert isinstance(remote.engines["embed"][0], RemoteEmbedder)
        assert remote.engines["embed"][0].dim == embedder.dim == 384
        vectors = await remote.embed(TEXTS)
        with default_runtime(remote):
            got = await run_all(example.naive_rag, inputs)

    np.testing.assert_allclose(np.array(vectors), np.array(await embedder.embed(TEXTS)), atol=1e-6)
    assert got == expected


async def test_llama_cpp_and_its_reranker_as_an_actor_equal_in_process(
    ray_cluster: Any, llama_engine: LlamaCppEngine
) -> None:
    example = load_example("naive_rag")
    inputs = [{"question": q, "docs": example.SMALL_INPUTS["docs"]} for q in QUESTIONS]
    retrieval = [c for c in configs() if c.kind in ("embedding", "vector_store")]
    llm = EngineConfig(
        "llm",
        kind="llm",
        backend="llama_cpp",
        threads=2,
        num_cpus=1,
        options={"n_ctx": LLM_CONTEXT, "n_seq_max": 8},
    )
    rerank = EngineConfig("rerank", kind="rerank", backend="likelihood", options={"llm": "llm"})
    local_rerank = LikelihoodReranker(llama_engine, name="rerank")

    async with ayo.Runtime(engines=[llama_engine, local_rerank, *retrieval], batching=False) as local:
        with default_runtime(local):
            expected = [await example.naive_rag(**x) for x in inputs]
    async with ayo.Runtime(engines=[llm, rerank, *retrieval], cluster="ray", batching=False) as remote:
        proxy, reranker = remote.engines["llm"][0], remote.engines["rerank"][0]
        assert isinstance(proxy, RemoteLLM) and isinstance(reranker, RemoteReranker)
        assert reranker.actor is proxy.actor  # the reranker scores with the LLM in its actor
        assert proxy.max_sessions == llama_engine.max_sessions  # session admission works remotely
        with default_runtime(remote):
            got = [await example.naive_rag(**x) for x in inputs]

    assert got == expected
    assert all(isinstance(a, str) and a.strip() for a in got)
