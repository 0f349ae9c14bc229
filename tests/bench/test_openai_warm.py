"""bench/openai_warm.py sends what it says: the cold variant the whole prompt (constant prefix and
question) with nothing ahead, the warm one the prefix ahead and then the same prompt, and no two
measurements share a prefix (so no server cache can serve a cold one). On a recording engine: what
is sent, not how long it takes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from ayo_trace.backend.engines.base import DecodeChunk, DecodeRequest, PrefillRequest
from bench import openai_warm
from tests.util import in_new_thread, run_in_new_loop


class Recorder:
    """The part of ``OpenAILLM`` the benchmark uses; ``prefills`` holds each session's requests."""

    def __init__(self) -> None:
        self.prefills: dict[str, list[PrefillRequest]] = {}
        self.decoded: list[str] = []

    async def prefill(self, batch: Sequence[PrefillRequest]) -> list[Any]:
        for r in batch:
            self.prefills.setdefault(r.session, []).append(r)
        return [None] * len(batch)

    async def decode(self, batch: Sequence[DecodeRequest], max_steps: int) -> list[DecodeChunk]:
        self.decoded += [r.session for r in batch]
        return [DecodeChunk(" Lisbon", True, "stop", 1) for _ in batch]

    async def release(self, sessions: Sequence[str]) -> None:
        pass

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def run(queries: int, shots: int) -> tuple[Recorder, dict[str, list[float]]]:
    engine = Recorder()
    times = run_in_new_loop(openai_warm.measure_on, engine, queries, shots)
    return engine, times


def test_cold_sends_the_whole_prompt_with_nothing_ahead_and_warm_the_prefix_first() -> None:
    engine, times = run(queries=2, shots=3)
    assert [len(v) for v in times.values()] == [2, 2]
    measured = engine.decoded[1:]  # after the warm-up
    cold = [engine.prefills[s] for s in measured if len(engine.prefills[s]) == 1]
    warm = [engine.prefills[s] for s in measured if len(engine.prefills[s]) == 2]
    assert len(cold) == len(warm) == 2
    for (whole,) in cold:
        assert not whole.ahead
        assert whole.text.startswith("Quiz ") and whole.text.count("\nAnswer:") == 3 + 1
    for head, tail in warm:
        assert head.ahead and head.text.startswith("Quiz ") and head.text.count("\nAnswer:") == 3
        assert not tail.ahead and tail.text.startswith("Question: ")


def test_no_two_measurements_share_a_prefix() -> None:
    engine, _ = run(queries=3, shots=2)
    firsts = [reqs[0].text.split(".", 1)[0] for s, reqs in engine.prefills.items() if s != "other"]
    assert len(firsts) == 1 + 2 * 3 and len(set(firsts)) == len(firsts)


def test_the_report_gives_time_to_first_token_without_and_with_warming() -> None:
    text = openai_warm.report({"cold": [0.3, 0.1, 0.2], "warm": [0.05, 0.1]})
    lines = text.splitlines()
    assert lines[2] == "| cold (no warming) | 200 | 100 | 300 |"
    assert lines[3] == "| warm (prefix prefilled ahead) | 75 | 50 | 100 |"
    assert lines[-1] == "median TTFT cold / warm: 2.67"


@pytest.mark.real
def test_the_smoke_mode_runs_end_to_end_on_a_real_server(
    openai_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    in_new_thread(openai_warm.main, ["--smoke", "--base-url", openai_server])  # it runs anyio.run
    out = capsys.readouterr().out
    assert "constant prefix:" in out and f"{openai_warm.SMOKE['queries']} queries" in out
    assert "| cold (no warming) |" in out and "| warm (prefix prefilled ahead) |" in out
    assert "median TTFT cold / warm:" in out
