"""The fields an object the workflow makes holds from the start, known at trace time.

    class RAG:
        def __init__(self, collection: str, k: int = 4):
            self.collection = collection
            self.k = k
        async def answer(self, q):
            hits = await ayo.search(q, collection=self.collection, top_k=self.k)
            ...

    rag = RAG("docs", k=3)          # in the workflow
    return await rag.answer(q)      # `collection=self.collection`: the graph constant "docs"

The object is still made where the workflow makes it, once per query (a ``python`` node). When its
class is plain, the call's arguments are known at trace time (constants, objects made of constants
in the call, or an object made so before whose only bare use is this argument) and its ``__init__``
only sets fields (``self.x = <expression calling no function but a builtin constructor or such a
class>``, ``super().__init__(...)`` of such an ``__init__``; a dataclass's with no
``__post_init__`` and no ``default_factory`` but a builtin container's or such a class: one that
counts, ``itertools.count(1).__next__``, must not run at trace time), the tracer makes one too, to
read the fields it starts with. An argument known only when the workflow runs (``req =
Request(q)``) is given to that copy as a stand-in that only storing accepts (``_Unknown``): the
fields the call does not set from it (a default ``collection="kb"``) are still known, and one
holding it, or made from it, is not (making the copy raises). A field counts when its value is a constant (a string, a number, a tuple of them...) and no
code of the class's module nor of the workflow's sets an attribute of that name again
(``x.collection = ...``, ``del``, or ``setattr``/``vars`` anywhere there, but an ``__init__``
setting its own; a frozen dataclass's are never set again): its reads (``self.collection``) are then
that constant, as a module-level object's fields are, and a call using it as a graph constant
(``collection=``, ``max_tokens=``) is traced instead of being a graph break. A field holding an
object (``self.retriever = Retriever(kb)``) counts when that object is *frozen* (``_frozen``: made
the same way, its methods reading ``self`` only for such fields and methods) and the workflow and
the holder's methods read it only further (``p.retriever.k``, ``self.retriever.search(q)``,
``self.retriever(q)``): the copy's object then stands for it in every query.
"""

from __future__ import annotations

import abc
import ast
import dataclasses
import functools
import inspect
import sys
import types
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import libcst as cst

from ..ir.code import dedented, parsed
from .source import FunctionSource
from .state import walk

if TYPE_CHECKING:
    from .builder import Builder

_DEPTH = 3  # (objects in objects, at most)
_MISSING = object()
_BUILTIN_MAKERS = frozenset({"list", "dict", "set", "tuple", "str", "int", "float", "bool", "frozenset"})


class Fields(dict[str, Any]):
    """The constant fields of a made object, by name, and ``made``: the trace-time copy (an
    argument of another object made of constants: ``RAG(retriever, writer)``)."""

    def __init__(self, fields: dict[str, Any], made: object) -> None:
        super().__init__(fields)
        self.made = made


def initial_fields(
    comp: Builder, name: str | None, call: cst.BaseExpression, cls: type | None
) -> Fields | None:
    """The constant fields ``name = call`` (``cls(...)``) makes, which nothing sets again (none if
    the object is handed to code that could: ``configure(name)``, ``other = name``, a method
    passing ``self`` on), with the trace-time copy; None when there is no copy."""
    if cls is None or not isinstance(call, cst.Call) or not _sets_fields_only(cls):
        return None
    uses, bare = ([], []) if name is None else _workflow_chains(comp, name)  # (None: `A(...).m()`)
    chains = _self_chains(cls)
    made = _make(comp, call, cls, 0)
    if made is _MISSING:
        return None
    copy = _MISSING if _holds_unknown(_state(made)) else made  # (no copy of a partial one)
    if bare or chains is None:
        return Fields({}, copy)  # handed on bare: code elsewhere could set its fields
    frozen = dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    changed = frozenset() if frozen else _set_again(cls)
    module = getattr(comp.src.fn, "__module__", "") or ""
    if module != cls.__module__:
        changed |= _module_sets(module)  # (the module that makes it)
    if "*" in changed:
        return Fields({}, copy)
    return Fields(_known_fields(made, changed, (*uses, *chains)), copy)


