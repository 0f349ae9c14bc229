"""``import`` statements in a workflow, known at trace time.

``import asyncio as aio`` or ``from json import dumps`` inside a workflow, or a helper it inlines,
is a ``python`` node binding the name when the graph runs, as Python binds it when the statement
runs. When the module is loaded already (in ``sys.modules``), what the statement binds is known at
trace time too (importing a loaded module again has no other effect), so the tracer reads the
name as that object where it needs a value now: ``aio.gather(...)`` is the ``gather`` it traces,
not a call computed when the workflow runs (a graph break). A module not loaded yet, and a relative
import, are only the node.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

import libcst as cst

from .values import Traced, Value


def know(env: dict[str, Value], stmt: cst.Import | cst.ImportFrom) -> None:
    """Mark the names ``stmt`` bound in ``env`` (traced values) with the objects it imports."""
    for name, value in (imported(stmt) or {}).items():
        if isinstance(now := env.get(name), Traced):
            env[name] = dataclasses.replace(now, imported=value)


def imported(stmt: cst.Import | cst.ImportFrom) -> dict[str, Any] | None:
    """The names ``stmt`` binds and their values, when every module it names is loaded; else None."""
    out: dict[str, Any] = {}
    if isinstance(stmt, cst.Import):
        for alias in stmt.names:
            dotted = _dotted(alias.name)
            if dotted not in sys.modules:
                return None
            if alias.asname is not None:  # `import a.b as c` binds the module a.b
                out[_as_name(alias)] = sys.modules[dotted]
            else:  # `import a.b` binds a
                out[dotted.split(".")[0]] = sys.modules[dotted.split(".")[0]]
        return out
    if stmt.relative or stmt.module is None or isinstance(stmt.names, cst.ImportStar):
        return None
    module = sys.modules.get(_dotted(stmt.module))
    if module is None:
        return None
    for alias in stmt.names:
        name = _dotted(alias.name)
        if not hasattr(module, name):
            return None  # (a submodule not loaded yet: importing it runs its code)
        out[_as_name(alias) if alias.asname is not None else name] = getattr(module, name)
    return out


def _as_name(alias: cst.ImportAlias) -> str:
    assert alias.asname is not None and isinstance(alias.asname.name, cst.Name)
    return alias.asname.name.value


def _dotted(e: cst.BaseExpression) -> str:
    if isinstance(e, cst.Name):
        return e.value
    assert isinstance(e, cst.Attribute)
    return f"{_dotted(e.value)}.{e.attr.value}"
