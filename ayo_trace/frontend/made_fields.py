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
class>``, also through locals and ``if``s, ``super().__init__(...)`` of such an ``__init__``; a
dataclass's with no ``__post_init__`` and no ``default_factory`` but a builtin container's or such a
class: one that counts, ``itertools.count(1).__next__``, must not run at trace time), the tracer
makes one too, to read the fields it starts with; so it does for a factory function's call
(``build_app(cfg)``: ``factories``). An argument known only when the workflow runs (``req =
Request(q)``) is given to that copy as a stand-in that only storing accepts (``_Unknown``): the
fields the call does not set from it (a default ``collection="kb"``) are still known, and one
holding it, or made from it, is not (making the copy raises); where an ``__init__`` (or a factory)
compares by identity (``k is None``), which the stand-in cannot refuse, there is no copy. A field
counts when its value is a constant (a string, a number, a tuple of them...) and no code of the
class's module nor of the workflow's sets an attribute of that name again (``x.collection = ...``,
``del``, ``setattr`` of that name, or of any name computed or through a ``__dict__`` that may
change, anywhere there, but an ``__init__`` setting its own; a frozen dataclass's are never set
again; ``attribute_uses``): its reads (``self.collection``) are then that constant, as a
module-level object's fields are, and a call using it as a graph constant (``collection=``,
``max_tokens=``) is traced instead of being a graph break. A field holding an object
(``self.retriever = Retriever(kb)``) counts when that object is *frozen* (``_frozen``: made the same
way, its methods reading ``self`` only for such fields and methods) and the workflow and the
holder's methods read it only further (``p.retriever.k``, ``self.retriever.search(q)``,
``self.retriever(q)``): the copy's object then stands for it in every query. One that changes (a
repository adding to its index) is *held* (``Fields.held``): its class is known for good, so its
methods are inlined (``made_methods``). An object handed bare to such a holder's constructor
(``QAService(repo)``) is read as the holder's methods read that field.
"""

from __future__ import annotations

import abc
import ast
import dataclasses
import inspect
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import libcst as cst

from ..ir.code import dedented, parsed
from . import attribute_uses, closures, factories
from .source import FunctionSource
from .state import walk

if TYPE_CHECKING:
    from .builder import Builder

_DEPTH = 3  # (objects in objects, at most)
_MISSING = object()
_BUILTIN_MAKERS = frozenset({"list", "dict", "set", "tuple", "str", "int", "float", "bool", "frozenset"})


class Fields(dict[str, Any]):
    """The constant fields of a made object, by name; ``made``: the trace-time copy (an argument
    of another object made of constants: ``RAG(retriever, writer)``); ``held``: the objects it
    holds for good that change (``_held``), by field, with their class and constant fields."""

    def __init__(self, fields: dict[str, Any], made: object, held: dict[str, Any] | None = None) -> None:
        super().__init__(fields)
        self.made = made
        self.held = held or {}


def initial_fields(
    comp: Builder, name: str | None, call: cst.BaseExpression, cls: type | None
) -> Fields | None:
    """The constant fields ``name = call`` (``cls(...)``) makes, which nothing sets again (none if
    the object is handed to code that could: ``configure(name)``, ``other = name``, a method
    passing ``self`` on), with the trace-time copy; None when there is no copy."""
    if cls is None or not isinstance(call, cst.Call) or not _sets_fields_only(cls):
        return None
    uses, bare = ([], []) if name is None else _workflow_chains(comp, name)  # (None: `A(...).m()`)
    chains = attribute_uses.self_chains(cls)
    made = _make(comp, call, cls, 0)
    if made is _MISSING:
        return None
    copy = _MISSING if _holds_unknown(_state(made)) else made  # (no copy of a partial one)
    if bare or chains is None:
        return Fields({}, copy)  # handed on bare: code elsewhere could set its fields
    frozen = dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    changed = frozenset() if frozen else attribute_uses.set_again(cls)
    module = getattr(comp.src.fn, "__module__", "") or ""
    if module != cls.__module__:
        changed |= attribute_uses.module_sets(module)  # (the module that makes it)
    if "*" in changed:
        return Fields({}, copy)
    fields = _known_fields(made, changed, (*uses, *chains))
    return Fields(fields, copy, _held(made, fields, changed, {*uses, *chains}))


def _held(made: object, fields: dict[str, Any], changed: frozenset[str], reads: set[Any]) -> dict[str, Any]:
    """The objects of plain classes ``made`` holds in fields nothing sets again but that are no
    constants (``self.repo = repo``, a repository adding to its index), by field: their class,
    the same in every query, and their own constant fields (``self.repo.collection``) unless the
    object is read bare (``reads``: ``("repo",)``, handed on, where code elsewhere may set them)."""
    out: dict[str, Any] = {}
    for k, v in _attrs(made).items():
        cls: Any = type(v)
        if k in fields or k in changed or not plain_class(cls):
            continue
        mine = changed | attribute_uses.set_again(cls)
        chains = attribute_uses.self_chains(cls)
        escapes = (k,) in reads or any(c[:1] == ("__dict__",) for c in reads)
        known = chains is not None and "*" not in mine and not escapes
        out[k] = (cls, _known_fields(v, mine, chains or ()) if known else {})
    return out


def fields_of(comp: Builder, value: object) -> dict[str, Any] | None:
    """The fields of ``value``, an object known at trace time that the workflow changes in place
    (``self.seen.append(q)``), as ``initial_fields`` finds them (its methods, and the modules of
    its class and of the workflow, say what may change)."""
    cls: Any = type(value)
    chains = attribute_uses.self_chains(cls)
    changed = attribute_uses.set_again(cls) | attribute_uses.module_sets(
        getattr(comp.src.fn, "__module__", "") or ""
    )
    if chains is None or "*" in changed:
        return None
    return _known_fields(value, changed, chains) or None


def _known_fields(made: object, changed: frozenset[str], chains: Iterable[tuple[str, ...]]) -> dict[str, Any]:
    """The constant fields of ``made`` that nothing sets again (its own, and its class's constant
    attributes it does not hide: ``collection = "docs"`` in the class body), and the objects it
    holds that nothing changes (``self.retriever``) and that ``chains``, its reads, only read
    further."""
    state = _attrs(made)
    fields = {k: v for k, v in state.items() if _constant(v) and k not in changed}
    seen = set(state)
    for klass in type(made).__mro__[:-1]:  # (a class attribute, `collection = "docs"` in its body)
        for k, v in vars(klass).items():
            if k not in seen and not k.startswith("__") and _constant(v) and k not in changed:
                fields[k] = v
            seen.add(k)
    chains = tuple(chains)
    whole = any(c[:1] == ("__dict__",) for c in chains)  # (its namespace read: what it holds escapes)
    for k, v in state.items():
        if (
            not whole
            and k not in fields
            and k not in changed
            and _frozen(v, changed, 1)
            and all(_chain_ok(made, c, changed, 0) for c in chains if c[0] == k)
        ):
            fields[k] = v
    return fields


def _make(comp: Builder, call: cst.Call, cls: Any, depth: int) -> Any:
    """A trace-time copy of what ``call`` (``cls(...)``, or a factory's call: ``factories``)
    makes, or ``_MISSING``: its arguments are constants, objects made in them of constants
    (``RAG(Retriever("kb"))``), or objects made before of constants that nothing else reads bare
    (``RAG(retriever)``); of the object the workflow makes (``depth`` 0), an argument known only at
    run time is an ``_Unknown``, where what it is handed to cannot tell one from a value by
    identity (``attribute_uses.tests_identity``, ``factories.sees_identity``)."""
    found = comp.exprs.callee(call) if depth == 0 else None
    maker = found if found is not None and not isinstance(found, type) else cls
    reads = None if isinstance(maker, type) else factories.pure(maker, _simple)
    if not isinstance(maker, type) and (reads is None or closures.reads_changed(comp, [r[0] for r in reads])):
        return _MISSING  # (not a class, nor a factory whose module names the workflow leaves alone)
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
    if _holds_unknown([*args, *kwargs.values()]) and (
        attribute_uses.tests_identity(maker) if reads is None else _factory_sees(maker, args, kwargs)
    ):
        return _MISSING  # (a stand-in would take a branch the value may not: `k is None`)
    if reads is not None:
        factories.saw_reads(comp.deps, getattr(maker, "__func__", maker).__globals__, reads)
    try:
        made = maker(*args, **kwargs)
    except Exception:
        return _MISSING  # (it raises as it should when the workflow runs)
    if reads is not None and not _simple(type(made)):
        return _MISSING
    return made if not isinstance(cls, type) or type(made) is cls else _MISSING


def _factory_sees(fn: Any, args: list[Any], kwargs: dict[str, Any]) -> bool:
    """Whether the factory ``fn`` could tell the stand-ins among its arguments from their values."""
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except TypeError:
        return True
    unknown = frozenset(k for k, v in bound.arguments.items() if _holds_unknown([v]))
    return factories.sees_identity(fn, unknown)


def factory_class(comp: Builder, call: cst.BaseExpression) -> type | None:
    """The plain class of the object ``call``, a factory's with arguments known now, makes
    (``build_app(Config(top_k=2))``: ``factories``); None for any other expression."""
    if not isinstance(call, cst.Call):
        return None
    fn = comp.exprs.callee(call)
    made = _MISSING if fn is None or isinstance(fn, type) else _make(comp, call, fn, 0)
    return None if made is _MISSING else type(made)


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
    """The values of ``made``'s fields."""
    return list(_attrs(made).values())


def _attrs(made: object) -> dict[str, Any]:
    """``made``'s fields by name: its ``__dict__``, or the slots it has set (``__slots__``)."""
    state = getattr(made, "__dict__", None)
    if state is not None:
        return state
    names = []
    for c in type(made).__mro__:
        slots = getattr(c, "__slots__", ())
        names += [slots] if isinstance(slots, str) else list(slots)
    return {n: getattr(made, n) for n in names if not n.startswith("__") and hasattr(made, n)}


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
        if _simple_class(made, depth) or factories.pure(made, _simple) is not None:
            return _make(comp, e, made, depth + 1)
    if isinstance(e, cst.Name):  # `RAG(retriever, ...)`: its one bare read is this argument
        value = _peek(comp, e.value)
        fields = getattr(value, "fields", None)
        bare = _workflow_chains(comp, e.value)[1]
        if isinstance(fields, Fields) and all(b is e for b in bare):
            return fields.made
    return _Unknown() if depth == 0 else _MISSING  # (an object made in it must be known whole)


def _peek(comp: Any, name: str) -> Any:
    while comp is not None:
        if name in comp.env:
            return comp.env[name]
        comp = comp.parent
    return None


def _frozen(value: object, changed: frozenset[str], depth: int) -> bool:
    """Whether ``value`` is an object of a plain class made by setting fields only, whose methods
    read ``self`` only for its constant fields, its methods and such objects' (so it is the same
    in every query, and a trace-time copy stands for it)."""
    cls: Any = type(value)
    if depth > _DEPTH or cls is _Unknown or not plain_class(cls) or not _sets_fields_only(cls):
        return False
    changed = changed | attribute_uses.set_again(cls)
    chains = attribute_uses.self_chains(cls)
    if "*" in changed or chains is None:
        return False
    return all(_chain_ok(value, c, changed, depth) for c in chains)


def _chain_ok(value: object, chain: tuple[str, ...], changed: frozenset[str], depth: int) -> bool:
    """Whether reading ``value.<chain>`` reads only what never changes: a constant field, a method,
    a constant of the class, or such a read of an object it holds (``self.retriever.k``)."""
    name, rest = chain[0], chain[1:]
    if name in changed:
        return False
    own = _attrs(value)
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

    def value_ok(value: ast.AST) -> bool:
        for n in ast.walk(value):
            if isinstance(n, ast.Call) and not (
                isinstance(n.func, ast.Name)
                and (n.func.id in _BUILTIN_MAKERS or _simple_class(init.__globals__.get(n.func.id), depth))
            ):
                return False
            if isinstance(n, ast.Await | ast.Yield | ast.YieldFrom | ast.NamedExpr | ast.Lambda):
                return False
        return True

    def statements_ok(stmts: list[ast.stmt]) -> bool:  # (fields set, locals bound: `cfg = cfg or Cfg()`)
        for stmt in stmts:
            if isinstance(stmt, ast.If):
                if not (value_ok(stmt.test) and statements_ok(stmt.body) and statements_ok(stmt.orelse)):
                    return False
                continue
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
                (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == me)
                or (isinstance(t, ast.Name) and t.id != me)
                for t in targets
            ):
                return False
            if not value_ok(value):
                return False
        return True

    return statements_ok(fn.body[1:] if fn.body and _is_docstring(fn.body[0]) else fn.body)


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


