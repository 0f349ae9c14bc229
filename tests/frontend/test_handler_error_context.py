"""An engine's error raised by an await in an ``except`` handler has the error handled as its
``__context__``, as Python's ``except`` gives every error raised in it (``control.run_try``): a
fallback's failure "during handling" of the first (``e2.__context__ is e1``, a helper reporting
"both failed"). The graph raised it with no context (found by probes m36, e63): the handler's own
code ran inside an ``except`` already, a primitive's error did not. Eager ≡ traced ≡ optimized."""

from __future__ import annotations

from pathlib import Path

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.util import fresh_copies_agree

from .programs import load

SHAPES = {
    "nested_identity": """
    r = None
    try:
        await ayo.llm(q, max_tokens=3)
    except ayo.EngineError as e1:
        try:
            await ayo.llm(q + " again", max_tokens=3)
        except ayo.EngineError as e2:
            r = e2.__context__ is e1
    return r
""",
    "outer_catches": """
    r = None
    try:
        try:
            await ayo.llm(q, max_tokens=3)
        except ayo.EngineError:
            await ayo.llm(q + " again", max_tokens=3)
    except ayo.EngineError as e2:
        r = type(e2.__context__).__name__
    return r
""",
    "helper_reports": """
    r = None
    try:
        r = await ayo.llm(f"Answer: {q}", max_tokens=3)
    except ayo.EngineError:
        r = await second_opinion(q)
    return r
""",
    "user_error_after": """
    r = None
    try:
        try:
            await ayo.llm(q, max_tokens=3)
        except ayo.EngineError:
            raise ValueError("fallback refused")
    except ValueError as e:
        r = (str(e), type(e.__context__).__name__)
    return r
""",
}
HEAD = """import ayo_trace as ayo


async def second_opinion(q):
    try:
        return await ayo.llm(f"Second opinion on {q}", max_tokens=3)
    except ayo.EngineError as e:
        return "both failed" if e.__context__ is not None else "second failed only"
"""
QUESTIONS = ["what is a heap", "explain FAIL here", "sort lists"]


@pytest.mark.parametrize("name", list(SHAPES))
def test_an_error_raised_in_a_handler_has_the_handled_one_as_context(name: str, tmp_path: Path) -> None:
    source = f"{HEAD}\n\n@ayo.workflow\nasync def wf(q, docs):{SHAPES[name]}"
    (tmp_path / "graph").mkdir()
    assert graph_breaks(load(source, tmp_path / "graph").wf.graph("q", [])) == []
    fresh_copies_agree(source, tmp_path, QUESTIONS)
