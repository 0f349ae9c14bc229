"""A call whose function, or one of whose graph constants, is computed when the workflow runs from
a few values known when it is traced: an agent's tool dispatch, a router's choice of a
sub-workflow or of a collection.

    await TOOLS[name](q)                     # a table (a dict) of functions, a key computed now
    await ROUTES.get(route, chat)(q)         # the same, with a default
    handler = TOOLS[name]; await handler(q)  # a name bound once to one of those
    step = summarize if short else expand; await step(text)
    kb = "code" if "def " in q else "docs"; await ayo.search(q, collection=kb)
    await ayo.llm(p, max_tokens=BUDGET[kind])
    p = PERSONAS[kind]; await ayo.llm(q, max_tokens=p.budget)   # a field of each object
    await pick(q)(q)                         # what `def pick(q): return a if ... else b` returns
    for kb in KBS: ...collection=kb...; break  # a loop's items, where it is not unrolled

The callee (or ``collection=``, ``max_tokens=``, any argument the primitive needs as a graph
constant) is not known at trace time, so the await would be a graph break: run eagerly, none of its
calls traced. Its *candidates* are the values it may take: the table's values (and the default),
the arms of the conditional expression. The call is then traced as a chain of ``cond`` nodes: the
value is computed once, compared with each candidate in turn (same type and ``==``), and the
matching arm is the call with that candidate in its place, which the tracer follows like any call
(a helper or workflow inlined, a primitive traced with its constants). When the candidates are all
the value can be (a conditional expression of constants) the last candidate needs no test; when not
(a table looked up by a key that may be anything: a missing key raises ``KeyError``, an entry may
be added after the trace), the last arm is the call as written, a graph break run only for a value
none of them is. A key known to be one of a few of the table's keys (``TOOLS["a" if x else "b"]``)
gives just those entries, all it can be.

Only where that is what Python does: the value is one of the shapes above, evaluating it has no
effect besides its key, a table is a ``dict`` of at most ``MAX_ARMS`` entries (a constant, or a
local dict only looked up), a name is bound by one plain assignment in its function, and at least
one candidate's call is traced (otherwise nothing is gained)."""

from __future__ import annotations

import enum
import inspect
import itertools
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import libcst as cst
from libcst.metadata import ComprehensionScope

from ..ir.code import SourceLoc
from ..ir.graph import Node
from ..ir.spec import primitive_spec
from . import impure, unroll
from .builder import cond_node
from .state import contains_await, walk
from .user_code import parse_function, user_function
from .values import Static, Traced, Value

if TYPE_CHECKING:
    from .builder import Builder

MAX_ARMS = 16
MAX_DEPTH = 8  # conditionals, names and keys followed for the candidates
_TEMP = "__ayo_choice_"


@dataclass(frozen=True)
class Choice:
    """What a call's arms differ by: ``expr`` (the callee, or an argument's value), which may be any
    of ``values`` (all it can be when ``exhaustive``), and ``temp``, the name standing for the
    chosen one in each arm's call (``arm``)."""

    expr: cst.BaseExpression
    values: tuple[Any, ...]
    exhaustive: bool
    temp: str
    arm: Callable[[cst.Call, str], cst.Call]


def choice(comp: Builder, e: cst.Await) -> Choice | None:
    """How ``await e`` is traced as a choice among calls (see above), or None."""
    call = e.expression
    if id(e) in comp.deps.fallbacks or not isinstance(call, cst.Call):
        return None
    found = _callee_choice(comp, call) or _argument_choice(comp, e, call)
    if found is None:
        return None
    for value in found.values:  # at least one arm traced
        comp.temps[found.temp] = Static(value)
        try:
            if not comp.exprs.break_call_target(cst.Await(found.arm(call, found.temp))):
                return found
        finally:
            del comp.temps[found.temp]
    return None


def _callee_choice(comp: Builder, call: cst.Call) -> Choice | None:
    if comp.exprs.try_static_callable(call.func) is not None:
        return None  # known now: an ordinary call
    found = _candidates(comp, call.func, 0) or _methods(comp, call.func)
    if found is None:
        return None
    return Choice(call.func, *found, f"{_TEMP}callee", lambda c, temp: c.with_changes(func=cst.Name(temp)))


