"""Static folding: the value of an expression at trace time, when it reads only static values and
pure operations (so folding it can never freeze a side effect or a clock into the graph)."""

from __future__ import annotations

import builtins
import functools
import inspect
import types
from collections.abc import Iterator, Sequence
from typing import Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import SourceLoc
from ..ir.mutation import PURE_STR_METHODS
from . import made_fields, user_code
from .builder import Expressions
from .class_changes import _changes_its_object
from .closures import object_changed, reads_changed
from .impure import _users_class, changed_objects, changes_module_state, held_items, stateful
from .module_reads import value_reads_changed
from .state import walk
from .user_code import runtime_code, user_function, weak_cache
from .values import Static, Traced
from .visiting import visit

_MISSING = object()


def _changing(fn: types.FunctionType) -> bool:
    """Whether running ``fn`` (a getter) changes its object or module state."""
    return _changes_its_object(fn) or bool(changes_module_state(fn)) or bool(changed_objects(fn))


_PURE_BUILTINS = frozenset(
    getattr(builtins, n)
    for n in [
        "abs",
        "all",
        "any",
        "bool",
        "bytes",
        "chr",
        "dict",
        "divmod",
        "enumerate",
        "float",
        "frozenset",
        "int",
        "isinstance",
        "len",
        "list",
        "max",
        "min",
        "ord",
        "range",
        "repr",
        "reversed",
        "round",
        "set",
        "sorted",
        "str",
        "sum",
        "tuple",
        "zip",
    ]
)
_STATIC_NODES = (
    cst.Name,
    cst.Attribute,
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.FormattedString,
    cst.FormattedStringText,
    cst.FormattedStringExpression,
    cst.BinaryOperation,
    cst.UnaryOperation,
    cst.BooleanOperation,
    cst.Comparison,
    cst.ComparisonTarget,
    cst.Tuple,
    cst.List,
    cst.Set,
    cst.Dict,
    cst.DictElement,
    cst.StarredDictElement,  # (`{**DEFAULTS, "stop": s}`)
    cst.Element,
    cst.StarredElement,
    cst.IfExp,
    cst.Subscript,
    cst.SubscriptElement,
    cst.Index,
    cst.Slice,
    cst.Call,
    cst.Arg,
    cst.LeftParen,
    cst.RightParen,
    cst.LeftSquareBracket,
    cst.RightSquareBracket,
    cst.LeftCurlyBrace,
    cst.RightCurlyBrace,
)


_IMMUTABLE_OWNERS = (str, bytes, int, float, complex, bool, tuple, frozenset, type(None))


