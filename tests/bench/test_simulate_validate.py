"""bench/simulate_validate.py (``bench/simulate.py --validate``): the simulated LLM says as many tokens
as the real one did for each workflow's question, the comparison's ratios and within-15% verdicts,
and the whole pipeline (real run, saved, simulated again from the file) on scripted engines."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.testing import tokenize
from bench import simulate_validate as V

pytest.importorskip("trio", reason="trio is in the 'dev' extra")


def test_the_script_says_as_many_tokens_as_the_real_llm_did_for_that_workflow() -> None:
    script = V.Script(
        chars_per_token=4.0,
        answers={"naive_rag": {"Why?": "Because of it."}, "expanded_rag": {"Why?": "No."}},
        rewrites={"expanded_rag": {"Why?": "a b\nc d e f g h\n"}},
    )
    naive, expanded = script.of("naive_rag"), script.of("expanded_rag")
    answer = naive("Answer:\nQuestion: Why?\nAnswer:")
    assert answer.endswith("\n") and len(answer.split()) == 4  # 14 characters: 4 tokens
    assert len(expanded("Answer:\nQuestion: Why?\nAnswer:").split()) == 1  # its own answer: 3 characters
    lines = expanded("Queries:\nQuestion: Why?\nQueries:\n").split("\n\n")[0].split("\n")
    assert [len(ln.split()) for ln in lines] == [1, 3]  # 3 and 11 characters
    assert naive("Answer:\nQuestion: unknown\nAnswer:") == " \n"  # no recorded answer: no tokens
    again = V.Script.from_dict(json.loads(json.dumps(script.to_dict())), 4.0)
    assert again.of("naive_rag")("Question: Why?\nAnswer:") == answer


def row(p50: float, qps: float, failed: tuple[int, int] = (0, 0), variant: str = "optimized") -> V.Row:
    return V.Row("naive_rag", variant, 4, 2.0, p50, 1.0, qps, failed[0], failed[1], "llm")


def test_a_row_is_within_15_percent_on_either_side_and_never_with_failed_queries() -> None:
    assert row(2.3, 0.85).within(row(2.3, 0.85).p50_ratio)  # 1.15x: on the bar
    assert row(1.7, 1.0).p50_ratio == pytest.approx(0.85) and row(1.7, 1.0).within(0.85)
    assert not row(2.4, 1.0).within(row(2.4, 1.0).p50_ratio)  # 1.2x
    failed = row(2.0, 1.0, failed=(1, 0))
    assert failed.p50_ratio == 1.0 and not failed.within(failed.p50_ratio)
    assert math.isnan(V.Row("w", "v", 1, math.nan, 1.0, 0.0, 1.0, 0, 0, "llm").p50_ratio)


def test_the_table_gives_each_row_its_ratio_and_verdict_and_the_verdict_counts_them() -> None:
    rows = [row(2.2, 1.1), row(3.0, 0.5, variant="unoptimized"), row(2.0, 1.0, (0, 2), variant="eager")]
    lines = V.table(rows).splitlines()
    assert "predicted / measured" in lines[0] and "within 15%" in lines[0]
    cells = [[c.strip() for c in line.split("|")[1:-1]] for line in lines[2:]]
    assert cells[0][5:7] == ["1.10", "yes"] and cells[0][9:11] == ["1.10", "yes"]
    assert cells[1][5:7] == ["1.50", "no"] and cells[1][9:11] == ["0.50", "no"]
    assert cells[2][6] == cells[2][10] == "failed" and cells[2][11] == "0 / 2"
    text = V.verdict(rows)
    assert "p50 latency: 1 of 3 within 15%; worst naive_rag/unoptimized/c=4 (predicted 1.50x" in text
    assert "throughput: 1 of 3 within 15%; worst naive_rag/unoptimized/c=4 (predicted 0.50x" in text
    assert "failed queries (not comparable): naive_rag/eager/c=4" in text


def test_the_script_uses_the_real_tokenizers_count_where_it_has_one() -> None:
    script = V.Script(chars_per_token=4.0, answers={"naive_rag": {"Why?": "Because of it."}})
    script.tokens = {"Because of it.": 2}
    assert len(script.of("naive_rag")("Question: Why?\nAnswer:").split()) == 2
    assert script.texts() == ["Because of it."]


@pytest.mark.timeout(300)
def test_the_pipeline_runs_on_scripted_engines_and_simulates_a_saved_run_again(tmp_path: Path) -> None:
    saved, out = tmp_path / "real.json", tmp_path / "validate.json"
    argv = ["--scripted", "1", "--queries", "2", "--concurrency", "1", "2", "--json", str(out)]
    argv += ["--variants", "unoptimized", "optimized"]
    rows = V.main([*argv, "--save-real", str(saved)])
    assert [(r.workflow, r.variant, r.concurrency) for r in rows] == [
        (w, v, c) for w in ("naive_rag", "expanded_rag") for v in ("unoptimized", "optimized") for c in (1, 2)
    ]
    for r in rows:  # every figure on both sides (how close they are is timing: not asserted here)
        assert r.measured_p50 > 0 and r.predicted_p50 > 0 and r.measured_qps > 0 and r.predicted_qps > 0
        assert not r.failed and math.isfinite(r.p50_ratio) and math.isfinite(r.qps_ratio)
    written = json.loads(out.read_text())
    assert len(written["rows"]) == 8 and "within 15%" in written["verdict"]

    real = json.loads(saved.read_text())
    script = V.Script.from_dict(real["script"], 4.0)
    assert set(script.answers) == {"naive_rag", "expanded_rag"} and set(script.rewrites) == {"expanded_rag"}
    assert script.tokens and all(n == len(tokenize(t)) for t, n in script.tokens.items())
    assert "before" in real["real"]["load_average"]
    again = V.main([*argv, "--real", str(saved)])  # simulated again from the file, the same prediction
    assert [r.predicted_p50 for r in again] == pytest.approx([r.predicted_p50 for r in rows])
    assert [r.measured_p50 for r in again] == [r.measured_p50 for r in rows]
    for how in ("block", "variant"):  # calibrated to the saved run's busy time: every row compared
        calibrated = V.main([*argv, "--real", str(saved), "--calibrate", how])
        assert [r.measured_p50 for r in calibrated] == [r.measured_p50 for r in rows]
        assert all(math.isfinite(r.p50_ratio) and not r.failed for r in calibrated)


def test_the_scripted_profile_has_the_scripted_engines_costs() -> None:
    profile = V.scripted_profile(10)
    llm = profile.engines["llm"]
    assert llm.ops["decode"].seconds(items=1, steps=3) == pytest.approx(5e-3 + 3 * 0.02)
    assert llm.ops["decode"].seconds(items=4, steps=1) == pytest.approx(5e-3 + 0.02 * 1.3)  # 1 + 0.1 x 3
    assert profile.engines["rerank"].ops["score"].seconds(items=20) == pytest.approx(0.01 + 20 * 5e-3)
    assert 3 < llm.chars_per_token < 9  # words with their space


def test_a_point_the_real_run_lacks_is_compared_as_not_available() -> None:
    class Sim:  # what compare reads of a SimResult
        p50, throughput_qps, errors, bottleneck = 1.0, 2.0, (), "llm"

    real = {
        "workflows": {"naive_rag": {"variants": {"optimized": {"1": {"p50": 0.5, "qps": 2.0, "errors": []}}}}}
    }
    rows = V.compare(real, {("naive_rag", "optimized", 1): Sim(), ("naive_rag", "optimized", 4): Sim()})  # type: ignore[dict-item]
    assert rows[0].p50_ratio == 2.0 and rows[0].qps_ratio == 1.0
    assert math.isnan(rows[1].measured_p50) and math.isnan(rows[1].p50_ratio)
    assert V.table(rows).splitlines()[-1].count("| n/a |") == 2
    assert V.verdict(rows).startswith(
        "p50 latency: 0 of 2 within 15%; worst naive_rag/optimized/c=1 (predicted 2.00x"
    )


def test_the_mean_of_profiles_averages_every_cost_and_the_decode_steps_they_share() -> None:
    from bench.measure_profile import mean_profile

    slow, fast = V.scripted_profile(3), V.scripted_profile(1)
    fast = fast.with_engine(
        "llm",
        ops={**fast.engines["llm"].ops, "decode": ayo.Cost(per_step_s=((1, 0.002), (2, 0.0022), (4, 1.0)))},
    )
    mean = mean_profile([slow, fast], "test")
    llm = mean.engines["llm"].ops
    assert llm["prefill"].fixed_s == pytest.approx(2 * 5e-4)
    assert llm["prefill"].per_token_s == pytest.approx(4e-5)
    # the slow decode has a fixed cost the fast one lacks (left out of its JSON as zero): half of it
    assert llm["decode"].fixed_s == pytest.approx(1.5e-3 / 2)
    assert llm["decode"].per_step_s == ((1, pytest.approx(0.004)), (2, pytest.approx(0.0044)))  # shared sizes
    assert mean.engines["rerank"].ops["score"].per_item_s == pytest.approx(1e-3)
    assert mean.source == "test" and "mean of 2" in llm["prefill"].source


@pytest.mark.timeout(300)
def test_an_interleaved_run_simulates_each_block_on_the_profiles_measured_around_it() -> None:
    from bench import e2e
    from bench.e2e_engines import scripted_engines

    scales = iter([1.0, 3.0, 5.0])
    measured_with: list[int] = []

    async def between(engines: Sequence[Any]) -> ayo.SimProfile:
        measured_with.append(len(engines))
        return V.scripted_profile(next(scales))

    async def engines() -> list[Any]:
        return scripted_engines(1.0)

    opts = e2e.Options(
        workflows=["naive_rag"], concurrency=[1, 2], queries=2, bound_queries=1, variants=["optimized"]
    )
    real, _script, profiles = asyncio.run(V.real_run(opts, engines, between))
    assert real["blocks"] == ["naive_rag/c=1", "naive_rag/c=2"] and len(profiles) == 3
    assert measured_with == [4, 4, 4]  # the run's own engines, between its blocks
    blocks = V.block_profiles(real, profiles)
    for block, scale in (("naive_rag/c=1", 2.0), ("naive_rag/c=2", 4.0)):  # the mean of the two around it
        assert blocks[block].engines["llm"].ops["prefill"].per_token_s == pytest.approx(2e-5 * scale)
    with pytest.raises(ValueError, match="expected one more"):
        V.block_profiles(real, profiles[:2])
