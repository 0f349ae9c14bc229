"""Guards on a field of an argument: ``collection=cfg.collection``, ``max_tokens=p["max_tokens"]``.

A graph constant read from a field (an attribute or a constant key, at any depth) of a workflow
parameter specializes the trace on that field's value, not on the whole argument (a dataclass of
settings is seldom hashable, and the rest of it may well be data). The field is a *guard*: the trace
cache is keyed by its value, the graph's header shows ``guard cfg.collection == 'kb'``, and a call
whose field differs traces again.
"""

from __future__ import annotations

from typing import Any

import libcst as cst


def path_of(e: cst.BaseExpression) -> tuple[cst.Name, str] | None:
    """``(root, path)`` for ``root.a["k"][0]...`` (``path``: ``.a['k'][0]``), or None when ``e`` is
    not a chain of attributes and constant subscripts on a name."""
    parts: list[str] = []
    while True:
        if isinstance(e, cst.Attribute):
            parts.append(f".{e.attr.value}")
            e = e.value
        elif isinstance(e, cst.Subscript) and len(e.slice) == 1:
            index = e.slice[0].slice
            if not isinstance(index, cst.Index):
                return None
            key = index.value
            if isinstance(key, cst.SimpleString) and isinstance(key.evaluated_value, str):
                parts.append(f"[{key.evaluated_value!r}]")
            elif isinstance(key, cst.Integer):
                parts.append(f"[{int(key.value, 0)}]")
            else:
                return None
            e = e.value
        else:
            break
    if not isinstance(e, cst.Name) or not parts:
        return None
    return e, "".join(reversed(parts))


def value_at(value: Any, path: str) -> Any:
    """The field ``path`` (from ``path_of``) of ``value``."""
    return eval(f"__ayo_value{path}", {"__builtins__": {}}, {"__ayo_value": value})


def frozen(value: Any) -> Any:
    """A hashable stand-in for ``value`` that is equal for equal values: lists, tuples, dicts and sets
    (of such values) become tuples and frozensets tagged by their type."""
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(frozen(v) for v in value))
    if isinstance(value, dict):
        return ("dict", frozenset((frozen(k), frozen(v)) for k, v in value.items()))
    if isinstance(value, set | frozenset):
        return (type(value).__name__, frozenset(frozen(v) for v in value))
    return value