def fields_of(comp: Builder, value: object) -> dict[str, Any] | None:
    """The fields of ``value``, an object known at trace time that the workflow changes in place
    (``self.seen.append(q)``), as ``initial_fields`` finds them (its methods, and the modules of
    its class and of the workflow, say what may change)."""
    cls: Any = type(value)
    chains = _self_chains(cls)
    changed = _set_again(cls) | _module_sets(getattr(comp.src.fn, "__module__", "") or "")
    if chains is None or "*" in changed:
        return None
    return _known_fields(value, changed, chains) or None


def _known_fields(made: object, changed: frozenset[str], chains: Iterable[tuple[str, ...]]) -> dict[str, Any]:
    """The constant fields of ``made`` that nothing sets again (its own, and its class's constant
    attributes it does not hide: ``collection = "docs"`` in the class body), and the objects it
    holds that nothing changes (``self.retriever``) and that ``chains``, its reads, only read
    further."""
    state = getattr(made, "__dict__", None) or {}  # (none: a class with `__slots__`)
    fields = {k: v for k, v in state.items() if _constant(v) and k not in changed}
    seen = set(state)
    for klass in type(made).__mro__[:-1]:  # (a class attribute, `collection = "docs"` in its body)
        for k, v in vars(klass).items():
            if k not in seen and not k.startswith("__") and _constant(v) and k not in changed:
                fields[k] = v
            seen.add(k)
    for k, v in state.items():
        if (
            k not in fields
            and k not in changed
            and _frozen(v, changed, 1)
            and all(_chain_ok(made, c, changed, 0) for c in chains if c[0] == k)
        ):
            fields[k] = v
    return fields


def _make(comp: Builder, call: cst.Call, cls: type, depth: int) -> Any:
    """A trace-time copy of what ``call`` (``cls(...)``) makes, or ``_MISSING``: its arguments
    are constants, objects made in them of constants (``RAG(Retriever("kb"))``), or objects made
    before of constants that nothing else reads bare (``RAG(retriever)``); of the object the
    workflow makes (``depth`` 0), an argument known only at run time is an ``_Unknown``."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for a in call.args:
        value = _MISSING if a.star else _argument(comp, a.value, call, depth)
        if value is _MISSING:
            return _MISSING
        if a.keyword is None:
            args.append(value)
        else:
            kwargs[a.keyword.value] = value
    try:
        return cls(*args, **kwargs)
    except Exception:
        return _MISSING  # (it raises as it should when the workflow runs)


class _Unknown:
    """An argument known only when the workflow runs (``Req(q)``), given to the trace-time copy
    of the object the workflow makes in its place: only storing it works (any other use raises,
    as a value nothing may be computed from), so a field holding it, or made from it, is never
    taken for a constant, and the fields the call does not set (a default ``collection="kb"``) are
    still known."""

    __slots__ = ()

    def _unknown(self, *args: Any) -> Any:
        raise TypeError("a value known only when the workflow runs")

    __str__ = __repr__ = __format__ = __bool__ = __eq__ = __ne__ = __hash__ = _unknown


def _state(made: object) -> list[Any]:
    """The values of ``made``'s fields (its ``__dict__``'s, or its slots')."""
    state = getattr(made, "__dict__", None)
    if state is not None:
        return list(state.values())
    slots = [n for c in type(made).__mro__ for n in getattr(c, "__slots__", ())]
    return [getattr(made, n, None) for n in slots]


def _holds_unknown(values: Iterable[Any]) -> bool:
    """Whether ``values`` (a copy's fields) hold an ``_Unknown``, in containers too."""
    for v in values:
        if isinstance(v, _Unknown):
            return True
        if isinstance(v, tuple | list | set | frozenset) and _holds_unknown(v):
            return True
        if isinstance(v, dict) and _holds_unknown([*v.keys(), *v.values()]):
            return True
    return False


