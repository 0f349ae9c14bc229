"""Fixtures of the LLM engine tests: ``engine``, each real CPU engine in turn, and ``sid``, unique
session names released after the test.

``engine`` is session-scoped so pytest runs all tests of one engine before the other: alternating
them makes torch's and llama.cpp's spinning worker threads fight over the two cores. A module may
override it (``test_prefix_sharing`` uses a llama.cpp engine with more slots); ``sid`` follows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from ayo_trace.backend.engines.base import LLMEngine

from .sessions import session_names


@pytest.fixture(scope="session", params=["llama", "transformers"])
def engine(request: pytest.FixtureRequest) -> LLMEngine:
    engine: LLMEngine = request.getfixturevalue(f"{request.param}_engine")
    return engine


@pytest.fixture
async def sid(engine: LLMEngine) -> AsyncIterator[Callable[..., str]]:
    """Makes unique session names and releases them all after the test."""
    async with session_names(engine) as make:
        yield make
