"""Engine configuration: what to run, where, and how its scheduler batches.

An ``EngineConfig`` names one logical engine (``"llm"``, ``"embed"``, ...) and says which adapter
(``backend``) serves it with which model, how many instances run it and how its engine scheduler
batches (``BatchPolicy``). ``build_engine`` turns a config into an engine object through a table of
lazy imports, so a heavy library (torch, llama_cpp, vllm, psycopg) is imported only when an engine
that needs it is built. ``load_config`` reads a list of configs from TOML (``load_runtime_options``
reads the file's optional ``[runtime]`` table: ``cluster = "ray"``, ``ray_address``)::

    [[engine]]
    name = "llm"
    kind = "llm"
    backend = "llama_cpp"
    threads = 2
    batch = { max_batch = 8, max_wait_s = 0.002 }

    [[engine]]
    name = "rerank"
    kind = "rerank"
    backend = "likelihood"
    options = { llm = "llm" }
"""

from __future__ import annotations

import importlib
import inspect
import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .engines.base import Engine

log = logging.getLogger("ayo_trace.config")

KINDS = ("llm", "embedding", "rerank", "vector_store")
# The adapter of each kind when a config names none: the offline defaults.
DEFAULT_BACKENDS = {
    "llm": "llama_cpp",
    "embedding": "sentence_transformers",
    "rerank": "likelihood",
    "vector_store": "pgvector",
}


@dataclass(frozen=True)
class BatchPolicy:
    """How an engine scheduler forms batches.

    ``max_batch`` bounds a batch (LLM requests or decode sessions, texts to embed, rerank requests);
    ``max_wait_s`` bounds how long the first request of a batch waits for others to join;
    ``token_budget`` bounds the prompt tokens of one prefill batch (None: no bound). A single
    request larger than a bound still runs, alone.
    """

    max_batch: int = 16
    max_wait_s: float = 0.002
    token_budget: int | None = None

    def __post_init__(self) -> None:
        if self.max_batch < 1:
            raise ConfigError(f"max_batch must be at least 1, got {self.max_batch}")
        if self.max_wait_s < 0:
            raise ConfigError(f"max_wait_s must be >= 0, got {self.max_wait_s}")
        if self.token_budget is not None and self.token_budget < 1:
            raise ConfigError(f"token_budget must be at least 1, got {self.token_budget}")


UNBATCHED = BatchPolicy(max_batch=1, max_wait_s=0.0)


@dataclass(frozen=True)
class EngineConfig:
    """One logical engine: ``instances`` copies of one adapter, each with its own scheduler.

    ``kind`` is one of ``"llm"``, ``"embedding"``, ``"rerank"``, ``"vector_store"``; ``backend`` picks
    the adapter (see ``BACKENDS``; left out: the kind's offline default, ``DEFAULT_BACKENDS``).
    ``options`` are passed to the adapter's constructor as keyword arguments after the common fields it accepts
    (``model``, ``device``, ``threads``, ``dsn``, ``data_dir``); for ``backend="likelihood"`` the
    option ``llm`` names the LLM engine it scores with.

    Placement on a Ray cluster (``Runtime(cluster="ray")``): each instance is one actor reserving
    ``num_cpus`` and ``num_gpus``; ``ray_options`` are further actor options (``max_restarts``,
    ``resources``, ``scheduling_strategy``, ``runtime_env``, ``memory``, ...). In-process runtimes
    ignore the three.
    """

    name: str
    kind: str
    backend: str = ""  # empty: the kind's default
    model: str | None = None
    instances: int = 1
    device: str = "cpu"
    threads: int | None = None
    batch: BatchPolicy = field(default_factory=BatchPolicy)
    max_queue: int = 1024
    dsn: str | None = None
    data_dir: str | None = None
    num_gpus: float = 0.0
    num_cpus: float = 1.0
    options: Mapping[str, Any] = field(default_factory=dict, hash=False)
    ray_options: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"engine {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        if not self.backend:
            object.__setattr__(self, "backend", DEFAULT_BACKENDS[self.kind])
        if self.backend not in BACKENDS:
            raise ConfigError(
                f"engine {self.name!r}: unknown backend {self.backend!r}; known: {sorted(BACKENDS)}"
            )
        if BACKENDS[self.backend].kind not in (self.kind, "any"):
            raise ConfigError(
                f"engine {self.name!r}: backend {self.backend!r} serves kind "
                f"{BACKENDS[self.backend].kind!r}, not {self.kind!r}"
            )
        if self.instances < 1:
            raise ConfigError(f"engine {self.name!r}: instances must be at least 1")
        if self.max_queue < 1:
            raise ConfigError(f"engine {self.name!r}: max_queue must be at least 1")
        if self.num_cpus < 0 or self.num_gpus < 0:
            raise ConfigError(f"engine {self.name!r}: num_cpus and num_gpus must be >= 0")
        if isinstance(self.batch, Mapping):
            object.__setattr__(self, "batch", BatchPolicy(**self.batch))
        object.__setattr__(self, "options", dict(self.options))
        object.__setattr__(self, "ray_options", dict(self.ray_options))