def _methods(comp: Builder, e: cst.BaseExpression) -> tuple[tuple[Any, ...], bool] | None:
    """``AGENTS[kind].run``: the bound methods of the objects the value may be (a router's table of
    agents), each a plain function of the object's class that nothing of its own hides (no
    attribute of its ``__dict__``, no ``__getattribute__`` or ``__getattr__`` of the class: reading
    it at trace time runs none of the user's code)."""
    if not isinstance(e, cst.Attribute):
        return None
    found = _candidates(comp, e.value, 0)
    if found is None:
        return None
    name, methods = e.attr.value, []
    for obj in found[0]:
        cls = type(obj)
        if isinstance(obj, type | types.ModuleType) or cls.__getattribute__ is not object.__getattribute__:
            return None
        own = getattr(obj, "__dict__", {})
        if hasattr(cls, "__getattr__") or not isinstance(own, dict) or name in own:
            return None
        if not isinstance(inspect.getattr_static(cls, name, None), types.FunctionType):
            return None
        methods.append(getattr(obj, name))
    return _limited(_unique(methods), found[1])


def _argument_choice(comp: Builder, e: cst.Await, call: cst.Call) -> Choice | None:
    """The first argument the primitive needs as a graph constant that is computed when the
    workflow runs, when it has candidates."""
    op = comp.exprs.primitive_of(e)
    spec = primitive_spec(op) if op is not None else None
    if spec is None or comp.exprs.static_at_run_time(e) is None:
        return None
    constants = set(spec.names("static")) - {"messages", "parse"}
    for i, arg in enumerate(call.args):
        if arg.keyword is None or arg.keyword.value not in constants or comp.exprs.try_static(arg.value):
            continue
        if any(contains_await(a.value) for a in call.args[:i]):
            return None  # (the value is computed before the arms' arguments: no await reordered)
        found = _candidates(comp, arg.value, 0)
        if found is None:
            continue  # (a parameter the trace specializes on; or no candidates: a later one may)

        def arm(c: cst.Call, temp: str, i: int = i) -> cst.Call:
            args = list(c.args)
            args[i] = args[i].with_changes(value=cst.Name(temp))
            return c.with_changes(args=args)

        return Choice(arg.value, *found, f"{_TEMP}{arg.keyword.value}", arm)
    return None


def _candidates(comp: Builder, e: cst.BaseExpression, depth: int) -> tuple[tuple[Any, ...], bool] | None:
    """``(values, exhaustive)`` for expression ``e``, or None. ``depth``: how many conditionals,
    names and keys deep ``e`` stands (a chain of conditional expressions, `"a" if x else "b" if y
    else "c"`, one a level); beyond ``MAX_DEPTH``, None."""
    if depth > MAX_DEPTH:
        return None
    static = comp.exprs.try_static_callable(e) or comp.exprs.try_static(e)
    if static is not None:
        return (static.value,), True
    if isinstance(e, cst.IfExp):
        then, orelse = _candidates(comp, e.body, depth + 1), _candidates(comp, e.orelse, depth + 1)
        if then is None or orelse is None:
            return None
        return _limited(_unique([*then[0], *orelse[0]]), then[1] and orelse[1])
    if isinstance(e, cst.Subscript) and len(e.slice) == 1 and isinstance(e.slice[0].slice, cst.Index):
        table = _table(comp, e.value, sequence=True)
        if table is None:  # s["tokens"] of `for s in SPECS`: that entry of each dict
            return _entries(comp, e, depth)
        keys = _keys(comp, e.slice[0].slice.value, table, depth)
        if keys is not None:  # TOOLS["a" if x else "b"]: those entries, and nothing else
            return _limited(_unique([table[k] for k in keys]), True)
        return _limited(_unique(list(table.values())), False)
    if isinstance(e, cst.Call) and isinstance(e.func, cst.Attribute) and e.func.attr.value == "get":
        table = _table(comp, e.func.value)
        if table is None or not 1 <= len(e.args) <= 2 or any(a.keyword or a.star for a in e.args):
            return None
        default = comp.exprs.try_static(e.args[1].value) if len(e.args) == 2 else Static(None)
        if default is None:
            return None
        keys = _keys(comp, e.args[0].value, None, depth)
        if keys is not None:
            return _limited(_unique([table.get(k, default.value) for k in keys]), True)
        return _limited(_unique([*table.values(), default.value]), False)
    if isinstance(e, cst.BinaryOperation | cst.UnaryOperation):  # 2 + attempt, of a loop's items
        return _computed(comp, e, depth)
    if isinstance(e, cst.Attribute):  # PERSONAS[kind].budget: that field of each object
        return _fields(comp, e, depth)
    if isinstance(e, cst.Call):  # pick(q), of `def pick(q): return short if ... else long`
        return _returned(comp, e)
    bound = comp.src.bindings(e)  # handler = TOOLS[name]; await handler(q)
    if bound is None:  # (`if docs: kb = "docs"` / `else: kb = "empty"`: each binding's values)
        return _loop_items(comp, e)
    found = [_candidates(comp, value, depth + 1) for _, value in bound]
    if any(f is None for f in found):
        return None
    return _limited(_unique([v for f in found if f for v in f[0]]), all(f[1] for f in found if f))