def _argument(comp: Builder, e: cst.BaseExpression, call: cst.Call, depth: int) -> Any:
    static = comp.exprs.try_static(e)
    if static is not None:
        return static.value
    if isinstance(e, cst.Call) and depth < _DEPTH:  # `RAG(Retriever("kb"), ...)`
        made = comp.exprs.callee(e)
        if _simple_class(made, depth):
            return _make(comp, e, made, depth + 1)
    if isinstance(e, cst.Name):  # `RAG(retriever, ...)`: its one bare read is this argument
        value = _peek(comp, e.value)
        fields = getattr(value, "fields", None)
        bare = _workflow_chains(comp, e.value)[1]
        if isinstance(fields, Fields) and len(bare) == 1 and bare[0] is e:
            return fields.made
    return _Unknown() if depth == 0 else _MISSING  # (an object made in it must be known whole)


def _peek(comp: Any, name: str) -> Any:
    while comp is not None:
        if name in comp.env:
            return comp.env[name]
        comp = comp.parent
    return None


class TraceView:
    """A made object as the tracer sees it: its known fields, else its class's attributes."""

    def __init__(self, cls: type, fields: dict[str, Any]) -> None:
        self._cls, self._fields = cls, fields

    def __getattr__(self, name: str) -> Any:
        if name in self._fields:
            return self._fields[name]
        found = getattr(self._cls, name)
        # a method, bound to the view: what it calls of `self` is looked up here too
        return types.MethodType(found, self) if inspect.isfunction(found) else found


def _frozen(value: object, changed: frozenset[str], depth: int) -> bool:
    """Whether ``value`` is an object of a plain class made by setting fields only, whose methods
    read ``self`` only for its constant fields, its methods and such objects' (so it is the same
    in every query, and a trace-time copy stands for it)."""
    cls: Any = type(value)
    if depth > _DEPTH or cls is _Unknown or not plain_class(cls) or not _sets_fields_only(cls):
        return False
    changed = changed | _set_again(cls)
    chains = _self_chains(cls)
    if "*" in changed or chains is None:
        return False
    return all(_chain_ok(value, c, changed, depth) for c in chains)


def _chain_ok(value: object, chain: tuple[str, ...], changed: frozenset[str], depth: int) -> bool:
    """Whether reading ``value.<chain>`` reads only what never changes: a constant field, a method,
    a constant of the class, or such a read of an object it holds (``self.retriever.k``)."""
    name, rest = chain[0], chain[1:]
    if name in changed:
        return False
    own = getattr(value, "__dict__", None) or {}
    if name in own:
        field = own[name]
        if _constant(field):
            return True
        return (
            bool(rest) and _frozen(field, changed, depth + 1) and _chain_ok(field, rest, changed, depth + 1)
        )
    attr = inspect.getattr_static(type(value), name, _MISSING)
    return (
        inspect.isfunction(attr)
        or isinstance(attr, staticmethod | classmethod)
        or (attr is not _MISSING and _constant(attr))
    )


def _constant(value: object) -> bool:
    if isinstance(value, tuple | frozenset):
        return all(_constant(v) for v in value)
    return value is None or isinstance(value, str | bytes | int | float | bool)


def plain_class(made: Any) -> bool:
    """Whether ``made`` is a plain class of the user's (no metaclass but ``abc.ABCMeta``, which
    makes objects and finds their methods as ``type`` does; no ``__getattr__``; no ``__new__`` of
    its own, which may hand back an object made before, a singleton's): calling it makes a new
    object, whose methods are the class's (``helpers.TracedSelf``)."""
    return (
        isinstance(made, type)
        and type(made) in (type, abc.ABCMeta)
        and made.__module__ != "builtins"
        and made.__getattribute__ is object.__getattribute__
        and not hasattr(made, "__getattr__")
        and made.__new__ is object.__new__
    )