@dataclass(frozen=True)
class Backend:
    """Where an adapter lives (imported only when built) and the kind of engine it serves."""

    module: str
    cls: str
    kind: str
    loop_bound: bool = False  # holds event-loop-bound resources: restart it in a new event loop


_KINDS_CLASSES = {"llm": "LLM", "embedding": "Embedder", "rerank": "Reranker", "vector_store": "Store"}
BACKENDS: dict[str, Backend] = {
    "llama_cpp": Backend("ayo_trace.backend.engines.llama_cpp", "LlamaCppEngine", "llm"),
    "transformers": Backend("ayo_trace.backend.engines.transformers_llm", "TransformersEngine", "llm"),
    "vllm": Backend("ayo_trace.backend.engines.vllm_llm", "VLLMEngine", "llm", loop_bound=True),
    "sentence_transformers": Backend(
        "ayo_trace.backend.engines.sentence_transformers", "SentenceTransformerEmbedder", "embedding"
    ),
    "cross_encoder": Backend(
        "ayo_trace.backend.engines.sentence_transformers", "CrossEncoderReranker", "rerank"
    ),
    "likelihood": Backend("ayo_trace.backend.engines.likelihood_rerank", "LikelihoodReranker", "rerank"),
    "pgvector": Backend(
        "ayo_trace.backend.engines.pgvector_store", "PgVectorStore", "vector_store", loop_bound=True
    ),
    "scripted": Backend("ayo_trace.testing", "", "any"),
    # the simulator's engines: service times from a profile, in virtual time (ayo_trace/simulator)
    "profile": Backend("ayo_trace.simulator.engines", "", "any"),
}

# The class of each kind, for the backends that serve every kind.
_BY_KIND = {
    "scripted": {k: f"Scripted{c}" for k, c in _KINDS_CLASSES.items()},
    "profile": {k: f"Profile{c}" for k, c in _KINDS_CLASSES.items()},
}

# Config fields passed to an adapter's constructor when it accepts a parameter of that name.
_COMMON = ("model", "device", "threads", "dsn", "data_dir")
# Other spellings adapters use for the same thing.
_ALIASES = {"model": ("model_path", "model_name"), "threads": ("n_threads",)}


def build_engine(
    config: EngineConfig, engines_by_name: Mapping[str, Engine] | None = None, *, instance: int = 0
) -> Engine:
    """Build (not start) one instance of ``config``'s engine; imports its adapter module now.

    ``engines_by_name`` holds engines built before this one: an adapter that wraps another engine
    (``likelihood`` wraps an LLM) finds it there by the name in ``options["llm"]``.
    """
    backend = BACKENDS[config.backend]
    cls_name = _BY_KIND[config.backend][config.kind] if config.backend in _BY_KIND else backend.cls
    try:
        module = importlib.import_module(backend.module)
    except ImportError as exc:
        raise ConfigError(
            f"engine {config.name!r}: backend {config.backend!r} needs {backend.module}, "
            f"which failed to import: {exc}"
        ) from exc
    cls = getattr(module, cls_name, None)
    if cls is None:
        raise ConfigError(f"engine {config.name!r}: {backend.module} has no {cls_name}")
    name = config.name if config.instances == 1 else f"{config.name}#{instance}"
    kwargs = _constructor_kwargs(cls, config)
    args: list[Any] = []
    if config.backend == "likelihood":
        llm_name = str(config.options.get("llm", "llm"))
        llm = (engines_by_name or {}).get(llm_name)
        if llm is None:
            raise ConfigError(
                f"engine {config.name!r}: the likelihood reranker scores with LLM engine {llm_name!r}, "
                "which is not configured before it"
            )
        args.append(llm)
        kwargs.pop("llm", None)
    try:
        engine = cls(*args, name=name, **kwargs)
    except TypeError as exc:
        raise ConfigError(f"engine {config.name!r}: cannot build {cls_name}: {exc}") from exc
    if not isinstance(engine, Engine):
        raise ConfigError(f"engine {config.name!r}: {cls_name} is not an Engine")
    log.debug("built engine %s (%s)", name, cls_name)
    return engine


