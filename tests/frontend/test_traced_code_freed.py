"""Tracing keeps nothing of the user's alive: once a module is gone (a notebook's cell run again, a
server loading workflows anew), its functions, classes, workflows and their traces are freed. The
tracer's analyses of the user's code are cached weakly (``user_code.weak_cache``); before, its
``functools`` caches kept every traced function and, through its globals, its whole module."""

from __future__ import annotations

import gc
import sys
import weakref
from pathlib import Path
from typing import Any

import pytest

from ayo_trace.frontend.user_code import weak_cache
from tests.frontend.programs import load
from tests.util import outcome, run_in_new_loop, scripted_runtime

_SOURCES = {
    "plain": """
import ayo_trace as ayo

@ayo.workflow
async def wf(q, docs):
    a = await ayo.llm(f"one {q}")
    return a
""",
    "helper_and_class": """
import ayo_trace as ayo

LOG = []

class Notes:
    def __init__(self):
        self.items = []

    def add(self, x):
        self.items.append(x)
        LOG.append(x)
        return self

    def __str__(self):
        return ", ".join(self.items)

def keep(x):
    LOG.append(x)
    return x

async def ask(n, q):
    r = await ayo.llm(f"{q} in {n}")
    return keep(r)

@ayo.workflow
async def wf(q, docs):
    notes = Notes().add(q)
    parts = [await ask(n, q) for n in ("a", "b")]
    return f"{notes}: {parts}"
""",
}


@pytest.mark.parametrize("kind", sorted(_SOURCES))
def test_a_traced_module_dropped_is_freed(kind: str, tmp_path: Path) -> None:
    import ayo_trace as ayo

    module = load(_SOURCES[kind], tmp_path)
    wf = module.wf
    unoptimized = ayo.workflow(wf.fn, passes=[])

    async def go(*runs: Any) -> list[Any]:
        async with scripted_runtime():
            return [await outcome(run, "q", []) for run in runs]

    answers = run_in_new_loop(go, wf.eager, unoptimized, wf)
    assert answers[0] == answers[1] == answers[2] and not isinstance(answers[0], tuple), answers
    gone = [weakref.ref(x) for x in (module, wf, wf.fn, unoptimized)]
    del sys.modules[module.__name__]
    del module, wf, unoptimized
    gc.collect()
    assert [ref() for ref in gone] == [None] * len(gone)


def test_a_weak_cache_answers_once_per_argument_and_forgets_with_it() -> None:
    calls: list[tuple[str, int]] = []

    @weak_cache
    def size(fn: Any, extra: int = 0) -> int:
        calls.append((fn.__name__, extra))
        return len(fn.__name__) + extra

    def f() -> None:
        pass

    assert [size(f), size(f), size(f, 2), size(f, 2), size(f, extra=1)] == [1, 1, 3, 3, 2]
    assert calls == [("f", 0), ("f", 2), ("f", 1)]
    ref = weakref.ref(f)
    del f
    gc.collect()
    assert ref() is None

    class Slotted:  # (no weak reference: answered, uncached)
        __slots__ = ("__name__",)

        def __init__(self) -> None:
            self.__name__ = "slot"

    s = Slotted()
    assert size(s) == size(s) == 4 and calls[-2:] == [("slot", 0), ("slot", 0)]