def _makes_new(factory: Any, depth: int) -> bool:
    """Whether a dataclass field's ``default_factory`` only makes a new object (``list``, ``dict``,
    a class of fields only): one that counts (``itertools.count(1).__next__``, a function appending
    to a list of issued ids) makes each object differently, and the trace must not call it."""
    if factory is dataclasses.MISSING:
        return True
    if isinstance(factory, type) and factory.__module__ == "builtins":
        return factory.__name__ in _BUILTIN_MAKERS
    return plain_class(factory) and _sets_fields_only(factory, depth + 1)


def _sets_fields_only(cls: type, depth: int = 0, above: type | None = None) -> bool:
    """Whether making a ``cls`` only sets its fields from the arguments (see the module's doc), or
    from new objects of such classes (``self.retriever = Retriever(kb)``), also by calling its
    base's such ``__init__`` (``super().__init__(kb)``; ``above``: the class whose ``__init__``
    calls it)."""
    if depth > _DEPTH:
        return False
    if cls.__new__ is not object.__new__ or (dataclasses.is_dataclass(cls) and hasattr(cls, "__post_init__")):
        return False
    if dataclasses.is_dataclass(cls):  # (a frozen one sets nothing again: its `__setattr__` raises)
        if not all(_makes_new(f.default_factory, depth) for f in dataclasses.fields(cls)):
            return False
        return cls.__dataclass_params__.frozen or cls.__setattr__ is object.__setattr__  # type: ignore[attr-defined]
    if cls.__setattr__ is not object.__setattr__:
        return False
    mro = cls.__mro__[cls.__mro__.index(above) + 1 :] if above is not None else cls.__mro__
    defines = next(c for c in mro if "__init__" in c.__dict__)
    init = defines.__dict__["__init__"]
    if init is object.__init__:
        return True
    try:
        tree = parsed(dedented(inspect.getsource(init)))
    except (OSError, TypeError, SyntaxError):
        return False
    fn = tree.body[0]
    if not isinstance(fn, ast.FunctionDef) or not fn.args.args:
        return False
    me = fn.args.args[0].arg
    body = fn.body[1:] if fn.body and _is_docstring(fn.body[0]) else fn.body
    for stmt in body:
        if _calls_super_init(stmt):  # `super().__init__(kb)`: the next `__init__` must set fields only
            assert isinstance(stmt, ast.Expr)
            targets, value = [], stmt.value
            if not _sets_fields_only(cls, depth + 1, defines):
                return False
            value = ast.Tuple([*value.args, *(k.value for k in value.keywords)])  # type: ignore[attr-defined]
        elif isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        else:
            return False
        if not all(
            isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == me
            for t in targets
        ):
            return False
        for n in ast.walk(value):
            if isinstance(n, ast.Call) and not (
                isinstance(n.func, ast.Name)
                and (n.func.id in _BUILTIN_MAKERS or _simple_class(init.__globals__.get(n.func.id), depth))
            ):
                return False
            if isinstance(n, ast.Await | ast.Yield | ast.YieldFrom | ast.NamedExpr | ast.Lambda):
                return False
    return True


def _calls_super_init(stmt: ast.stmt) -> bool:
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    return (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "__init__"
        and isinstance(call.func.value, ast.Call)
        and isinstance(call.func.value.func, ast.Name)
        and call.func.value.func.id == "super"
        and not call.func.value.args
    )


def _simple_class(made: Any, depth: int) -> bool:
    return plain_class(made) and _sets_fields_only(made, depth + 1)


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _set_again(cls: type) -> frozenset[str]:
    """The attribute names set in the modules of ``cls`` and its bases, but by an ``__init__`` on
    the object it makes."""
    out: frozenset[str] = frozenset()
    for c in cls.__mro__[:-1]:
        out |= _module_sets(c.__module__)
    return out


