"""The engines ``bench/e2e.py`` runs on: the CPU defaults, the same with another LLM backend, and
scripted stand-ins for its tests.

``--llm`` picks the LLM (which also serves the likelihood reranker): ``llama-cpp`` (the default, the
shipped Gemma 3 270M GGUF on the CPU), ``transformers`` (the same GGUF dequantized to float32) or
``vllm`` (GPU). vLLM loads a Hugging Face directory: ``--llm-model DIR``, or, without it, the
transformers engine's cached float32 conversion of the shipped GGUF (made on first use, about 40 s on
the CPU), so the GPU run answers with the same weights. ``--device cuda`` puts the embedder on the GPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

LLMS = ("llama-cpp", "transformers", "vllm")


@dataclass(frozen=True)
class EngineChoice:
    """Which engines a run uses; the defaults are the README's CPU defaults."""

    llm: str = "llama-cpp"
    llm_model: Path | None = None  # a GGUF file (llama-cpp, transformers) or HF directory
    device: str = "cpu"  # the embedder's torch device
    n_seq_max: int = 64  # llama.cpp sessions held at once
    threads: int = 1  # compute threads each for the CPU LLM and for torch
    n_ctx: int = 1024
    gpu_memory_utilization: float = 0.5  # vLLM's share of the GPU

    def __post_init__(self) -> None:
        if self.llm not in LLMS:
            raise ValueError(f"unknown LLM backend {self.llm!r}; choose one of {', '.join(LLMS)}")


def describe(choice: EngineChoice) -> str:
    """One line for RESULTS.md: what ran the LLM and the embedder."""
    model = choice.llm_model.name if choice.llm_model else "shipped Gemma 3 270M"
    return f"LLM {choice.llm} ({model}), embedder on {choice.device}"


async def real_engines(pg_dir: Path, choice: EngineChoice) -> list[Any]:
    """The LLM of ``choice``, MiniLM, embedded pgvector in ``pg_dir`` and the LLM-likelihood reranker,
    named as ``bench/workflows.py`` expects."""
    from ayo_trace.backend.engines.likelihood_rerank import LikelihoodReranker
    from ayo_trace.backend.engines.pgvector_store import PgVectorStore
    from ayo_trace.backend.engines.sentence_transformers import SentenceTransformerEmbedder

    llm = await _llm(choice)
    return [
        llm,
        SentenceTransformerEmbedder("embed", device=choice.device, threads=choice.threads),
        PgVectorStore("store", data_dir=pg_dir),
        LikelihoodReranker(llm, "rerank"),
    ]


async def _llm(choice: EngineChoice) -> Any:
    from ayo_trace.backend.engines.models import default_gguf_path

    if choice.llm == "llama-cpp":
        from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine

        return LlamaCppEngine(
            "llm",
            model_path=choice.llm_model,
            n_ctx=choice.n_ctx,
            n_seq_max=choice.n_seq_max,
            threads=choice.threads,
        )
    from ayo_trace.backend.engines.transformers_llm import TransformersEngine

    if choice.llm == "transformers":
        if choice.llm_model is not None and choice.llm_model.is_dir():
            return TransformersEngine(
                "llm", choice.llm_model, threads=choice.threads, max_context=choice.n_ctx
            )
        gguf = choice.llm_model or default_gguf_path()
        return TransformersEngine("llm", gguf_file=gguf, threads=choice.threads, max_context=choice.n_ctx)
    from ayo_trace.backend.engines.vllm_llm import VLLMEngine

    model = choice.llm_model or await shipped_hf_dir()
    return VLLMEngine(
        "llm",
        model,
        max_model_len=choice.n_ctx,
        gpu_memory_utilization=choice.gpu_memory_utilization,
    )


async def shipped_hf_dir() -> Path:
    """The Hugging Face directory of the shipped Gemma 3 270M (the transformers engine's conversion)."""
    from ayo_trace.backend.engines.models import default_gguf_path
    from ayo_trace.backend.engines.transformers_llm import TransformersEngine

    async with TransformersEngine("convert", gguf_file=default_gguf_path(), threads=2) as engine:
        return engine.model_dir


def scripted_engines(scale: float = 1.0) -> list[Any]:
    """Scripted stand-ins (``ayo_trace.testing``) with small latencies, for tests of ``bench/e2e.py``:
    the expansion prompt is answered with three queries made of the question's words."""
    from ayo_trace.testing import (
        ScriptedEmbedder,
        ScriptedLLM,
        ScriptedReranker,
        ScriptedStore,
        default_response,
    )

    def respond(prompt: str) -> str:
        if prompt.endswith("Queries:\n"):
            words = prompt.rsplit("Question: ", 1)[1].split("\n", 1)[0].split()
            third = max(1, len(words) // 3)
            parts = [" ".join(words[i : i + third]) for i in range(0, len(words), third)]
            return "\n".join(parts[:3]) + "\n\nQuestion:"
        return default_response(prompt) + "\nQuestion:"

    return [
        ScriptedLLM(
            "llm",
            respond,
            prefill_s_per_token=2e-5 * scale,
            decode_s_per_step=2e-3 * scale,
            call_s=5e-4 * scale,
        ),
        ScriptedEmbedder("embed", call_s=1e-3 * scale, per_text_s=2e-4 * scale),
        ScriptedStore("store", call_s=5e-4 * scale),
        ScriptedReranker("rerank", call_s=1e-3 * scale, per_passage_s=5e-4 * scale),
    ]
