"""Engine configuration: what to run, where, and how its scheduler batches.

An ``EngineConfig`` names one logical engine (``"llm"``, ``"embed"``, ...) and says which adapter
(``backend``) serves it with which model, how many instances run it and how its engine scheduler
batches (``BatchPolicy``). ``build_engine`` turns a config into an engine object with the factory its
backend names in ``BACKENDS`` (one explicit function per adapter, which imports the adapter when it
runs, so a heavy library (torch, llama_cpp, vllm, psycopg) is imported only when an engine that
needs it is built). ``load_config`` reads a list of configs from TOML (``load_runtime_options``
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

import logging
import tomllib
from collections.abc import Callable, Mapping
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
        if not BACKENDS[self.backend].serves(self.kind):
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


EngineFactory = Callable[[EngineConfig, str, Mapping[str, Engine]], Engine]
"""Builds one engine instance: ``(config, instance name, engines built before it) -> Engine``. It
imports its adapter module when called, so a heavy library is imported only when its engine is
built; it passes the config fields its adapter uses, then ``config.options`` as keywords."""


@dataclass(frozen=True)
class Backend:
    """One adapter: the ``kind`` of engine it serves (several as ``"llm|embedding"``; ``"any"``:
    every kind), its factory, and whether it holds event-loop-bound resources (restart it in a new
    event loop)."""

    kind: str
    factory: EngineFactory
    loop_bound: bool = False

    def serves(self, kind: str) -> bool:
        return self.kind == "any" or kind in self.kind.split("|")


def _fields(config: EngineConfig, **spelling: str) -> dict[str, Any]:
    """The config fields named in ``spelling`` that are set, under the adapter's parameter names
    (``model="model_path"`` passes ``config.model`` as ``model_path=``), then ``config.options``."""
    kwargs = {
        param: getattr(config, field_name)
        for field_name, param in spelling.items()
        if getattr(config, field_name) is not None
    }
    return {**kwargs, **config.options}


def _llama_cpp(config: EngineConfig, name: str, built: Mapping[str, Engine]) -> Engine:
    from .engines.llama_cpp import LlamaCppEngine

    return LlamaCppEngine(name=name, **_fields(config, model="model_path", threads="threads"))


def _transformers(config: EngineConfig, name: str, built: Mapping[str, Engine]) -> Engine:
    from .engines.transformers_llm import TransformersEngine

    return TransformersEngine(name=name, **_fields(config, model="model", threads="threads", device="device"))


def _vllm(config: EngineConfig, name: str, built: Mapping[str, Engine]) -> Engine:
    from .engines.vllm_llm import VLLMEngine

    return VLLMEngine(name=name, **_fields(config, model="model"))


def _sentence_transformers(config: EngineConfig, name: str, built: Mapping[str, Engine]) -> Engine:
    from .engines.sentence_transformers import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(
        name=name, **_fields(config, model="model_path", threads="threads", device="device")
    )


def _cross_encoder(config: EngineConfig, name: str, built: Mapping[str, Engine]) -> Engine:
    from .engines.sentence_transformers import CrossEncoderReranker

    return CrossEncoderReranker(
        name=name, **_fields(config, model="model_path", threads="threads", device="device")
    )


def _likelihood(config: EngineConfig, name: str, built: Mapping[str, Engine]) -> Engine:
    from .engines.base import LLMEngine
    from .engines.likelihood_rerank import LikelihoodReranker

    options = dict(config.options)
    llm_name = str(options.pop("llm", "llm"))
    llm = built.get(llm_name)
    if llm is None:
        raise ConfigError(
            f"engine {config.name!r}: the likelihood reranker scores with LLM engine {llm_name!r}, "
            "which is not configured before it"
        )
    if not isinstance(llm, LLMEngine):
        raise ConfigError(f"engine {config.name!r}: engine {llm_name!r} is not an LLM engine")
    return LikelihoodReranker(llm, name=name, **options)


def _openai(config: EngineConfig, name: str, built: Mapping[str, Engine]) -> Engine:
    from .engines.openai_engines import OpenAIEmbedder, OpenAILLM

    cls = OpenAILLM if config.kind == "llm" else OpenAIEmbedder
    return cls(name=name, **_fields(config, model="model"))


def _pgvector(config: EngineConfig, name: str, built: Mapping[str, Engine]) -> Engine:
    from .engines.pgvector_store import PgVectorStore

    return PgVectorStore(name=name, **_fields(config, dsn="dsn", data_dir="data_dir"))


# The adapters by the name a config's ``backend`` gives. Adding a backend is one entry here (or one
# ``register_backend`` call from outside the package). Tests register ``"scripted"`` (importing
# ``ayo_trace.testing`` does), so production code never names the test doubles.
BACKENDS: dict[str, Backend] = {
    "llama_cpp": Backend("llm", _llama_cpp),
    "transformers": Backend("llm", _transformers),
    "vllm": Backend("llm", _vllm, loop_bound=True),
    "sentence_transformers": Backend("embedding", _sentence_transformers),
    "cross_encoder": Backend("rerank", _cross_encoder),
    "likelihood": Backend("rerank", _likelihood),
    "pgvector": Backend("vector_store", _pgvector, loop_bound=True),
    "openai": Backend("llm|embedding", _openai, loop_bound=True),
}


def register_backend(name: str, backend: Backend) -> None:
    """Make ``backend`` buildable as ``EngineConfig(backend=name)`` in this process (registering a
    name again replaces its entry). Ray actors get the entries of the configs they host from the
    driver's process, so the factory must be importable there (a module-level function)."""
    if backend.kind != "any" and not all(k in KINDS for k in backend.kind.split("|")):
        raise ConfigError(
            f"backend {name!r}: kind must be one of {KINDS} (several as 'llm|embedding') or 'any', "
            f"got {backend.kind!r}"
        )
    BACKENDS[name] = backend


def build_engine(
    config: EngineConfig,
    engines_by_name: Mapping[str, Engine] | None = None,
    *,
    instance: int = 0,
    backend: Backend | None = None,
) -> Engine:
    """Build (not start) one instance of ``config``'s engine with its backend's factory (``backend``:
    that entry, when this process's ``BACKENDS`` may lack it, as in a Ray actor).

    ``engines_by_name`` holds engines built before this one: an adapter that wraps another engine
    (``likelihood`` wraps an LLM) finds it there by the name in ``options["llm"]``.
    """
    if backend is None:
        backend = BACKENDS.get(config.backend)
        if backend is None:
            raise ConfigError(
                f"engine {config.name!r}: unknown backend {config.backend!r}; known: {sorted(BACKENDS)}"
            )
    name = config.name if config.instances == 1 else f"{config.name}#{instance}"
    try:
        engine = backend.factory(config, name, engines_by_name or {})
    except ImportError as exc:
        raise ConfigError(
            f"engine {config.name!r}: backend {config.backend!r} failed to import its library: {exc}"
        ) from exc
    except TypeError as exc:
        raise ConfigError(f"engine {config.name!r}: cannot build backend {config.backend!r}: {exc}") from exc
    if not isinstance(engine, Engine):
        raise ConfigError(
            f"engine {config.name!r}: backend {config.backend!r} built {engine!r}, not an Engine"
        )
    log.debug("built engine %s (%s)", name, type(engine).__name__)
    return engine


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
    "Backend",
    "BatchPolicy",
    "EngineConfig",
    "build_engine",
    "default_configs",
    "load_config",
    "load_runtime_options",
    "register_backend",
]
