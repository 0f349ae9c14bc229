"""Fixtures of the runtime tests: scripted engines (fast, deterministic) and runtimes over them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TypeVar

import pytest

from ayo_trace.backend import Runtime
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore

T = TypeVar("T")

EXPANSIONS = {
    "why is the sky blue?": "\n- what is light scattering\n- which colors scatter most\n- how thick is air\n",
}


def respond(prompt: str) -> str:
    """The scripted model: an "Expand:" prompt lists three sub-questions one per line; any other
    prompt gets an answer quoting the prompt's last words."""
    if prompt.startswith("Expand: "):
        q = prompt[len("Expand: ") :]
        return EXPANSIONS.get(q, f"\n- {q} part one\n- {q} part two\n- {q} part three\n")
    tail = " ".join(prompt.split()[-3:])
    return f" answer to {tail}"


@dataclass
class Engines:
    llm: ScriptedLLM
    embed: ScriptedEmbedder
    store: ScriptedStore
    rerank: ScriptedReranker

    def all(self) -> list[object]:
        return [self.llm, self.embed, self.store, self.rerank]


@pytest.fixture
def anyio_backend() -> str:
    """Function scope: each async test of this folder gets an event loop of its own."""
    return "asyncio"


@pytest.fixture
def engines() -> Engines:
    return Engines(
        ScriptedLLM("llm", respond),
        ScriptedEmbedder("embed"),
        ScriptedStore("store"),
        ScriptedReranker("rerank"),
    )


@pytest.fixture
async def rt(engines: Engines) -> AsyncIterator[Runtime]:
    async with Runtime(engines=engines.all(), batching=False) as runtime:
        yield runtime
    assert engines.llm.sessions == {}, "every LLM session is released"


@pytest.fixture
def default_runtime_slot() -> Iterator[None]:
    """Restores the process default runtime after a test that installs its own."""
    previous = Runtime.set_default(None)
    yield None
    Runtime.set_default(previous)
