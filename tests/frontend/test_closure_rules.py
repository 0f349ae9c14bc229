"""What the tracer refuses about functions the workflow defines and state outside it, each with the
line and the fix: shapes whose graph would otherwise differ from Python's run (the closure would
see the value bound when it was defined, ``nonlocal`` would change nothing, a module-level list
would be read as the constant it was at trace time)."""

from __future__ import annotations

import pytest

import ayo_trace as ayo

from .corpus.closures import local_async_helper_reads_the_latest_value

HISTORY: list[str] = []


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
    total = 0

    def add(n: int) -> None:
        nonlocal total
        total += n

    for d in docs:
        add(len(await ayo.llm(d, max_tokens=2)))
    return total


@ayo.workflow
async def appends_to_a_module_list(question: str) -> list[str]:
    HISTORY.append(question)
    answer = await ayo.llm(question, max_tokens=2)
    HISTORY.append(answer)
    return HISTORY[-2:]


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
        (appends_to_a_module_list, ("q",), "HISTORY.append(question)", ["module-level list `HISTORY`"]),
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
