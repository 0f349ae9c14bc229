"""What an ``if`` or ``try`` statement awaiting in its parts touches, part by part, for
``interleaving``: each part after the waits that come before it."""

from __future__ import annotations

from typing import Any

import libcst as cst

from .sites import Touch
from .state import _names_in, contains_await


def test_awaits(stmt: cst.If | cst.Try) -> bool:
    return isinstance(stmt, cst.If) and contains_await(stmt.test)


def parts(
    stmt: cst.If | cst.Try, block: Any, key_of: Any, lo: float, hi: float, line: int, before: bool
) -> tuple[list[Touch], float, float]:
    """What an ``if`` or ``try`` awaiting in its parts touches, part by part: a branch after the
    waits before the statement; a handler after at least one wait when the body surely waits (an
    engine's error comes back from a wait), the ``else`` after the body's, the ``finally`` after
    any of them. So a helper collecting its failures (``except ayo.EngineError:
    failed.append(d)``) touches ``failed`` after its wait, as a result appended after it would."""
    out: list[Touch] = []
    paths: list[tuple[float, float]] = []
    if isinstance(stmt, cst.If):
        for name in _names_in(stmt.test):
            if (key := key_of(name)) is not None:
                out.append(Touch(key, False, lo, hi, line))
        orelse = stmt.orelse
        parts = [stmt.body, [orelse] if isinstance(orelse, cst.If) else orelse.body if orelse else []]
        for part in parts:
            e, f, m = block(part, lo, hi)
            out, paths = out + e, [*paths, (f, m)]
    else:
        e, bf, bm = block(stmt.body, lo, hi)
        out += e
        after = min(bf, 1.0)
        for h in stmt.handlers:
            e, f, m = block(h.body, lo + after, hi + bm)
            out, paths = out + e, [*paths, (after + f, bm + m)]
        e, f, m = block(stmt.orelse.body, lo + bf, hi + bm) if stmt.orelse else ([], 0.0, 0.0)
        out, paths = out + e, [*paths, (bf + f, bm + m)]
        if stmt.finalbody is not None:
            e, f, m = block(stmt.finalbody.body, lo, hi + max(p[1] for p in paths))
            out, paths = out + e, [(p[0] + f, p[1] + m) for p in paths]
    if before:  # (only what it does before its awaits finish)
        out = [t for t in out if t.lo == lo]
    return out, min(p[0] for p in paths), max(p[1] for p in paths)
