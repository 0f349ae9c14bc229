"""``wf.stream`` and ``wf.stream_text`` on scripted engines: the answer's decode reaches the caller
while it runs, events come in the documented order (backend/events.py), and eager, unoptimized and
optimized runs stream the same text."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

import ayo_trace as ayo
from ayo_trace.backend import Runtime
from ayo_trace.backend import events as event_module
from ayo_trace.backend.events import EventChannel, NodeFinished, NodeStarted, Result, Token
from ayo_trace.ir.code import SourceLoc
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore

pytestmark = pytest.mark.anyio

DOCS = ["light scattering makes the sky blue", "blue light scatters more", "cats sleep all day"]
ANSWER = " Because air scatters blue light more than red light, the sky looks blue to us."


def respond(prompt: str) -> str:
    if prompt.startswith("Draft"):
        return " first draft of an answer in several words"
    return ANSWER


@ayo.workflow
async def rag(question: str, docs: list[str]) -> str:
    await ayo.ingest(docs, collection="kb")
    hits = await ayo.search(question, collection="kb", top_k=2)
    context = "\n".join(h.text for h in hits)
    return await ayo.llm(
        f"Context:\n{context}\nQuestion: {question}\nAnswer:",
        max_tokens=64,
    )


@ayo.workflow(passes=[])
async def rag_unoptimized(question: str, docs: list[str]) -> str:
    await ayo.ingest(docs, collection="kb")
    hits = await ayo.search(question, collection="kb", top_k=2)
    context = "\n".join(h.text for h in hits)
    return await ayo.llm(f"Context:\n{context}\nQuestion: {question}\nAnswer:", max_tokens=64)


@ayo.workflow
async def marked(question: str) -> str:
    draft = await ayo.llm(f"Draft: {question}", max_tokens=32, stream=True)
    return draft.upper()


@ayo.workflow
async def fails(question: str) -> str:
    answer = await ayo.llm(f"Q: {question}", max_tokens=32)
    return answer + 1  # type: ignore[operator]


@pytest.fixture
async def setup() -> AsyncIterator[tuple[Runtime, ScriptedLLM]]:
    llm = ScriptedLLM("llm", respond)
    engines = [llm, ScriptedEmbedder("embed"), ScriptedStore("store"), ScriptedReranker("rerank")]
    async with Runtime(engines=engines, batching=False, decode_steps=1) as rt:
        yield rt, llm
    assert llm.sessions == {}, "every LLM session is released"


async def collect(stream: AsyncIterator[Any]) -> list[Any]:
    return [e async for e in stream]


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_the_answer_streams_while_it_is_decoded(setup: tuple[Runtime, ScriptedLLM]) -> None:
    _, llm = setup
    open_at_first_token: dict[str, str] | None = None
    events = []
    async for event in rag.stream("why is the sky blue?", DOCS):
        if isinstance(event, Token) and open_at_first_token is None:
            open_at_first_token = dict(llm.sessions)
        events.append(event)
    tokens = [e for e in events if isinstance(e, Token)]
    assert len(tokens) > 5, "one event per decode round, not one at the end"
    assert "".join(t.text for t in tokens) == ANSWER
    assert open_at_first_token, "the first token arrived while the answer's session was still decoding"
    assert events[-1] == Result(ANSWER)
    assert events.index(tokens[0]) < len(events) - 1


async def test_events_come_in_the_documented_order(setup: tuple[Runtime, ScriptedLLM]) -> None:
    events = await collect(rag.stream("why is the sky blue?", DOCS))
    assert [type(e) for e in events].count(Result) == 1 and isinstance(events[-1], Result)
    started = {(e.scope, e.node): i for i, e in enumerate(events) if isinstance(e, NodeStarted)}
    finished = {(e.scope, e.node): i for i, e in enumerate(events) if isinstance(e, NodeFinished)}
    assert started.keys() == finished.keys()
    assert all(started[k] < finished[k] for k in started)
    graph = rag.graph("q", DOCS, optimized=True)
    assert {name for _, name in started} == {n.name for n in graph.nodes}
    answer = next(e for e in events if isinstance(e, Token)).node
    assert answer == graph.output.args[0].name
    for i, e in enumerate(events):
        if isinstance(e, Token):
            assert started[("q1", answer)] < i < finished[("q1", answer)]
    by_node = {e.node: e for e in events if isinstance(e, NodeFinished)}
    assert by_node[answer].loc == f"test_streaming.py:{rag.fn.__code__.co_firstlineno + 5}"
    assert by_node[answer].tokens_out == len(ayo.testing.tokenize(ANSWER))
    assert by_node[f"{answer}_prefill"].tokens_in > 0
    assert all(e.ok for e in by_node.values())


@pytest.mark.parametrize("wf", [rag, rag_unoptimized])
async def test_eager_traced_and_optimized_stream_the_same_text(
    wf: ayo.Workflow, setup: tuple[Runtime, ScriptedLLM]
) -> None:
    traced = [t async for t in wf.stream_text("why is the sky blue?", DOCS)]
    with ayo.eager():
        eager = [t async for t in wf.stream_text("why is the sky blue?", DOCS)]
        eager_events = await collect(wf.stream("why is the sky blue?", DOCS))
    assert "".join(traced) == "".join(eager) == ANSWER
    assert len(eager) > 5
    assert eager_events[-1] == Result(ANSWER)
    assert not any(isinstance(e, NodeStarted) for e in eager_events)


async def test_a_call_marked_stream_true_is_streamed(setup: tuple[Runtime, ScriptedLLM]) -> None:
    events = await collect(marked.stream("why?"))
    text = "".join(e.text for e in events if isinstance(e, Token))
    assert text == respond("Draft")
    assert events[-1] == Result(text.upper())
    with ayo.eager():
        assert "".join([t async for t in marked.stream_text("why?")]) == text


async def test_a_result_computed_from_the_answer_streams_no_tokens(
    setup: tuple[Runtime, ScriptedLLM],
) -> None:
    @ayo.workflow
    async def shout(question: str) -> str:
        answer = await ayo.llm(f"Q: {question}", max_tokens=32)
        return answer.upper()

    events = await collect(shout.stream("why?"))
    assert not any(isinstance(e, Token) for e in events)
    assert events[-1] == Result(ANSWER.upper())


async def test_a_failure_is_raised_after_the_events_before_it(setup: tuple[Runtime, ScriptedLLM]) -> None:
    events: list[Any] = []
    with pytest.raises(ayo.UserCodeError) as info:
        async for event in fails.stream("why?"):
            events.append(event)
    assert info.value.loc.line == fails.fn.__code__.co_firstlineno + 3
    failed = [e for e in events if isinstance(e, NodeFinished) and not e.ok]
    assert [e.node for e in failed] == [info.value.node]
    assert not any(isinstance(e, Result) for e in events)


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_stopping_early_cancels_the_run_and_frees_its_session(
    setup: tuple[Runtime, ScriptedLLM],
) -> None:
    rt, llm = setup
    async with contextlib.aclosing(rag.stream("why is the sky blue?", DOCS)) as events:
        async for event in events:
            if isinstance(event, Token):
                assert llm.sessions
                break
    assert llm.sessions == {}
    assert rt.cancelled == 1


async def test_a_slow_reader_gets_the_same_text_in_fewer_events() -> None:
    channel = EventChannel([SourceLoc("app.py", 3)], buffer=2)
    for delta in ["a", "b", "c", "d", "e"]:
        channel.token("n", "app.py:3", delta)  # never waits, even with the buffer full

    async def finish() -> None:
        await channel.put(NodeFinished("q", "q", "n", "llm_decode", "app.py:3", True, 0.0))  # waits
        channel.send.close()

    async with anyio.create_task_group() as tg:
        tg.start_soon(finish)
        with channel.receive:
            got = [e async for e in channel.receive]
    assert [type(e) for e in got] == [Token, Token, Token, NodeFinished]
    assert "".join(e.text for e in got if isinstance(e, Token)) == "abcde"


async def test_the_stream_does_not_leak_into_the_readers_context(setup: tuple[Runtime, ScriptedLLM]) -> None:
    async for _event in rag.stream("why is the sky blue?", DOCS):
        # the run's channel is current in its own task only: the reader's calls are not the answer
        assert event_module._CHANNEL.get() is None


COUNTER = 0


@ayo.workflow
async def untraceable(question: str) -> str:
    global COUNTER
    for COUNTER in range(2):  # (a loop target of a `global` name: refused)  # noqa: B007
        pass
    return await ayo.llm(f"Q: {question}", max_tokens=8)


async def test_an_untraceable_workflow_streams_its_result_eagerly(setup: tuple[Runtime, ScriptedLLM]) -> None:
    with pytest.raises(ayo.TraceError):
        untraceable.stream("why?")
    with ayo.eager():
        events = await collect(untraceable.stream("why?"))
    assert events == [Result("".join(ayo.testing.tokenize(ANSWER)[:8]))]


def test_the_mark_is_a_bool_kept_on_the_node() -> None:
    @ayo.workflow
    async def bad(question: str) -> str:
        return await ayo.llm(question, stream="yes")  # type: ignore[arg-type]

    with pytest.raises(ayo.TraceError, match=r"stream= of ayo\.llm"):
        bad.graph("q")
    assert [n.name for n in marked.graph("q").nodes if n.attrs.get("to_caller")] == ["draft"]
    assert not any(n.attrs.get("to_caller") for n in rag.graph("q", DOCS).walk())


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("stop_at", ["first", "token", "result"])
async def test_a_stream_left_without_closing_it_leaves_its_task_working(
    setup: tuple[Runtime, ScriptedLLM], stop_at: str
) -> None:
    """Left without ``aclosing`` (a ``return`` inside ``async for``), the stream is closed by
    asyncio's finalizer in another task: it cancels its run, never the reader's task, whose later
    awaits and queries go on (they all raised ``CancelledError``)."""

    async def read() -> Any:
        async for event in rag.stream("why is the sky blue?", DOCS):
            if stop_at == "first" or (stop_at == "token" and isinstance(event, Token)):
                return event
            if isinstance(event, Result):
                return event.value
        return None

    assert await read() is not None
    await anyio.sleep(0.01)
    assert await rag("why is the sky blue?", DOCS) == ANSWER
    assert await rag.eager("why is the sky blue?", DOCS) == ANSWER