def _computed(comp: Builder, e: cst.BaseExpression, depth: int) -> tuple[tuple[Any, ...], bool] | None:
    """The values of arithmetic on names with candidates and constants (``2 + attempt``,
    ``base * 2``): computed for each combination of the names' values (numbers and strings only,
    so no code of the user's runs); all it can be when every name's are."""
    names: list[str] = []
    for n in walk(e):
        if isinstance(n, cst.Name):
            names.append(n.value)
        elif not isinstance(n, _ARITHMETIC):
            return None
    names = list(dict.fromkeys(names))
    found = [_named(comp, e, n, depth) for n in names]
    if not names or len(names) > 2 or any(f is None for f in found):
        return None
    combos = list(itertools.product(*(f[0] for f in found if f is not None)))
    if len(combos) > MAX_ARMS or not all(type(v) in (int, float, str, bool) for c in combos for v in c):
        return None
    code = cst.Module([]).code_for_node(e)
    try:
        values = [eval(code, {"__builtins__": {}}, dict(zip(names, c, strict=True))) for c in combos]
    except Exception:  # (a combination Python would fail on: left to the last arm)
        return None
    return _limited(_unique(values), all(f is not None and f[1] for f in found))


def _named(
    comp: Builder, e: cst.BaseExpression, name: str, depth: int
) -> tuple[tuple[Any, ...], bool] | None:
    """The candidates of the name ``name`` as read in ``e`` (the node of ``e`` itself: its scope)."""
    node = next(n for n in walk(e) if isinstance(n, cst.Name) and n.value == name)
    return _candidates(comp, node, depth + 1)


_ARITHMETIC = (
    cst.Name, cst.Integer, cst.Float, cst.SimpleString, cst.BinaryOperation, cst.UnaryOperation,
    cst.BaseBinaryOp, cst.BaseUnaryOp, cst.LeftParen, cst.RightParen, cst.BaseParenthesizableWhitespace,
)  # fmt: skip


def _loop_items(comp: Builder, e: cst.BaseExpression) -> tuple[tuple[Any, ...], bool] | None:
    """The values a name bound only as the target of one ``for`` loop (or comprehension clause)
    over a few constants known now takes (``for kb in KBS:`` ... ``collection=kb``, ``for attempt
    in range(3):`` ... ``seed=attempt``; also dicts, ``s["tokens"]`` of ``for s in SPECS``), where
    the tracer does not unroll it (a ``break`` or ``continue``, items that are dicts).
    All it can be only where the items are written out (``range(3)``, a tuple of constants); a
    name's list may be another by the time the workflow runs."""
    src = comp.src
    scope = src.scopes.get(e) if isinstance(e, cst.Name) else None
    if not isinstance(e, cst.Name) or not (scope is src.fn_scope or isinstance(scope, ComprehensionScope)):
        return None
    assigned = list(scope.assignments[e.value])
    target = getattr(assigned[0], "node", None) if len(assigned) == 1 else None
    loop = src.parents.get(target) if target is not None else None
    while isinstance(loop, cst.Tuple | cst.List | cst.Element):
        loop = src.parents.get(loop)
    if not isinstance(loop, cst.For | cst.CompFor) or loop.asynchronous is not None:
        return None
    items = unroll._items(comp, loop.target, loop.iter, objects=True)
    if not items:
        return None
    try:
        values = [unroll.bind(comp, loop.target, item)[e.value] for item in items]
    except Exception:  # (an item the target does not unpack: Python raises it when the loop runs)
        return None
    written = all(  # (`range(3)`, `("a", "b")`: the items are those wherever it runs)
        n.value in _WRITTEN
        and n.value not in getattr(src.fn, "__globals__", {})
        and not src.fn_scope.assignments[n.value]
        for n in walk(loop.iter)
        if isinstance(n, cst.Name)
    )
    return _limited(_unique(values), written)


