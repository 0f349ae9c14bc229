"""The context variables a query's user code sees: one ``contextvars.Context`` per query, as the
workflow's body, run eagerly, runs in one.

A graph runs each node in a task of its own (copying the scheduler's context), so without this a
``V.set(x)`` in one statement would be gone by the next, and ``token = V.set(x)`` ... ``finally:
V.reset(token)`` would raise ``ValueError`` (the token "was created in a different Context"),
which is how request-id and tracing code keeps its state. So every ``python`` node of a query runs
in the query's context (``Context.run``), made when the query starts (a copy of the caller's, as
the body of ``await wf(...)`` sees it), and what the query's code set is set in the caller's
context when it ends (``settle``), as the body run eagerly leaves it.

A ``break`` awaits, in a task of its own running in the query's context (so its tokens are the
query's too), with the runtime's own variables (``ayo_*``: the query it serves, the node its eager
calls are counted for) as the node's task has them. Under trio, whose tasks cannot be given a
context, a break runs in the node's task instead, seeded with every variable the query's code has
set (their values, not their tokens) and copying back what it sets."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Any

from .clock import on_trio

_MISSING = object()


class UserContext:
    """One query's user-code context (see the module docstring)."""

    def __init__(self) -> None:
        self.context = contextvars.copy_context()
        self._start = dict(self.context.items())

    def settle(self) -> None:
        """When the query ends: what its code set (not the runtime's own ``ayo_*``) set in the
        running task's context, the caller's, as the body run eagerly leaves it there."""
        for var, value in self.context.items():
            if self._start.get(var, _MISSING) is not value and not var.name.startswith("ayo_"):
                var.set(value)

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in the query's context (a ``python`` node's code)."""
        return self.context.run(fn, *args)

    async def run_break(self, start: Callable[[], Any]) -> Any:
        """``start()`` (a ``break`` node's code), awaiting what it returns to be awaited, in the
        query's context (see the module docstring). A ``StopIteration`` it raises stays one."""
        if on_trio():
            entered = self.enter()
            try:
                value = start()  # (in this frame: a `StopIteration` it raises stays one)
                return await value if hasattr(value, "__await__") else value
            finally:
                self.leave(entered)
        mirrored = [(v, x) for v, x in contextvars.copy_context().items() if v.name.startswith("ayo_")]

        async def inside() -> Any:
            tokens = [var.set(value) for var, value in mirrored]
            try:
                try:
                    value = start()
                except StopIteration as stop:  # (out of this coroutine it would be a RuntimeError)
                    return _Stopped(stop)
                return await value if hasattr(value, "__await__") else value
            finally:
                for token in reversed(tokens):
                    token.var.reset(token)

        value = await asyncio.create_task(inside(), context=self.context)
        if isinstance(value, _Stopped):
            raise value.stop
        return value

    def enter(self) -> tuple[list[contextvars.Token[Any]], dict[contextvars.ContextVar[Any], Any]]:
        """Before a ``break``: the query's variables set in the running task's context (their
        tokens, to undo that in ``leave``), and that context's variables as they then are."""
        start = self._start
        here = [(var, value) for var, value in self.context.items() if start.get(var, _MISSING) is not value]
        tokens = [var.set(value) for var, value in here]
        return tokens, dict(contextvars.copy_context().items())

    def leave(
        self, entered: tuple[list[contextvars.Token[Any]], dict[contextvars.ContextVar[Any], Any]]
    ) -> None:
        """After a ``break``: what it set copied to the query's context; the running task's
        context as it was before ``enter``."""
        tokens, before = entered
        for var, now in contextvars.copy_context().items():
            if before.get(var, _MISSING) is not now:
                self.context.run(var.set, now)
        for token in reversed(tokens):
            token.var.reset(token)


class _Stopped:
    def __init__(self, stop: StopIteration) -> None:
        self.stop = stop
