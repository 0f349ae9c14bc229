"""Simulation profiles: how long each engine takes, how many instances run it, and where they run.

A ``SimProfile`` maps engine names (the names workflows address: ``"llm"``, ``"embed"``, ``"store"``,
``"rerank"``) to ``EngineModel``s, and names the devices they run on with their capacity. Each
engine's calls cost, per operation (``Cost``)::

    seconds = fixed_s + per_item_s * items + per_token_s * tokens + per_output_token_s * outputs
              + steps * step_s(batch)

where ``items`` is the batch's size (prompts, texts, (query, passage) pairs, search queries, rows),
``tokens`` the input tokens it reads (characters / ``chars_per_token``), ``outputs`` those of them
whose next-token distribution the call computes (a likelihood score's continuation: each needs the
model's output layer, over the whole vocabulary, which a prompt token does not), and, for an LLM decode
round, ``steps`` the tokens each session advances and ``step_s(batch)`` the time of one step of a
batch of that many sessions (linear between the points of ``per_step_s``, and beyond the last two).
The operations of each kind (``OPS``): an LLM's ``prefill``, ``decode`` and ``score`` (likelihood
scoring, a prefill; defaults to ``prefill``'s cost), an embedder's ``embed``, a reranker's
``score``, a vector store's ``search`` and ``insert``.

Placement: every instance runs on a device (``device``: a name shared with other engines, a name
with ``{i}`` for one device per instance, or None for a device of its own). A device of
``capacity`` c (cores, or 1 for a GPU) serves its calls by processor sharing: while calls of total
``demand`` d run on it (an engine call's ``demand`` is the cores or the share of the device it
uses), each progresses at ``min(1, c / d)`` of its full speed. So engines on the same cores slow
each other, and engines on their own GPUs do not.

Profiles are plain data, saved and read as JSON (``load``/``save``); a ``source`` string on a
profile, an engine or a cost says where its figures come from.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..backend.config import BatchPolicy
from ..errors import ConfigError
from ..ir.ops import DEFAULT_ENGINE
from ..passes.cost import EngineProfile

OPS: Mapping[str, tuple[str, ...]] = {
    "llm": ("prefill", "decode", "score"),
    "embedding": ("embed",),
    "rerank": ("score",),
    "vector_store": ("search", "insert"),
}
REQUIRED: Mapping[str, tuple[str, ...]] = {
    "llm": ("prefill", "decode"),
    "embedding": ("embed",),
    "rerank": ("score",),
    "vector_store": ("search", "insert"),
}


@dataclass(frozen=True)
class Cost:
    """Seconds of one engine call at full speed (see the module docstring)."""

    fixed_s: float = 0.0
    per_item_s: float = 0.0
    per_token_s: float = 0.0
    per_step_s: tuple[tuple[int, float], ...] = ()
    source: str = ""
    per_output_token_s: float = 0.0

    def __post_init__(self) -> None:
        pts = tuple(sorted((int(b), float(s)) for b, s in self.per_step_s))
        object.__setattr__(self, "per_step_s", pts)
        values = [self.fixed_s, self.per_item_s, self.per_token_s, self.per_output_token_s]
        values += [s for _, s in pts]
        if any(not (0 <= v < math.inf) for v in values) or any(b < 1 for b, _ in pts):
            raise ConfigError(f"costs must be finite and >= 0, batch sizes >= 1: {self}")

    def step_s(self, batch: int) -> float:
        """Seconds of one decode step of ``batch`` sessions (linear in the points, and beyond)."""
        pts = self.per_step_s
        if not pts:
            return 0.0
        if len(pts) == 1 or batch <= pts[0][0]:
            return pts[0][1]
        for (b0, s0), (b1, s1) in itertools.pairwise(pts):
            if batch <= b1:
                return s0 + (s1 - s0) * (batch - b0) / (b1 - b0)
        (b0, s0), (b1, s1) = pts[-2], pts[-1]
        return s1 + (s1 - s0) * (batch - b1) / (b1 - b0)

    def seconds(self, items: int = 1, tokens: float = 0.0, steps: int = 0, outputs: float = 0.0) -> float:
        t = self.fixed_s + self.per_item_s * items + self.per_token_s * tokens
        t += self.per_output_token_s * outputs
        if steps:
            t += steps * self.step_s(items)
        return t


@dataclass(frozen=True)
class EngineModel:
    """One engine of a profile: its kind, per-operation costs, instances and placement.

    ``backend``: ``"profile"`` (served by a profile engine), or for a reranker ``"likelihood"``,
    which scores with the LLM engine named ``llm`` (the default reranker; its cost is the LLM's
    ``score``). ``batch`` is its scheduler's batching policy; ``max_sessions`` bounds the LLM
    sessions an instance holds (None: no bound); ``prefix_cache``: a shared constant prompt prefix
    is prefilled once and forked after (vLLM's prefix caching).
    """

    kind: str
    ops: Mapping[str, Cost] = field(default_factory=dict, hash=False)
    instances: int = 1
    device: str | None = None
    demand: float = 1.0
    batch: BatchPolicy = field(default_factory=BatchPolicy)
    backend: str = "profile"
    llm: str = "llm"
    max_sessions: int | None = None
    max_queue: int = 1024
    chars_per_token: float = 4.0
    prefix_cache: bool = True
    source: str = ""

    def __post_init__(self) -> None:
        if self.kind not in OPS:
            raise ConfigError(f"engine kind must be one of {sorted(OPS)}, got {self.kind!r}")
        ops = {k: v if isinstance(v, Cost) else Cost(**_cost_args(v)) for k, v in dict(self.ops).items()}
        unknown = set(ops) - set(OPS[self.kind])
        if unknown:
            raise ConfigError(
                f"a {self.kind} engine has no operations {sorted(unknown)}; known: {OPS[self.kind]}"
            )
        if self.backend == "profile":
            missing = [op for op in REQUIRED[self.kind] if op not in ops]
            if missing:
                raise ConfigError(f"a {self.kind} engine's profile needs the costs of {missing}")
        elif not (self.kind == "rerank" and self.backend == "likelihood"):
            raise ConfigError(
                f"backend must be 'profile' (or 'likelihood' for a reranker), got {self.backend!r}"
            )
        if self.kind == "llm" and "score" not in ops:
            ops["score"] = ops["prefill"]
        object.__setattr__(self, "ops", ops)
        if isinstance(self.batch, Mapping):
            object.__setattr__(self, "batch", BatchPolicy(**self.batch))
        if self.instances < 1 or self.demand <= 0 or self.chars_per_token <= 0:
            raise ConfigError(f"instances >= 1, demand > 0 and chars_per_token > 0 are needed: {self}")

    def device_of(self, name: str, instance: int) -> str:
        """The device instance ``instance`` of engine ``name`` runs on."""
        if self.device is None:
            return f"{name}#{instance}"
        return self.device.replace("{i}", str(instance))


def _cost_args(d: Mapping[str, Any]) -> dict[str, Any]:
    d = dict(d)
    if "per_step_s" in d:
        d["per_step_s"] = tuple(tuple(p) for p in d["per_step_s"])
    return d


@dataclass(frozen=True)
class SimProfile:
    """Engines by name and device capacities (a device not listed has capacity 1)."""

    engines: Mapping[str, EngineModel] = field(hash=False)
    devices: Mapping[str, float] = field(default_factory=dict, hash=False)
    name: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        engines = {
            k: v if isinstance(v, EngineModel) else _engine_from_dict(k, v)
            for k, v in dict(self.engines).items()
        }
        object.__setattr__(self, "engines", engines)
        object.__setattr__(self, "devices", {k: float(v) for k, v in dict(self.devices).items()})
        for name, e in engines.items():
            if e.backend == "likelihood" and engines.get(e.llm) is None:
                raise ConfigError(
                    f"engine {name!r} scores with LLM {e.llm!r}, which the profile does not have"
                )
        if any(c <= 0 for c in self.devices.values()):
            raise ConfigError(f"device capacities must be > 0: {self.devices}")

    def capacity(self, device: str) -> float:
        return self.devices.get(device, 1.0)

    def with_engine(self, name: str, **changes: Any) -> SimProfile:
        """This profile with engine ``name``'s fields changed (``instances=8``, ``device=...``)."""
        engines = dict(self.engines)
        engines[name] = dataclasses.replace(engines[name], **changes)
        return dataclasses.replace(self, engines=engines)

    def cost_profiles(self) -> dict[str, EngineProfile]:
        """The passes' cost model for these engines (``EngineProfile`` by engine name, and by kind
        for the default engine of each kind), so the
        compiler's estimates (chunk sizes, split decisions, priorities) describe them: pass it as a
        pass's ``profiles`` or to ``ayo.run_passes(..., profiles=...)``."""
        out: dict[str, EngineProfile] = {}
        for name, e in self.engines.items():
            if e.backend != "profile":
                continue
            op = {"llm": "prefill", "embedding": "embed", "rerank": "score", "vector_store": "insert"}[e.kind]
            c = e.ops[op]
            kw: dict[str, Any] = {}
            if e.kind == "llm":
                step = e.ops["decode"]
                one = step.step_s(1) or 1e-9
                points = sorted({1, *(b for b, _ in step.per_step_s)})
                kw = {
                    "decode_token_s": one,
                    "decode_speedup": tuple((b, b * one / max(step.step_s(b), 1e-12)) for b in points),
                }
            out[name] = EngineProfile(
                e.kind,
                fixed_s=c.fixed_s,
                per_item_s=c.per_item_s,
                per_token_s=c.per_token_s,
                max_batch=e.batch.max_batch,
                **kw,
            )
            if DEFAULT_ENGINE.get(e.kind) == name:  # what a node that names no engine uses
                out[e.kind] = out[name]
        return out

    # --- JSON ------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "source": self.source, "devices": dict(self.devices)}
        engines: dict[str, Any] = {}
        for name, e in self.engines.items():
            d = dataclasses.asdict(e)
            d["batch"] = dataclasses.asdict(e.batch)
            d["ops"] = {op: _cost_dict(c) for op, c in e.ops.items()}
            engines[name] = d
        out["engines"] = engines
        return out

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return path

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SimProfile:
        known = {"name", "source", "devices", "engines"}
        unknown = set(data) - known - {k for k in data if k.startswith("_")}
        if unknown:
            raise ConfigError(f"unknown profile keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(
            engines=data.get("engines", {}),
            devices=data.get("devices", {}),
            name=str(data.get("name", "")),
            source=str(data.get("source", "")),
        )

    @classmethod
    def load(cls, path: str | Path) -> SimProfile:
        """A profile from a JSON file (keys starting with ``_`` are comments)."""
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read simulation profile {path}: {exc}") from exc
        return cls.from_dict(data)


def _cost_dict(c: Cost) -> dict[str, Any]:
    d = dataclasses.asdict(c)
    d["per_step_s"] = [list(p) for p in c.per_step_s]
    return {k: v for k, v in d.items() if v not in (0.0, "", [])} or {"fixed_s": 0.0}


def _engine_from_dict(name: str, d: Mapping[str, Any]) -> EngineModel:
    fields_ = {f.name for f in dataclasses.fields(EngineModel)}
    unknown = set(d) - fields_ - {k for k in d if k.startswith("_")}
    if unknown:
        raise ConfigError(f"engine {name!r}: unknown keys {sorted(unknown)}; known: {sorted(fields_)}")
    try:
        return EngineModel(**{k: v for k, v in d.items() if k in fields_})
    except TypeError as exc:
        raise ConfigError(f"engine {name!r}: {exc}") from exc


__all__ = ["OPS", "Cost", "EngineModel", "SimProfile"]
