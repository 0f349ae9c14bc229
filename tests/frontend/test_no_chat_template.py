"""``ayo.llm(messages=...)`` for an LLM engine with no chat template (a base model given none)
raises ``NoChatTemplate`` (a ``ConfigError``) where the call stands, as eagerly: the call runs as
written (a graph break saying why), so a ``try`` around it catches the error as Python's does. It
was refused when the workflow was traced (the ``try`` never ran). Found by a probe. Eager ≡ traced
≡ optimized, on the scripted engines (which have no chat template)."""

from __future__ import annotations

import pytest

import ayo_trace as ayo
from ayo_trace.frontend.breaks import graph_breaks
from tests.util import run_in_new_loop, scripted_runtime, three_runs_agree


@ayo.workflow
async def caught(q: str, docs: list[str]) -> str:
    try:
        return await ayo.llm(messages=[ayo.system("Be brief."), ayo.user(q)], max_tokens=4)
    except ayo.ConfigError as e:
        plain = await ayo.llm(f"Q: {q}\nA:", max_tokens=4)
        return f"{type(e).__name__}: {plain}"


@ayo.workflow
async def named_engine(q: str, docs: list[str]) -> str:
    try:
        reply = await ayo.llm(messages=[ayo.user(q)], max_tokens=4, engine="llm")
    except ayo.NoChatTemplate:
        reply = "no template"
    return reply + "!"


@ayo.workflow
async def uncaught(q: str, docs: list[str]) -> str:
    return await ayo.llm(messages=[ayo.user(q)], max_tokens=4)


@pytest.mark.parametrize("wf", [caught, named_engine, uncaught], ids=["caught", "named_engine", "uncaught"])
def test_messages_without_a_chat_template_raise_where_the_call_stands(wf: ayo.Workflow) -> None:
    run_in_new_loop(lambda: three_runs_agree(wf, ["what is a heap", "FAIL q"], [[]]))


def test_the_call_runs_as_written_saying_why() -> None:
    async def go() -> list[str]:
        async with scripted_runtime():
            return [str(b.attrs["reason"]) for b in graph_breaks(caught.graph("q", []))]

    (reason,) = run_in_new_loop(go)
    assert "no chat template" in reason, reason


def test_outside_a_runtime_the_trace_still_asks_for_one() -> None:
    with pytest.raises(ayo.TraceError, match="start the runtime first"):
        uncaught.graph("q", [])
