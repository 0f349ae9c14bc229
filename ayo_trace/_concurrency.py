"""Structured concurrency that fails fast with the first real error, as itself.

An anyio task group whose tasks fail raises an ``ExceptionGroup`` of every failure, including the
errors of tasks that only failed because a sibling's failure cancelled them. Callers of ayo-trace
catch specific errors (``InvalidRequest`` isolates one request of a batch, ``QueryTimeout`` and
``EngineError`` decide retries), so a group must never reach them. ``fail_fast`` is a task group
whose first failure (any exception but a cancellation, from a task or from the block's own body:
a ``SystemExit`` the user's code raises too) cancels everything else in it and is raised,
unwrapped, when the block exits; ``gather`` runs calls that way and
returns their results in order. Cancellation from outside is never caught: it propagates as usual.

This module imports only anyio, so every layer may use it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
from anyio.abc import TaskGroup

T = TypeVar("T")


class FailFast:
    """The tasks of one ``fail_fast`` block: ``start_soon`` runs one, ``fail`` ends them all."""

    def __init__(self, tg: TaskGroup) -> None:
        self._tg = tg
        self.error: BaseException | None = None  # the first failure, raised when the block exits

    def start_soon(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run ``fn(*args)`` in the block; an exception it raises (not a cancellation) fails it."""
        self._tg.start_soon(self._guarded, fn, args)

    def fail(self, error: BaseException) -> None:
        """Fail the block with ``error`` (unless it already failed): cancel every task in it."""
        if self.error is None:
            self.error = error
            self._tg.cancel_scope.cancel()

    async def _guarded(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
        try:
            await fn(*args)
        except anyio.get_cancelled_exc_class():
            raise
        except BaseException as exc:  # (also a `SystemExit` or a `BaseException` of the user's code)
            self.fail(exc)


@asynccontextmanager
async def fail_fast() -> AsyncIterator[FailFast]:
    """A task group that raises its first failure as itself (see the module docstring)::

    async with fail_fast() as tasks:
        for item in items:
            tasks.start_soon(work, item)
    """
    async with anyio.create_task_group() as tg:
        tasks = FailFast(tg)
        try:
            yield tasks
        except anyio.get_cancelled_exc_class():
            raise
        except BaseException as exc:  # the block's own body failed: cancel the tasks, raise it after
            tasks.fail(exc)
    if tasks.error is not None:
        raise tasks.error


async def gather(calls: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run every call concurrently; their results in order, or the first failure as itself."""
    results: dict[int, T] = {}

    async def one(i: int, call: Callable[[], Awaitable[T]]) -> None:
        results[i] = await call()

    async with fail_fast() as tasks:
        n = 0
        for n, call in enumerate(calls, start=1):
            tasks.start_soon(one, n - 1, call)
    return [results[i] for i in range(n)]


__all__ = ["FailFast", "fail_fast", "gather"]
