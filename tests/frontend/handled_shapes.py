"""Handlers that read the error they handle the way Python keeps it during ``except`` (not through
``as e``): ``sys.exc_info()``, ``traceback.format_exc()``, a bare ``raise`` in a function the
handler calls, the ``__context__`` of an error raised in the handler; for
``test_handled_error.py``. Each must agree with eager."""

from __future__ import annotations

import sys
import traceback

import ayo_trace as ayo


def _rethrow_unless_engine() -> str:
    if not isinstance(sys.exc_info()[1], ayo.EngineError):
        raise  # (the error being handled, as a helper of a handler may re-raise it)
    return "engine"


def _rethrow() -> None:
    raise


@ayo.workflow
async def exc_info_in_a_handler(q: str, docs: list[str]) -> str:
    try:
        r = await ayo.llm(f"Q: {q}", max_tokens=3)
    except ayo.EngineError:
        kind, err, _ = sys.exc_info()
        r = f"{kind.__name__ if kind else None}: {type(err).__name__}"
    return r


@ayo.workflow
async def format_exc_in_a_handler(q: str, docs: list[str]) -> str:
    try:
        r = await ayo.llm(f"Q: {q}", max_tokens=3)
    except ayo.EngineError:
        r = traceback.format_exc().strip().splitlines()[-1].split(":")[0]
    return r


@ayo.workflow
async def helper_of_a_handler_decides(q: str, docs: list[str]) -> str:
    try:
        r = await ayo.llm(f"Q: {q}", max_tokens=3)
    except Exception:
        r = _rethrow_unless_engine()
    return r


@ayo.workflow
async def helper_of_a_handler_reraises(q: str, docs: list[str]) -> str:
    try:
        r = await ayo.llm(f"Q: {q}", max_tokens=3)
    except ayo.EngineError:
        _rethrow()
        r = "unreached"
    return r


@ayo.workflow
async def context_of_an_error_raised_in_a_handler(q: str, docs: list[str]) -> str:
    try:
        try:
            r = await ayo.llm(f"Q: {q}", max_tokens=3)
        except ayo.EngineError:
            raise KeyError("again") from None if "plain" in q else KeyError("again")
    except KeyError as e:
        r = f"{type(e.__context__).__name__} {e.__suppress_context__}"
    return r


@ayo.workflow
async def handled_in_a_loop(q: str, docs: list[str]) -> list[str]:
    out = []
    for d in docs:
        try:
            out.append(await ayo.llm(f"Sum: {d}", max_tokens=3))
        except ayo.EngineError:
            out.append(type(sys.exc_info()[1]).__name__)
    return out


@ayo.workflow
async def stop_iteration_caught(q: str, docs: list[str]) -> str:
    words = (await ayo.llm(q, max_tokens=4)).split()
    try:
        best = next(w for w in words if w.isdigit())
    except StopIteration:
        return "no number"
    return best


SHAPES = [
    exc_info_in_a_handler,
    format_exc_in_a_handler,
    helper_of_a_handler_decides,
    helper_of_a_handler_reraises,
    context_of_an_error_raised_in_a_handler,
    handled_in_a_loop,
    stop_iteration_caught,
]
