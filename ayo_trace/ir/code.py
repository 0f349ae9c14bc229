"""User code carried by ``python`` and ``break`` nodes, and source locations.

The frontend compiles each plain-Python statement of a workflow into a small function whose
parameters are the traced values the statement reads. The source text travels with the node (it is
what the printer shows and what JSON stores); the compiled function is attached when the graph is
built from the user's code, or compiled again from the source and the module's globals after a JSON
round-trip.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import gc
import importlib
import io
import os
import tokenize
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, order=True)
class SourceLoc:
    """A place in the user's code. Prints as ``basename:line`` so printed graphs are portable."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{os.path.basename(self.file)}:{self.line}"


class _Unbound:
    """The value of a name a path of the workflow leaves unbound (assigned under a condition, in a
    loop that may not run): handed on like a value; a statement given it as a parameter (listed in
    ``PyCode.unbound``) runs with the name unbound, so Python raises ``UnboundLocalError`` where it
    reads it, as it would eagerly. One object, also across processes (pickled by name)."""

    _one: _Unbound | None = None

    def __new__(cls) -> _Unbound:
        if cls._one is None:
            cls._one = super().__new__(cls)
        return cls._one

    def __repr__(self) -> str:
        return "<unbound>"

    def __reduce__(self) -> str:
        return "UNBOUND"


UNBOUND = _Unbound()
UNBOUND_NAME = "__ayo_unbound"  # what a statement's code calls ``UNBOUND``


class ItemsThenError(list[Any]):
    """The items a comprehension's clauses bound before one of them raised (a filter failing at
    the third item): iterating it yields those items, then raises that error, as the clauses do
    when Python runs them item by item with the element, so a ``map`` over it meets the error only
    after the items before it, and an element's own error at an earlier item comes first."""

    def __init__(self, items: list[Any], error: Exception) -> None:
        super().__init__(items)
        self.error = error

    def __iter__(self) -> Iterator[Any]:
        yield from list.__iter__(self)
        raise self.error

    def __reduce__(self) -> tuple[Any, ...]:
        return (ItemsThenError, (list(list.__iter__(self)), self.error))

    def __repr__(self) -> str:
        return f"ItemsThenError({list.__repr__(self)}, {self.error!r})"


def items_until_error(items: Iterable[Any]) -> list[Any]:
    """The list of ``items`` (a generator of a comprehension's clauses), or, when producing them
    raises, an ``ItemsThenError`` of those before (what a statement's code calls ``ITEMS_NAME``)."""
    out: list[Any] = []
    try:
        for item in items:
            out.append(item)
    except Exception as exc:  # (raised again where the items are iterated, after those before)
        return ItemsThenError(out, exc)
    return out


ITEMS_NAME = "__ayo_items"


@dataclass(frozen=True, eq=False)
class PyCode:
    """A compiled piece of user code.

    ``source`` is the user's statement (dedented). ``params`` name the function's parameters, one
    per node arg, in order. ``returns`` names what the statement assigns (the value is a tuple when
    more than one). ``bindings`` are names fixed at trace time (static arguments, closure cells).
    ``fn`` is the compiled function, called as ``fn(*arg_values)``; ``is_async`` when it must be
    awaited (graph breaks). ``unbound``: the parameters that may be ``UNBOUND`` (the statement runs
    with such a name unbound and hands it back as ``UNBOUND`` if it leaves it so). ``changes``:
    parameters the statement changes in place through another name holding the same object
    (``view.append(x)`` in a helper, where the workflow's ``view`` is its ``log``), which its
    text alone does not show. ``scope``: the qualified name of the function the statement is
    written in (the workflow's, an inlined helper's), under which the classes and functions it
    defines are named, as Python names them (``wf.<locals>.Ctx``); "" leaves them named inside
    the compiled statement.
    """

    source: str
    params: tuple[str, ...]
    returns: tuple[str, ...]
    module: str
    filename: str
    line: int
    is_async: bool = False
    effect: bool = False
    bindings: dict[str, Any] = field(default_factory=dict)
    fn: Callable[..., Any] | None = None
    unbound: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()
    scope: str = ""

    def _key(self) -> tuple[Any, ...]:
        # (`scope` too: a class the statement defines prints its qualified name)
        return (self.source, self.params, self.returns, self.is_async, self.unbound, self.changes, self.scope)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PyCode) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def resolve(self) -> Callable[..., Any]:
        """The compiled function; compiles it from the source and the module's globals if needed."""
        if self.fn is not None:
            return self.fn
        fn = compile_statement(self)
        object.__setattr__(self, "fn", fn)
        return fn

    def short(self, width: int = 60) -> str:
        first = self.source.strip().splitlines()[0] if self.source.strip() else ""
        more = len(self.source.strip().splitlines()) > 1
        text = first + (" …" if more else "")
        return text if len(text) <= width else text[: width - 1] + "…"


