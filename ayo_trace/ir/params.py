"""Frozen parameter dataclasses, passed once and carried by nodes and engine requests.

Each validates its values when it is made (``InvalidParams``, naming the parameter), so a value
that no engine can serve is refused where the user wrote it, never inside an engine batch that
other queries share.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

from ..errors import InvalidParams


def check_text(value: object, what: str) -> str:
    """``value`` if it is a string an engine can encode (UTF-8: no lone surrogates), else
    ``InvalidParams`` naming ``what``."""
    if not isinstance(value, str):
        raise InvalidParams(f"{what} must be a string, got {type(value).__name__}", param=what)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidParams(
            f"{what} is not valid Unicode text ({e.reason} at position {e.start}: "
            f"{value[e.start : e.end]!r}); remove or replace the lone surrogate",
            param=what,
        ) from None
    return value


def check_texts(texts: object) -> None:
    """``InvalidParams`` unless ``texts`` is a string or a list or tuple of strings (what
    ``ayo.embed`` takes)."""
    if isinstance(texts, str):
        check_text(texts, "text to embed")
        return
    if not isinstance(texts, list | tuple):
        raise InvalidParams(
            f"texts to embed must be a string or a list of strings, got {type(texts).__name__}", param="texts"
        )
    for t in texts:
        check_text(t, "text to embed")


def check_top_k(value: object) -> int:
    """``value`` if it is an int of at least 1 (a rerank's ``top_k``), else ``InvalidParams``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParams(f"top_k must be an int of at least 1, got {value!r}", param="top_k")
    return value


def check_collection(value: object) -> str:
    """``value`` if it is a non-empty string (a collection's name), else ``InvalidParams``."""
    if not isinstance(value, str) or not value:
        raise InvalidParams(f"collection= must be a non-empty str, got {value!r}", param="collection")
    return value


def check_passages(passages: object) -> None:
    """``InvalidParams`` unless ``passages`` is a list or tuple of strings (a bare string would be
    stored one character per row)."""
    if isinstance(passages, str) or not isinstance(passages, list | tuple):
        raise InvalidParams(
            f"passages must be a list of strings, got {type(passages).__name__} "
            "(wrap a single passage in a list)",
            param="passages",
        )
    for p in passages:
        check_text(p, "passage")


def _int(value: object, name: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise InvalidParams(f"{name} must be an integer, got {value!r}", param=name)
    if value < least:
        raise InvalidParams(f"{name} must be at least {least}, got {value}", param=name)
    return int(value)


def _real(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise InvalidParams(f"{name} must be a finite number, got {value!r}", param=name)
    return float(value)


@dataclass(frozen=True)
class SamplingParams:
    """How an LLM decodes. ``temperature == 0`` is greedy (the default, and what tests compare).

    ``max_tokens`` is an integer >= 1, ``temperature`` a finite number >= 0, ``top_p`` in (0, 1],
    ``stop`` a string or a sequence of non-empty strings, ``seed`` an integer or None.
    ``json_schema`` (JSON text, set from ``parse=`` a schema) constrains the output to JSON valid for
    that schema on engines that support constrained decoding; others ignore it.
    """

    max_tokens: int = 64
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None
    json_schema: str | None = None

    def __post_init__(self) -> None:
        _int(self.max_tokens, "max_tokens", 1)
        if _real(self.temperature, "temperature") < 0:
            raise InvalidParams(f"temperature must be >= 0, got {self.temperature}", param="temperature")
        top_p = _real(self.top_p, "top_p")
        if not 0.0 < top_p <= 1.0:
            raise InvalidParams(f"top_p must be in (0, 1], got {self.top_p}", param="top_p")
        if self.seed is not None:
            _int(self.seed, "seed", 0)
        object.__setattr__(self, "stop", _stops(self.stop))

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0


def _stops(stop: Any) -> tuple[str, ...]:
    if isinstance(stop, str):
        stop = (stop,)
    elif not isinstance(stop, Iterable) or isinstance(stop, bytes | bytearray | dict):
        raise InvalidParams(f"stop must be a string or a list of strings, got {stop!r}", param="stop")
    stops = tuple(stop)
    for s in stops:
        check_text(s, "stop")
        if not s:
            raise InvalidParams("stop strings must not be empty", param="stop")
    return stops


@dataclass(frozen=True)
class SearchParams:
    """Which collection to search (a non-empty string) and how many neighbours to return (>= 1)."""

    collection: str
    top_k: int = 4

    def __post_init__(self) -> None:
        if not isinstance(self.collection, str) or not self.collection:
            raise InvalidParams(
                f"collection must be a non-empty string, got {self.collection!r}", param="collection"
            )
        _int(self.top_k, "top_k", 1)


@dataclass(frozen=True)
class Hit:
    """A retrieved passage: its text, a score (higher is better) and where it came from."""

    text: str
    score: float
    id: int | None = None
    collection: str | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __str__(self) -> str:
        return self.text
