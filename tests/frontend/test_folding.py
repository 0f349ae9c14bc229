"""Static folding: literal lists, dicts and subscripts of static values are known at trace time, so
they can be a primitive's static arguments; the same shapes over traced values stay traced."""

from __future__ import annotations

import ayo_trace as ayo

LIMITS = {"short": 8, "long": 64}
STOPS = ["\n\n", "Question:"]


@ayo.workflow
async def literal_arguments(question: str) -> str:
    return await ayo.llm(
        f"Question: {question}\nAnswer:",
        stop=["\n", STOPS[1]],
        max_tokens=LIMITS["short"] + [0, 1][1],
    )


def test_literal_lists_dicts_and_subscripts_fold_into_static_arguments() -> None:
    graph = literal_arguments.graph("q")
    (llm,) = [n for n in graph.nodes if n.op == "llm"]
    sampling = llm.attrs["sampling"]
    assert (sampling.max_tokens, sampling.stop) == (9, ("\n", "Question:"))
    assert "max_tokens=9, stop=('\\n', 'Question:')" in str(graph)


def test_a_list_over_traced_values_is_not_static() -> None:
    @ayo.workflow
    async def traced_stop(question: str) -> str:
        return await ayo.llm(question, stop=[question])

    # not a graph constant: the call runs eagerly, as a graph break (see test_run_time_constants)
    (node,) = [n for n in traced_stop.graph("q").walk() if n.op == "break"]
    assert node.attrs["reason"].startswith("`stop=` of ayo.llm() is computed when the workflow runs")