def _simple(made: Any) -> bool:  # (what a factory may make: `factories.pure`)
    return _simple_class(made, 0)


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _workflow_chains(
    comp: Builder, name: str, depth: int = 0
) -> tuple[list[tuple[str, ...]], list[cst.Name]]:
    """The attribute chains the function making the object reads of ``name`` (``rag.k``:
    ``("k",)``), and the reads of ``name`` bare (handing it on); one handed to a helper of the
    module that only reads it (``await answer(rag, q)``) counts as that helper's chains, one handed
    to a class that keeps it for good (``QAService(repo)``) as that class's methods' reads of it."""
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
        if not chain and _in_vars(comp, n):
            chain = ("__dict__",)  # (`vars(c)`: what the module does with it, `module_sets` says)
        helper = None if chain else _helper_reads(comp, n)
        held = None if chain or helper is not None or depth >= _DEPTH else _holder_reads(comp, n, depth)
        if chain:
            chains.append(chain)
        elif helper is not None:
            chains.extend(helper)
        elif held is not None:
            chains.extend(held)
        else:
            bare.append(n)
    return chains, bare


def _in_vars(comp: Builder, n: cst.Name) -> bool:
    """Whether ``n`` is the argument of a call of the builtin ``vars`` (``vars(c)``)."""
    arg = comp.src.parents.get(n)
    call = (
        comp.src.parents.get(arg) if isinstance(arg, cst.Arg) and not arg.star and not arg.keyword else None
    )
    return isinstance(call, cst.Call) and len(call.args) == 1 and comp.exprs.callee(call) is vars


