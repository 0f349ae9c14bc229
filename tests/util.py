"""Helpers shared by test modules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import anyio

T = TypeVar("T")


def run_in_new_loop(fn: Callable[..., Awaitable[T]], *args: Any, backend: str = "asyncio") -> T:
    """``anyio.run(fn, *args, backend=backend)`` in a fresh thread: a new event loop even when
    pytest's anyio runner (session-scoped, so real-engine fixtures load once) holds this thread's
    loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, fn, *args, backend=backend).result()


def in_new_thread(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a fresh thread: for a benchmark's ``main``, which calls ``anyio.run`` itself
    (see ``run_in_new_loop``)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()