class StaticFolding(Expressions):
    def try_static(self, e: cst.BaseExpression, *, iterator: bool = False) -> Static | None:
        """The value of ``e`` at trace time, when it reads only static values and pure operations;
        an iterator (``enumerate(KBS)``) only with ``iterator``, for a caller that uses it up at
        trace time itself (unrolling a loop), as each call evaluates ``e`` afresh."""
        if (temp := self._static_temp(e)) is not None:
            return temp
        if not self._static_shape(e):
            return None
        scope = self._static_scope(e, look_outside=True)
        if scope is None:
            return None
        fn = self.body.src.fn
        if not self._pure_calls(e, scope) or self._runs_code(e, scope) or self._formats_user_code(e, scope):
            return None
        try:
            value = eval(self.body.src.expr_code(e), fn.__globals__, scope)
        except Exception:
            return None
        if isinstance(value, Iterator) and not iterator:
            return None  # (`enumerate(...)`, `zip(...)`: used up by one run, so no constant of the graph)
        self._saw_attributes(e, scope)
        return Static(value)

    def _formats_user_code(self, e: cst.BaseExpression, scope: dict[str, Any]) -> bool:
        """Whether ``e`` formats an object whose class of the user's defines how it is written
        (``__str__``, ``__repr__``, ``__format__``): in an f-string's field, ``str()``, ``repr()``,
        ``format()``, ``%``, ``str.format``; also one a list, tuple, set or dict holds. Python runs
        that code each time the workflow does (it may read state that changes, or count its calls),
        so the expression is read when the graph runs, never folded at trace time."""
        fn = self.body.src.fn
        formatted: list[cst.BaseExpression] = []
        for n in walk(e):
            if isinstance(n, cst.FormattedStringExpression):
                formatted.append(n.expression)
            elif isinstance(n, cst.Call):
                func = n.func
                named = func.value if isinstance(func, cst.Name) else None
                if named in ("str", "repr", "format", "ascii") or (
                    isinstance(func, cst.Attribute) and func.attr.value in ("format", "format_map")
                ):
                    formatted += [a.value for a in n.args]
            elif isinstance(n, cst.BinaryOperation) and isinstance(n.operator, cst.Modulo):
                formatted.append(n.right)
        for x in formatted:
            try:
                value = eval(self.body.src.expr_code(x), fn.__globals__, scope)
            except Exception:
                return True  # (not known: not folded)
            if _written_by_user(value, 0):
                return True
        return False

    def _runs_code(self, e: cst.BaseExpression, scope: dict[str, Any], *, getters_only: bool = False) -> bool:
        """Whether reading an attribute in ``e`` runs code of the user's that changes state: a
        property's getter (``IDS.next_id`` counting the ids it hands out), a ``__getattr__``, a
        descriptor class of the user's; evaluated at trace time it would run there, once per trace
        (a getter computing a value, ``CFG.full_name``, is folded as before). ``getters_only``: a
        property, a ``cached_property`` or ``__getattr__`` only (a callee: a descriptor binding a
        method, ``PIRATE.reply`` of a method workflow, runs none of the user's code)."""
        fn = self.body.src.fn
        for n in walk(e):
            if not isinstance(n, cst.Attribute):
                continue
            if self._runs_code(n.value, scope, getters_only=getters_only):
                return True
            try:
                owner = eval(self.body.src.expr_code(n.value), fn.__globals__, scope)
            except Exception:
                return True
            if inspect.ismodule(owner):
                continue
            found = inspect.getattr_static(owner, n.attr.value, _MISSING)
            if found is _MISSING:  # (`__getattr__` answers it)
                code = inspect.getattr_static(type(owner), "__getattr__", None)
            elif found is None or isinstance(found, types.FunctionType | staticmethod | classmethod):
                continue  # (a method read, not called: no code runs)
            elif getters_only and _users_descriptor(found):
                code = inspect.getattr_static(type(found), "__get__", None)  # (a descriptor of the user's)
            elif getters_only and not isinstance(found, property | functools.cached_property):
                continue
            elif hasattr(type(found), "__get__") and _users_class(type(found)):
                return True  # (a descriptor of the user's)
            else:
                code = getattr(found, "fget", None) or getattr(found, "func", None)  # (`cached_property`)
            if (
                isinstance(code, types.FunctionType)
                and user_function(code) is not None
                and (_changing(code) or value_reads_changed(self.body, code))
            ):
                return True  # (it changes state, or reads what the workflow changes: `S.tone`)
        return False

    def _saw_attributes(self, e: cst.BaseExpression, scope: dict[str, Any]) -> None:
        """Record the attributes of objects ``e`` read (``CFG.tokens``), but methods: folded now,
        they are checked before each call (``TraceDeps.fresh``), as globals are."""
        fn = self.body.src.fn
        for n in walk(e):
            if not isinstance(n, cst.Attribute):
                continue
            try:
                owner = eval(self.body.src.expr_code(n.value), fn.__globals__, scope)
                value = getattr(owner, n.attr.value)
            except Exception:
                continue
            if not callable(value) and not isinstance(owner, _IMMUTABLE_OWNERS):
                self.body.deps.saw_attribute(owner, n.attr.value, value)

    def static_arguments(self, args: Sequence[cst.Arg]) -> tuple[list[Any], dict[str, Any]] | None:
        """The positional and keyword values of call arguments ``args`` when all are known at trace
        time (none spread with ``*``/``**``); else None."""
        positional: list[Any] = []
        keywords: dict[str, Any] = {}
        for a in args:
            static = None if a.star else self.try_static(a.value)
            if static is None:
                return None
            if a.keyword is None:
                positional.append(static.value)
            else:
                keywords[a.keyword.value] = static.value
        return positional, keywords

    def value_now(self, e: cst.BaseExpression) -> Static | None:
        """The value of ``e`` evaluated at trace time, calls and lambdas included, when it reads no
        traced value: for arguments that must be objects of the graph (``parse=``), which eager
        code evaluates once per call and a trace once, so only constructors and lambdas belong there."""
        static = self.try_static(e)
        if static is not None:
            return static
        own = {p.name.value for node in _lambdas(e) for p in node.params.params}
        scope = self._static_scope(e, skip=own)
        if scope is None:
            return None
        fn = self.body.src.fn
        try:
            return Static(eval(self.body.src.expr_code(e), fn.__globals__, scope))
        except Exception:
            return None

    def _static_scope(
        self,
        e: cst.BaseExpression,
        *,
        skip: set[str] | None = None,
        look_outside: bool = False,
        peek_outside: bool = False,
        callee: bool = False,
    ) -> dict[str, Any] | None:
        """The names ``e`` reads, with their trace-time values, to evaluate it with; None when it
        reads a traced (or unbound) name. ``skip``: names ``e`` binds itself (lambda parameters);
        ``look_outside``: a name this body does not bind is looked up in the bodies around it;
        ``peek_outside``: likewise, but only a static value there counts, and nothing is captured
        into this body (the callee of a call: ``self.other`` in a branch or a loop of a method).
        The globals it reads are recorded, so a trace is redone when one changes."""
        try:
            local, other = self.split_names(*self.body.src.free_names(e))
        except KeyError:
            return None
        scope: dict[str, Any] = {}
        for n in local:
            if skip and n in skip:
                continue
            v = self.body.temps[n] if n in self.body.temps else self.body.env.get(n)
            if v is None and look_outside and (self.body.parent or self.body.enclosing):
                try:
                    v = self.body.lookup_local(n, SourceLoc(self.body.src.filename, 0), raw=True)
                except TraceError:
                    return None
            elif v is None and peek_outside:
                v = self._outer_static(n)
            if isinstance(v, Traced) and v.imported is not None:
                scope[n] = v.imported  # `import asyncio as aio` in the workflow
                continue
            if isinstance(v, Traced) and v.fields and _field_reads_only(e, n, v.fields):
                scope[n] = types.SimpleNamespace(**v.fields)  # `self.collection` of a made object
                continue
            if not isinstance(v, Static) or getattr(v, "unbound", False):
                return None
            if not callee and _changed_here(self.body, v.value):
                return None  # (`cfg.style` of a closure's, a partial's or a default's `cfg = CFG`)
            scope[n] = v.value
        fn = self.body.src.fn
        for n in other:
            if not callee and reads_changed(self.body, [n]):
                # module state the workflow (or a helper around this one) changes: read when the
                # graph runs (a helper's `if STATE["docs"]:` after the workflow's `STATE["docs"] = d`)
                return None
            closure = self.body.closure_binding(n, contents=not callee)
            if closure and not callee and any(_changed_here(self.body, v) for v in closure.values()):
                return None  # (`cfg.style` of a factory's `cfg`, the workflow's `CFG`)
            if closure:
                scope.update(closure)
            elif n in fn.__globals__:  # (a callee's object: by identity, ``TraceDeps.saw_global``)
                self.body.deps.saw_global(fn.__globals__, n, contents=not callee)
        return scope

    def _outer_static(self, name: str) -> Static | None:
        """The static value ``name`` has in the bodies around this one (None when it is traced
        or not bound there)."""
        c: Any = self.body
        while True:
            c = c.parent if c.parent is not None else c.enclosing
            if c is None or name in c.comprehension_names:
                return None
            v = c.temps[name] if name in c.temps else c.env.get(name)
            if v is not None:
                return v if isinstance(v, Static) else None

    def _static_shape(self, e: cst.CSTNode) -> bool:
        shape = _Shape()
        visit(e, shape)
        return shape.ok

    def _pure_calls(self, e: cst.CSTNode, scope: dict[str, Any], *, cached: bool = False) -> bool:
        """Whether the calls in ``e`` are of pure builtins (``cached``: or of functions behind
        ``functools.cache``/``lru_cache``, whose result is the same object at every call: a
        ``get_client()`` singleton)."""
        found = _Calls()
        visit(e, found)
        for call in found.calls:
            try:
                fn = eval(self.body.src.expr_code(call.func), self.body.src.fn.__globals__, scope)
            except Exception:
                return False
            if fn in _PURE_BUILTINS or (cached and callable(getattr(fn, "cache_info", None))):
                continue
            if function_factory(fn) and all(_literal(a.value) and not a.star for a in call.args):
                continue  # (`make_judge("correctness")`: a function made of constants, the same each call)
            owner = fn.__self__ if isinstance(fn, types.BuiltinMethodType) else None
            if isinstance(owner, str) and getattr(fn, "__name__", "") in PURE_STR_METHODS:
                continue
            return False
        return True

    # --- text ------------------------------------------------------------------------------------------

    def callee(self, call: cst.Call) -> Any:
        """What a call's function is at trace time, or None when it is not known then."""
        static = self.try_static_callable(call.func)
        return None if static is None else static.value

    def try_static_callable(self, func: cst.BaseExpression) -> Static | None:
        if (temp := self._static_temp(func)) is not None:
            return temp
        if isinstance(func, cst.Subscript):  # HANDLERS["lookup"]: an entry of a table known now
            return self.try_static(func)
        if not isinstance(func, cst.Name | cst.Attribute):
            return None
        scope = self._static_scope(func, peek_outside=True, callee=True)
        if scope is None or not self._pure_calls(func, scope, cached=True):
            return None  # (`Chat().ask`: an object made now would be every query's)
        if self._runs_code(func, scope, getters_only=True):
            return None  # (a property of the user's changing state: read when the workflow runs)
        try:
            value = eval(self.body.src.expr_code(func), self.body.src.fn.__globals__, scope)
        except Exception:
            return None
        if reads_changed(self.body, self.body.src.free_names(func)[1]) and not inspect.isroutine(value):
            return None  # (an attribute of module state the workflow changes: read when it runs)
        return Static(value)

    def _static_temp(self, e: cst.BaseExpression) -> Static | None:
        """A static temporary the compiler made (not in the source: libcst's scopes do not know it),
        in this body or one around it (a branch of a branch)."""
        if not (isinstance(e, cst.Name) and e.value.startswith("__ayo_")):
            return None
        body: Any = self.body
        while body is not None:
            if e.value in body.temps:
                value = body.temps[e.value]
                return value if isinstance(value, Static) else None
            body = body.parent
        return None