def _workflow_chains(comp: Builder, name: str) -> tuple[list[tuple[str, ...]], list[cst.Name]]:
    """The attribute chains the function making the object reads of ``name`` (``rag.k``:
    ``("k",)``), and the reads of ``name`` bare (handing it on); one handed to a helper of the
    module that only reads it (``await answer(rag, q)``) counts as that helper's chains."""
    src = comp.src
    chains = []
    bare = []
    for n in walk(src.node.body):
        if not isinstance(n, cst.Name) or n.value != name:
            continue
        parent = src.parents.get(n)
        if isinstance(parent, cst.AssignTarget) or (
            isinstance(parent, cst.Element)
            and isinstance(src.parents.get(src.parents.get(parent)), cst.AssignTarget)
        ):
            continue  # (a binding: this one, or another object's; `a, b = A(), B()`)
        chain, _ = _chain_at(src.parents, n)
        helper = None if chain else _helper_reads(comp, n)
        if chain:
            chains.append(chain)
        elif helper is not None:
            chains.extend(helper)
        else:
            bare.append(n)
    return chains, bare


def _chain_at(parents: Any, n: cst.CSTNode) -> tuple[tuple[str, ...], cst.CSTNode | None]:
    """The attribute chain read of the name ``n`` (``rag.retriever(q)``: ``("retriever",
    "__call__")``; none for a bare read), and the node above it."""
    chain: list[str] = []
    at: cst.CSTNode = n
    while isinstance(up := parents.get(at), cst.Attribute) and up.value is at:
        chain.append(up.attr.value)
        at = up
    if chain and isinstance(up, cst.Call) and up.func is at:
        chain.append("__call__")  # (`rag.retriever(q)`)
    return tuple(chain), up


def param_chains(src: FunctionSource, param: str) -> list[tuple[str, ...]] | None:
    """The attribute chains the function ``src`` reads of its parameter ``param`` (``p.k``,
    ``p.step(q)``), or None where it uses it otherwise: binds it again, hands it on bare, sets,
    deletes or unpacks into one of its attributes (what the object's own methods set, ``_set_again``
    leaves out)."""
    bindings = src.fn_scope.assignments[param]
    if len(bindings) != 1:
        return None  # (bound again in the function)
    chains = []
    for ref in next(iter(bindings)).references:
        chain, up = _chain_at(src.parents, ref.node)
        top = ref.node
        while isinstance(above := src.parents.get(top), cst.Attribute) and above.value is top:
            top = above
        if not chain or isinstance(up, cst.AssignTarget | cst.Del | cst.Element | cst.StarredElement):
            return None
        if isinstance(up, cst.AugAssign | cst.AnnAssign | cst.For | cst.CompFor) and up.target is top:
            return None  # (`p.n += 1`, `for p.item in xs`)
        chains.append(chain)
    return chains


