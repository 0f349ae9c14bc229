"""Placement is data: the Ray example config loads into EngineConfigs and a [runtime] table, and a
runtime built from it (``$AYO_TRACE_CONFIG``) runs on Ray; nothing here starts Ray."""

from __future__ import annotations

from pathlib import Path

import pytest

import ayo_trace as ayo
from ayo_trace.backend.config import DEFAULT_BACKENDS, load_runtime_options

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ray_cluster.toml"


def test_the_ray_example_config_loads() -> None:
    configs = {c.name: c for c in ayo.load_config(EXAMPLE)}

    assert list(configs) == ["llm", "embed", "store", "rerank"]
    llm = configs["llm"]
    assert (llm.backend, llm.instances, llm.num_cpus, llm.num_gpus) == ("llama_cpp", 2, 0.5, 0.0)
    assert llm.ray_options == {"max_restarts": 3}
    assert llm.options == {"n_ctx": 2048, "n_seq_max": 8}
    assert sum(c.num_cpus * c.instances for c in configs.values() if c.backend != "likelihood") <= 2
    assert configs["rerank"].options == {"llm": "llm"}
    assert load_runtime_options(EXAMPLE) == {"cluster": "ray"}


def test_a_runtime_from_the_config_file_runs_on_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AYO_TRACE_CONFIG", str(EXAMPLE))

    rt = ayo.Runtime()

    assert rt.cluster == "ray" and rt.ray_address is None
    assert ayo.Runtime(cluster="local").cluster == "local"  # an argument wins over the file


@pytest.mark.parametrize("kind", sorted(DEFAULT_BACKENDS))
def test_a_config_without_backend_gets_the_kinds_default(kind: str) -> None:
    assert ayo.EngineConfig("x", kind=kind, num_cpus=1).backend == DEFAULT_BACKENDS[kind]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('[runtime]\ncluster = "k8s"\n', "cluster must be one of"),
        ('[runtime]\nclsuter = "ray"\n', "unknown keys"),
    ],
)
def test_a_bad_runtime_table_is_refused(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "engines.toml"
    path.write_text(text)

    with pytest.raises(ayo.ConfigError, match=match):
        load_runtime_options(path)


def test_bad_placement_is_refused() -> None:
    with pytest.raises(ayo.ConfigError, match="cluster must be one of"):
        ayo.Runtime(engines=[], cluster="k8s")
    with pytest.raises(ayo.ConfigError, match="num_cpus and num_gpus must be >= 0"):
        ayo.EngineConfig("llm", kind="llm", num_gpus=-1)
