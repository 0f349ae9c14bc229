"""Scripted engine configs for the Ray tests: the same ``EngineConfig``s run in-process and as Ray
actors. Everything an actor needs (the ``respond`` function below) is importable by Ray's workers,
which run from the same working directory as pytest."""

from __future__ import annotations

import re
from typing import Any

from ayo_trace.backend.config import EngineConfig

ACTOR_CPUS = 0.1  # a local test cluster has 2 CPUs: two runtimes' actors (5 each) fit at once


def respond(prompt: str) -> str:
    """A query-expansion prompt gets three search queries, one per line, built from the question's
    words; any other prompt gets a 30-word answer quoting the question (max_tokens cuts it, so a
    decode takes several rounds)."""
    question = re.findall(r"Question: (.*)", prompt)[-1] if "Question: " in prompt else prompt[-40:]
    words = re.findall(r"\w+", question.lower()) or ["nothing"]
    if prompt.startswith("Write search queries"):
        return "".join(f"- {' '.join(words[i:] + words[:i])}\n" for i in range(3)) + "\n"
    return " " + " ".join(f"{words[i % len(words)]}{i}" for i in range(30)) + "\n"


def configs(
    *, llm_instances: int = 2, decode_s_per_step: float = 0.0, max_restarts: int | None = None
) -> list[EngineConfig]:
    """Scripted engines under the default names: llm, embed, store, rerank."""
    ray_options: dict[str, Any] = {} if max_restarts is None else {"max_restarts": max_restarts}
    return [
        EngineConfig(
            "llm",
            kind="llm",
            backend="scripted",
            instances=llm_instances,
            num_cpus=ACTOR_CPUS,
            options={"respond": respond, "decode_s_per_step": decode_s_per_step},
            ray_options=ray_options,
        ),
        EngineConfig("embed", kind="embedding", backend="scripted", num_cpus=ACTOR_CPUS),
        EngineConfig("store", kind="vector_store", backend="scripted", num_cpus=ACTOR_CPUS),
        EngineConfig("rerank", kind="rerank", backend="scripted", num_cpus=ACTOR_CPUS),
    ]
