"""Process-wide state a library call changes without naming it.

A draw of a random number generator changes the generator: ``random.choice`` is a method of the
``random`` module's hidden ``Random`` (so are ``randint``, ``random``, ``shuffle``, ``seed``), and
numpy's ``np.random.rand`` one of its hidden ``RandomState``; calls drawing in another order draw
other numbers. ``print(...)`` writes to ``sys.stdout`` (``sys.stderr.write`` to that stream);
calls writing in another order write other text. ``open(...)`` opens a file, to write it or to
read what another call wrote (whatever the mode: ``FILES``, the file system).

The tracer reads such a call as a change of that state (``impure``: a statement making it is an
effect, kept in program order), and calls run at once that touch it on both sides of their awaits
as interleaving there (``interleaving``), by a key naming the state (``random``, ``numpy.random``,
``sys.stdout``, ``files``) whatever name the code calls it by. That state outlives the query: a
failure does not hide a change of it (``early_raises``).
"""

from __future__ import annotations

import builtins
import inspect
import logging
import random
import re
import sys
import types
from typing import Any

import libcst as cst

STREAMS = ("sys.stdout", "sys.stderr")
FILES = "files"
BUILTINS = {"print": builtins.print, "open": builtins.open}  # (called by these names, unless shadowed)


def draws_from(value: Any) -> list[Any]:
    """The random number generator ``value``, a method of it, draws from (changing it): a
    ``random.Random`` (the ``random`` module's hidden one, or the user's) or numpy's; else nothing."""
    if not isinstance(value, types.MethodType | types.BuiltinMethodType):
        return []
    owner = value.__self__
    if isinstance(owner, random.Random) or (type(owner).__module__ or "").startswith("numpy.random"):
        return [owner]
    return []


def generator_key(owner: Any) -> str:
    """The key of a random number generator: ``random`` for the ``random`` module's hidden one,
    ``numpy.random`` for numpy's, else its class and address."""
    if owner is getattr(random, "_inst", None):
        return "random"
    numpy = sys.modules.get("numpy.random.mtrand")
    if numpy is not None and owner is getattr(numpy, "_rand", None):
        return "numpy.random"
    return f"<{type(owner).__name__} at {id(owner):#x}>"


def changed_by(target: Any, call: cst.Call) -> list[str]:
    """The keys of the hidden state ``call`` of ``target`` (what its callee evaluates to) changes:
    a generator it draws from; the standard stream it writes to (``print`` without ``file=`` or with
    ``file=sys.stderr``, ``sys.stdout.write``); the file system it opens a file of (``open``)."""
    if drawn := draws_from(target):
        return [generator_key(o) for o in drawn]
    if target is builtins.open:  # (`io.open` is the same function)
        return [FILES]
    if target is builtins.print:
        given = next((a.value for a in call.args if a.keyword and a.keyword.value == "file"), None)
        if given is None:
            return [STREAMS[0]]
        written = cst.Module([]).code_for_node(given).replace(" ", "")
        return [written] if written in STREAMS else []
    owner = getattr(target, "__self__", None)
    if isinstance(target, types.BuiltinMethodType | types.MethodType) and owner is not None:
        return [n for n in STREAMS if owner is getattr(sys, n.split(".")[1])]
    return []


def holds_state(value: Any) -> bool:
    """Whether a method of ``value`` may change it, as far as its type tells (a database connection,
    a client): not a constant, a class, a module, a function, a logger or a compiled pattern."""
    inert = (str, bytes, int, float, complex, tuple, frozenset, range, type, re.Pattern, logging.Logger)
    if value is None or isinstance(value, (*inert, logging.LoggerAdapter)) or inspect.ismodule(value):
        return False
    return not inspect.isroutine(value)


def process_wide(key: str) -> bool:
    """Whether ``key`` (of ``changed_by``) names state every later query sees: all of it."""
    return key in ("random", "numpy.random", FILES, *STREAMS) or (key.startswith("<") and " at 0x" in key)
