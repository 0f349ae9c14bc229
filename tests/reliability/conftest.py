"""Fixtures of the reliability suite: each async test gets an event loop of its own."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
