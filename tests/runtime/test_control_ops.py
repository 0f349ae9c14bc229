"""The ``loop`` and ``try`` ops at run time, on both runners (the graph scheduler and the in-order
interpreter): the iteration guard, exception matching, cancellation and LLM sessions in bodies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.backend import Runtime
from ayo_trace.backend.control import user_exception
from ayo_trace.backend.interpreter import interpret
from ayo_trace.errors import EngineError, NodeError, QueryTimeout, UserCodeError
from ayo_trace.frontend import control_flow
from ayo_trace.passes import DEFAULT_PASSES, run_passes

from .conftest import Engines

pytestmark = pytest.mark.anyio


class Missing(Exception):
    pass


def line_of(text: str) -> str:
    """``file:line`` of the first line of this file holding ``text``."""
    lines = Path(__file__).read_text().splitlines()
    return f"{Path(__file__).name}:{next(i + 1 for i, line in enumerate(lines) if text in line)}"


@ayo.workflow
async def count_until_long(seed: str) -> str:
    text = seed
    while len(text) < 200:
        text += await ayo.llm(f"More about {text[-12:]}", max_tokens=4)
    return text


@ayo.workflow
async def never_ends(seed: str) -> int:
    rounds = 0
    while True:
        await ayo.llm(f"Round {rounds}: {seed}", max_tokens=2)
        rounds += 1
    return rounds


@ayo.workflow
async def three_rounds(seed: str) -> list[str]:
    out = []
    for i in range(3):
        out.append(await ayo.llm(f"Round {i}: {seed}", max_tokens=2))
    return out


@ayo.workflow
async def guarded(question: str) -> str:
    try:
        answer = await ayo.llm(question, max_tokens=4)
    except Missing:
        answer = "missing"
    return answer


HANDLED: list[str] = []


@ayo.workflow
async def catch_all(question: str) -> str:
    try:
        answer = await ayo.llm(question, max_tokens=8)
    except:  # noqa: E722 - on purpose: even a bare except does not swallow cancellation
        HANDLED.append(question)
        answer = "caught"
    return answer


@ayo.workflow
async def audited(question: str) -> str:
    try:
        answer = await ayo.llm(question, max_tokens=4)
    except Missing:
        answer = "missing"
    finally:
        await ayo.ingest(["audit row"], collection="audit")
    return answer


def _runners(graph: Any, rt: Runtime) -> list[Any]:
    return [
        lambda inputs: rt.run(graph, inputs),
        lambda inputs: rt.run(run_passes(graph, DEFAULT_PASSES), inputs),
        lambda inputs: interpret(rt, graph, inputs),
    ]


async def test_a_while_loop_past_its_limit_fails_naming_node_and_line(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(control_flow, "MAX_ITERATIONS", 5)
    graph = never_ends.graph("s")
    loop = next(n for n in graph.nodes if n.op == "loop")
    assert loop.attrs["max_iterations"] == 5
    for run in _runners(graph, rt):
        with pytest.raises(NodeError) as info:
            await run({"seed": "s"})
        assert info.value.node == "loop"
        assert line_of("while True:") in str(info.value) and "max_iterations=5" in str(info.value)


async def test_a_while_loop_within_its_limit_runs_to_its_end(rt: Runtime) -> None:
    graph = count_until_long.graph("s")
    expected = await count_until_long.eager("s")
    for run in _runners(graph, rt):
        assert await run({"seed": "s"}) == expected


async def test_each_iteration_gets_llm_sessions_of_its_own_and_releases_them(
    rt: Runtime, engines: Engines
) -> None:
    graph = three_rounds.graph("s")
    assert await rt.run(graph, {"seed": "s"}) == await three_rounds.eager("s")
    assert engines.llm.sessions == {}  # (the fixture checks again when the runtime closes)


async def test_a_deadline_inside_a_loop_body_names_the_inner_node(engines: Engines) -> None:
    engines.llm.decode_s_per_step = 0.05
    async with Runtime(engines=engines.all(), batching=False) as rt:
        with pytest.raises(QueryTimeout) as info:
            await rt.run(three_rounds.graph("s"), {"seed": "s"}, deadline_s=0.12)
        assert engines.llm.sessions == {}
    assert info.value.node != "loop" and info.value.node is not None
    assert line_of("out.append(await ayo.llm") in str(info.value)


async def test_an_error_no_handler_matches_propagates_with_its_node(engines: Engines) -> None:
    engines.llm.fail = lambda prompt: "boom" in prompt
    async with Runtime(engines=engines.all(), batching=False, retries=0) as rt:
        graph = guarded.graph("boom")
        for i, run in enumerate(_runners(graph, rt)):
            with pytest.raises(EngineError) as info:
                await run({"question": "boom"})
            if i < 2:  # the graph scheduler names the node (the lowered graph: its prefill)
                assert info.value.node in ("answer", "answer_prefill")


async def test_finally_runs_when_the_error_propagates(engines: Engines) -> None:
    engines.llm.fail = lambda prompt: "boom" in prompt
    async with Runtime(engines=engines.all(), batching=False, retries=0) as rt:
        with pytest.raises(EngineError):
            await rt.run(audited.graph("boom"), {"question": "boom"})
    assert [r.text for r in engines.store.collections["audit"]] == ["audit row"]


async def test_even_a_bare_except_does_not_swallow_cancellation(engines: Engines) -> None:
    engines.llm.decode_s_per_step = 0.05
    HANDLED.clear()
    async with Runtime(engines=engines.all(), batching=False) as rt:
        graph = catch_all.graph("q")
        for g in (graph, run_passes(graph, DEFAULT_PASSES)):
            with pytest.raises(QueryTimeout):
                await rt.run(g, {"question": "q"}, deadline_s=0.1)
    assert HANDLED == []


def test_handlers_see_the_exception_the_user_code_raised() -> None:
    original = ValueError("bad")
    wrapped = UserCodeError("ValueError: bad", node="v")
    wrapped.__cause__ = original
    assert user_exception(wrapped) is original
    engine = EngineError("engine 'llm': down")
    relabelled = EngineError("node %answer: engine 'llm': down")
    relabelled.node = "answer"
    relabelled.__cause__ = engine
    assert user_exception(relabelled) is engine
    plain = NodeError("missing input", node="x")
    assert user_exception(plain) is plain
