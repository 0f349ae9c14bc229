"""The runtime's clock: the running event loop's (``anyio.current_time()``), so busy times, queue waits
and timelines are in the same time as the scheduling decisions, virtual under a test clock or the
simulator (trio's ``MockClock``). Outside any event loop (``Runtime.stats()`` called after the loop
ended) it is ``time.monotonic()``, which is asyncio's clock too."""

from __future__ import annotations

import asyncio
import time

import anyio
import anyio.lowlevel


def now() -> float:
    """Seconds on the running event loop's clock, else ``time.monotonic()``."""
    try:  # asyncio's clock, read directly: anyio's backend lookup costs more than the read
        return asyncio.get_running_loop().time()
    except RuntimeError:
        pass
    try:
        return anyio.current_time()
    except RuntimeError:  # anyio.NoEventLoopError (sniffio's AsyncLibraryNotFoundError before anyio 4.10)
        return time.monotonic()


def on_trio() -> bool:
    """Whether the running event loop is trio's (which orders each batch of runnable tasks at random,
    where asyncio runs them in the order they were woken)."""
    return anyio.lowlevel.current_token().backend_class.__module__.endswith("_trio")


__all__ = ["now", "on_trio"]
