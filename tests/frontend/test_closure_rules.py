"""What the tracer refuses about functions the workflow defines and state outside it, each with the
line and the fix: shapes whose graph would otherwise differ from Python's run (the closure would
see the value bound when it was defined; ``nonlocal`` of a variable its cell cannot stand for, here
a function defined before the variable's first assignment)."""

from __future__ import annotations

import pytest

import ayo_trace as ayo

from .corpus.closures import history_kept_in_a_module_list, local_async_helper_reads_the_latest_value


@ayo.workflow
async def closure_reads_a_name_assigned_later(question: str) -> str:
    prefix = "none"

    def framed() -> str:
        return f"[{prefix}]"

    prefix = await ayo.llm(question, max_tokens=2)
    return framed()


@ayo.workflow
async def lambda_reads_a_name_assigned_later(question: str) -> str:
    context = "none"
    fmt = lambda s: f"{context}: {s}"  # noqa: E731
    context = await ayo.llm(question, max_tokens=2)
    return await ayo.llm(fmt(question), max_tokens=2)


@ayo.workflow
async def nonlocal_in_a_plain_function(docs: list[str]) -> int:
    def add(n: int) -> None:
        nonlocal total
        total += n

    total = 0
    for d in docs:
        add(len(await ayo.llm(d, max_tokens=2)))
    return total


@pytest.mark.parametrize(
    ("wf", "args", "line", "words"),
    [
        (closure_reads_a_name_assigned_later, ("q",), "def framed", ["`prefix`", "assigned again at line"]),
        (lambda_reads_a_name_assigned_later, ("q",), "fmt = lambda", ["`context`", "as an argument"]),
        (
            nonlocal_in_a_plain_function,
            (["a"],),
            "nonlocal total",
            ["`nonlocal total`", "return the new value"],
        ),
    ],
)
def test_refused_at_the_line_with_the_fix(
    wf: ayo.Workflow, args: tuple[object], line: str, words: list[str]
) -> None:
    with pytest.raises(ayo.TraceError) as info:
        wf.graph(*args)
    message = str(info.value)
    assert info.value.loc is not None
    with open(__file__) as f:
        assert line in f.read().splitlines()[info.value.loc.line - 1], message
    for w in words:
        assert w in message, message


def test_an_async_helper_of_the_workflow_may_read_a_name_assigned_later() -> None:
    """It is inlined where it is awaited, so it reads the name as bound there: traced, not refused
    (the corpus checks it equals eager)."""
    graph = local_async_helper_reads_the_latest_value.graph("q")
    assert not [n for n in graph.walk() if n.op == "break"]


def test_module_state_the_workflow_changes_is_read_at_run_time_in_program_order() -> None:
    """Not folded into the graph as the constant it was at trace time: the statements reading it are
    effects, ordered with the ones changing it (the corpus checks the result equals eager)."""
    graph = history_kept_in_a_module_list.graph("q")
    reads = [n for n in graph.walk() if n.op == "python" and "HISTORY[-2:]" in n.attrs["code"].source]
    assert reads and all(n.attrs["code"].effect for n in reads), graph
