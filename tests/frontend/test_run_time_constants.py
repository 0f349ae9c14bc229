"""A graph constant computed when the workflow runs (``seed=`` from a loop's variable,
``max_tokens=`` from data, ``collection=`` chosen per query, ``stop=`` from an answer) makes its
call a graph break: it runs eagerly, with exactly the values plain Python passes, named at its line
with its reason in ``explain()``, refused under ``strict=True``; the rest of the workflow is traced.
A constant known when traced, or a workflow parameter (the trace specializes on it), stays traced.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ayo_trace as ayo
from ayo_trace.passes import DEFAULT_PASSES
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore
from tests.util import run_in_new_loop

from . import run_time_shapes as r
from .programs import RUN_TIME_MARK, load, program_source, run_time_programs
from .test_differential import ALL_SUBSETS, DOCS, QUESTION, assert_all_equal, run_modes

pytestmark = pytest.mark.anyio


class SamplingLLM(ScriptedLLM):
    """A scripted LLM whose answer shows the sampling parameters it was asked with, and which
    records them with each prompt."""

    def __init__(self) -> None:
        super().__init__("llm", self.answer)
        self.requests: list[tuple[str, Any]] = []
        self._params: Any = None

    def answer(self, prompt: str) -> str:
        p = self._params
        return f"[{len(prompt)} t={p.temperature} s={p.seed} n={p.max_tokens}]"

    def _start(self, req: Any) -> Any:
        self._params = req.params
        self.requests.append((self.sessions[req.session], req.params))
        return super()._start(req)


def engines() -> tuple[list[Any], SamplingLLM]:
    llm = SamplingLLM()
    store = ScriptedStore("store")
    return [llm, ScriptedEmbedder("embed"), store, ScriptedReranker("rerank")], llm


async def three_ways(
    wf: Any, args: tuple[Any, ...], fresh: Callable[[], tuple[Any, ...]] | None = None
) -> list[tuple[Any, list[tuple[str, Any]]]]:
    """The answer and the (prompt, sampling) requests of ``wf`` eager, traced and optimized, each on
    fresh engines (and with ``fresh()``'s arguments, where the workflow changes an argument)."""
    out = []
    plain = ayo.workflow(wf.fn, passes=[])
    if getattr(wf, "bound_self", None) is not None:  # a method's workflow, bound to its object
        plain = plain.__get__(wf.bound_self)
    for run in (wf.eager, plain, wf):
        engs, llm = engines()
        async with ayo.Runtime(engs, batching=False):
            for name in ("kb0", "kb1"):
                await ayo.ingest([f"{name} passage {i} about q" for i in range(3)], collection=name)
            answer = await run(*(fresh() if fresh is not None else args))
        out.append((answer, sorted(llm.requests, key=repr)))
    return out


def marked(text: str) -> set[int]:
    source = inspect.getsource(r).splitlines()
    return {i for i, line in enumerate(source, start=1) if text in line}


# (workflow, arguments, what its break's reason says)
CASES = [
    (r.self_consistency, ("2+2?",), "`seed=` of ayo.llm() is computed when the workflow runs"),
    # the calls were made a statement before: the gather awaits a list of coroutines
    (r.coroutines_then_gather, ("2+2?",), "`seed=` of ayo.llm() is computed"),
    (r.seeds_in_a_loop, ("2+2?",), "`seed=` of ayo.llm()"),
    (r.temperatures, ("q",), "`temperature=` of ayo.llm()"),
    (r.retry_warmer, ("q",), "`temperature=` of ayo.llm()"),
    (r.budget_from_hits, ("q",), "`max_tokens=` of ayo.llm()"),
    (r.stop_from_an_answer, ("q",), "`stop=` of ayo.llm()"),
    (r.sharded, ("q",), "`collection=` of ayo.search()"),
    (r.routed, ("q", "en"), "`collection=` of ayo.search()"),
    (r.routed, ("q", "fr"), "`collection=` of ayo.search()"),
    (r.in_an_expression, ("q", ["a", "b"]), "`max_tokens=` of ayo.llm()"),
    (r.settings_per_query, ("q",), "`**opts` of ayo.llm() is computed"),
    (r.settings_per_query, ("a longer one",), "`**opts` of ayo.llm() is computed"),
    (r.settings_parameter, ("q", {"seed": 3, "max_tokens": 5}), "`**params` of ayo.llm() is computed"),
    # a helper defined in the workflow, reading the workflow's variable
    (r.closure_budget, ("q", ["a", "bb", "ccc"]), "`max_tokens=` of ayo.llm() is computed"),
    (r.changed_setting_in_helper, ("q", r.Settings()), "`max_tokens=` of ayo.llm() is computed"),
    (r.closure_settings, ("q",), "`seed=` of ayo.llm() is computed"),
    (r.closure_settings, ("a longer one",), "`seed=` of ayo.llm() is computed"),
]


@pytest.mark.parametrize(
    ("wf", "args", "why"), CASES, ids=[f"{wf.fn.__name__}-{i}" for i, (wf, _, _) in enumerate(CASES)]
)
async def test_a_constant_computed_at_run_time_is_a_graph_break_with_eagers_values(wf, args, why) -> None:
    graph = wf.graph(*args)
    breaks = {n.loc.line: n.attrs["reason"] for n in graph.walk() if n.op == "break"}
    lines = set(range(*_lines(wf)))
    assert set(breaks) == marked("# break:") & lines
    assert all(why in reason for reason in breaks.values()), breaks
    traced = [n for n in graph.walk() if n.op in ("llm", "search")]
    assert {n.loc.line for n in traced} == marked("# traced") & lines
    eager, plain, optimized = await three_ways(wf, args)
    assert eager == plain == optimized  # same answers, same prompts with the same sampling parameters
    with pytest.raises(ayo.TraceError, match="graph break"):
        ayo.workflow(wf.fn, strict=True).graph(*args)


def _lines(wf: Any) -> tuple[int, int]:
    source, start = inspect.getsourcelines(wf.fn)
    return start, start + len(source)


async def test_constants_known_when_traced_and_parameters_stay_traced() -> None:
    wf, args = r.parameters_specialize, ("q", 5, {"collection": "kb1"})
    graph = wf.graph(*args)
    assert [n for n in graph.walk() if n.op == "break"] == []
    (llm,) = [n for n in graph.walk() if n.op == "llm"]
    assert (llm.attrs["sampling"].seed, llm.attrs["sampling"].temperature) == (5, 0.25)
    eager, plain, optimized = await three_ways(wf, args)
    assert eager == plain == optimized
    assert "s=5" in eager[0]
    other = await three_ways(wf, ("q", 6, {"collection": "kb0"}))  # another value traces again
    assert "s=6" in other[0][0] and other[0] == other[2]


async def test_a_helpers_constants_from_parameters_stay_traced() -> None:
    """A helper defined in the workflow reading a parameter (or its field) the workflow leaves as
    it is: the trace specializes on it, as on the workflow's own calls."""
    wf = r.closure_parameter
    args = ("q", 7, r.Settings(5))
    graph = wf.graph(*args)
    assert [n for n in graph.walk() if n.op == "break"] == []
    assert {
        (n.attrs["sampling"].seed, n.attrs["sampling"].max_tokens) for n in graph.walk() if n.op == "llm"
    } == {(7, 5)}
    eager, plain, optimized = await three_ways(wf, args)
    assert eager == plain == optimized


async def test_settings_spread_from_a_module_constant_stay_traced() -> None:
    """``{**DEFAULTS, "stop": [...]}`` of a module constant is known when traced, as ``**DEFAULTS``
    is: its items are the calls' graph constants."""
    wf = r.spread_defaults
    graph = wf.graph("q")
    assert [n for n in graph.walk() if n.op == "break"] == []
    assert sorted(n.attrs["sampling"].max_tokens for n in graph.walk() if n.op == "llm") == [2, 6]
    eager, plain, optimized = await three_ways(wf, ("q",))
    assert eager == plain == optimized


def test_the_reason_names_the_keyword_and_the_way_out() -> None:
    (why,) = [n.attrs["reason"] for n in r.budget_from_hits.graph("q").walk() if n.op == "break"]
    assert why.startswith("`max_tokens=` of ayo.llm() is computed when the workflow runs")
    assert "constant or a workflow parameter" in why
    assert "computed when the workflow runs" in r.budget_from_hits.explain("q")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=run_time_programs, seed=st.integers(0, 2**16), subset=st.sampled_from(ALL_SUBSETS))
