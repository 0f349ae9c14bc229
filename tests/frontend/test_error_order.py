"""When several nodes of a query fail, the query's error is the one eager code raises: that of the
first statement, in program order, that fails (eager code never runs the statements after it).
The graph runs independent statements at once, so a later statement could fail first in time: a
``try`` then chose its handler by the wrong error (a wrong answer), and a query raised an error
eager code never reaches. Now a failure waits for the nodes before it (in the graph's order, which
is the program's) and the first failed one's error is raised; a ``map`` raises its first failed
item's. Failures are made to arrive out of order here: the engine's failure is slow (its prompt
is long), the plain check that raises after it is instant."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ayo_trace as ayo
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedStore
from tests.util import outcome as outcome_on  # (on the runtime that is running)

pytestmark = pytest.mark.anyio

SLOW_FAIL = "FAIL " + "pad " * 40  # an engine failure that takes the prefill of 40 tokens


def check(text: str) -> None:
    if "bad" in text:
        raise ValueError(f"invalid: {text[:20]}")


async def process(d: str) -> str:
    reply = await ayo.llm(d, max_tokens=2)
    check(d)
    return reply


@ayo.workflow
async def engine_then_check(q: str) -> str:
    a = await ayo.llm(q, max_tokens=2)
    check(q)
    return a


async def answer(q: str) -> str:
    draft = await ayo.llm(q, max_tokens=2)
    check(q)
    return await ayo.llm(q + draft, max_tokens=2)


async def handled(step: Any, q: str) -> str:
    try:
        r = await step(q)
    except ValueError:
        r = "invalid"
    except ayo.EngineError:
        r = "engine"
    return r


@ayo.workflow
async def handler_by_the_first_error(q: str) -> str:
    return await handled(answer, q)


@ayo.workflow
async def first_failed_item(q: str) -> list[str]:
    docs = ["ok", q, "bad short"]
    return [await process(d) for d in docs]


@ayo.workflow
async def first_failed_item_of_a_loop(q: str) -> list[str]:
    out = []
    for d in ["ok", q, "bad short"]:
        out.append(await process(d))
    return out


def number(text: str) -> int:
    return int(text.split()[-1]) if "bad" in text else 0  # (ValueError: "bad" is no number)


async def parse(d: str) -> str:
    reply = await ayo.llm(d, max_tokens=2)
    n = number(d)  # a plain assignment, not an effect: it runs as soon as `d` is known
    return f"{reply} {n}"


@ayo.workflow
async def handler_by_the_first_error_of_a_value(q: str) -> str:
    return await handled(parse, q)


@ayo.workflow
async def first_failed_parse(q: str) -> list[str]:
    return [await parse(d) for d in ["ok", q, "bad"]]


@ayo.workflow
async def two_branches(q: str) -> str:
    a = await ayo.llm(q, max_tokens=2)
    b = await ayo.llm("bad " + q, max_tokens=2)
    check("bad" if "bad" in q else "fine")
    return a + b


WORKFLOWS = [
    engine_then_check,
    handler_by_the_first_error,
    first_failed_item,
    first_failed_item_of_a_loop,
    handler_by_the_first_error_of_a_value,
    first_failed_parse,
    two_branches,
]
QUESTIONS = [SLOW_FAIL + " bad", SLOW_FAIL, "fine bad " + "pad " * 40, "fine"]


async def outcome(run: Any, q: str) -> Any:
    llm = ScriptedLLM("llm", fail=lambda p: "FAIL" in p, prefill_s_per_token=0.002, decode_s_per_step=0.001)
    async with ayo.Runtime(
        [llm, ScriptedEmbedder("embed"), ScriptedStore("store")], batching=False, retries=0
    ):
        return await outcome_on(run, q)


@pytest.mark.parametrize("wf", WORKFLOWS, ids=[wf.fn.__name__ for wf in WORKFLOWS])
@pytest.mark.parametrize("q", QUESTIONS, ids=["slow-engine-and-check", "slow-engine", "check", "none"])
async def test_the_first_failure_in_program_order_is_the_querys(wf: Any, q: str) -> None:
    eager = await outcome(wf.eager, q)
    assert await outcome(ayo.workflow(wf.fn, passes=[]), q) == eager
    assert await outcome(wf, q) == eager


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(["ok", "bad", SLOW_FAIL, "bad " + "pad " * 30]), min_size=1, max_size=4))
def test_the_first_failed_item_is_the_maps(docs: list[str]) -> None:
    @ayo.workflow
    async def items(prefix: str) -> list[str]:
        return [await parse(prefix + d) for d in docs]

    async def both() -> tuple[Any, Any]:
        return await outcome(items.eager, ""), await outcome(items, "")

    eager, optimized = asyncio.run(both())
    assert optimized == eager


@ayo.workflow
async def streamed_items(q: str) -> list[str]:
    items = await ayo.llm(q, parse=ayo.lines, max_tokens=400)
    return [await parse(x) for x in items]


async def test_a_failed_stream_consumer_lets_its_producer_finish() -> None:
    # the map takes the decode's lines as they come and fails at the first; the decode (before it)
    # goes on past the stream's buffer and ends, and then the map's error is the query's
    graph = streamed_items.graph("q", optimized=True)
    assert any(n.op == "map" and n.attrs.get("stream_args") for n in graph.walk())
    lines = "\n".join(["bad one", *(f"item {i}" for i in range(150))])
    llm = ScriptedLLM("llm", respond=lambda p: lines if p == "q" else "x", decode_s_per_step=0.0005)
    async with ayo.Runtime(
        [llm, ScriptedEmbedder("embed"), ScriptedStore("store")], batching=False, retries=0
    ):
        with anyio.fail_after(30):
            for run in (streamed_items.eager, streamed_items):
                with pytest.raises((ValueError, ayo.UserCodeError), match="invalid literal"):
                    await run("q")


async def delayed(q: str, seconds: float) -> str:
    await asyncio.sleep(seconds)
    return q


@ayo.workflow
async def prefilled_past_the_failure(q: str) -> str:
    p = await delayed(q, 0.3)  # (the call before the failure asks for a session late)
    a = await ayo.llm(p, max_tokens=2)
    f = await ayo.llm("FAIL " + q, max_tokens=2)
    b = await ayo.llm(q + " long" * 100, max_tokens=2)  # (prefilled while the failure is known)
    return a + b + f


class TwoSessions(ScriptedLLM):
    @property
    def max_sessions(self) -> int:
        return 2


async def test_a_call_past_the_failure_does_not_block_the_calls_before_it() -> None:
    # the call after the failed one has its session and prefill when the failure is known; its
    # decode will not run; the call before the failure asks for one of the two sessions later
    llm = TwoSessions("llm", fail=lambda p: "FAIL" in p, prefill_s_per_token=0.002, decode_s_per_step=0.01)
    async with ayo.Runtime(
        [llm, ScriptedEmbedder("embed"), ScriptedStore("store")], batching=False, retries=0
    ):
        with anyio.fail_after(30):
            eager = await outcome_on(prefilled_past_the_failure.eager, "q")
            optimized = await outcome_on(prefilled_past_the_failure, "q")
    assert optimized == eager == ("raised", "RuntimeError", "scripted prefill failure")


@ayo.workflow
async def changed_after_a_failed_call(q: str) -> tuple[str, list[str]]:
    log: list[str] = []
    try:
        a = await ayo.llm(q, max_tokens=2)
        b = await ayo.llm("fine " + a, max_tokens=2)
        log.append("ok")  # (reads neither call: eagerly it never runs when the first fails)
    except ayo.EngineError:
        b = "err"
    finally:
        log.append("done")
    return b, log


@ayo.workflow
async def changed_in_a_branch_after_a_failed_call(q: str) -> tuple[str, dict[str, int]]:
    seen: dict[str, int] = {}
    try:
        r = await ayo.llm(q, max_tokens=2)
        if len(q) > 3:
            seen[q] = len(q)
    except ayo.EngineError:
        r = "err"
    return r, seen


@pytest.mark.parametrize("wf", [changed_after_a_failed_call, changed_in_a_branch_after_a_failed_call])
@pytest.mark.parametrize("q", QUESTIONS, ids=["slow-engine-and-check", "slow-engine", "check", "none"])
async def test_a_try_bodys_change_waits_for_the_statements_before_it(wf: Any, q: str) -> None:
    eager = await outcome(wf.eager, q)
    assert await outcome(ayo.workflow(wf.fn, passes=[]), q) == eager
    assert await outcome(wf, q) == eager
