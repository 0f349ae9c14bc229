"""Fixtures of the LLM engine tests: ``engine``, each real LLM engine in turn, and ``sid``, unique
session names released after the test.

``engine`` runs every contract test on llama.cpp, transformers and the OpenAI-compatible engine on a
local llama.cpp server (``tests/fixtures/openai_server.py``). A test marked ``in_process`` checks
what only an engine holding the model in this process has (KV accounting, the ``batching`` option,
batch-exact results) and runs on the first two only; ``docs/remote-engines.md`` lists what the
protocol cannot do.

``engine`` is session-scoped so pytest runs all tests of one engine before the other: alternating
them makes torch's and llama.cpp's spinning worker threads fight over the two cores. A module may
override it (``test_prefix_sharing`` uses a llama.cpp engine with more slots); ``sid`` follows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from ayo_trace.backend.engines.base import LLMEngine

from .sessions import session_names

IN_PROCESS = ["llama", "transformers"]
ENGINES = [*IN_PROCESS, "openai"]
FIXTURES = {"llama": "llama_engine", "transformers": "transformers_engine", "openai": "openai_llm"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" in metafunc.fixturenames and not hasattr(metafunc.module, "engine"):
        names = IN_PROCESS if metafunc.definition.get_closest_marker("in_process") else ENGINES
        metafunc.parametrize("engine", names, indirect=True, scope="session")


@pytest.fixture(scope="session")
def engine(request: pytest.FixtureRequest) -> LLMEngine:
    engine: LLMEngine = request.getfixturevalue(FIXTURES[request.param])
    return engine


@pytest.fixture
async def sid(engine: LLMEngine) -> AsyncIterator[Callable[..., str]]:
    """Makes unique session names and releases them all after the test."""
    async with session_names(engine) as make:
        yield make