class _Shape(cst.CSTVisitor):
    """Whether an expression is made of nodes folding can evaluate (``ok``); at module level, as a
    class made per call costs more than the walk of an expression."""

    def __init__(self) -> None:
        self.ok = True

    def on_visit(self, n: cst.CSTNode) -> bool:
        kind = type(n)
        found = _SHAPED.get(kind)
        if found is None:  # (by type, once: libcst's abstract base classes check in Python code)
            found = _SHAPED[kind] = isinstance(
                n,
                (
                    *_STATIC_NODES,
                    cst.BaseBinaryOp,
                    cst.BaseBooleanOp,
                    cst.BaseUnaryOp,
                    cst.BaseCompOp,
                    cst.BaseParenthesizableWhitespace,
                    cst.TrailingWhitespace,  # the line breaks and comments of an expression
                    cst.EmptyLine,  # written over several lines
                    cst.Newline,
                    cst.Comment,
                    cst.Comma,
                    cst.Dot,
                    cst.Colon,
                    cst.AssignEqual,
                ),
            )
        if not found:
            self.ok = False
        return self.ok


_SHAPED: dict[type, bool] = {}


class _Calls(cst.CSTVisitor):
    def __init__(self) -> None:
        self.calls: list[cst.Call] = []

    def visit_Call(self, n: cst.Call) -> None:
        self.calls.append(n)