def test_random_programs_with_run_time_constants_equal_eager(
    spec: Any, seed: int, subset: list[Any], tmp_path: Path
) -> None:
    """Random programs mixing every traced kind with calls of run-time constants: a break at each
    marked line and nowhere else, and the same answers as plain Python in every mode."""
    source = program_source(spec)
    module = load(source, tmp_path)
    graph = module.program.graph(QUESTION, DOCS)
    marks = {i for i, line in enumerate(source.splitlines(), start=1) if line.endswith(RUN_TIME_MARK)}
    assert {n.loc.line for n in graph.walk() if n.op == "break"} == marks
    results = run_in_new_loop(
        run_modes, module.program, (QUESTION, DOCS), seed, [[], subset, list(DEFAULT_PASSES)]
    )
    assert_all_equal(results)


def test_a_pure_primitives_break_keeps_a_loops_items_running_at_once() -> None:
    """An llm call with a run-time ``seed=`` changes nothing but its value: a loop of such calls
    still becomes a map whose items run at once; a search's break (it reads a collection that an
    ingest may change) keeps its place among the effects."""

    def maps(wf: Any, *args: Any) -> list[Any]:
        return [n.attrs["concurrency"] for n in wf.graph(*args, optimized=True).walk() if n.op == "map"]

    assert maps(r.seeds_in_a_loop, "q") == [None]
    assert maps(r.temperatures, "q") == [None]
    (search,) = [n for n in r.sharded.graph("q").walk() if n.op == "break"]
    assert search.attrs["code"].effect


