"""The tracer's rules: names Python could delete are refused, names a path may leave unbound are
checked where read when the graph runs, breaks are visible and strict
mode refuses them, parameters needed as constants become guards, bad sampling values are
TraceErrors at their line, helpers keep their own file:line."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.frontend.helpers import MAX_INLINE_DEPTH
from ayo_trace.testing import ScriptedLLM
from tests.util import outcome

from . import bad_shapes as b
from . import rules_shapes as r


def line_of(module: object, text: str, *, after: str | None = None) -> int:
    """The line of the first ``text`` in ``module`` (after the first ``after``, if given)."""
    start = 0 if after is None else line_of(module, after)
    for i, line in enumerate(inspect.getsource(module).splitlines(), start=1):  # type: ignore[arg-type]
        if i > start and text in line:
            return i
    raise AssertionError(f"{text!r} not found")


def test_reading_the_name_an_except_clause_deletes_is_refused() -> None:
    with pytest.raises(ayo.TraceError, match="may delete it") as info:
        r.reads_caught_exception.graph("q")
    assert f"rules_shapes.py:{line_of(r, 'return answer + str(e)')}" in str(info.value)


@pytest.mark.parametrize(
    ("wf", "inputs"),
    [
        (r.loop_may_not_bind, [[], ["q"], ["stop", "q"]]),
        (r.map_loop_may_not_bind, [[], ["a", "b"]]),
        (r.match_may_not_bind, ["", "q", "qq", "qqq"]),
        (r.reads_maybe_assigned, ["q", "FAIL"]),
        (r.agent_loop_leaving_before_binding, ["task", "done"]),
    ],
    ids=["for", "for_map", "match", "try", "while_true"],
)
@pytest.mark.anyio
async def test_a_name_a_path_may_leave_unbound_is_checked_where_read(wf: Any, inputs: list[Any]) -> None:
    # traced whole; where Python raises UnboundLocalError (no item, no case matched, the call
    # failed), the graph raises it at the same read, and elsewhere it answers as eagerly
    assert not [n for n in wf.graph(inputs[-1]).walk() if n.op == "break"]
    llm = ScriptedLLM("llm", respond=lambda p: "done" if "done" in p else "go on", fail=lambda p: "FAIL" in p)
    async with ayo.Runtime([llm], batching=False, retries=0):
        for x in inputs:
            eager = await outcome(wf.eager, x)
            assert await outcome(ayo.workflow(wf.fn, passes=[]), x) == eager, x
            assert await outcome(wf, x) == eager, x


def test_a_break_around_try_except_as_returns_only_what_python_leaves_bound() -> None:
    wf = ayo.workflow(r.strict_with_a_break.fn)  # the same function, not strict
    (brk,) = [n for n in wf.graph("q").walk() if n.op == "break"]
    assert brk.attrs["code"].returns == ("draft", "answer")  # not `e`: Python deletes it
    assert brk.attrs["code"].params == ("question", "draft")  # `draft` stays as it was on failure


def test_strict_mode_refuses_a_graph_break_naming_it() -> None:
    with pytest.raises(ayo.TraceError, match="strict, but 1 statement") as info:
        r.strict_with_a_break.graph("q")
    assert info.value.loc.line == line_of(r, "try:  # the break strict mode refuses")
    assert "fix: assign names in the `try` body's last statement only" in str(info.value)


def test_strict_mode_accepts_a_whole_graph() -> None:
    graph = r.strict_and_whole.graph("q", ["a", "b"])
    assert not [n for n in graph.walk() if n.op == "break"]


def test_explain_lists_each_break_with_reason_and_fix() -> None:
    text = r.awaits_a_plain_coroutine.explain("q")
    line = line_of(r, "page = await fetch(question)")
    assert "graph breaks: 1" in text
    assert f"rules_shapes.py:{line}: await of something that is not an ayo primitive" in text
    assert "fix: make it an ayo primitive, a workflow, or an `async def` helper" in text


def test_an_await_of_a_plain_coroutine_inside_an_argument_is_a_break_not_a_refusal() -> None:
    graph = r.awaits_a_plain_coroutine_in_an_argument.graph("q")
    assert [n.op for n in graph.walk()].count("break") == 1
    assert "llm" in [n.op for n in graph.nodes]


def test_a_parameter_used_as_collection_becomes_a_guard_shown_in_the_header() -> None:
    text = str(r.searches.graph("q", "papers"))
    header = text.splitlines()[:2]
    assert header[0] == "graph searches(question) [static collection='papers']:"
    assert header[1].startswith("  guard collection == 'papers'  # needed as a constant by `collection=`")
    assert f"rules_shapes.py:{line_of(r, 'collection=collection, top_k=1')}" in header[1]
    assert "guard collection == 'papers'" in r.searches.explain("q", "papers")


def test_a_new_value_of_a_guarded_parameter_traces_again() -> None:
    first = r.searches.graph("q", "papers")
    second = r.searches.graph("q", "notes")
    again = r.searches.graph("another question", "papers")
    (s1,) = [n for n in first.nodes if n.op == "search"]
    (s2,) = [n for n in second.nodes if n.op == "search"]
    assert (s1.attrs["params"].collection, s2.attrs["params"].collection) == ("papers", "notes")
    assert str(again) == str(first)
    keys = [k for k in r.searches._cache if ("collection", "static", str, "papers") in k]
    assert len(keys) == 1


class _Unhashable:
    __hash__ = None  # type: ignore[assignment]


def test_an_unhashable_value_for_a_guarded_parameter_is_a_trace_error() -> None:
    r.searches.graph("q", "papers")
    with pytest.raises(ayo.TraceError, match=r"must be hashable.*needs it as a constant"):
        r.searches.graph("q", _Unhashable())
    # a list keys the cache by its items (a loop over it may be unrolled), then is checked as a name
    with pytest.raises(ayo.TraceError, match=r"collection= must be a non-empty str, got \['not'"):
        r.searches.graph("q", ["not", "a", "name"])


def test_a_collection_computed_from_traced_values_is_a_graph_break_with_the_way_out() -> None:
    (node,) = [n for n in r.computed_collection.graph("q", "x").walk() if n.op == "break"]
    assert node.loc.line == line_of(r, "collection=name, top_k=1")
    assert node.attrs["reason"].startswith("`collection=` of ayo.search() is computed when the workflow runs")
    assert "a workflow parameter as it is" in node.attrs["reason"]
    with pytest.raises(ayo.TraceError, match="graph break") as info:
        ayo.workflow(r.computed_collection.fn, strict=True).graph("q", "x")
    assert info.value.loc.line == line_of(r, "collection=name, top_k=1")


SAMPLING = [
    (r.zero_max_tokens, "max_tokens=0", "max_tokens must be at least 1, got 0"),
    (r.negative_max_tokens, "max_tokens=-3", "max_tokens must be at least 1, got -3"),
    (r.negative_temperature, "temperature=-1", "temperature must be >= 0, got -1"),
    (r.nan_temperature, 'temperature=float("nan")', "temperature must be a finite number, got nan"),
    (r.empty_stop, 'stop=["\\n", ""]', "stop strings must not be empty"),
    (r.number_stop, "stop=5", "stop must be a string or a list of strings, got 5"),
    (r.zero_top_k, "top_k=0", "top_k must be at least 1"),
]


@pytest.mark.parametrize(("wf", "text", "message"), SAMPLING, ids=[s[1] for s in SAMPLING])
def test_bad_sampling_and_search_values_are_trace_errors_at_their_line(wf, text: str, message: str) -> None:
    with pytest.raises(ayo.TraceError, match=message) as info:
        wf.graph("q")
    assert info.value.loc.line == line_of(r, text)
    assert isinstance(info.value.__cause__, ValueError | TypeError)


def test_a_helper_is_inlined_with_its_own_file_and_line() -> None:
    graph = r.calls_a_helper.graph("q")
    (llm,) = [n for n in graph.nodes if n.op == "llm"]
    assert llm.loc.line == line_of(r, 'return await ayo.llm(f"Q: {question}\\nA:"')
    assert not [n for n in graph.walk() if n.op == "break"]


def test_unbounded_recursion_stops_at_the_depth_limit() -> None:
    with pytest.raises(ayo.TraceError, match=f"more than {MAX_INLINE_DEPTH} calls deep"):
        b.endless_recursion.graph("q", "x" * 100)


def test_every_trace_error_carries_a_location() -> None:
    namespace: dict[str, object] = {"ayo": ayo}
    exec("async def typed(q):\n    return await ayo.llm(q)\n", namespace)
    sourceless = ayo.workflow(namespace["typed"])
    makers = [
        lambda: sourceless.graph("q"),
        lambda: b.assigns_global.graph("q"),
        lambda: b.traced_max_tokens.graph("q", [1]),
        lambda: b.maybe_unbound.graph("q", "yes"),
        lambda: b.bad_parser.graph("q"),
        lambda: r.reads_caught_exception.graph("q"),
        lambda: r.strict_with_a_break.graph("q"),
        lambda: ayo.workflow(r.computed_collection.fn, strict=True).graph("q", "x"),
        lambda: r.searches.graph("q", ["unhashable"]),
        lambda: ayo.workflow(lambda q: q),
        *[(lambda wf=wf: wf.graph("q")) for wf, _, _ in SAMPLING],
    ]
    for make in makers:
        with pytest.raises(ayo.TraceError) as info:
            make()
        assert info.value.loc is not None, str(info.value)


@pytest.mark.parametrize(
    ("reason", "fix"),
    [
        ("try", "assign names in the `try` body's last statement"),
        ("with", "enter the context outside the workflow"),
        ("async with with a return inside, on a traced value", "return only at the end"),
        ("a gather whose calls Python interleaves runs eagerly, as written: ...", "change the shared object"),
        ("a call of a function (or with a graph constant) computed when the workflow runs", None),
        ("`handle(...)` sets the context variable `REQ` (line 3); ... runs as written", None),
        ("a while loop awaiting inside, on a traced value", None),
    ],
)
def test_a_break_gets_the_fix_of_its_own_reason(reason: str, fix: str | None) -> None:
    from ayo_trace.frontend.breaks import fix_for

    found = fix_for(reason)
    assert (found is None) if fix is None else (found is not None and found.startswith(fix)), found
