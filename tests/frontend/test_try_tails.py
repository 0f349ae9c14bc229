"""A ``try`` whose handlers catch ayo's errors only, with statements after its body's last await
that raise none (``frontend/try_tails.py``): a retry loop recording its attempt after the call and
returning (or breaking) on a good answer was refused ("a name its body binds before the await that
may fail is read after it"), though only the await can fail as the handlers catch. It traces
whole now and agrees with eager. Tails that may raise an ayo error (a ``raise``, a function of the
user's, a method of an object of the user's) or handlers catching more keep the old rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ayo_trace.errors import TraceError
from ayo_trace.frontend.breaks import graph_breaks
from tests.util import every_pair, fresh_copies_agree

from .programs import load

TAILS = {  # the statements after the call, in the `try`
    "append": ["attempts.append(seed)"],
    "rebind": ["status = 'got ' + r.strip()[:8]", "attempts.append(len(status))"],
    "counted": ["attempts.append(sum(c.isdigit() for c in r))", "best = max(attempts)"],
}
EXITS = {  # how a good answer leaves the loop
    "return": ["if len(r) > 5 and seed >= 1:", "    return r, attempts, status"],
    "break": ["if len(r) > 5 and seed >= 1:", "    break"],
}
HANDLERS = {
    "engine": "except ayo.EngineError:",
    "several": "except (ayo.EngineError, ayo.Overloaded):",
}
CASES = every_pair(TAILS, EXITS, HANDLERS)


def _source(tail: str, leave: str, handler: str) -> str:
    lines = [
        "attempts = []",
        "status = 'none'",
        "best = 0",
        "for seed in range(3):",
        "    try:",
        "        r = await ayo.llm(f'{q} {seed}', max_tokens=3)",
        *(f"        {s}" for s in TAILS[tail]),
        *(f"        {s}" for s in EXITS[leave]),
        f"    {HANDLERS[handler]}",
        "        attempts.append(-seed)",
        "        status = status + ' failed'",
        "return None, attempts, status, best",
    ]
    body = "".join(f"    {s}\n" for s in lines)
    return f"import ayo_trace as ayo\n\n\n@ayo.workflow\nasync def wf(q, docs):\n{body}"


QUESTIONS = ["what is a heap", "explain FAIL here", "sort lists"]


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_tail_raising_no_ayo_error_traces_whole(case: tuple[str, ...], tmp_path: Path) -> None:
    source = _source(*case)
    (tmp_path / "graph").mkdir()
    assert graph_breaks(load(source, tmp_path / "graph").wf.graph("q", [])) == [], source
    fresh_copies_agree(source, tmp_path, QUESTIONS)


KEPT = {  # tails that may raise an ayo error, or a handler catching more: the old rule holds
    "user_function": ["check(r)"],
    "raises": ["if 'is' in q:", "    raise ayo.EngineError('no')"],
    "users_method": ["box.append(seed)"],
}
HEAD = """import ayo_trace as ayo


def check(r):
    if len(r) < 100:
        raise ayo.EngineError("short")


class Box:
    def append(self, x):
        raise ayo.EngineError("full")
"""


@pytest.mark.parametrize("name", [*KEPT, "catches_everything"])
def test_a_tail_that_may_raise_keeps_the_rule(name: str, tmp_path: Path) -> None:
    tail = KEPT.get(name, [])
    handler = "except Exception:" if name == "catches_everything" else "except ayo.EngineError:"
    lines = [
        "attempts = []",
        "status = 'none'",
        "box = Box()",
        "for seed in range(3):",
        "    try:",
        "        r = await ayo.llm(f'{q} {seed}', max_tokens=3)",
        "        status = 'got'",
        *(f"        {s}" for s in tail),
        "        if seed == 1:",
        "            return r, status",
        f"    {handler}",
        "        attempts.append(status)",
        "return None, attempts",
    ]
    source = HEAD + "\n\n@ayo.workflow\nasync def wf(q, docs):\n" + "".join(f"    {s}\n" for s in lines)
    (tmp_path / "graph").mkdir()
    wf: Any = load(source, tmp_path / "graph").wf
    with pytest.raises(TraceError, match="cannot be traced"):
        wf.graph("q", [])
