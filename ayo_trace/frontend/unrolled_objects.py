"""A ``for`` loop over a few objects the workflow makes of plain classes, unrolled by their classes.

``for step in [Researcher(), Writer(style)]: draft = await step.run(draft)``: a loop's variable is
a value known only when the workflow runs (``unroll``), so ``step.run`` named no method the tracer
could follow, and each call was a graph break. The list's elements are calls of the user's plain
classes (``made_fields.plain_class``), so the class of each item is known at trace time even though
the objects are made when the workflow runs. Such a loop is unrolled as ``unroll`` unrolls a loop
over constants (asked for by the await it could not follow: ``unroll.request``), each copy of its
body compiled with the variable holding that item, of that class (``Traced.cls``, with its
constant fields: ``made_fields.initial_fields``), so its ``async def`` methods are inlined as
``agent = Agent(); await agent.run(q)`` is (``helpers.TracedSelf``).

The list is made where Python makes it, whole, before the first item's body runs (its objects made
in order, their arguments read then): written in the loop (``for s in [A(), B()]``), or a local
name bound once to such a literal whose every other read is a loop over it or ``len()`` of it
(``steps = [A(), B(4)]`` ... ``for s in steps``), so nothing else can change what it holds. Each
item is then read from that list. Only a loop ``unroll`` could unroll (no ``break``, ``continue``
or ``return`` in its body, not ``async``), with one name for its variable, over at most
``unroll.MAX_UNROLL`` elements, none starred.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from ..ir.code import SourceLoc
from . import made_fields
from .values import Traced

_HELD = "__ayo_items"  # (the list, read by each item's node)

if TYPE_CHECKING:
    from .builder import Builder


def made_items(
    comp: Builder, target: cst.BaseExpression, literal: cst.BaseExpression | None, most: int
) -> list[tuple[cst.Call, type]] | None:
    """``(call, class)`` for each element of ``literal``, the list a loop over ``target`` iterates
    over, when each is a call of a plain class of the user's (see the module's doc); else None."""
    if not isinstance(target, cst.Name) or not isinstance(literal, cst.List | cst.Tuple):
        return None
    if not 0 < len(literal.elements) <= most:
        return None
    out: list[tuple[cst.Call, type]] = []
    for el in literal.elements:
        call = el.value
        if isinstance(el, cst.StarredElement) or not isinstance(call, cst.Call):
            return None
        cls = comp.exprs.callee(call)
        if not made_fields.plain_class(cls):
            return None
        out.append((call, cls))
    return out


def item_values(
    comp: Builder, iterable: cst.BaseExpression, var: str, made: list[tuple[cst.Call, type]], loc: SourceLoc
) -> list[Traced]:
    """The items of the list ``iterable`` (``made_items``), each of its class: the list evaluated
    (or read) once, then each item read from it (nothing changes the list: see the module's doc)."""
    items = comp.materialize(comp.exprs.expr(iterable, loc, "items"), loc, "items")
    comp.temps[_HELD] = Traced(items)
    try:
        return [
            Traced(
                comp.python_node(
                    iterable, loc, [var], source=f"{var} = {_HELD}[{k}]", reads=[_HELD], name=var
                ),
                cls=cls,
                fields=made_fields.initial_fields(comp, var, call, cls),
            )
            for k, (call, cls) in enumerate(made)
        ]
    finally:
        del comp.temps[_HELD]


def compile_made(comp: Builder, stmt: cst.For, made: list[tuple[cst.Call, type]], loc: SourceLoc) -> None:
    """Compile ``stmt`` unrolled over ``made`` (``made_items``): its body once per item, its
    variable holding that item with its class."""
    assert isinstance(stmt.target, cst.Name) and isinstance(stmt.body, cst.IndentedBlock)
    for value in item_values(comp, stmt.iter, stmt.target.value, made, loc):
        comp.env[stmt.target.value] = value
        comp.block(stmt.body.body, top=False)