# The constant a helper defined in the workflow reads: how the workflow's variable is bound, what
# changes it between the helper's calls, and how the helper is called.
_ROOTS = {
    "param_field": ("cfg.max_tokens", ""),
    "param": ("seed", ""),
    "local_from_field": ("budget", "    budget = cfg.max_tokens\n"),
    "local_from_data": ("budget", "    budget = 2 + len(question)\n"),
    "local_constant": ("budget", "    budget = 5\n"),
    "module": ("LIMIT", ""),
}
_CHANGES = {
    "none": "",
    "field": "    cfg.max_tokens = 3\n",
    "field_bump": "    cfg.max_tokens += len(question) % 3\n",
    "alias": "    c = cfg\n    c.max_tokens = 2\n",
    "budget": "    budget = 4\n",
    "seed": "    seed = seed + 1\n",
}
_CALLS = {
    "one": "    out.append(await gen(question))\n",
    "gather": "    out += await asyncio.gather(gen(question), gen(question + '?'))\n",
    "loop": "    for w in question.split()[:2]:\n        out.append(await gen(w))\n",
}


def _closure_program(root: str, before: str, after: str, first: str, second: str) -> str:
    expr, bind = _ROOTS[root]
    keyword = "seed" if root == "param" else "max_tokens"
    return (
        "import asyncio\nimport ayo_trace as ayo\n\nLIMIT = 6\n\n\n"
        "class Settings:\n    def __init__(self, max_tokens):\n        self.max_tokens = max_tokens\n\n\n"
        "@ayo.workflow\nasync def program(question, seed, cfg):\n"
        f"{bind}    out = []\n\n    async def gen(text):\n"
        f"        return await ayo.llm(f'Say {{text}}', {keyword}={expr})\n\n"
        f"{_CHANGES[before]}{_CALLS[first]}{_CHANGES[after]}{_CALLS[second]}    return out\n"
    )


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    root=st.sampled_from(sorted(_ROOTS)),
    before=st.sampled_from(sorted(_CHANGES)),
    after=st.sampled_from(sorted(_CHANGES)),
    first=st.sampled_from(sorted(_CALLS)),
    second=st.sampled_from(sorted(_CALLS)),
)
def test_a_helpers_constant_read_through_a_closure_runs_as_plain_python(
    root: str, before: str, after: str, first: str, second: str, tmp_path: Path
) -> None:
    """Never refused, and the same answers with the same sampling parameters as plain Python: a
    parameter's value the workflow keeps is a graph constant, one it computed or changed makes the
    helper's call a graph break."""
    module = load(_closure_program(root, before, after, first, second), tmp_path)

    def args() -> tuple[Any, ...]:
        return ("two words", 7, module.Settings(9))

    module.program.graph(*args())  # (traced, not refused)
    eager, plain, optimized = run_in_new_loop(three_ways, module.program, args(), args)
    assert eager == plain == optimized
