"""Tracing reads the user's functions for calls of primitives, never the standard library's or
ayo-trace's own (``user_code.runtime_code``): deciding whether ``await asyncio.wait(tasks)`` or
``await ayo.llm(...)`` was a helper of the user's parsed ``asyncio.wait``'s source, the
primitive's own body and the runtime methods it calls, anew on every trace (most of the time of a
trace using tasks). A helper of the user's is still read and inlined."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.frontend import user_code
from ayo_trace.frontend.breaks import graph_breaks
from ayo_trace.frontend.source import FunctionSource
from tests.util import run_in_new_loop, three_runs_agree

from .programs import load

SOURCE = """
import asyncio

import ayo_trace as ayo


async def ask(p):
    return await ayo.llm(p, max_tokens=3)


@ayo.workflow
async def program(q, docs):
    tasks = [asyncio.create_task(ask(f"T {d}")) for d in docs]
    done, _ = await asyncio.wait(tasks)
    first = await ayo.llm(f"Q {q}", max_tokens=2)
    return first, sorted(t.result() for t in done), [t.result() for t in tasks]
"""


def test_only_the_users_functions_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = load(SOURCE, tmp_path)
    read: list[str] = []
    parse = FunctionSource.parse.__func__  # type: ignore[attr-defined]

    def recording(cls: Any, fn: Any) -> FunctionSource:
        read.append(f"{fn.__module__}.{fn.__qualname__}")
        return parse(cls, fn)  # type: ignore[no-any-return]

    monkeypatch.setattr(FunctionSource, "parse", classmethod(recording))
    graph = module.program.graph("q", ["a", "b"])
    assert {r.rsplit(".", 1)[1] for r in read} == {"program", "ask"}, read
    assert graph_breaks(graph) == []
    run_in_new_loop(lambda: three_runs_agree(module.program, ["what", "FAIL q"], [["a", "FAIL b"], ["a"]]))


@pytest.mark.parametrize(
    ("fn", "runtime"),
    [
        (asyncio.wait, True),
        (asyncio.sleep, True),
        (json.loads, True),
        (ayo.llm, True),
        (ayo.Runtime.start, True),
        (pytest.main, False),  # (an installed package's: it may be built on ayo-trace)
        (three_runs_agree, False),
        (test_only_the_users_functions_are_read, False),
    ],
)
def test_runtime_code_is_the_standard_librarys_and_ayos_own(fn: Any, runtime: bool) -> None:
    assert user_code.runtime_code(fn) is runtime
