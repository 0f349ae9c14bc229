"""The primitive spec record (``ir/spec.py``) and the sampling keywords defined once by
``SamplingParams``: what the frontend binds, the attributes and run-time arguments a spec builds,
and the registry's rules."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Iterator

import pytest

import ayo_trace as ayo
from ayo_trace.errors import GraphError, TraceError
from ayo_trace.ir import (
    BUILTIN_PRIMITIVES,
    SAMPLING_KEYWORDS,
    Param,
    PrimitiveSpec,
    SamplingParams,
    primitive_spec,
    register_primitive,
    unregister_primitive,
)
from ayo_trace.ir.ops import LOWERED_OPS, TRACED_OPS, engine_kind, idempotent, pure

SAMPLED = {"max_tokens": 5, "temperature": 0.5, "top_p": 0.9, "stop": ("\n",), "seed": 3}


def test_the_sampling_keywords_are_the_fields_of_sampling_params() -> None:
    fields = {f.name: f.default for f in dataclasses.fields(SamplingParams)}
    assert set(SAMPLING_KEYWORDS) == set(fields) - {"json_schema"}  # parse= sets the schema
    assert set(SAMPLED) == set(SAMPLING_KEYWORDS)
    params = inspect.signature(ayo.llm).parameters
    for k in SAMPLING_KEYWORDS:
        assert params[k].kind is inspect.Parameter.KEYWORD_ONLY
        assert params[k].default == fields[k]


def test_every_sampling_keyword_reaches_the_node_traced_and_built() -> None:
    @ayo.workflow
    async def wf(q: str) -> str:
        return await ayo.llm(q, max_tokens=5, temperature=0.5, top_p=0.9, stop=["\n"], seed=3)

    (traced,) = [n for n in wf.graph("x").nodes if n.op == "llm"]
    dag = ayo.DAG("d")
    built = dag.llm("{q}", inputs={"q": dag.input("q")}, **SAMPLED)
    assert traced.attrs["sampling"] == built.attrs["sampling"] == SamplingParams(**SAMPLED)


def test_an_unknown_sampling_keyword_is_refused_where_it_is_written() -> None:
    @ayo.workflow
    async def wf(q: str) -> str:
        return await ayo.llm(q, top_k=3)

    with pytest.raises(TraceError, match="top_k"):
        wf.graph("x")
    dag = ayo.DAG("d")
    with pytest.raises(TraceError, match="top_k"):
        dag.llm("{q}", inputs={"q": dag.input("q")}, top_k=3)


def test_the_op_tables_are_derived_from_the_builtin_specs() -> None:
    assert {s.name for s in BUILTIN_PRIMITIVES if not s.traced} == LOWERED_OPS
    assert {s.name for s in BUILTIN_PRIMITIVES if s.traced} <= TRACED_OPS
    assert engine_kind("llm_decode") == "llm" and engine_kind("python") is None
    assert idempotent("ingest") and not idempotent("llm_prefill") and idempotent("const")
    assert pure("search") and not pure("db_insert") and not pure("python")


def test_a_new_primitive_may_not_take_an_ops_name_or_another_primitives() -> None:
    with pytest.raises(GraphError, match="op of the IR"):
        register_primitive(PrimitiveSpec("map"))
    with pytest.raises(GraphError, match="registered already"):
        register_primitive(PrimitiveSpec("llm"))
    with pytest.raises(GraphError, match="built-in"):
        unregister_primitive("search")
    with pytest.raises(GraphError, match="identifier"):
        PrimitiveSpec("not a name")
    with pytest.raises(GraphError, match="go together"):
        PrimitiveSpec("half", lowers_to=("embed",))


PICK = PrimitiveSpec(
    "pick",
    params=(Param("items", "data"), Param("k", "dynamic", 1), Param("engine", "static", None)),
    engine_kind="picker",
    engine_method="pick",
)


@pytest.fixture
def pick() -> Iterator[None]:
    globals()["pick_one"] = ayo.register_primitive(PICK)  # what the workflows below call
    yield
    unregister_primitive("pick")
    assert primitive_spec("pick") is None


@ayo.workflow
async def static_k(items: list[str]) -> list[str]:
    return await pick_one(items, k=2)  # type: ignore[name-defined]  # noqa: F821


@ayo.workflow
async def dynamic_k(items: list[str]) -> list[str]:
    return await pick_one(items, k=len(items) - 1)  # type: ignore[name-defined]  # noqa: F821


@ayo.workflow
async def default_k(items: list[str]) -> list[str]:
    return await pick_one(items)  # type: ignore[name-defined]  # noqa: F821


def _picked(wf: object) -> object:
    graph = wf.graph(["a", "b"])  # type: ignore[attr-defined]
    return next(n for n in graph.nodes if n.op == "pick")


@pytest.mark.usefixtures("pick")
def test_a_dynamic_argument_is_an_attribute_when_static_else_an_arg() -> None:
    static, dynamic, default = _picked(static_k), _picked(dynamic_k), _picked(default_k)
    assert static.attrs == {"k": 2, "engine": None} and len(static.args) == 1  # type: ignore[attr-defined]
    assert dynamic.attrs == {"engine": None, "k_arg": 1}  # type: ignore[attr-defined]
    assert dynamic.args[1].op == "python"  # type: ignore[attr-defined]  # len(items) - 1
    assert default.attrs == {"k": 1, "engine": None}  # type: ignore[attr-defined]


@pytest.mark.usefixtures("pick")
def test_call_values_read_a_dynamic_argument_from_its_arg() -> None:
    from ayo_trace.ir import Graph

    g = Graph("g")
    items = g.add("input", (), {"name": "items"})
    k = g.add("input", (), {"name": "k"})
    at_run_time = g.add("pick", (items, k), {"engine": None, "k_arg": 1})
    known = g.add("pick", (items,), {"engine": "p", "k": 2})
    assert PICK.call_values(at_run_time, [["a", "b"], 1]) == {"items": ["a", "b"], "k": 1, "engine": None}
    assert PICK.call_values(known, [["a"]]) == {"items": ["a"], "k": 2, "engine": "p"}
