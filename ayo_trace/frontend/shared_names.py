"""Names a helper shares with the calls run beside it by declaring them ``global`` or ``nonlocal``:
binding one (``_inits += 1`` of a lazily made client, ``READY = True``) binds the module's (or the
enclosing function's) variable, which another call at once may read or bind too. ``interleaving``
counts such a binding as a change of that name, and a read of it as a read, where a local's are
neither; the ``global`` lines ``global_names`` rewrote into functions bind nothing themselves.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from . import global_names
from .sites import Touch
from .source import FunctionSource
from .state import _target_names, contains_await, walk


def rebound(
    src: FunctionSource, stmt: cst.CSTNode, key_of: Any, at: dict[str, tuple[float, float]], line: int
) -> list[Touch]:
    """The changes the simple statement ``stmt`` of ``src`` makes by binding a shared name (``at``:
    the waits before and after its awaits, by when)."""
    shared = declared(src)
    if not shared:
        return []
    return [
        Touch(key_of(name) or name, True, *at[_when_bound(value)], line)
        for name, value in _rebinds(stmt)
        if name in shared
    ]


def declaring(stmt: cst.CSTNode) -> bool:
    """Whether ``stmt`` is a ``global`` line as ``global_names`` writes it (a function binding it)."""
    return isinstance(stmt, cst.FunctionDef) and global_names.SUFFIX in stmt.name.value


def _when_bound(value: cst.BaseExpression | None) -> str:
    """When a binding happens, against the awaits of its statement: after them if its value awaits."""
    return "post" if value is not None and contains_await(value) else "both"


def declared(src: FunctionSource) -> frozenset[str]:
    """The names ``src`` declares ``global`` or ``nonlocal`` (the functions ``global_names`` wrote
    for its ``global`` lines included, and any nested function's: a few more names at most, each
    then judged as shared): binding one binds the module's (or the enclosing function's) variable,
    which another call at once may read or bind too."""
    out: set[str] = set()
    for n in walk(src.node.body):
        if isinstance(n, cst.Global | cst.Nonlocal):
            out.update(a.name.value for a in n.names)
    return frozenset(out)


def _rebinds(stmt: cst.CSTNode) -> list[tuple[str, cst.BaseExpression | None]]:
    """The bare names a simple statement binds, each with the value bound (``N += 1``, ``N = 0``,
    ``a, N = ...``, ``N: int = 0``)."""
    out: list[tuple[str, cst.BaseExpression | None]] = []
    for n in walk(stmt):
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and global_names.SUFFIX in n.func.value:
            # (`global N` then `N += 1`, as ``global_names`` writes it: `N__global_iadd(N, 1)`)
            value = cst.Tuple([cst.Element(a.value) for a in n.args]) if n.args else None
            out.append((n.func.value.split(global_names.SUFFIX)[0], value))
            continue
        if isinstance(n, cst.Assign):
            targets: list[cst.BaseExpression] = [t.target for t in n.targets]
        elif isinstance(n, cst.AugAssign | cst.AnnAssign):
            targets = [n.target]
        else:
            continue
        out += [(name, n.value) for t in targets for name in _target_names(t)]
    return out


__all__ = ["declared", "declaring", "rebound"]
