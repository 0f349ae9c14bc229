"""Finding workflows named on the command line: ``path/to/app.py:name`` or ``package.module:name``."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.util
import inspect
import json
import sys
from pathlib import Path
from typing import Any

from ..frontend.workflow import Workflow


class AppError(Exception):
    """A workflow reference that cannot be loaded, or arguments that cannot be used."""


def load_workflow(ref: str) -> tuple[str, Workflow]:
    """The workflow ``ref`` names and its name (the part after the colon). A file is imported as a
    module of its own, with its folder on ``sys.path`` (so it can import its neighbours)."""
    where, sep, name = ref.rpartition(":")
    if not sep or not where or not name:
        raise AppError(f"{ref!r}: expected path/to/app.py:workflow or package.module:workflow")
    module = _load_module(where)
    obj: Any = module
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise AppError(f"{ref!r}: {where} has no {name!r}")
    if not isinstance(obj, Workflow):
        raise AppError(f"{ref!r}: {name!r} is a {type(obj).__name__}, not an @ayo.workflow")
    return name.rpartition(".")[2], obj


def _load_module(where: str) -> Any:
    if where.endswith(".py") or "/" in where or "\\" in where:
        path = Path(where).resolve()
        if not path.is_file():
            raise AppError(f"no such file: {where}")
        key = f"ayo_app_{path.stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
        if key in sys.modules:
            return sys.modules[key]
        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))
        spec = importlib.util.spec_from_file_location(key, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[key]
            raise
        return module
    try:
        return importlib.import_module(where)
    except ImportError as exc:
        raise AppError(f"cannot import {where}: {exc}") from exc


def parse_args(text: str | None) -> tuple[list[Any], dict[str, Any]]:
    """``--args`` JSON: an object (keyword arguments), a list (positional ones), or nothing."""
    if not text:
        return [], {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AppError(f"--args is not JSON: {exc}") from exc
    return split_args(value)


def split_args(value: Any) -> tuple[list[Any], dict[str, Any]]:
    """Positional and keyword arguments from decoded JSON: a list or an object."""
    if value is None:
        return [], {}
    if isinstance(value, list):
        return value, {}
    if isinstance(value, dict):
        return [], value
    raise AppError(f"arguments must be a JSON object or list, got {type(value).__name__}")


def placeholder_args(wf: Workflow) -> dict[str, Any]:
    """Arguments to trace ``wf`` with when none are given: its defaults, and ``""`` for each
    parameter without one (a traced value: only static arguments change the graph)."""
    params = list(inspect.signature(wf.signature_fn).parameters.values())
    return {
        p.name: ("" if p.default is inspect.Parameter.empty else p.default)
        for p in params
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def to_json(value: Any) -> Any:
    """``value`` as JSON data: dataclasses (``Hit``) and pydantic models (``parse=`` a model)
    become objects, tuples lists."""
    if callable(getattr(value, "model_dump", None)) and not isinstance(value, type):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: to_json(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


__all__ = ["AppError", "load_workflow", "parse_args", "placeholder_args", "split_args", "to_json"]