def _helper_reads(comp: Builder, n: cst.Name) -> list[tuple[str, ...]] | None:
    """The chains a helper of the module reads of the parameter the bare name ``n`` is the argument
    of (``await answer(rag, q)``), where it only reads it that way; else None."""
    arg = comp.src.parents.get(n)
    call = comp.src.parents.get(arg) if isinstance(arg, cst.Arg) and arg.value is n and not arg.star else None
    if not isinstance(call, cst.Call) or any(a.star for a in call.args):
        return None
    fn = comp.exprs.callee(call)
    if not inspect.isfunction(fn) or not inspect.iscoroutinefunction(fn) or hasattr(fn, "__ayo_workflow__"):
        return None
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    assert isinstance(arg, cst.Arg)
    if arg.keyword is not None:
        name = arg.keyword.value
    else:
        index = [a for a in call.args if a.keyword is None].index(arg)
        name = params[index].name if index < len(params) else ""
    found = [p for p in params if p.name == name and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if not found:
        return None
    sources = comp.deps.sources
    try:
        src = sources[fn] if fn in sources else sources.setdefault(fn, FunctionSource.parse(fn))
    except Exception:
        return None
    return param_chains(src, name)


@functools.lru_cache(maxsize=256)
def _self_chains(cls: type) -> tuple[tuple[str, ...], ...] | None:
    """The attribute chains the methods of ``cls`` (and of its bases) but ``__init__`` read of
    ``self`` (``self.retriever.k``: ``("retriever", "k")``); None when one reads ``self`` bare
    (``return self``, ``register(self)``): code elsewhere may then set its fields."""
    chains: list[tuple[str, ...]] = []
    for c in cls.__mro__[:-1]:
        for key, fn in vars(c).items():
            if isinstance(fn, staticmethod | classmethod):
                continue  # (no `self`)
            if not inspect.isfunction(fn):
                continue
            where = fn.__code__.co_filename
            if dataclasses.is_dataclass(c) and (where.startswith("<") or where == dataclasses.__file__):
                continue  # (made by the dataclass: `__init__`, `__repr__`, `__eq__`...)
            try:
                tree = parsed(dedented(inspect.getsource(fn)))
            except (OSError, TypeError, SyntaxError):
                return None
            node = tree.body[0]
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not node.args.args:
                continue
            me = node.args.args[0].arg
            up = {id(child): n for n in ast.walk(node) for child in ast.iter_child_nodes(n)}
            for n in ast.walk(node):
                if not (isinstance(n, ast.Name) and n.id == me):
                    continue
                chain: list[str] = []
                at: ast.AST = n
                while isinstance(parent := up.get(id(at)), ast.Attribute) and parent.value is at:
                    chain.append(parent.attr)
                    at = parent
                if chain and isinstance(parent, ast.Call) and parent.func is at:
                    chain.append("__call__")  # (`await self.retriever(q)`)
                if not chain:
                    return None
                if key != "__init__":
                    chains.append(tuple(chain))
    return tuple(chains)


@functools.lru_cache(maxsize=256)
def _module_sets(module: str) -> frozenset[str]:
    """The attribute names the module's code sets (``x.a = ``, ``x.a += ``, ``del x.a``), but an
    ``__init__`` on the object it makes (``self.a = a``); every name (``"*"``) when it calls
    ``setattr``, ``delattr`` or ``vars``, reads ``__dict__``, or calls ``__init__`` outside one
    (``obj.__init__(...)`` makes an object again)."""
    mod = sys.modules.get(module)
    try:
        tree = parsed(inspect.getsource(mod)) if mod is not None else None
    except (OSError, TypeError, SyntaxError):
        tree = None
    if tree is None:
        return frozenset({"*"})
    names: set[str] = set()
    making: set[int] = set()  # (the `self.a` an `__init__` sets; what any `__init__` reads)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "__init__" and node.args.args:
            me = node.args.args[0].arg
            for n in ast.walk(node):
                if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == me:
                    making.add(id(n))
                elif isinstance(n, ast.Attribute) and n.attr == "__init__":
                    making.add(id(n))  # (`super().__init__(...)`, `Base.__init__(self, ...)`)
    for node in ast.walk(tree):
        if id(node) in making:
            continue
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.attr)
        elif (isinstance(node, ast.Name) and node.id in ("setattr", "vars", "delattr")) or (
            isinstance(node, ast.Attribute) and node.attr in ("__dict__", "__init__")
        ):
            names.add("*")
    return frozenset(names)


def field_reads_only(e: cst.CSTNode, name: str, fields: dict[str, Any]) -> bool:
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
                and (_constant(fields[n.attr.value]) or id(n) in further or n is e)
            ):
                ok.add(id(n.value))
            further.add(id(n.value))

        def visit_Name(self, n: cst.Name) -> None:
            if n.value == name:
                names.append(n)

    further: set[int] = set()  # (the values of attributes, so read further)
    e.visit(V())
    return all(id(n) in ok for n in names)