def compile_statement(code: PyCode, globals_: dict[str, Any] | None = None) -> Callable[..., Any]:
    """Compile ``code.source`` into a function of ``code.params`` returning ``code.returns``.

    Line numbers are those of the user's file, so a traceback points at the user's own line. The
    statement is put in the function as a tree, not as text indented line by line, so a string
    written over several lines (a triple-quoted prompt) keeps exactly the text it has.
    """
    if globals_ is None:
        globals_ = vars(importlib.import_module(code.module)) if code.module else {}
    binds = [UNBOUND_NAME, ITEMS_NAME, *code.bindings]
    inner = ("async def" if code.is_async else "def") + f" __ayo_stmt({', '.join(code.params)}):"
    # a parameter that may be UNBOUND is deleted first: reading it raises as Python would
    prologue = [f"if {n} is {UNBOUND_NAME}: del {n}" for n in code.unbound]
    out = [f'locals().get("{n}", {UNBOUND_NAME})' if n in code.unbound else n for n in code.returns]
    if not out:
        ret = "return None"
    elif len(out) == 1:
        ret = f"return {out[0]}"
    else:
        ret = f"return ({', '.join(out)},)"
    # Bindings become closure cells of the statement's function, whose globals stay the module's own
    # (live) dict; the statement's lines are moved to the user's line numbers.
    # (the garbage collector paused while trees are made and compiled, as in `parsed`: CPython 3.11's
    # AST constructor counts its depth wrong when a finalizer runs in a collection during it)
    paused = gc.isenabled()
    gc.disable()
    try:
        maker = ast.parse(
            f"def __ayo_make({', '.join(binds)}):\n    {inner}\n        pass\n    return __ayo_stmt\n"
        )
        statement = ast.parse(code.source)
        around = [ast.parse("\n".join(prologue)), ast.parse(ret), maker]
        for tree in around:
            ast.increment_lineno(tree, max(code.line, 1) - 1)
        ast.increment_lineno(statement, max(code.line, 1) - 1)
        body = [*around[0].body, *statement.body, *around[1].body]
        fn_def = maker.body[0]
        assert isinstance(fn_def, ast.FunctionDef) and isinstance(
            fn_def.body[0], ast.FunctionDef | ast.AsyncFunctionDef
        )
        fn_def.body[0].body = body
        compiled = _rescoped(compile(maker, code.filename, "exec"), code.scope)
    finally:
        if paused:
            gc.enable()
    namespace: dict[str, Any] = {}
    exec(compiled, globals_, namespace)
    fn: Callable[..., Any] = namespace["__ayo_make"](
        UNBOUND, items_until_error, *(_as_made(code.bindings[b]) for b in binds[2:])
    )
    return fn


def _as_made(value: Any) -> Any:
    """A binding as the statement gets it: a ``functools.partial`` the tracer looked into has an
    attribute dict now (reading ``__dict__`` makes one), and Python no longer merges a partial made
    of it (``partial(p2, q).keywords`` would be empty, not ``p2``'s): the statement gets a new
    partial of the same function, arguments and keywords, as Python made it."""
    if type(value) is functools.partial and not value.__dict__:
        return functools.partial(value.func, *value.args, **value.keywords)
    return value


_STMT_SCOPE = "__ayo_make.<locals>.__ayo_stmt.<locals>."  # (where a statement's definitions are)


def _rescoped(code: types.CodeType, scope: str) -> types.CodeType:
    """``code`` with the functions and classes defined in its statement named under ``scope``:
    each code object's ``co_qualname``, and the ``__qualname__`` string a class body stores."""
    if not scope:
        return code
    prefix = f"{scope}.<locals>."

    def renamed(name: str) -> str:
        return prefix + name[len(_STMT_SCOPE) :] if name.startswith(_STMT_SCOPE) else name

    def fix(c: types.CodeType) -> types.CodeType:
        consts = tuple(
            fix(k) if isinstance(k, types.CodeType) else renamed(k) if isinstance(k, str) else k
            for k in c.co_consts
        )
        return c.replace(co_consts=consts, co_qualname=renamed(c.co_qualname))

    return fix(code)


def dedented(text: str) -> str:
    """``text`` (a function's source, as ``inspect.getsource`` reads it) with its first line's
    indentation taken off every line of code, but not off the lines inside a string written over
    several lines: where ``textwrap.dedent`` keeps everything as it is when such a string has a
    line less indented (a method's triple-quoted prompt), and would change the string otherwise."""
    lines = text.splitlines(keepends=True)
    first = next((x for x in lines if x.strip()), "")
    margin = first[: len(first) - len(first.lstrip())]
    if not margin:
        return text
    inside: set[int] = set()  # (0-based lines that start inside a string)
    with contextlib.suppress(tokenize.TokenError, IndentationError, SyntaxError):
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
                inside.update(range(tok.start[0], tok.end[0]))
    out = []
    for i, line in enumerate(lines):
        if i not in inside and line.startswith(margin):
            line = line[len(margin) :]
        elif i not in inside and not line.strip():
            line = line.lstrip(" \t")
        out.append(line)
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def parsed(source: str) -> ast.Module:
    """``ast.parse(source)`` (raising ``SyntaxError``), shared: the tree is read, never changed.
    The garbage collector is paused around the parse: on CPython 3.11 (seen on 3.11.7) a finalizer
    run by a collection during it, such as asyncio logging a failed task's unretrieved error with a
    traceback that parses source to place its carets, breaks the parser's depth count
    (``SystemError: AST constructor recursion depth mismatch``)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return ast.parse(source)
    finally:
        if paused:
            gc.enable()
