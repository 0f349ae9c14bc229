"""What cannot be traced raises TraceError naming the construct, the user's file:line and the way out."""

from __future__ import annotations

import inspect

import pytest

import ayo_trace as ayo

from . import bad_shapes as b


def line_of(text: str) -> int:
    lines = inspect.getsource(b).splitlines()
    for i, line in enumerate(lines, start=1):
        if text in line:
            return i
    raise AssertionError(f"{text!r} not in bad_shapes.py")


CASES = [
    (lambda: b.assigns_global.graph("q"), "global COUNTER", "return the value"),
    (
        lambda: b.traced_max_tokens.graph("q", [1]),
        "max_tokens=len(budget)",
        "give `max_tokens=` a constant or a workflow parameter as it is",
    ),
    (
        lambda: b.endless_recursion.graph("q", "abc"),
        "return await endless_recursion(question, depth[1:])",
        "more than 24 calls deep",
    ),
    (
        lambda: b.maybe_unbound.graph("q", "yes"),
        "return await ayo.llm(extra)",
        "may delete it (Python deletes `extra` after its `except ... as extra` handler)",
    ),
    (lambda: b.bad_parser.graph("q"), 'parse="lines"', "a pydantic model class"),
]


@pytest.mark.parametrize(("make", "line_text", "hint"), CASES, ids=[c[1][:30] for c in CASES])
def test_trace_error_names_file_line_and_fix(make, line_text: str, hint: str) -> None:
    with pytest.raises(ayo.TraceError) as info:
        make()
    message = str(info.value)
    assert f"bad_shapes.py:{line_of(line_text)}" in message
    assert hint in message


def test_plain_def_is_refused_at_decoration() -> None:
    def not_async(q: str) -> str:
        return q

    with pytest.raises(ayo.TraceError, match="async def"):
        ayo.workflow(not_async)


def test_unhashable_static_argument_is_a_clear_error() -> None:
    @ayo.workflow(static=("options",))
    async def wf(q: str, options: list[str]) -> str:
        return await ayo.llm(q)

    with pytest.raises(ayo.TraceError, match="must be hashable"):
        wf.graph("q", ["a"])
