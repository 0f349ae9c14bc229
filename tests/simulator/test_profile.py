"""Simulation profiles: costs as documented, JSON round trips, clear errors for what cannot run."""

from __future__ import annotations

from pathlib import Path

import pytest

import ayo_trace as ayo
from ayo_trace.backend.engines.base import ScoreRequest
from ayo_trace.simulator.devices import Devices
from ayo_trace.simulator.engines import ProfileLLM
from tests.util import run_in_new_loop

LLM = {"prefill": {"fixed_s": 0.01, "per_token_s": 0.001}, "decode": {"per_step_s": [[1, 0.02], [9, 0.04]]}}


def test_a_cost_adds_its_terms_and_interpolates_the_step_time() -> None:
    c = ayo.Cost(fixed_s=0.5, per_item_s=0.1, per_token_s=0.01, per_step_s=((1, 0.02), (9, 0.04)))
    assert c.seconds(items=2, tokens=10) == pytest.approx(0.5 + 0.2 + 0.1)
    assert c.step_s(1) == pytest.approx(0.02)
    assert c.step_s(5) == pytest.approx(0.03)  # linear between the points
    assert c.step_s(17) == pytest.approx(0.06)  # and beyond the last two
    assert c.seconds(items=5, steps=3) == pytest.approx(0.5 + 0.5 + 3 * 0.03)
    assert ayo.Cost(per_step_s=((4, 0.1),)).step_s(64) == pytest.approx(0.1)  # one point: flat
    assert ayo.Cost(per_token_s=0.01, per_output_token_s=0.03).seconds(tokens=10, outputs=4) == pytest.approx(
        0.22
    )


def test_a_simulated_score_charges_its_continuation_tokens_as_outputs() -> None:
    # A likelihood score computes the output layer after each continuation token: those tokens cost
    # per_output_token_s on top of per_token_s (found profiling llama.cpp: a 24-token question costs
    # about three times a context token per token).
    cost = ayo.Cost(fixed_s=0.5, per_token_s=0.01, per_output_token_s=0.03)
    spec = ayo.EngineModel(
        "llm", ops={"prefill": cost, "decode": ayo.Cost(), "score": cost}, chars_per_token=1.0
    )
    spent: list[float] = []

    class Recorder:
        async def run(self, seconds: float, demand: float) -> None:
            spent.append(seconds)

    llm = ProfileLLM(spec=spec, devices=Devices())
    llm.device = Recorder()  # type: ignore[assignment]
    run_in_new_loop(lambda: llm.score([ScoreRequest("a" * 40, "b" * 6), ScoreRequest("c" * 20, "d" * 4)]))
    assert spent == [pytest.approx(0.5 + 0.01 * 70 + 0.03 * 10)]


def test_a_profile_round_trips_through_json(tmp_path: Path) -> None:
    profile = ayo.SimProfile(
        engines={
            "llm": {
                "kind": "llm",
                "ops": LLM,
                "instances": 2,
                "device": "gpu{i}",
                "batch": {"max_batch": 32},
            },
            "rerank": {"kind": "rerank", "backend": "likelihood", "llm": "llm"},
            "store": {
                "kind": "vector_store",
                "ops": {"search": {"fixed_s": 0.002}, "insert": {"per_item_s": 1e-4}},
            },
        },
        devices={"cpu": 8},
        name="t",
        source="made up for a test",
    )
    again = ayo.SimProfile.load(profile.save(tmp_path / "p.json"))
    assert again == profile and again.to_dict() == profile.to_dict()
    llm = again.engines["llm"]
    assert llm.ops["score"] == llm.ops["prefill"]  # scoring costs a prefill unless said otherwise
    assert llm.batch.max_batch == 32 and llm.device_of("llm", 1) == "gpu1"
    assert again.capacity("cpu") == 8 and again.capacity("gpu0") == 1
    assert again.with_engine("llm", instances=8).engines["llm"].instances == 8


@pytest.mark.parametrize(
    "engines, message",
    [
        ({"llm": {"kind": "llm", "ops": {"prefill": {}}}}, r"needs the costs of \['decode'\]"),
        ({"llm": {"kind": "llm", "ops": {**LLM, "embed": {}}}}, "has no operations"),
        ({"x": {"kind": "gpu"}}, "kind must be one of"),
        ({"rerank": {"kind": "rerank", "backend": "likelihood"}}, "scores with LLM 'llm'"),
        ({"llm": {"kind": "llm", "ops": LLM, "colour": 1}}, r"unknown keys \['colour'\]"),
        ({"llm": {"kind": "llm", "ops": {**LLM, "prefill": {"fixed_s": -1}}}}, "finite and >= 0"),
    ],
)
def test_a_profile_that_cannot_run_is_refused_clearly(engines: dict[str, object], message: str) -> None:
    with pytest.raises(ayo.ConfigError, match=message):
        ayo.SimProfile(engines=engines)  # type: ignore[arg-type]


def test_simulate_refuses_a_closed_and_an_open_loop_at_once() -> None:
    profile = ayo.SimProfile(engines={"llm": {"kind": "llm", "ops": LLM}})  # type: ignore[dict-item]
    with pytest.raises(ayo.ConfigError, match="not both"):
        ayo.simulate(ayo.llm, lambda i: {}, profile=profile, concurrency=2, rate=1.0)


def test_the_passes_cost_model_follows_the_profile() -> None:
    profile = ayo.SimProfile(
        engines={
            "llm": {"kind": "llm", "ops": LLM, "batch": {"max_batch": 9}},
            "embed": {"kind": "embedding", "ops": {"embed": {"fixed_s": 0.01, "per_token_s": 1e-4}}},
        }
    )  # type: ignore[arg-type]
    cost = profile.cost_profiles()
    assert cost["embedding"] is cost["embed"]  # the default engine of its kind, by kind too
    assert cost["embed"].latency(4, tokens=100) == pytest.approx(
        profile.engines["embed"].ops["embed"].seconds(4, 100)
    )
    llm = cost["llm"]
    assert llm.latency(1, tokens=100) == pytest.approx(0.01 + 0.1)
    # decoding 9 sessions a token each: one step of a batch of 9 (0.04 s), not 9 steps of one
    assert llm.latency(9, new_tokens=1) - llm.latency(9) == pytest.approx(0.04)
