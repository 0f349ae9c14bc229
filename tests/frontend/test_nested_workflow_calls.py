"""A nested workflow declaring ``*args`` or ``**kwargs`` is inlined with them packed as Python packs
them (the tracer crashed on them), its arguments evaluated as written; one called with ``**params``
or ``*items`` built when the workflow runs runs eagerly, as a helper called so does (it was refused).
eager ≡ traced ≡ optimized."""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo
from tests.util import run_in_new_loop, three_runs_agree

LOG: list[str] = []


def note(x: str) -> str:
    LOG.append(x)
    return x


@ayo.workflow
async def parts(*ps: str) -> list[str]:
    return [await ayo.llm(f"Part {p}", max_tokens=2) for p in ps]


@ayo.workflow
async def styled(q: str, *rest: str, tone: str = "plain", **opts: Any) -> str:
    return await ayo.llm(f"{tone} {q} {list(rest)} {sorted(opts.items())}", max_tokens=2)


@ayo.workflow
async def varargs(q, docs):
    LOG.clear()
    return await parts(note("a"), q, note("b")), list(LOG)


@ayo.workflow
async def kwargs_and_rest(q, docs):
    LOG.clear()
    one = await styled(q, note("x"), "y", extra=note("e"), tone=note("warm"))
    two = await styled(q, **{"style": "short"}, tone="cold")
    return one, two, list(LOG)


@ayo.workflow
async def spread_at_run_time(q, docs):
    params = {"tone": q[:3], "n": len(docs)}
    items = [d.upper() for d in docs]
    return await styled(q, **params), await parts(*items)


SHAPES = [varargs, kwargs_and_rest, spread_at_run_time]


@pytest.mark.parametrize("wf", SHAPES, ids=[wf.fn.__name__ for wf in SHAPES])
def test_nested_workflows_with_star_parameters(wf: Any) -> None:
    run_in_new_loop(lambda: three_runs_agree(wf, ["q", "FAIL q"], [[], ["a", "FAIL b"], ["c"]]))


def test_only_arguments_built_at_run_time_run_eagerly() -> None:
    assert "graph breaks: 0" in varargs.explain("q", ["a"])
    assert "graph breaks: 0" in kwargs_and_rest.explain("q", ["a"])
    text = spread_at_run_time.explain("q", ["a"])
    assert "graph breaks: 1" in text and "built when the workflow runs: its arguments are not known" in text


def test_a_nested_workflow_given_a_parameters_dict_runs_eagerly() -> None:
    from . import bad_shapes as b

    text = b.starred_call.explain("q", {"max_tokens": 3})
    assert "graph breaks: 1" in text and "a call with `**kwargs` built when the workflow runs" in text
    run_in_new_loop(lambda: three_runs_agree(b.starred_call, ["q", "FAIL q"], [{}, {"max_tokens": 3}]))
