"""Errors of our own, never shared and never changed in place (issue 16's error defects)."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Sequence
from typing import Any

import anyio
import pytest

import ayo_trace as ayo
from ayo_trace.backend import Runtime
from ayo_trace.backend.config import BatchPolicy
from ayo_trace.backend.engine_scheduler import EngineScheduler, copy_error
from ayo_trace.backend.graph_scheduler import run_query
from ayo_trace.errors import NodeError, PassError, QueryTimeout, TraceError, UserCodeError
from ayo_trace.testing import ScriptedEmbedder

pytestmark = pytest.mark.anyio

ERRORS = [
    NodeError("boom", node="n", loc="wf.py:3"),
    QueryTimeout("deadline", node="n"),
    QueryTimeout("deadline", node=None),
    UserCodeError("ValueError: x", node="n"),
    PassError("bad graph", pass_name="lower"),
    TraceError("cannot trace", loc="wf.py:1", construct="while"),
    ayo.EngineError("down", engine="llm"),
    ayo.InvalidParams("bad", param="temperature"),
    ayo.Overloaded("full", engine="llm"),
    ayo.UnknownCollection("kbb", engine="store"),
]


@pytest.mark.parametrize("err", ERRORS, ids=lambda e: type(e).__name__)
def test_every_error_copies_and_pickles_as_an_equal_separate_error(err: ayo.AyoError) -> None:
    for twin in (copy.copy(err), pickle.loads(pickle.dumps(err))):
        assert twin is not err and type(twin) is type(err)
        assert str(twin) == str(err) and twin.__dict__ == err.__dict__


class _Raising(ScriptedEmbedder):
    """Raises ``error`` (the same instance every time) for any batch."""

    def __init__(self, error: Exception) -> None:
        super().__init__("embed")
        self.error = error

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        raise self.error


async def _embed_all(sched: EngineScheduler, n: int) -> list[BaseException]:
    errors: list[BaseException] = []

    async def one(i: int) -> None:
        try:
            await sched.embed([f"t{i}"])
        except ayo.AyoError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(one, i)
    return errors


async def test_waiters_of_a_failed_batch_each_get_their_own_error() -> None:
    # an error with a required keyword-only argument: copy.copy used to fail, and every waiter then
    # raised the one shared instance (annotating it for one query annotated it for all)
    shared = UserCodeError("engine-side user code failed", node="inner")
    sched = EngineScheduler(_Raising(shared), BatchPolicy(max_batch=8, max_wait_s=0.05))
    errors = await _embed_all(sched, 4)
    assert len(errors) == 4
    assert len({id(e) for e in errors}) == 4 and all(e is not shared for e in errors)
    assert all(type(e) is UserCodeError and str(e) == str(shared) for e in errors)


async def test_an_engine_error_is_not_changed_in_place() -> None:
    shared = ayo.EngineError("the engine's own error")  # names no engine
    sched = EngineScheduler(_Raising(shared), BatchPolicy(max_batch=1, max_wait_s=0.0))
    errors = await _embed_all(sched, 1)
    assert shared.engine is None  # the caught instance is untouched
    assert errors[0].engine == "embed"  # type: ignore[attr-defined]


def test_copy_error_never_returns_the_same_instance() -> None:
    class Stubborn(Exception):
        def __init__(self, a: int, *, b: int) -> None:
            super().__init__(a)

        def __reduce__(self) -> Any:
            raise TypeError("cannot copy")

    err = Stubborn(1, b=2)
    twin = copy_error(err)
    assert twin is not err and twin.__cause__ is err


async def test_a_deadline_with_no_node_running_never_prints_a_placeholder_node() -> None:
    g = ayo.Graph("idle")
    x = g.add("input", attrs={"name": "x"}, name="x")
    g.add("output", [x])
    async with Runtime(engines=[ScriptedEmbedder("embed")]) as rt:
        with pytest.raises(QueryTimeout) as info:
            await run_query(rt.client, g, {"x": 1}, "q1", deadline_s=0.0)
    assert "%?" not in str(info.value) and "no node was running" in str(info.value)
    assert info.value.node is None
