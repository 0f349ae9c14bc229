"""An annotation with no value (``ctx: str``) binds nothing and evaluates nothing in a function:
it is no node. It was a ``python`` node handing on ``ctx``, which raised ``UnboundLocalError``
when the graph ran unoptimized (optimized, the node was dead and pruned)."""

from __future__ import annotations

import pytest

import ayo_trace as ayo

from .test_run_time_constants import three_ways

pytestmark = pytest.mark.anyio


@ayo.workflow
async def declared_then_bound(q: str) -> tuple[str, str]:
    hits: list[ayo.Hit] = await ayo.search(q, collection="kb0", top_k=2)
    ctx: str
    note: str  # noqa: F842  (declared, never bound)
    if hits:  # noqa: SIM108  (a branch binding the declared name)
        ctx = "\n".join(h.text for h in hits)
    else:
        ctx = "none"
    answer: str = await ayo.llm(f"{ctx}\nQ: {q}", max_tokens=3)
    return answer, ctx


async def test_an_annotation_alone_is_no_node() -> None:
    plain = ayo.workflow(declared_then_bound.fn, passes=[]).graph("q")
    assert "ctx: str" not in str(plain) and "note: str" not in str(plain)
    eager, plain, optimized = await three_ways(declared_then_bound, ("what is q",))
    assert eager == plain == optimized


async def test_a_name_only_declared_is_unbound() -> None:
    @ayo.workflow
    async def reads_declared(q: str) -> str:
        note: str
        return note + q  # noqa: F821

    with pytest.raises(ayo.TraceError, match="note"):
        reads_declared.graph("q")
