"""A reproducible order for the tasks trio runs at one instant.

trio runs each batch of ready tasks in an order it draws at random (so that no program depends on
one order). Under a virtual clock many tasks are ready at the same instant, and the order decides
which requests reach an engine scheduler before it forms a batch: the same simulation can then
predict slightly different latencies from run to run. ``seeded_trio(seed)`` makes trio sort each
batch by task creation and shuffle it with a generator seeded by ``seed``, for the run inside it:
the same program and seed give the same schedule. It does so the way trio's own Hypothesis plugin
does, through two private names of ``trio._core._run``; where a trio version lacks them, the order
stays trio's random one (the simulation is still valid, only not repeatable).

The setting is process-wide while it lasts: a trio run in another thread at the same time gets the
sorted, seeded order too (an order trio may choose anyway).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_LOCK = threading.Lock()  # one seeded run at a time: the generator and the switch are global


@contextmanager
def seeded_trio(seed: int | None) -> Iterator[bool]:
    """Seed trio's task order for the run inside (``None``: leave it random). Yields whether the
    order is seeded."""
    if seed is None:
        yield False
        return
    try:
        from trio._core import _run
    except ImportError:  # pragma: no cover - trio's layout changed
        yield False
        return
    trio_run: Any = _run  # private names, set as trio's Hypothesis plugin sets them
    rng = getattr(trio_run, "_r", None)
    if not isinstance(rng, random.Random) or not hasattr(trio_run, "_ALLOW_DETERMINISTIC_SCHEDULING"):
        yield False  # pragma: no cover - trio's internals changed
        return
    with _LOCK:
        state, allowed = rng.getstate(), trio_run._ALLOW_DETERMINISTIC_SCHEDULING
        rng.seed(seed)
        trio_run._ALLOW_DETERMINISTIC_SCHEDULING = True
        try:
            yield True
        finally:
            trio_run._ALLOW_DETERMINISTIC_SCHEDULING = allowed
            rng.setstate(state)


__all__ = ["seeded_trio"]
