"""Values no engine can serve are refused as ayo errors where they are made, naming what is wrong
(issue 17, points 5 and 10): eager calls and traced graphs agree, and nothing reaches an engine."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ayo_trace as ayo
from ayo_trace.backend import Runtime
from ayo_trace.ir import SamplingParams, SearchParams
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore

from ..runtime import graphs as G

pytestmark = pytest.mark.anyio


def engines() -> list[Any]:
    return [ScriptedLLM("llm"), ScriptedEmbedder("embed"), ScriptedStore("store"), ScriptedReranker("rerank")]


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": -3}, "max_tokens"),
        ({"max_tokens": 2.5}, "max_tokens"),
        ({"max_tokens": True}, "max_tokens"),
        ({"temperature": -1.0}, "temperature"),
        ({"temperature": math.nan}, "temperature"),
        ({"temperature": math.inf}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"top_p": math.nan}, "top_p"),
        ({"stop": [""]}, "stop"),
        ({"stop": [3]}, "stop"),
        ({"stop": b"\n"}, "stop"),
        ({"stop": "\ud800"}, "stop"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_sampling_params_refuse_what_no_engine_can_serve(kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(ayo.InvalidParams) as info:
        SamplingParams(**kwargs)
    assert info.value.param == param and param in str(info.value)
    assert isinstance(info.value, ayo.InvalidRequest) and isinstance(info.value, ValueError)


@given(
    max_tokens=st.integers(min_value=1, max_value=10_000),
    temperature=st.floats(min_value=0, max_value=100, allow_nan=False),
    top_p=st.floats(min_value=0, max_value=1, exclude_min=True),
    stop=st.lists(st.text(min_size=1).filter(lambda s: s.encode("utf-8", "surrogatepass") is not None)),
)
def test_sampling_params_accept_every_servable_value(
    max_tokens: int, temperature: float, top_p: float, stop: list[str]
) -> None:
    try:
        for s in stop:
            s.encode("utf-8")
    except UnicodeEncodeError:
        return
    p = SamplingParams(max_tokens=max_tokens, temperature=temperature, top_p=top_p, stop=stop)
    assert p.stop == tuple(stop) and p.max_tokens == max_tokens


@pytest.mark.parametrize(("collection", "top_k"), [(["kb"], 3), ("", 3), (None, 3), ("kb", 0), ("kb", 2.0)])
def test_search_params_refuse_bad_values(collection: Any, top_k: Any) -> None:
    with pytest.raises(ayo.InvalidParams):
        SearchParams(collection, top_k)


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda: ayo.llm("hi", max_tokens=0), "max_tokens"),
        (lambda: ayo.llm("hi", temperature=-1), "temperature"),
        (lambda: ayo.llm("hi", temperature=math.nan), "temperature"),
        (lambda: ayo.llm("hi", parse="lines"), "parse"),
        (lambda: ayo.llm(["a list"]), "prompt"),
        (lambda: ayo.llm(b"bytes"), "prompt"),
        (lambda: ayo.llm(None), "prompt"),
        (lambda: ayo.llm("\ud800"), "prompt"),
        (lambda: ayo.ingest("abc", collection="kb"), "passages"),
        (lambda: ayo.ingest([{"text": "a dict"}], collection="kb"), "passage"),
        (lambda: ayo.search("q", collection=["kb"]), "collection"),
        (lambda: ayo.embed(["fine", 3]), "text to embed"),
        (lambda: ayo.rerank("q", [{"text": "a dict"}]), "passage"),
    ],
)
async def test_eager_primitives_raise_ayo_errors_naming_the_bad_value(call: Any, param: str) -> None:
    llm = ScriptedLLM("llm")
    async with Runtime(
        engines=[llm, ScriptedEmbedder("embed"), ScriptedStore("store"), ScriptedReranker("rerank")]
    ):
        with pytest.raises(ayo.InvalidParams) as info:
            await call()
    assert info.value.param == param
    assert not llm.calls  # refused before any engine call


@pytest.mark.parametrize("prompt", [["a list"], b"bytes", None, 42])
async def test_a_non_string_prompt_is_refused_traced_as_eager(prompt: Any) -> None:
    @ayo.workflow
    async def ask(q: Any) -> str:
        return await ayo.llm(q, max_tokens=4)

    llm = ScriptedLLM("llm")
    async with Runtime(
        engines=[llm, ScriptedEmbedder("embed"), ScriptedStore("store"), ScriptedReranker("rerank")]
    ):
        with pytest.raises(ayo.InvalidParams) as traced:
            await ask(prompt)
        with pytest.raises(ayo.InvalidParams) as eager:
            await ayo.llm(prompt, max_tokens=4)
    assert traced.value.param == eager.value.param == "prompt"
    if isinstance(prompt, list | bytes):  # a run-time value: the error names the node
        assert traced.value.node == "result_prefill"  # the lowered prefill of `return await ayo.llm(q)`
    assert not llm.calls


async def test_a_string_given_as_passages_is_refused_not_stored_per_character() -> None:
    store = ScriptedStore("store")
    graph = G.rag("kb")
    async with Runtime(
        engines=[ScriptedLLM("llm"), ScriptedEmbedder("embed"), store, ScriptedReranker("rerank")]
    ) as rt:
        with pytest.raises(ayo.InvalidParams) as info:
            await rt.run(graph, {"docs": "abc", "question": "q"})
        assert await store.count("kb") == 0
    assert info.value.node == "n" and "list of strings" in str(info.value)
