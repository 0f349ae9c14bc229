"""Every example runs on the real engines with its small inputs, prints its traced and optimized
graphs (text and Mermaid) and its result, and its optimized result equals the eager one."""

from __future__ import annotations

import pytest

import ayo_trace as ayo

from .conftest import load_example

pytestmark = [pytest.mark.real, pytest.mark.anyio]

# example file -> the workflow it runs
WORKFLOWS = {
    "naive_rag": "naive_rag",
    "query_expansion": "expand_and_answer",
    "map_reduce": "summarize",
    "multi_branch": "answer",
}


def assert_printed_graphs(out: str) -> None:
    for label in ("traced", "optimized"):
        assert f"--- {label} graph ---\ngraph " in out
        assert f"--- {label} graph (Mermaid) ---\nflowchart" in out


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
async def test_example_optimized_equals_eager(
    name: str, on_real_runtime: ayo.Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    example = load_example(name)
    optimized = await example.run(small=True)
    out = capsys.readouterr().out
    eager = await getattr(example, WORKFLOWS[name]).eager(**example.SMALL_INPUTS)

    assert optimized == eager
    assert isinstance(optimized, str) and optimized.strip()
    assert_printed_graphs(out)
    assert optimized.strip() in out


async def test_ayo_styles_optimized_equals_as_built(
    on_real_runtime: ayo.Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    example = load_example("ayo_styles")
    optimized = await example.run(small=True)
    out = capsys.readouterr().out
    as_built = await example.run(small=True, passes=[])

    assert optimized == as_built
    assert set(optimized) == {"dag", "pipeline"}
    assert all(isinstance(v, str) and v.strip() for v in optimized.values())
    assert out.count("--- optimized graph (Mermaid) ---") == 2
    assert "IndexingModule(collection='example_pipeline') >> QueryExpandingModule(" in out
