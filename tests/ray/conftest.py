"""Fixtures of the Ray tests: one small local Ray cluster (2 CPUs, no dashboard) for the package,
shut down after its last test, and again at session end in case a test left one running."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

try:
    import ray
except ImportError:  # the test modules skip themselves (pytest.importorskip)
    ray = None


@pytest.fixture(scope="package")
def ray_cluster() -> Iterator[Any]:
    """A local Ray of 2 CPUs for the tests of this folder (about 5-10 s to start)."""
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="session", autouse=True)
def _ray_shutdown_at_exit() -> Iterator[None]:
    yield
    if ray is not None and ray.is_initialized():
        ray.shutdown()
