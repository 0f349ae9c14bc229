"""Engine factories: one explicit factory per backend, in a registry tests can extend."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import ayo_trace.backend.config as config_module
from ayo_trace.backend import EngineConfig, Runtime
from ayo_trace.backend.config import BACKENDS, Backend, build_engine, register_backend
from ayo_trace.backend.engines.base import Engine
from ayo_trace.errors import ConfigError
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore

pytestmark = pytest.mark.anyio


def test_production_config_does_not_name_the_test_doubles() -> None:
    tree = ast.parse(Path(config_module.__file__).read_text())
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    imports = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {"scripted", "ayo_trace.testing"} & strings
    assert "inspect" not in imports  # constructors are called explicitly, not introspected


def test_without_the_testing_module_scripted_is_an_unknown_backend() -> None:
    code = (
        "import ayo_trace\n"
        "from ayo_trace.errors import ConfigError\n"
        "try:\n"
        "    ayo_trace.EngineConfig('llm', 'llm', 'scripted')\n"
        "except ConfigError as exc:\n"
        "    print('refused:', exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("refused:") and "unknown backend 'scripted'" in out


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        ("llm", ScriptedLLM),
        ("embedding", ScriptedEmbedder),
        ("rerank", ScriptedReranker),
        ("vector_store", ScriptedStore),
    ],
)
def test_the_scripted_backend_builds_the_scripted_engine_of_each_kind(kind: str, cls: type[Engine]) -> None:
    engine = build_engine(EngineConfig("x", kind, "scripted", model="ignored", threads=3))
    assert type(engine) is cls and engine.name == "x"


class _Fixed(ScriptedLLM):
    """A scripted LLM that answers every prompt with its ``answer`` option."""

    def __init__(self, name: str, answer: str, model: str | None) -> None:
        super().__init__(name, lambda prompt: answer)
        self.model = model


def _fixed(config: EngineConfig, name: str, built: Mapping[str, Engine]) -> Engine:
    return _Fixed(name, model=config.model, **config.options)


@pytest.fixture
def fixed_backend() -> Any:
    register_backend("fixed", Backend("llm", _fixed))
    yield "fixed"
    del BACKENDS["fixed"]


async def test_a_registered_backend_is_one_entry_and_serves_a_runtime(fixed_backend: str) -> None:
    cfg = EngineConfig("llm", "llm", fixed_backend, model="m", options={"answer": " forty-two"})
    engine = build_engine(cfg)
    assert isinstance(engine, _Fixed) and engine.model == "m"
    async with Runtime(engines=[cfg]) as rt:
        assert await rt.llm("q:", _sampling()) == " forty-two"
    with pytest.raises(ConfigError, match="serves kind 'llm', not 'embedding'"):
        EngineConfig("embed", "embedding", fixed_backend)


def test_a_factory_that_rejects_an_option_is_a_config_error(fixed_backend: str) -> None:
    cfg = EngineConfig("llm", "llm", fixed_backend, options={"answer": "x", "colour": "red"})
    with pytest.raises(ConfigError, match=r"cannot build backend 'fixed'.*colour"):
        build_engine(cfg)


def test_a_backend_of_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ConfigError, match="kind must be one of"):
        register_backend("gpu_thing", Backend("gpu", _fixed))
    assert "gpu_thing" not in BACKENDS


def test_the_likelihood_factory_needs_its_llm_built_before_it() -> None:
    cfg = EngineConfig("rerank", "rerank", "likelihood", options={"llm": "llm"})
    with pytest.raises(ConfigError, match="not configured before it"):
        build_engine(cfg, {})


def _sampling() -> Any:
    from ayo_trace.ir.params import SamplingParams

    return SamplingParams(max_tokens=4)