def _holder_reads(comp: Builder, n: cst.Name, depth: int) -> list[tuple[str, ...]] | None:
    """The chains a plain class's methods read of the object the bare name ``n`` is handed to its
    constructor as (``QAService(repo)``, reading ``self.repo.find(q)``: ``attribute_uses.
    holder_reads``), where the holder is itself only read further (``QAService(repo).answer(q)``,
    or a name with no bare use); else None."""
    arg = comp.src.parents.get(n)
    call = comp.src.parents.get(arg) if isinstance(arg, cst.Arg) and arg.value is n and not arg.star else None
    if not isinstance(call, cst.Call) or any(a.star for a in call.args) or not isinstance(arg, cst.Arg):
        return None
    cls = comp.exprs.callee(call)
    if not plain_class(cls):
        return None
    index = None if arg.keyword is not None else [a for a in call.args if a.keyword is None].index(arg)
    found = attribute_uses.holder_reads(cls, index, arg.keyword.value if arg.keyword is not None else None)
    if found is None:
        return None
    field, reads = found
    up = comp.src.parents.get(call)
    if isinstance(up, cst.Assign) and len(up.targets) == 1 and isinstance(up.targets[0].target, cst.Name):
        chains, bare = _workflow_chains(comp, up.targets[0].target.value, depth + 1)
    else:
        chains, bare = [_chain_at(comp.src.parents, call)[0]], []
    # the holder read only further (`QAService(repo).answer(q)`), and never its field bare
    return reads if not bare and all(c and c != (field,) for c in chains) else None


