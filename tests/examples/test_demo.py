"""The demo answers a question with sources on a tiny corpus, ingests once, and compares."""

from __future__ import annotations

import pytest

import ayo_trace as ayo
from ayo_trace import demo
from ayo_trace.ir.params import Hit

TINY = ["--modules", "json", "--limit", "10"]
QUESTION = "How do I parse a JSON string?"


def test_title_of_a_stored_passage() -> None:
    assert demo.title_of("json.dumps: Serialize obj to a JSON formatted str.") == "json.dumps"
    assert demo.title_of(Hit("os.path.join: Join two or more paths.", 0.5)) == "os.path.join"


def test_arguments() -> None:
    args = demo.parse_args(["q one", "q two", "--compare", "--limit", "5", "--dsn", "postgresql://x"])
    assert args.questions == ["q one", "q two"]
    assert args.compare and args.limit == 5 and args.dsn == "postgresql://x"
    assert demo.parse_args([]).questions == []


def test_the_baseline_is_the_same_function_without_passes() -> None:
    assert demo.answer_unoptimized.fn is demo.answer.fn
    assert list(demo.answer_unoptimized.passes or []) == []
    traced = demo.answer.graph(QUESTION, "stdlib_x")
    assert {n.op for n in traced.nodes} >= {"search", "rerank", "llm"}
    optimized = demo.answer.graph(QUESTION, "stdlib_x", optimized=True)
    assert any(n.op == "llm_prefill" and n.attrs.get("shared") for n in optimized.nodes)


@pytest.mark.real
@pytest.mark.anyio
async def test_demo_answers_with_sources_then_reuses_the_corpus(
    on_real_runtime: ayo.Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    results = await demo.run([*TINY, QUESTION], runtime=on_real_runtime)
    out = capsys.readouterr().out

    assert "ingested 10 new passages" in out
    (result,) = results
    assert result.answer and f"A: {result.answer}" in out
    assert result.sources and all(s.startswith("json") for s in result.sources)
    assert f"sources: {', '.join(result.sources)}" in out
    assert "optimized graph:\ngraph answer(question)" in out

    again = await demo.run([*TINY, "--compare", QUESTION], runtime=on_real_runtime)
    out = capsys.readouterr().out
    assert "corpus already ingested" in out
    assert again[0].unoptimized_seconds is not None and "s unoptimized" in out
    assert again[0].answer == result.answer
    assert again[0].unoptimized_answer == result.answer


@pytest.mark.anyio
async def test_a_runtime_passed_in_must_be_the_current_one() -> None:
    previous = ayo.Runtime.set_default(ayo.Runtime(engines=[]))
    try:
        with pytest.raises(ValueError, match="current runtime"):
            await demo.run(["--limit", "1"], runtime=ayo.Runtime(engines=[]))
    finally:
        ayo.Runtime.set_default(previous)