_WRITTEN = frozenset({"range", "enumerate", "zip", "reversed", "True", "False", "None"})


def _returned(comp: Builder, e: cst.Call) -> tuple[tuple[Any, ...], bool] | None:
    """What a plain function of the user's returns, where every ``return`` of it gives a name of
    its module (or a conditional expression of such names: ``return short if len(q) < 14 else
    long``) that is none of its own names: those objects, when calling it changes nothing (the
    last arm calls it again). Never all it can be (a module's name may be bound anew since the
    trace)."""
    fn = comp.exprs.callee(e)
    if (
        not isinstance(fn, types.FunctionType)
        or inspect.iscoroutinefunction(fn)
        or inspect.isgeneratorfunction(fn)
    ):
        return None
    node = parse_function(fn) if user_function(fn) is not None else None
    if node is None or impure.changes_module_state(fn) or impure.changed_objects(fn):
        return None  # (the last arm calls it again: only where calling it changes nothing)
    if any(isinstance(n, cst.Name) and n.value == "print" for n in walk(node.body)):
        return None
    own = set(fn.__code__.co_varnames) | set(fn.__code__.co_cellvars)
    values: list[Any] = []
    returns = [
        n for n in walk(node.body, lambda n: isinstance(n, cst.FunctionDef | cst.Lambda | cst.ClassDef))
    ]
    for r in (n for n in returns if isinstance(n, cst.Return)):
        leaves, stack = [], [r.value]
        while stack:
            x = stack.pop()
            if isinstance(x, cst.IfExp):
                stack += [x.body, x.orelse]
            else:
                leaves.append(x)
        for leaf in leaves:
            if not isinstance(leaf, cst.Name) or leaf.value in own or leaf.value not in fn.__globals__:
                return None
            values.append(fn.__globals__[leaf.value])
    return _limited(_unique(values), False) if values else None


def _entries(comp: Builder, e: cst.Subscript, depth: int) -> tuple[tuple[Any, ...], bool] | None:
    """The entry of a constant key (``s["tokens"]``) of each dict ``e.value`` may be (a loop's
    items, ``for s in SPECS``). Never all the value can be: a dict may have changed since the
    trace; then the last arm runs the call as written."""
    index = e.slice[0].slice
    key = comp.exprs.try_static(index.value) if isinstance(index, cst.Index) else None
    owners = _candidates(comp, e.value, depth + 1) if key is not None else None
    if key is None or owners is None:
        return None
    if not all(type(o) is dict and _hashable(key.value) and key.value in o for o in owners[0]):
        return None
    return _limited(_unique([o[key.value] for o in owners[0]]), False)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _fields(comp: Builder, e: cst.Attribute, depth: int) -> tuple[tuple[Any, ...], bool] | None:
    """The field ``e.attr`` of each object ``e.value`` may be, read from the object's own
    ``__dict__`` (nothing of its class hides it, nothing of the user's runs to read it). Never all
    the value can be: a field may have been set since the trace, a frozen dataclass's too
    (``object.__setattr__``); then the last arm runs the call as written. An enum member's
    ``value`` or ``name`` is its own for good: all it can be, where the members are."""
    owners = _candidates(comp, e.value, depth + 1)
    if owners is None:
        return None
    name, values = e.attr.value, []
    if name in ("value", "name") and all(isinstance(o, enum.Enum) for o in owners[0]):
        # (`mode.value` of `mode = Mode.DETAILED if ... else Mode.BRIEF`: an enum member's own)
        return _limited(_unique([getattr(o, name) for o in owners[0]]), owners[1])
    for obj in owners[0]:
        cls = type(obj)
        own = getattr(obj, "__dict__", None) if not isinstance(obj, type | types.ModuleType) else None
        if (
            not isinstance(own, dict)
            or name not in own
            or cls.__getattribute__ is not object.__getattribute__
        ):
            return None
        if hasattr(inspect.getattr_static(cls, name, None), "__set__"):
            return None  # (a data descriptor of the class, a property: it wins over the object's own)
        values.append(own[name])
    return _limited(_unique(values), False)