def _chain_at(parents: Any, n: cst.CSTNode) -> tuple[tuple[str, ...], cst.CSTNode | None]:
    """The attribute chain read of the name ``n`` (``rag.retriever(q)``: ``("retriever",
    "__call__")``; ``judge(q)``: ``("__call__",)``; none for a bare read), and the node above it."""
    chain: list[str] = []
    at: cst.CSTNode = n
    while isinstance(up := parents.get(at), cst.Attribute) and up.value is at:
        chain.append(up.attr.value)
        at = up
    if isinstance(up, cst.Call) and up.func is at:
        chain.append("__call__")  # (`rag.retriever(q)`, `judge(q)`: its class's `__call__`)
    return tuple(chain), up


def param_chains(src: FunctionSource, param: str, module: str = "") -> list[tuple[str, ...]] | None:
    """The attribute chains the function ``src`` reads of its parameter ``param`` (``p.k``,
    ``p.step(q)``), or None where it uses it otherwise: binds it again, hands it on bare, sets,
    deletes or unpacks into one of its attributes (what the object's own methods set, ``set_again``
    leaves out), but for a function of the ``module`` making the object, whose sets count there
    (``attribute_uses.module_sets``: ``repo.loaded = True`` keeps ``repo.collection`` known)."""
    sets_ok = bool(module) and getattr(src.fn, "__module__", None) == module
    bindings = src.fn_scope.assignments[param]
    if len(bindings) != 1:
        return None  # (bound again in the function)
    chains = []
    for ref in next(iter(bindings)).references:
        chain, up = _chain_at(src.parents, ref.node)
        top = ref.node
        while isinstance(above := src.parents.get(top), cst.Attribute) and above.value is top:
            top = above
        stored = isinstance(up, cst.AssignTarget | cst.Del | cst.Element | cst.StarredElement) or (
            isinstance(up, cst.AugAssign | cst.AnnAssign | cst.For | cst.CompFor) and up.target is top
        )  # (`p.n = 1`, `p.n += 1`, `for p.item in xs`)
        if not chain or (stored and not (sets_ok and top is not ref.node)):
            return None
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
    return param_chains(src, name, getattr(comp.src.fn, "__module__", "") or "")
