"""An object keeps its class through a statement that changes it only in place.

The workflow's object of a plain class (``agent = Agent("bot")``, ``Traced.cls``) has its methods
inlined as helpers, and its constant fields (``Traced.fields``, ``made_fields``) read at trace time.
A statement changing it in place (``agent.memory.add(t)`` in an ``if``, a ``try``, a ``match``)
rebinds its name to the statement's node, which knows no class: a later ``await agent.think(q)``
was then a graph break. What a statement does not bind still names the same object after it, of
the same class, with the same constant fields (nothing sets one again), so ``kept_through`` gives
them back. (Loops give them to their bodies' inputs too: ``control_flow``.)
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING

import libcst as cst

from .values import Traced

if TYPE_CHECKING:
    from .builder import Builder


@contextlib.contextmanager
def kept_through(comp: Builder, stmt: cst.BaseStatement) -> Iterator[None]:
    """Around the compiling of ``stmt``: each name holding an object of a plain class before it,
    that ``stmt`` does not bind, holds it after it with its class and fields."""
    kept = {n: v for n, v in comp.env.items() if isinstance(v, Traced) and v.cls}
    if not kept:
        yield  # (nothing to keep: the common case, and no `assigned_names` walk)
        return
    bound = set(comp.src.assigned_names(stmt))
    yield
    for n, v in kept.items():
        now = comp.env.get(n)
        if n not in bound and isinstance(now, Traced) and now is not v and now.cls is None:
            comp.env[n] = dataclasses.replace(now, cls=v.cls, fields=v.fields)
