"""Fixtures of the example and demo tests: one runtime on the real engines, batching off.

The engines come from the session fixtures of ``tests/fixtures`` (loaded once per test session);
the LLM also serves the likelihood reranker. Cross-request batching is off so that eager and
optimized runs compute exactly the same thing (engines are not batch-invariant: DESIGN.md).
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType

import pytest

import ayo_trace as ayo
from ayo_trace.backend.engines.likelihood_rerank import LikelihoodReranker
from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine
from ayo_trace.backend.engines.pgvector_store import PgVectorStore
from ayo_trace.backend.engines.sentence_transformers import SentenceTransformerEmbedder

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str) -> ModuleType:
    """``examples/{name}.py`` as a module (the folder is not a package: each file is a program)."""
    spec = importlib.util.spec_from_file_location(f"ayo_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
async def real_runtime(
    llama_engine: LlamaCppEngine, embedder: SentenceTransformerEmbedder, pg_store: PgVectorStore
) -> AsyncIterator[ayo.Runtime]:
    """A runtime on the session's real engines (not started or stopped by it), batching off."""
    reranker = LikelihoodReranker(llama_engine, name="rerank")
    # Started, not entered: `async with` would make it the current runtime of the session's event
    # loop context, and every later async test in the session would run on it.
    rt = ayo.Runtime(engines=[llama_engine, embedder, pg_store, reranker], batching=False)
    await rt.start()
    try:
        yield rt
    finally:
        await rt.aclose()


@pytest.fixture
def on_real_runtime(real_runtime: ayo.Runtime) -> Iterator[ayo.Runtime]:
    """``real_runtime`` as the process default for one test: what the examples' code runs on."""
    previous = ayo.Runtime.set_default(real_runtime)
    try:
        yield real_runtime
    finally:
        ayo.Runtime.set_default(previous)
