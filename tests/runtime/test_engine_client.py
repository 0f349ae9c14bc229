"""The runtime in three parts: the engine client (one way to the engines, ``Session`` handles owned
and released once), the graph scheduler (on the client, reporting node events) and the facade."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ayo_trace.backend import Runtime
from ayo_trace.backend.dispatch import run_user_code
from ayo_trace.backend.graph_scheduler import GraphRun, QueryContext, Retries, run_query
from ayo_trace.backend.interpreter import Interpreter
from ayo_trace.errors import EngineError, NodeError, UserCodeError
from ayo_trace.ir import Graph, Node, SamplingParams
from ayo_trace.testing import ScriptedLLM

from . import graphs as G
from .conftest import Engines

pytestmark = pytest.mark.anyio

Q = "why is the sky blue?"
BACKEND = Path(__file__).resolve().parents[2] / "ayo_trace" / "backend"


def count_releases(rt: Runtime) -> Counter[str]:
    """Counts the engine pool's ``release`` calls per session id from now on."""
    pool = rt.client.pool("llm")
    calls: Counter[str] = Counter()
    release = pool.release

    async def counting(session: str) -> None:
        calls[session] += 1
        await release(session)

    pool.release = counting  # type: ignore[method-assign]
    return calls


@pytest.mark.parametrize("graph", [G.chain, G.split_prompt, G.expansion, G.expansion_lowered])
async def test_each_session_of_a_query_is_released_exactly_once(rt: Runtime, graph: Any) -> None:
    calls = count_releases(rt)
    await rt.run(graph(), {"question": Q})
    assert calls and set(calls.values()) == {1}, calls


async def test_an_eager_call_releases_its_session_once(rt: Runtime) -> None:
    calls = count_releases(rt)
    await rt.llm("Q: hi\nA:", SamplingParams(max_tokens=4))
    assert list(calls.values()) == [1]


async def test_a_failed_decode_releases_its_session_once(engines: Engines) -> None:
    engines.llm.fail = lambda text: "poison" in text
    async with Runtime(engines=engines.all(), batching=False, retries=0) as rt:
        calls = count_releases(rt)
        with pytest.raises(EngineError):
            await rt.run(G.chain(), {"question": "poison"})
        assert calls and set(calls.values()) == {1}, calls
    assert engines.llm.sessions == {}


async def test_a_retried_decode_reopens_its_session_from_the_parts_it_recorded(engines: Engines) -> None:
    failures = iter([True])
    llm = ScriptedLLM("llm", lambda prompt: " fine")
    decode = llm.decode

    async def flaky(batch: Any, max_steps: int) -> Any:
        if next(failures, False):
            raise RuntimeError("the engine lost its context")
        return await decode(batch, max_steps)

    llm.decode = flaky  # type: ignore[method-assign]
    engines = Engines(llm, engines.embed, engines.store, engines.rerank)
    async with Runtime(engines=engines.all(), batching=False, retry_backoff_s=0.0) as rt:
        assert await rt.run(G.split_prompt(), {"question": Q}) == " fine"
    # the retried decode ran on the session reopened with its two parts, each once, in order
    assert llm.prompts == [f"You answer questions.\nQ: {Q}\nA:"]
    assert llm.sessions == {}


class _Events:
    def __init__(self) -> None:
        self.log: list[tuple[str, str, str, bool | None]] = []

    def node_started(self, query: str, scope: str, node: Node) -> None:
        self.log.append(("start", scope, node.name, None))

    def node_finished(self, query: str, scope: str, node: Node, start: float, end: float, ok: bool) -> None:
        assert end >= start
        self.log.append(("finish", scope, node.name, ok))


async def test_the_graph_scheduler_reports_every_node_it_starts_and_finishes(rt: Runtime) -> None:
    events = _Events()
    out = await run_query(rt.client, G.branch(), {"x": "a long input"}, "q7", None, events=events)
    assert out == await rt.llm("Long: a long input", G.SAMPLING)
    started = [(s, n) for kind, s, n, _ in events.log if kind == "start"]
    finished = [(s, n) for kind, s, n, ok in events.log if kind == "finish" and ok]
    assert sorted(started) == sorted(finished)
    assert ("q7/v", "long") in finished and ("q7", "v") in finished  # the branch's nodes too