def _changed_here(body: Any, value: Any) -> bool:
    """Whether ``value``, an object a local name holds at trace time (a closure's cell, an
    argument a ``functools.partial`` or a default gives), is one the workflow's code changes in
    place, or holds one (``closures.object_changed``): its fields are read when the graph runs."""
    if not stateful(value) or inspect.ismodule(value):
        return False
    return object_changed(body, [value, *held_items([value])])


def _lambdas(e: cst.CSTNode) -> list[cst.Lambda]:
    found: list[cst.Lambda] = []

    class V(cst.CSTVisitor):
        def visit_Lambda(self, n: cst.Lambda) -> None:
            found.append(n)

    visit(e, V())
    return found


def _field_reads_only(e: cst.CSTNode, name: str, fields: dict[str, Any]) -> bool:
    """Whether ``e`` reads ``name`` only as ``name.<field>`` of ``fields``, an object's field only
    further (``name.retriever.k``, ``name.retriever.search(...)``: nothing else of it) or as the
    whole of ``e`` (the function of ``name.retriever(q)``: its uses are all such, see
    ``initial_fields``)."""
    ok = set()
    names = []

    class V(cst.CSTVisitor):
        def visit_Attribute(self, n: cst.Attribute) -> None:
            if (
                isinstance(n.value, cst.Name)
                and n.value.value == name
                and n.attr.value in fields
                and (made_fields._constant(fields[n.attr.value]) or id(n) in further or n is e)
            ):
                ok.add(id(n.value))
            further.add(id(n.value))

        def visit_Name(self, n: cst.Name) -> None:
            if n.value == name:
                names.append(n)

    further: set[int] = set()  # (the values of attributes, so read further)
    visit(e, V())
    return all(id(n) in ok for n in names)