def _constructor_kwargs(cls: type, config: EngineConfig) -> dict[str, Any]:
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        params = {}  # type: ignore[assignment]
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs: dict[str, Any] = {}
    for key in _COMMON:
        value = getattr(config, key)
        if value is None or (key == "device" and value == "cpu" and "device" not in params):
            continue
        for spelling in (key, *_ALIASES.get(key, ())):
            if spelling in params:
                kwargs[spelling] = value
                break
        else:
            if takes_any and key != "device":
                kwargs[key] = value
    kwargs.update(config.options)
    return kwargs


def load_config(path: str | Path) -> list[EngineConfig]:
    """Engine configs from a TOML file with one ``[[engine]]`` table per engine."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read engine config {path}: {exc}") from exc
    return configs_from_dicts(data.get("engine", []), source=str(path))


CLUSTERS = ("local", "ray")
_RUNTIME_KEYS = ("cluster", "ray_address")


def load_runtime_options(path: str | Path) -> dict[str, Any]:
    """The ``[runtime]`` table of an engine config file (``cluster``, ``ray_address``), or ``{}``."""
    try:
        with open(path, "rb") as f:
            table = tomllib.load(f).get("runtime", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read engine config {path}: {exc}") from exc
    if not isinstance(table, Mapping):
        raise ConfigError(f"{path}: [runtime] must be a table")
    unknown = set(table) - set(_RUNTIME_KEYS)
    if unknown:
        raise ConfigError(f"{path}: [runtime]: unknown keys {sorted(unknown)}; known: {list(_RUNTIME_KEYS)}")
    if table.get("cluster", "local") not in CLUSTERS:
        raise ConfigError(f"{path}: [runtime]: cluster must be one of {CLUSTERS}, got {table['cluster']!r}")
    return dict(table)


def configs_from_dicts(items: list[Mapping[str, Any]], *, source: str = "config") -> list[EngineConfig]:
    known = {f.name for f in fields(EngineConfig)}
    out: list[EngineConfig] = []
    for i, item in enumerate(items):
        unknown = set(item) - known
        if unknown:
            raise ConfigError(
                f"{source}: engine #{i}: unknown keys {sorted(unknown)}; known: {sorted(known)}"
            )
        try:
            out.append(EngineConfig(**item))
        except TypeError as exc:
            raise ConfigError(f"{source}: engine #{i}: {exc}") from exc
    names = [c.name for c in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"{source}: engine names must be unique, got {names}")
    return out


def default_configs() -> list[EngineConfig]:
    """The offline defaults: llama.cpp LLM, MiniLM embedder, embedded pgvector, likelihood reranker."""
    return [
        EngineConfig(name="llm", kind="llm", backend="llama_cpp"),
        EngineConfig(name="embed", kind="embedding", backend="sentence_transformers"),
        EngineConfig(name="store", kind="vector_store", backend="pgvector"),
        EngineConfig(name="rerank", kind="rerank", backend="likelihood", options={"llm": "llm"}),
    ]


__all__ = [
    "BACKENDS",
    "CLUSTERS",
    "DEFAULT_BACKENDS",
    "UNBATCHED",
    "BatchPolicy",
    "EngineConfig",
    "build_engine",
    "default_configs",
    "load_config",
    "load_runtime_options",
]
