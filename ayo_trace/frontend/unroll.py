"""``for`` loops and comprehensions over a few constants known at trace time, unrolled when an item
is a graph constant or the function called.

A loop body is one subgraph run per item (a ``map`` or ``loop`` node), so its variable is a value
known only when the workflow runs. Where a primitive needs it as a graph constant
(``for kb in ("docs", "faq"): await ayo.search(q, collection=kb)``, ``seed=i`` for ``i`` in
``range(3)``, ``max_tokens=`` chosen from the item), or it is the function awaited (``for step in
(research, write): state = await step(state)``), the call would be a graph break. When the
loop's items are known at trace time (a literal, a ``range``, a module constant: ``try_static``),
are few (``MAX_UNROLL``) and are immutable constants, and the body neither jumps (``break``,
``continue``, ``return``) nor is asynchronous, the workflow is traced again (``UnrollLoop``, like
``NeedStatic``) with that loop unrolled: its body compiled once per item with the variable bound to
the item, straight-line, so each call is traced with its constants and independent calls still
run at once (the graph orders them by their data only). A comprehension with one plain ``for``
clause is unrolled likewise: its element compiled once per item, the values collected as it would
(``compile_comprehension``). Items may also be a local list bound once and only iterated, a
constant dict's ``.items()``, or a workflow parameter (or a field of one) no line changes whose
value now is a few constants: the trace is first specialized on it (``NeedStatic``, a guard); or
a few objects the workflow makes of plain classes (``unrolled_objects``), in a loop or a gathered
comprehension (``gather(*(a.speak(q) for a in agents))`` of ``agents = [Pro("p"), Con("c")]``,
each made of constants: ``_own_arguments``).
What asks for it: ``PrimitiveCalls.static_at_run_time`` and an await the tracer cannot follow
(``request``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import libcst as cst

from ..ir.code import SourceLoc
from ..ir.graph import Node
from . import impure, made_fields, unrolled_objects
from .closures import _assigned_after
from .deps import NeedStatic
from .guards import path_of, value_at
from .sites import changed_after
from .source import _names_in
from .state import _has, _immutable, ancestors, walk
from .values import Static, Traced, Value

if TYPE_CHECKING:
    from .builder import Builder

T = TypeVar("T")
COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
MAX_UNROLL = 16  # items at most: a longer loop stays a map, its constant-needing calls breaks


class UnrollLoop(Exception):
    """Internal: trace again with the ``for`` loop at ``where`` unrolled (``TraceDeps.unrolled``)."""

    def __init__(self, where: Any) -> None:
        super().__init__(str(where))
        self.where = where


def loop_key(comp: Builder, stmt: cst.For | cst.While | cst.BaseComp) -> Any:
    """What names a loop for ``TraceDeps.unrolled`` (``as_written``): where it stands (file, line,
    column)."""
    return (comp.src.loc(stmt), comp.src.positions[stmt].start.column)


comprehension_key = loop_key


def static_items(comp: Builder, stmt: cst.For) -> list[Any] | None:
    """The items of ``stmt`` when it can be unrolled (see the module docstring), else None."""
    return _items(comp, stmt.target, stmt.iter) if _shape(stmt) else None


def _objects(comp: Builder, stmt: cst.For) -> list[tuple[cst.Call, type]] | None:
    """The elements of the list of new objects ``stmt`` iterates over, when it can be unrolled
    by their classes (``unrolled_objects``)."""
    if not _shape(stmt):
        return None
    return unrolled_objects.made_items(comp, stmt.target, _literal(comp, stmt.iter), MAX_UNROLL)


def _shape(stmt: cst.For) -> bool:
    """Whether loop ``stmt`` can be unrolled if its items are known: no jump, not ``async``."""
    if stmt.asynchronous is not None or _has(stmt.body, cst.Break | cst.Continue | cst.Return):
        return False
    return isinstance(stmt.body, cst.IndentedBlock) and (
        stmt.orelse is None or isinstance(stmt.orelse.body, cst.IndentedBlock)
    )


def comprehension_items(comp: Builder, e: cst.BaseComp) -> list[Any] | None:
    """The items of comprehension ``e`` when it can be unrolled: one plain ``for`` clause (no
    ``if``, no inner ``for``) over a few constants known at trace time."""
    clause = e.for_in
    if clause.asynchronous is not None or clause.ifs or clause.inner_for_in is not None:
        return None
    return _items(comp, clause.target, clause.iter)


def _comprehension_objects(comp: Builder, e: cst.BaseComp) -> list[tuple[cst.Call, type]] | None:
    """The elements of the list of new objects comprehension ``e`` iterates over (one plain ``for``
    clause: ``gather(*(a.speak(q) for a in agents))`` of ``agents = [Pro("p"), Con("c")]``), when it
    can be unrolled by their classes (``unrolled_objects``) and each object holds only its own
    values (``_own_arguments``)."""
    clause = e.for_in
    if clause.asynchronous is not None or clause.ifs or clause.inner_for_in is not None:
        return None
    arg = comp.src.parents.get(e)  # (a `*` argument: not a list of coroutines made before its gather)
    if not (isinstance(arg, cst.Arg) and arg.star == "*"):
        return None
    made = unrolled_objects.made_items(comp, clause.target, _literal(comp, clause.iter), MAX_UNROLL)
    if made is None or not all(_own_arguments(comp, call) for call, _ in made):
        return None
    return made


def _own_arguments(comp: Builder, call: cst.Call) -> bool:
    """Whether the object ``call`` makes holds nothing another item could hold too: each argument
    is a constant, or a new string or number made from the workflow's parameters (``f"pro {q}"``,
    ``n + 1``), not an object the workflow or its module keeps (``Agent("pro", board)``,
    ``Team([Agent("a", log)])``, an element ``docs[0]``: the gathered calls may take turns on it,
    which judging each item by its class does not show)."""
    p = comp.src.node.params
    params = {x.name.value for x in [*p.posonly_params, *p.params, *p.kwonly_params]}
    for a in call.args:
        static = comp.exprs.try_static(a.value)
        if static is not None and _immutable(static.value):
            continue
        if not isinstance(a.value, cst.FormattedString | cst.BinaryOperation):
            return False
        if not {n.value for n in walk(a.value) if isinstance(n, cst.Name)} <= params:
            return False
    return True


def over_objects(comp: Builder, e: cst.BaseComp) -> bool:
    """Whether comprehension ``e`` iterates over a few objects the workflow makes of plain classes
    (its element, ``a.speak(q)``, then names a method the tracer follows once it knows each item's
    class): unrolled (``UnrollLoop`` asks for the trace again where it is not yet)."""
    if _comprehension_objects(comp, e) is None:
        return False
    if comprehension_key(comp, e) not in comp.deps.unrolled:
        raise UnrollLoop(comprehension_key(comp, e))
    return True


def _literal(comp: Builder, e: cst.BaseExpression) -> cst.BaseExpression | None:
    """``e``, or the literal local ``e`` is bound to once when it is only iterated over."""
    if isinstance(e, cst.Name):
        bound = comp.src.only_binding(e)
        return bound[1] if bound is not None and only_iterated(comp, bound[0]) else None
    return e


def _items(
    comp: Builder, target: cst.BaseExpression, iterable: cst.BaseExpression, *, objects: bool = False
) -> list[Any] | None:
    """The items of a loop over ``iterable`` known now, when few, and immutable (or objects no
    method changes); ``objects``: any items (for candidates compared when the workflow runs)."""
    if not all(isinstance(n, cst.Name) for n in _target_leaves(target)):
        return None
    found = (
        comp.exprs.try_static(iterable, iterator=True)
        or literal_local(comp, iterable)
        or _dict_view(comp, iterable)
    )
    if found is None:
        return None
    try:  # a sequence, a dict, or an iterator a pure builtin made (`enumerate(KBS)`, `zip(...)`)
        items = list(itertools.islice(found.value, MAX_UNROLL + 1))  # type: ignore[call-overload]
    except Exception:
        return None
    if len(items) > MAX_UNROLL:
        return None
    # (objects of the user's class no method changes count as hashable ones do, an `@dataclass`'s
    # too, whose `__eq__` leaves it unhashable: `for p in PANEL: await p.answer(q)`)
    if objects:
        return items
    return items if all(_immutable(v) for v in items) or impure.unchanging_items(items) else None


def _dict_view(comp: Builder, e: cst.BaseExpression) -> Static | None:
    """``d.items()``, ``d.keys()`` or ``d.values()`` of a dict known at trace time."""
    if not (isinstance(e, cst.Call) and not e.args and isinstance(e.func, cst.Attribute)):
        return None
    if e.func.attr.value not in ("items", "keys", "values"):
        return None
    found = comp.exprs.try_static(e.func.value)
    if found is None or not isinstance(found.value, dict):
        return None
    return Static(list(getattr(found.value, e.func.attr.value)()))


def literal_local(
    comp: Builder, e: cst.BaseExpression, read_ok: Callable[[cst.Name, Mapping[Any, Any]], bool] | None = None
) -> Static | None:
    """The value of local ``e`` (``temps = [0.0, 0.5]`` then ``for t in temps``) when its one
    assignment is folded at trace time and every read of it is ``read_ok`` (by default a loop's
    iterable or ``len()``'s argument): nothing can change it (a list or a dict is not folded as a
    constant otherwise). ``read_ok`` gets the name and the source's parent links."""
    bound = comp.src.only_binding(e)
    if bound is None:
        return None
    target, value = bound
    found = comp.exprs.try_static(value)
    if found is None:
        return None
    return found if only_iterated(comp, target, read_ok) else None


