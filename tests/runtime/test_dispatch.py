"""Both interpreters dispatch every op, built-in or registered, through one table derived from the
primitives' specs (issue 16 point 2): a spec names the method that runs its nodes, a subclass's
method of that name is the one called, and the graph scheduler's stream edges and session retries
come from the specs too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ayo_trace.backend import Runtime
from ayo_trace.backend.graph_scheduler import GraphRun, QueryContext, Retries, plan
from ayo_trace.backend.interpreter import Interpreter
from ayo_trace.errors import GraphError, NodeError
from ayo_trace.ir import (
    ALL_OPS,
    BUILTIN_PRIMITIVES,
    TRACED_OPS,
    Graph,
    Node,
    Param,
    PrimitiveSpec,
    register_primitive,
    unregister_primitive,
)
from ayo_trace.ir.ops import STRUCTURAL_HANDLERS, handler_name, handler_names, reopens_session, streams_in

from . import graphs as G

pytestmark = pytest.mark.anyio

# A primitive with a handler of its own (no engine method): only an interpreter that has the method
# its spec names can run it.
SHOUT = PrimitiveSpec("shout", params=(Param("text", "data"),), handler="shout_loudly")
# A primitive whose handler takes its first arg item by item.
TALLY = PrimitiveSpec("tally", params=(Param("items", "data"),), handler="tally_items", stream_in=(0,))
# A generic primitive without an engine method: the generic handler has nothing to call.
MUTE = PrimitiveSpec("mute", params=(Param("text", "data"),))


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    for spec in (SHOUT, TALLY, MUTE):
        register_primitive(spec)
    yield
    for spec in (SHOUT, TALLY, MUTE):
        unregister_primitive(spec.name)


def _one(op: str, attrs: dict[str, Any] | None = None) -> Graph:
    """input x -> ``op``(x) -> output."""
    g = Graph(op)
    x = g.add("input", attrs={"name": "x"}, name="x")
    g.add("output", [g.add(op, [x], attrs or {}, loc=G.loc(), name="v")])
    return g


class _Shouting(GraphRun):
    async def shout_loudly(self, node: Node, args: list[Any]) -> Any:
        return args[0].upper() + "!"

    async def op_embed(self, node: Node, args: list[Any]) -> Any:
        return f"embedded {args[0]}"


class _ShoutingInOrder(Interpreter):
    async def shout_loudly(self, node: Node, args: list[Any]) -> Any:
        return args[0].upper() + "!"

    async def op_embed(self, node: Node, args: list[Any]) -> Any:
        return f"embedded {args[0]}"


def test_the_table_names_a_method_of_each_interpreter_for_every_op() -> None:
    table = handler_names()
    assert set(ALL_OPS) <= set(table)
    assert all(table[s.name] == s.handler for s in BUILTIN_PRIMITIVES)
    assert all(table[op] == name for op, name in STRUCTURAL_HANDLERS.items())
    assert table["shout"] == "shout_loudly" and table["mute"] == "call_primitive"
    assert all(callable(getattr(GraphRun, table[op], None)) for op in ALL_OPS)
    # the in-order interpreter runs traced graphs only, and binds their inputs before it runs a node
    assert all(callable(getattr(Interpreter, table[op], None)) for op in TRACED_OPS - {"input"})
    assert handler_name("no_such_op") is None


def test_a_handler_is_a_method_name() -> None:
    with pytest.raises(GraphError, match="names a method"):
        PrimitiveSpec("bad", handler="not a name")


def test_a_generic_primitive_takes_no_arg_item_by_item() -> None:
    with pytest.raises(GraphError, match="names a handler of its own"):
        PrimitiveSpec("bad", params=(Param("items", "data"),), engine_method="m", stream_in=(0,))


async def test_a_spec_s_handler_is_called_by_both_interpreters(rt: Runtime) -> None:
    ctx = QueryContext(rt.client, "q1", Retries(0, 0.0))
    assert await _Shouting(ctx, _one("shout"), "q1").run(["hi"]) == "HI!"
    assert await _ShoutingInOrder(rt).run(_one("shout"), {"x": "hi"}) == "HI!"


async def test_a_subclass_overrides_a_built_in_primitive_s_handler_in_both_interpreters(rt: Runtime) -> None:
    ctx = QueryContext(rt.client, "q1", Retries(0, 0.0))
    graph = _one("embed", {"engine": None})
    assert await _Shouting(ctx, graph, "q1").run(["hi"]) == "embedded hi"
    assert await _ShoutingInOrder(rt).run(graph, {"x": "hi"}) == "embedded hi"


async def test_an_interpreter_without_the_spec_s_handler_names_it_and_the_node(rt: Runtime) -> None:
    with pytest.raises(
        NodeError, match=r"GraphRun has no handler for op 'shout' \(its method shout_loudly\)"
    ) as e:
        await rt.run(_one("shout"), {"x": "hi"})
    assert e.value.node == "v"
    with pytest.raises(
        NodeError, match=r"Interpreter has no handler for op 'shout' \(its method shout_loudly\)"
    ):
        await Interpreter(rt).run(_one("shout"), {"x": "hi"})


async def test_the_generic_handler_refuses_a_primitive_without_an_engine_method(rt: Runtime) -> None:
    for run in (
        lambda: rt.run(_one("mute"), {"x": "hi"}),
        lambda: Interpreter(rt).run(_one("mute"), {"x": "hi"}),
    ):
        with pytest.raises(NodeError, match="'mute' has no engine method") as e:
            await run()
        assert e.value.node == "v"


def _streamed_into(op: str) -> Graph:
    """x -> embed (streams its vectors) -> ``op``(vectors as a stream edge) -> output."""
    g = Graph("s")
    x = g.add("input", attrs={"name": "x"}, name="x")
    e = g.add("embed", [x], {"engine": None, "stream": True, "chunk": 2}, name="vectors")
    g.add("output", [g.add(op, [e], {"stream_args": (0,)}, name="v")])
    return g


def test_stream_edges_go_where_the_consumer_s_spec_takes_items() -> None:
    assert streams_in("db_insert", 1) and not streams_in("db_insert", 0)
    assert streams_in("map", 0) and not streams_in("python", 0)
    assert streams_in("tally", 0) and not streams_in("shout", 0)
    # a stream edge into a spec that takes the arg item by item; the whole value into one that does not
    streams = plan(_streamed_into("tally")).streams
    assert [(p.name, c.name, i) for p, cs in streams.items() for c, i in cs] == [("vectors", "v", 0)]
    assert plan(_streamed_into("shout")).streams == {}


class _Tallying(GraphRun):
    """Counts its arg's items, saying whether they came as a stream."""

    async def tally_items(self, node: Node, args: list[Any]) -> Any:
        source = args[0]
        if hasattr(source, "items"):
            return "streamed", len([item async for item in source.items()])
        return "whole", len(source)


async def test_a_spec_s_handler_takes_a_streamed_arg_item_by_item(rt: Runtime) -> None:
    ctx = QueryContext(rt.client, "q1", Retries(0, 0.0))
    assert await _Tallying(ctx, _streamed_into("tally"), "q1").run([["a", "b", "c", "d", "e"]]) == (
        "streamed",
        5,
    )


def test_the_session_parts_retry_on_a_reopened_session_by_their_spec() -> None:
    assert {s.name for s in BUILTIN_PRIMITIVES if reopens_session(s.name)} == {"llm_prefill", "llm_decode"}
    assert not reopens_session("shout") and not reopens_session("python")