def _keys(
    comp: Builder, key: cst.BaseExpression, table: dict[Any, Any] | None, depth: int
) -> list[Any] | None:
    """Every key ``key`` can be, when they are known (and all in ``table``, when given)."""
    found = _candidates(comp, key, depth + 1)
    if found is None or not found[1]:
        return None
    try:
        if table is not None and not all(k in table for k in found[0]):
            return None
    except TypeError:  # (an unhashable key)
        return None
    return list(found[0])


def _limited(values: list[Any], exhaustive: bool) -> tuple[tuple[Any, ...], bool] | None:
    return (tuple(values), exhaustive) if 0 < len(values) <= MAX_ARMS else None


def _table(comp: Builder, e: cst.BaseExpression, sequence: bool = False) -> dict[Any, Any] | None:
    """A dict known now: a constant, or a local bound once to one and only looked up; with
    ``sequence``, a list or tuple too (``WORKERS[i % 2]``), as the dict of its items by position."""
    found = comp.exprs.try_static(e) or unroll.literal_local(comp, e, _looked_up)
    if found is not None and sequence and isinstance(found.value, list | tuple):
        return dict(enumerate(found.value))
    if found is None or type(found.value) is not dict:
        return None
    return found.value


def _looked_up(n: cst.Name, parents: Mapping[Any, Any]) -> bool:
    """``n[key]`` read (not assigned, not deleted) or ``n.get(...)``."""
    parent = parents.get(n)
    if isinstance(parent, cst.Subscript) and parent.value is n:
        return not isinstance(parents.get(parent), cst.AssignTarget | cst.Del | cst.AugAssign)
    if isinstance(parent, cst.Attribute) and parent.value is n and parent.attr.value == "get":
        return isinstance(parents.get(parent), cst.Call)
    return False


def _unique(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if not any(v is o or (type(v) is type(o) and _equal(v, o)) for o in out):
            out.append(v)
    return out


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


def dispatch(comp: Builder, e: cst.Await, found: Choice, loc: SourceLoc, hint: str) -> Value:
    """The value of ``await e`` traced as the chain of ``cond`` nodes described above."""
    call = e.expression
    assert isinstance(call, cst.Call)
    chosen = comp.materialize(comp.exprs.expr(found.expr, loc, "chosen"), loc, "chosen")
    fallback = e.with_changes()  # (a new node sharing the parts the tracer knows the scopes of)
    comp.deps.fallbacks[id(fallback)] = fallback
    return _chain(comp, call, chosen, found, list(found.values), fallback, loc, hint)


def _chain(
    comp: Builder,
    call: cst.Call,
    chosen: Node,
    found: Choice,
    values: list[Any],
    fallback: cst.Await,
    loc: SourceLoc,
    hint: str,
) -> Value:
    if not values:
        return comp.exprs.expr(fallback, loc, hint)
    if found.exhaustive and len(values) == 1:
        return _arm(comp, call, found, values[0], loc, hint)
    current = f"{found.temp}_value"
    comp.temps[current] = Traced(chosen)
    comp.temps[found.temp] = Static(values[0])
    try:
        test = comp.python_node(
            call,
            loc,
            ["test"],
            source=f"test = type({current}) is type({found.temp}) and {current} == {found.temp}",
            reads=[current, found.temp],
            name="test",
        )
    finally:
        del comp.temps[found.temp]
    try:
        then = comp.nested("then")
        then.graph.add("output", [then.materialize(_arm(then, call, found, values[0], loc, hint), loc, hint)])
        orelse = comp.nested("orelse")
        inner = orelse.lookup_local(current, loc)
        assert isinstance(inner, Traced)
        value = _chain(orelse, call, inner.node, found, values[1:], fallback, loc, hint)
        orelse.graph.add("output", [orelse.materialize(value, loc, hint)])
    finally:
        del comp.temps[current]
    return Traced(cond_node(comp, test, [then, orelse], loc, hint))


def _arm(comp: Builder, call: cst.Call, found: Choice, value: Any, loc: SourceLoc, hint: str) -> Value:
    """The call with ``value`` in the place of the choice."""
    comp.temps[found.temp] = Static(value)
    try:
        return comp.exprs.expr(cst.Await(found.arm(call, found.temp)), loc, hint)
    finally:
        del comp.temps[found.temp]
