"""Module state read by the user's code a statement runs, checked against what the workflow changes.

``closures.changed_globals`` names the module state the workflow changes in place (``CONFIG["style"]
= s``), and a statement reading one of those names runs as an effect, in program order with the
statements changing it. A statement may also read that state through code of the user's it calls:
``h = header()`` of ``def header(): return f"[{CONFIG['style']}]"``, a getter ``tone()``, a static
method, a property (``S.tone`` returning ``_STATE["tone"]``), a factory's closure. Read as a plain
statement, dependency pruning would let it run before the change it should see (it reads no value
the change hands on). ``reads_changed`` tells the compiler such a statement reads changed state, so
it keeps its place among the effects; ``value_reads_changed`` tells folding not to fold a property
whose getter reads it.

What code reads is ``code_reads.reads_of``'s. A read counts when its object is among those the
workflow changes (``changed_ids``) or its name is one the workflow rebinds or changes
(``changed_globals``).
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

from . import closures, impure
from .code_reads import reads_of, runs_users_code


def reads_changed(body: Any, code: types.CodeType, names: Mapping[str, Any]) -> bool:
    """Whether compiled statement ``code`` (its global and free names resolved in ``names``)
    calls or reads code of the user's that reads module state the workflow, or a helper around
    ``body`` inlined in it, changes."""
    values = [names[n] for n in dict.fromkeys(impure._names(code)) if n in names]
    return _any_changed(body, values)


def value_reads_changed(body: Any, value: Any) -> bool:
    """Whether running ``value`` (a getter, a function) reads module state the workflow changes."""
    return _any_changed(body, [value])


def _any_changed(body: Any, values: list[Any]) -> bool:
    code = [v for v in values if runs_users_code(v)]
    if not code:
        return False
    changed, ids = _changed(body)
    if not (changed or ids):
        return False
    globals_read, objects = reads_of(code)
    if any(id(o) in ids for o in [*code, *objects]):
        return True
    return any((id(ns), n) in changed or id(ns.get(n)) in ids for ns, n in globals_read)


def changes_any(body: Any) -> bool:
    """Whether the workflow, or a helper around ``body`` inlined in it, changes any module state."""
    names, ids = _changed(body)
    return bool(names or ids)


def _changed(body: Any) -> tuple[set[tuple[int, str]], frozenset[int]]:
    """The module names (by namespace) and the objects the workflow and the helpers around
    ``body`` change (``closures.changed_globals``)."""
    names: set[tuple[int, str]] = set()
    ids: set[int] = set()
    seen: set[int] = set()
    b = body
    while b is not None and id(b.src) not in seen:
        seen.add(id(b.src))
        ns = getattr(b.src.fn, "__globals__", {})
        names |= {(id(ns), n) for n in closures.changed_globals(b.src)}
        ids |= b.src.changed_ids
        while b.parent is not None:
            b = b.parent
        b = b.caller
    return names, frozenset(ids)


def effect_in(body: Any, code: types.CodeType, names: Mapping[str, Any]) -> bool:
    """Whether compiled statement ``code`` must keep its place among the effects for the code of
    the user's it runs: code changing module state (``impure.calls_state_changing``) or reading
    what the workflow changes (``reads_changed``)."""
    if impure.calls_state_changing(code, names) or reads_changed(body, code, names):
        return True
    # (a function the workflow defines reads the module's names when it is called: `header()`)
    defs = closures.closures(body.src)
    used = [body.src.free_names(defs[n].node)[1] for n in code.co_varnames if n in defs]
    read = list(dict.fromkeys(n for found in used for n in found))
    return bool(read) and (
        closures.reads_changed(body, read) or _any_changed(body, [names[n] for n in read if n in names])
    )
