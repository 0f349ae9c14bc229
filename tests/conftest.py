"""Test configuration shared by the whole suite.

Real-engine fixtures are session-scoped so each model loads once; they live in ``tests/fixtures/``
(one module per engine family) and are registered here as plugins.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

pytest_plugins = [
    "tests.fixtures.llm",
    "tests.fixtures.retrieval",
]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Session scope, so session-scoped async engine fixtures share the tests' event loop (models load
    once). Sync tests that need their own loop use ``tests.util.run_in_new_loop``."""
    return "asyncio"
