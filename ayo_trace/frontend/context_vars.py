"""A call Python runs as a task sets context variables in a copy of the context of its own.

``asyncio.create_task(f())``, ``asyncio.gather(f(), g())`` (each call it wraps), a task group's
``create_task``: each runs its coroutine in a copy of the context the task is made in, so a
``REQ.set(name)`` inside it is seen by that call alone (not by the workflow after it, not by the
calls beside it), and a token it makes resets only there. The graph inlines a traced call's helper
into the query's one context (``backend/user_context``), where such a set would leak out; so a
call run at once that sets (or resets) a ``ContextVar`` runs as written, as Python's task: the
gather or task group a graph break (``interleaving.conflict``), a task made one statement at a
time Python's task (``task_uses.made_as_written``). A call awaited directly runs in the caller's
context in both, and is traced as any other.
"""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING, Any

from .sites import Touch

if TYPE_CHECKING:
    from .builder import Builder


def is_context_var(comp: Builder, key: str, scopes: list[dict[str, Any]] | None = None) -> bool:
    """Whether ``key``'s root names a module-level ``ContextVar`` (of the workflow's module, or of
    one of ``scopes``)."""
    root = key.split(".")[0].split("[")[0]
    return any(
        isinstance(scope.get(root), contextvars.ContextVar)
        for scope in [comp.src.fn.__globals__, *(scopes or [])]
    )


def set_in_task(comp: Builder, calls: list[Any], found: list[tuple[str, list[Touch]]]) -> str | None:
    """Why calls run as tasks (``calls``: the calls, ``found``: each one's callee text and
    touches) must run as written: one sets a context variable (``V.set(x)``, ``V.reset(token)``);
    None when none does."""
    scopes = [_globals(comp.exprs.callee(c)) for c in calls]
    for name, touches in found:
        for x in touches:
            if x.changes and "." not in x.key and is_context_var(comp, x.key, scopes):
                return (
                    f"`{name}(...)` sets the context variable `{x.key}` (line {x.line}); Python runs a "
                    "call it starts as a task in a copy of the context, so what the call sets stays its "
                    "own, and it runs as written"
                )
    return None


def _globals(fn: Any) -> dict[str, Any]:
    fn = getattr(fn, "__func__", fn)
    fn = getattr(fn, "fn", fn)  # (a nested workflow)
    return getattr(fn, "__globals__", {})