def _literal(e: cst.BaseExpression) -> bool:
    """Whether ``e`` is a constant written out: a string, a number, ``True``/``False``/``None``, a
    tuple of them."""
    if isinstance(e, cst.SimpleString | cst.Integer | cst.Float | cst.ConcatenatedString):
        return True
    if isinstance(e, cst.Name):
        return e.value in ("True", "False", "None")
    if isinstance(e, cst.UnaryOperation) and isinstance(e.operator, cst.Minus):
        return _literal(e.expression)
    return isinstance(e, cst.Tuple) and all(_literal(el.value) for el in e.elements)


@weak_cache
def function_factory(fn: Any) -> bool:
    """Whether ``fn`` is a plain function of the user's whose body only defines functions (no
    decorator, no default but a constant, no ``nonlocal``, no ``global``) and returns one of them
    (``def make_judge(rubric): async def judge(a): ...; return judge``): called with constants, it
    makes a function that reads only those constants, so calling it at trace time is calling it
    when the workflow runs."""
    if not isinstance(fn, types.FunctionType) or user_function(fn) is None:
        return False
    node = user_code.parse_function(fn)
    if node is None or node.asynchronous is not None or node.decorators:
        return False
    lines = list(node.body.body)
    if lines and _docstring(lines[0]):
        lines = lines[1:]
    if len(lines) < 2 or not all(isinstance(line, cst.FunctionDef) for line in lines[:-1]):
        return False
    made = {line.name.value for line in lines[:-1] if isinstance(line, cst.FunctionDef)}
    last = lines[-1]
    returned = (
        last.body[0].value
        if isinstance(last, cst.SimpleStatementLine)
        and len(last.body) == 1
        and isinstance(last.body[0], cst.Return)
        else None
    )
    if not (isinstance(returned, cst.Name) and returned.value in made):
        return False
    for inner in lines[:-1]:
        assert isinstance(inner, cst.FunctionDef)
        if inner.decorators or any(isinstance(n, cst.Nonlocal | cst.Global) for n in walk(inner)):
            return False
        params = inner.params
        defaults = [p.default for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
        if any(d is not None and not _literal(d) for d in defaults):
            return False
    return True


def _docstring(line: cst.CSTNode) -> bool:
    return (
        isinstance(line, cst.SimpleStatementLine)
        and len(line.body) == 1
        and isinstance(line.body[0], cst.Expr)
        and isinstance(line.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )


_WRITERS = ("__str__", "__repr__", "__format__")


def _written_by_user(value: Any, depth: int) -> bool:
    """Whether formatting ``value`` runs a ``__str__``/``__repr__``/``__format__`` of the user's
    (of its class, or of an object a list, tuple, set or dict of it holds, a few levels down)."""
    if isinstance(value, list | tuple | set | frozenset):
        return depth < 3 and any(_written_by_user(v, depth + 1) for v in list(value)[:64])
    if isinstance(value, dict):
        items = list(value.items())[:64]
        return depth < 3 and any(
            _written_by_user(k, depth + 1) or _written_by_user(v, depth + 1) for k, v in items
        )
    cls = type(value)
    if isinstance(value, type) or not _users_class(cls):
        return False
    for name in _WRITERS:
        member = inspect.getattr_static(cls, name, None)
        if isinstance(member, types.FunctionType) and user_function(member) is not None:
            return True
    return False


def _users_descriptor(found: Any) -> bool:
    """An object of a class of the user's with a ``__get__`` (not ayo-trace's: a method workflow)."""
    get = inspect.getattr_static(type(found), "__get__", None)
    return get is not None and _users_class(type(found)) and not runtime_code(get)


def writers_change_state(module: dict[str, Any], called: set[str]) -> bool:
    """Whether a class of the user's that ``module`` names and the workflow calls (``called``: the
    names its code calls, ``Chunk(i, w)``) writes its objects with code changing state (a
    ``__repr__`` counting its calls, ``Chunk.renders += 1``): formatting an object whose class the
    trace does not know may then be seen, so it is done in program order."""
    return any(isinstance(v := module.get(n), type) and writer_changes(v) for n in called)


@weak_cache
def writer_changes(cls: type) -> bool:
    """Whether ``cls``, a class of the user's, writes its objects (``__str__``, ``__repr__``,
    ``__format__``) with code changing state."""
    if not _users_class(cls):
        return False
    members = [inspect.getattr_static(cls, name, None) for name in _WRITERS]
    return any(
        isinstance(m, types.FunctionType)
        and user_function(m) is not None
        and bool(changes_module_state(m) or changed_objects(m))
        for m in members
    )