def only_iterated(
    comp: Builder, target: cst.Name, read_ok: Callable[[cst.Name, Mapping[Any, Any]], bool] | None = None
) -> bool:
    """Whether every mention of local ``target`` but its binding is ``read_ok`` (by default a loop's
    iterable or ``len()``'s argument), nested functions' mentions too."""
    ok = read_ok or _iterated_or_measured
    return all(
        ok(n, comp.src.parents)
        for n in _names_in(comp.src.node.body)
        if n.value == target.value and n is not target
    )


def _iterated_or_measured(n: cst.Name, parents: Mapping[Any, Any]) -> bool:
    parent = parents.get(n)
    iterated = isinstance(parent, cst.For | cst.CompFor) and parent.iter is n
    return iterated or (isinstance(parent, cst.Arg) and _is_len(parents.get(parent)))


def _is_len(call: Any) -> bool:
    return isinstance(call, cst.Call) and isinstance(call.func, cst.Name) and call.func.value == "len"


def _target_leaves(target: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(target, cst.Tuple | cst.List):
        return [leaf for el in target.elements for leaf in _target_leaves(el.value)]
    return [target]


def _names(target: cst.BaseExpression) -> list[str]:
    return [leaf.value for leaf in _target_leaves(target) if isinstance(leaf, cst.Name)]


def mark(child: Builder, comp: Builder, stmt: cst.For) -> None:
    """Note on ``child`` (the body of ``stmt``) that ``stmt`` could be unrolled, with the names its
    items reach (its variables and what the body binds), for ``request``; or that it could once
    the workflow parameter it iterates over is made static (its value is a few constants now)."""
    names = {*_names(stmt.target), *comp.src.assigned_names(stmt.body)}
    if static_items(comp, stmt) is not None or _objects(comp, stmt) is not None:
        child.unrollable = (loop_key(comp, stmt), names, None)
    elif _shape(stmt) and (need := _parameter(comp, stmt.target, stmt.iter)) is not None:
        child.unrollable = (loop_key(comp, stmt), names, need)


def _parameter(
    comp: Builder, target: cst.BaseExpression, iterable: cst.BaseExpression
) -> tuple[str, str] | None:
    """``(parameter, field path)`` when ``iterable`` is a workflow parameter (or a field of one)
    that no line changes, whose value now is a few constants to unroll over."""
    field = path_of(iterable) or ((iterable, "") if isinstance(iterable, cst.Name) else None)
    if field is None or not all(isinstance(n, cst.Name) for n in _target_leaves(target)):
        return None
    root, path = field
    try:
        param = comp.exprs.param_of(comp.lookup_local(root.value, comp.src.loc(root)))
    except Exception:
        return None
    if param is None or param not in comp.deps.arguments or param != root.value or _inlined(comp):
        return None
    if _assigned_after(comp.src, 0, {param}) or changed_after(comp.src, 0, {param}):
        return None
    try:
        items = list(itertools.islice(value_at(comp.deps.arguments[param], path), MAX_UNROLL + 1))
    except Exception:
        return None
    if len(items) > MAX_UNROLL or not all(_immutable(v) for v in items):
        return None
    return param, path


def _inlined(comp: Builder) -> bool:
    """Whether ``comp`` is a body of an inlined helper (whose names are not the workflow's)."""
    c = comp
    while c.parent is not None:
        c = c.parent
    return c.caller is not None


def _outward(src: Any, at: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The nodes around ``at`` in its function, innermost first (for an ``await`` the compiler put
    on a call, those around the call)."""
    node = at.expression if isinstance(at, cst.Await) and at not in src.parents else at
    for around in ancestors(src, node):
        if isinstance(around, cst.FunctionDef):
            return
        yield around


def per_item(body: Builder, at: cst.Await, judge: Callable[[], T | None]) -> T | None:
    """``judge()`` once per item of the innermost comprehension around ``at`` traced unrolled, with
    its variables bound to that item (so a call of its element is judged as it will be traced),
    or once when there is none: the first answer that is not None."""
    each = each_item(body, at, judge)
    if each is None:
        return judge()
    return next((found for found in each if found is not None), None)


def each_item(body: Builder, at: cst.Await, judge: Callable[[], T]) -> list[T] | None:
    """``judge()`` once per item of the innermost comprehension around ``at`` traced unrolled, with
    its variables bound to that item (``interleaving`` judges what each item's call touches);
    None when there is none."""
    e = next(
        (
            n
            for n in _outward(body.src, at)
            if isinstance(n, COMPREHENSIONS) and comprehension_key(body, n) in body.deps.unrolled
        ),
        None,
    )
    if e is None:
        return None
    items = comprehension_items(body, e)
    names = _names(e.for_in.target)
    bound: list[dict[str, Value]]
    if items is not None:
        bound = [{n: Static(v) for n, v in bind(body, e.for_in.target, item).items()} for item in items]
    elif (objects := _comprehension_objects(body, e)) is not None:
        bound = [{names[0]: _stand_in(body, names[0], call, cls)} for call, cls in objects]
    else:
        return None
    saved = {n: body.temps[n] for n in names if n in body.temps}
    out: list[T] = []
    try:
        for values in bound:
            body.temps.update(values)
            out.append(judge())
        return out
    finally:
        for n in names:
            body.temps.pop(n, None)
        body.temps.update(saved)


def _stand_in(body: Builder, var: str, call: cst.Call, cls: type) -> Traced:
    """An item of a comprehension over objects the workflow makes, of its class, for judging its
    call (``each_item``): a node of no graph, as nothing is compiled from it."""
    node = Node(body.graph, var, "input", (), {"name": var}, None, ())
    return Traced(node, cls=cls, fields=made_fields.initial_fields(body, var, call, cls))


def request(body: Builder, at: cst.CSTNode, reads: set[str]) -> None:
    """A graph constant of the call ``at`` in ``body`` is computed at run time, from names
    ``reads``: raise ``UnrollLoop`` for the innermost comprehension or loop around it, not unrolled
    yet, whose items reach those names (any such loop around the inlined call of a helper: its
    names are the helper's own)."""
    for parent in _outward(body.src, at):
        if not (
            isinstance(parent, COMPREHENSIONS)
            and reads & set(_names(parent.for_in.target))
            and comprehension_key(body, parent) not in body.deps.unrolled
        ):
            continue
        if comprehension_items(body, parent) is not None or _comprehension_objects(body, parent) is not None:
            raise UnrollLoop(comprehension_key(body, parent))
        clause = parent.for_in
        plain = clause.asynchronous is None and not clause.ifs and clause.inner_for_in is None
        if plain and (need := _parameter(body, clause.target, clause.iter)) is not None:
            raise NeedStatic(need[0], f"the items of the comprehension at {body.src.loc(parent)}", need[1])
    c: Builder | None = body
    same_source = True
    while c is not None:
        found = c.unrollable
        if found is not None and found[0] not in body.deps.unrolled and (not same_source or reads & found[1]):
            if found[2] is not None:  # a parameter: trace again with it static, then unrolled
                param, path = found[2]
                raise NeedStatic(param, f"the items of the loop at {found[0][0]}", path)
            raise UnrollLoop(found[0])
        if c.parent is None and c.caller is not None:
            same_source = False
        c = c.parent if c.parent is not None else c.caller


def compile_unrolled(comp: Builder, stmt: cst.For, loc: SourceLoc) -> bool:
    """Compile ``stmt`` unrolled if the trace asked for it; False to compile it as a loop."""
    if loop_key(comp, stmt) not in comp.deps.unrolled:
        return False
    items = static_items(comp, stmt)
    made = _objects(comp, stmt) if items is None else None
    if items is None and made is None:  # cannot happen: the loop was marked as one to unroll
        return False
    assert isinstance(stmt.body, cst.IndentedBlock)
    if made is not None:  # objects the workflow makes, of classes known now
        unrolled_objects.compile_made(comp, stmt, made, loc)
    for item in items or ():
        for n, v in bind(comp, stmt.target, item).items():
            comp.env[n] = Static(v)
        comp.block(stmt.body.body, top=False)
    if stmt.orelse is not None:  # no `break` in the body: the `else` always runs
        assert isinstance(stmt.orelse.body, cst.IndentedBlock)
        comp.block(stmt.orelse.body.body, top=False)
    return True


def bind(comp: Builder, target: cst.BaseExpression, item: Any) -> dict[str, Any]:
    """The names ``target`` binds to ``item``, unpacked as a ``for`` would."""
    scope: dict[str, Any] = {}
    exec(f"{comp.src.code(target).strip()} = __ayo_item", {"__ayo_item": item}, scope)
    return scope


def compile_comprehension(comp: Builder, e: Any, loc: SourceLoc, hint: str, *, awaits: bool) -> Value | None:
    """Comprehension ``e`` unrolled if the trace asked for it (its element compiled once per item,
    with its variable bound to the item; ``awaits``: the element is awaited, as a ``gather``'s
    spread), else None. A ``python`` node collects the values as ``e`` would (a list, a set, a
    dict)."""
    if comprehension_key(comp, e) not in comp.deps.unrolled:
        return None
    items = comprehension_items(comp, e)
    objects = _comprehension_objects(comp, e) if items is None else None
    if items is None and objects is None:
        return None
    names = _names(e.for_in.target)
    bound: list[dict[str, Value]] = [
        {n: Static(v) for n, v in bind(comp, e.for_in.target, item).items()} for item in items or ()
    ]
    if objects is not None:  # objects the workflow makes, of classes known now
        var = names[0]
        bound = [{var: v} for v in unrolled_objects.item_values(comp, e.for_in.iter, var, objects, loc)]
    saved = {n: comp.temps[n] for n in names if n in comp.temps}
    values: list[Node] = []
    try:
        for item_values in bound:
            comp.temps.update(item_values)
            for part in [e.key, e.value] if isinstance(e, cst.DictComp) else [e.elt]:
                if awaits and part is not getattr(e, "key", None):  # (a dict's values are awaited)
                    part = cst.Await(expression=part)
                values.append(comp.materialize(comp.exprs.expr(part, loc, ""), loc, "item"))
    finally:
        for n in names:
            comp.temps.pop(n, None)
        comp.temps.update(saved)
    params = [f"__ayo_{i}" for i in range(len(values))]
    if isinstance(e, cst.DictComp):
        made = "{" + ", ".join(f"{k}: {v}" for k, v in zip(params[::2], params[1::2], strict=True)) + "}"
    elif isinstance(e, cst.SetComp):
        made = f"set([{', '.join(params)}])"
    else:
        made = f"[{', '.join(params)}]"
    name = hint or "items"
    for p, v in zip(params, values, strict=True):
        comp.temps[p] = Traced(v)
    try:
        return Traced(comp.python_node(e, loc, [name], source=f"{name} = {made}", reads=params, name=name))
    finally:
        for p in params:
            comp.temps.pop(p, None)
