"""A function the workflow defines whose default is a value known only when the workflow runs
(``async def one(x=d)`` in a loop, the idiom binding the item now; ``p=prefix`` of an LLM's answer;
``k=row["k"]``) takes the value the name held where the ``def`` ran, as Python evaluates a default
once, then: called in the loop, in a comprehension or a gather, after the name is bound again, or
given the argument. It was refused. eager ≡ traced ≡ optimized, with no graph break."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import ayo_trace as ayo
from tests.util import run_in_new_loop, three_runs_agree


@ayo.workflow
async def loop_item(q, docs):
    out = []
    for d in docs:

        async def one(x=d):
            return await ayo.llm(f"one {x}", max_tokens=2)

        out.append(await one())
    return out


@ayo.workflow
async def answer_then_gather(q, docs):
    prefix = await ayo.llm(q, max_tokens=2)

    async def go(x, p=prefix):
        return await ayo.llm(f"{p} {x}", max_tokens=2)

    prefix = "changed"  # (the default keeps the value it had where the def ran)
    return await asyncio.gather(*(go(d) for d in docs)), [await go(d, p=prefix) for d in docs]


@ayo.workflow
async def item_and_attribute(q, docs):
    row = {"k": q.upper(), "n": len(docs)}
    pair = (q, docs)

    async def ask(a=row["k"], b=pair[1], *, c=row["n"]):
        return await ayo.llm(f"{a} {b} {c}", max_tokens=2)

    row = {"k": "other"}
    return await ask(), await ask(b="given")


SHAPES = [loop_item, answer_then_gather, item_and_attribute]


@pytest.mark.parametrize("wf", SHAPES, ids=[wf.fn.__name__ for wf in SHAPES])
def test_a_default_known_at_run_time_is_read_where_the_def_runs(wf: Any) -> None:
    assert "graph breaks: 0" in wf.explain("q", ["a", "b"])
    run_in_new_loop(lambda: three_runs_agree(wf, ["q", "FAIL q"], [[], ["a", "FAIL b"], ["c", "d"]]))
