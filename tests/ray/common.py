"""Helpers of the Ray tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import anyio

import ayo_trace as ayo


@contextlib.contextmanager
def default_runtime(rt: ayo.Runtime) -> Iterator[ayo.Runtime]:
    """``rt`` as the process default runtime (what a workflow call runs on) for the block."""
    previous = ayo.Runtime.set_default(rt)
    try:
        yield rt
    finally:
        ayo.Runtime.set_default(previous)


async def run_all(workflow: Any, inputs: list[dict[str, Any]]) -> list[Any]:
    """Every query at once; each result, or the exception it raised, in input order."""
    results: list[Any] = [None] * len(inputs)

    async def one(i: int) -> None:
        try:
            results[i] = await workflow(**inputs[i])
        except ayo.AyoError as exc:
            results[i] = exc

    async with anyio.create_task_group() as tg:
        for i in range(len(inputs)):
            tg.start_soon(one, i)
    return results


async def reference(workflow: Any, inputs: list[dict[str, Any]], prepare: Any = None) -> list[Any]:
    """The results of an in-process runtime on the same scripted configs, one query at a time,
    batching off: the oracle."""
    from .scripted import configs

    async with ayo.Runtime(engines=configs(), batching=False) as rt:
        with default_runtime(rt):
            if prepare is not None:
                await prepare()
            return [await workflow(**x) for x in inputs]
