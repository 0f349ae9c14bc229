"""``wf.stream`` on the real engines: the naive RAG example's answer reaches the caller as llama.cpp
decodes it, and eager and optimized runs stream the same text (batching off, so both compute the
same tokens)."""

from __future__ import annotations

import pytest

import ayo_trace as ayo
from ayo_trace.backend.events import NodeFinished, Result, Token

from .conftest import load_example

pytestmark = [pytest.mark.real, pytest.mark.anyio]


async def test_naive_rag_streams_its_answer_before_the_result(on_real_runtime: ayo.Runtime) -> None:
    example = load_example("naive_rag")
    wf, inputs = example.naive_rag, example.SMALL_INPUTS
    events = [e async for e in wf.stream(**inputs)]
    tokens = [i for i, e in enumerate(events) if isinstance(e, Token)]
    answer_done = next(
        i for i, e in enumerate(events) if isinstance(e, NodeFinished) and e.node == events[tokens[0]].node
    )
    assert tokens and tokens[0] < answer_done < len(events) - 1
    result = events[-1]
    assert isinstance(result, Result) and isinstance(result.value, str) and result.value.strip()
    assert "".join(events[i].text for i in tokens) == result.value
    assert events[answer_done].tokens_out > 0 and events[answer_done].loc.startswith("naive_rag.py:")

    with ayo.eager():
        eager = "".join([t async for t in wf.stream_text(**inputs)])
    assert eager == result.value