async def test_the_runtime_counts_nodes_through_the_node_events(rt: Runtime) -> None:
    await rt.run(G.chain(), {"question": Q})
    assert rt.stats()["nodes"] == len(G.chain().nodes) == rt.nodes_run


class _Upper(GraphRun):
    """A graph scheduler whose python nodes upper-case their value."""

    async def op_python(self, node: Node, args: list[Any]) -> Any:
        value = await run_user_code(node, args)
        return value.upper() if isinstance(value, str) else value


class _UpperInOrder(Interpreter):
    async def op_python(self, node: Node, args: list[Any]) -> Any:
        value = await run_user_code(node, args)
        return value.upper() if isinstance(value, str) else value


def _branchy() -> Graph:
    """cond(x is long) -> then: python(x + '!') -> output."""
    g = G.branch()
    then: Graph = G.nodes(g)["v"].attrs["then"]
    x = then.inputs[0]
    then.nodes.clear()
    then.nodes.append(x)
    v = then.add("python", [x], {"code": G.code(lambda x: x + "!", "v = x + '!'", ("x",))}, name="bang")
    then.add("output", [v])
    return g


async def test_a_subclass_op_method_is_called_by_both_interpreters(rt: Runtime) -> None:
    ctx = QueryContext(rt.client, "q1", Retries(0, 0.0))
    assert await _Upper(ctx, G.python_chain(lambda x: x + "?"), "q1").run(["a"]) == "A?"
    # nested runs (a cond's branch) are of the subclass too
    assert await _Upper(ctx, _branchy(), "q1").run(["a long one"]) == "A LONG ONE!"
    assert await _UpperInOrder(rt).run(_branchy(), {"x": "a long one"}) == "A LONG ONE!"


async def test_both_interpreters_wrap_a_break_s_error_alike(rt: Runtime) -> None:
    async def broken(x: str) -> str:
        raise ValueError(f"bad {x}")

    g = G.with_break(broken)
    with pytest.raises(UserCodeError, match="ValueError: bad 1") as traced:
        await rt.run(g, {"x": 1})
    with pytest.raises(UserCodeError, match="ValueError: bad 1") as in_order:
        await Interpreter(rt).run(g, {"x": 1})
    assert traced.value.node == in_order.value.node == "v"
    assert isinstance(in_order.value.__cause__, ValueError)


async def test_an_op_without_a_handler_names_the_interpreter_and_the_node(rt: Runtime) -> None:
    g = G.split_prompt()
    with pytest.raises(NodeError, match="Interpreter has no handler for op 'llm_prefill'"):
        await Interpreter(rt).run(g, {"question": Q})


def test_no_module_of_the_backend_reaches_into_the_runtime_or_the_client() -> None:
    private = re.compile(r"\b(rt|runtime|client|self\.rt|self\.client|ctx\.rt)\._[a-z]\w*")
    found = {
        f"{path.name}:{i}": line.strip()
        for path in BACKEND.rglob("*.py")
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if private.search(line)
    }
    assert not found, found


async def test_the_graph_scheduler_sends_ahead_as_the_pass_marked_it(rt: Runtime) -> None:
    sent: list[tuple[str, bool]] = []
    pool = rt.client.pool("llm")
    prefill = pool.prefill

    async def recording(req: Any, priority: float = 0.0) -> Any:
        sent.append((req.text, req.ahead))
        return await prefill(req, priority)

    pool.prefill = recording  # type: ignore[method-assign]
    g = G.split_prompt()
    await rt.run(g, {"question": Q})
    assert sent == [("You answer questions.\n", True), (f"Q: {Q}\nA:", False)]
    sent.clear()
    for n in g.nodes:
        n.attrs.pop("ahead", None)  # not re-derived from part/parts at run time
    await rt.run(g, {"question": Q})
    assert [ahead for _, ahead in sent] == [False, False]
