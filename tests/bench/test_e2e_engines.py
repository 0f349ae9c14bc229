"""bench/e2e.py's engine choice: each backend is built as the workflows expect, a run on another
backend writes its own section, and vLLM without its extra fails with a clear error."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ayo_trace.backend.engines.likelihood_rerank import LikelihoodReranker
from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine
from ayo_trace.backend.engines.vllm_llm import VLLMEngine
from ayo_trace.errors import ConfigError
from bench import e2e
from bench.e2e_engines import EngineChoice, describe, real_engines


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown LLM backend 'tgi'"):
        EngineChoice(llm="tgi")


def test_the_cli_builds_the_choice() -> None:
    args = e2e.parse_args(["--llm", "vllm", "--llm-model", "/m", "--device", "cuda", "--quick"])
    choice = e2e.engine_choice(args)
    assert (choice.llm, choice.llm_model, choice.device) == ("vllm", Path("/m"), "cuda")
    assert describe(choice) == "LLM vllm (m), embedder on cuda"


def test_another_backend_gets_its_own_results_section() -> None:
    assert e2e.outputs("llama-cpp") == (e2e.HEADING, "e2e.png")
    heading, png = e2e.outputs("vllm")
    assert heading != e2e.HEADING and "vllm" in heading and png == "e2e-vllm.png"


@pytest.mark.anyio
async def test_engines_are_named_for_the_workflows_and_the_reranker_scores_on_the_llm(tmp_path: Path) -> None:
    for choice, kind in (
        (EngineChoice(), LlamaCppEngine),
        (EngineChoice(llm="vllm", llm_model=tmp_path), VLLMEngine),
    ):
        engines = await real_engines(tmp_path / "pg", choice)
        assert [e.name for e in engines] == ["llm", "embed", "store", "rerank"]
        assert isinstance(engines[0], kind)
        assert isinstance(engines[3], LikelihoodReranker) and engines[3].llm is engines[0]


@pytest.mark.anyio
@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="checks the error without vLLM")
async def test_vllm_without_its_extra_fails_at_start_with_a_clear_error(tmp_path: Path) -> None:
    (llm, *_) = await real_engines(tmp_path / "pg", EngineChoice(llm="vllm", llm_model=tmp_path))
    with pytest.raises(ConfigError, match="vLLM is not installed"):
        await llm.start()
