"""The user's own code, as the frontend reads it: functions whose source file is outside the
standard library and the installed packages (their state is theirs to manage), parsed from source.
"""

from __future__ import annotations

import functools
import inspect
import sysconfig
import types
import weakref
from collections.abc import Callable
from typing import Any, TypeVar, cast

import libcst as cst

from ..ir.code import dedented

F = TypeVar("F", bound=Callable[..., Any])


def weak_cache(fn: F) -> F:
    """``functools.cache`` for an analysis of the user's function or class (its first argument),
    held weakly: an entry goes with the code it describes, so tracing never keeps a module alive
    (a notebook or a server defining workflows again and again). A first argument that takes no
    weak reference (None, a slotted object) is answered uncached."""
    entries: weakref.WeakKeyDictionary[Any, dict[Any, Any]] = weakref.WeakKeyDictionary()

    @functools.wraps(fn)
    def cached(first: Any, *args: Any, **kwargs: Any) -> Any:
        key = (args, tuple(sorted(kwargs.items()))) if kwargs else args
        try:
            found = entries.get(first)
            if found is None:
                found = entries[first] = {}
        except TypeError:
            return fn(first, *args, **kwargs)
        if key not in found:
            found[key] = fn(first, *args, **kwargs)
        return found[key]

    cached.cache_clear = entries.clear  # type: ignore[attr-defined]
    return cast(F, cached)


@functools.cache
def library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple({paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths})


def runtime_code(fn: Any) -> bool:
    """Whether ``fn`` is the standard library's (``asyncio.wait``) or ayo-trace's own (its
    runtime, a primitive's function): code that never calls a primitive as the user's helpers do,
    so the tracer does not read it for one (parsing it cost more than the rest of a trace)."""
    if getattr(fn, "__module__", None) in _AYO or str(getattr(fn, "__module__", "")).startswith(_AYO_PREFIX):
        return True
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    filename = code.co_filename
    return filename.startswith(_stdlib_dirs()) and not filename.startswith(_package_dirs())


_AYO_PREFIX = __name__.split(".")[0] + "."  # (`ayo_trace.`)
_AYO = (__name__.split(".")[0],)


@functools.cache
def _stdlib_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple({paths[k] for k in ("stdlib", "platstdlib") if k in paths})


@functools.cache
def _package_dirs() -> tuple[str, ...]:  # (a virtual environment's are inside its `platstdlib`)
    paths = sysconfig.get_paths()
    return tuple({paths[k] for k in ("purelib", "platlib") if k in paths})


def behind_library_decorator(fn: Any) -> bool:
    """Whether ``fn`` is a decorator's wrapper (``functools.wraps``) whose own code is the standard
    library's or an installed package's (tenacity's retrying, a tracing span)."""
    code = getattr(fn, "__code__", None)
    return hasattr(fn, "__wrapped__") and code is not None and code.co_filename.startswith(library_dirs())


def _users(fn: Any) -> types.FunctionType | None:
    if not isinstance(fn, types.FunctionType):
        return None
    filename = fn.__code__.co_filename
    if filename.startswith("<") or filename.startswith(library_dirs()):
        return None
    return fn


def user_function(value: Any) -> types.FunctionType | None:
    """The plain function of the user's code that calling ``value`` runs, behind its decorators
    (``__wrapped__``); a class's own ``__init__``; None for anything else."""
    if isinstance(value, type) and isinstance(vars(value).get("__init__"), types.FunctionType):
        value = vars(value)["__init__"]  # (making an object runs its class's `__init__`)
    try:
        fn = inspect.unwrap(value) if callable(value) else None
    except ValueError:  # a cycle of __wrapped__
        return None
    return _users(fn)


_ABSENT = object()


def read_attribute(owner: Any, name: str, default: Any) -> Any:
    """``getattr(owner, name, default)`` where reading it runs none of the user's code, else
    ``default`` unread: a property's getter, a ``cached_property``, a descriptor, a ``__getattr__``
    or ``__getattribute__`` of the user's class, a module's ``__getattr__`` of the user's would run
    at trace time (a proxy logging each lookup, a getter counting reads), once per trace, where
    Python runs it when the workflow does. (A class's property read on the class is the property.)"""
    if isinstance(owner, types.ModuleType):
        if name in vars(owner):
            return vars(owner)[name]
        return default if _users_code(vars(owner).get("__getattr__")) else getattr(owner, name, default)
    kind = type(owner)
    if _users_code(inspect.getattr_static(kind, "__getattribute__", None)):
        return default
    found = inspect.getattr_static(owner, name, _ABSENT)
    if found is _ABSENT:
        return (
            default
            if _users_code(inspect.getattr_static(kind, "__getattr__", None))
            else getattr(owner, name, default)
        )
    if isinstance(found, property | functools.cached_property) and not isinstance(owner, type):
        getter = found.fget if isinstance(found, property) else found.func
        return default if _users_code(getter) else getattr(owner, name, default)
    if not isinstance(found, types.FunctionType | staticmethod | classmethod) and _users_code(
        inspect.getattr_static(type(found), "__get__", None)
    ):
        return default  # (a descriptor of the user's)
    return getattr(owner, name, default)


def _users_code(fn: Any) -> bool:
    """A function of the user's (not ayo-trace's own: a method workflow's ``__get__``)."""
    return isinstance(fn, types.FunctionType) and _users(fn) is not None and not runtime_code(fn)


def user_wrappers(value: Any) -> list[types.FunctionType]:
    """The decorators' wrappers of the user's code around ``value`` (``functools.wraps``), outermost
    first: code calling ``value`` runs them too (``wrapper.calls += 1``)."""
    out: list[types.FunctionType] = []
    seen: set[int] = set()
    while hasattr(value, "__wrapped__") and id(value) not in seen and len(seen) < 16:
        seen.add(id(value))
        if (fn := _users(value)) is not None:
            out.append(fn)
        value = value.__wrapped__
    return out


@weak_cache
def parse_function(fn: types.FunctionType) -> cst.FunctionDef | None:
    """The ``def`` of ``fn``, parsed from its source; None when the source cannot be read."""
    try:  # (of its code: `getsource(fn)` reads the function a wrapper's `__wrapped__` names)
        source = dedented(inspect.getsource(fn.__code__))
        module = cst.parse_module(source)
    except (OSError, TypeError, cst.ParserSyntaxError):
        return None
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef):
            return stmt
    return None
