"""Objects of the workflow that hold others: what a call reaching one through another touches.

    board = []
    ann, bob = Poster("ann", board), Poster("bob", board)   # each keeps `board` in `self.board`
    await asyncio.gather(ann.post(q), bob.post(q))           # each appends to it around its wait

Each call changes ``self.board``, which ``interleaving`` reads as ``ann.board`` and ``bob.board``:
two objects apart, unless it knows both hold ``board``. So the workflow's names are mapped to the
names whose objects theirs may hold (``holdings``: the workflow's parameters and assigned names,
not a loop's item, a text or a number): a name bound to an object made of them (a
call of a class of the user's, ``Poster("ann", board)``; a list, tuple, set or dict display of
them, ``[board, notes]``, ``{"log": log}``; a comprehension of those, ``[Agent(n, board) for n in
names]``), a loop's or a comprehension's name over such a one (``for a in agents``), and through
those again. An object made in the call itself (``Poster(board).post(q)``) is keyed ``HELD`` and
the names it holds. Which field holds which object is not read: every touch of a holder (or of a
field of it) counts as a touch of every object it may hold, which may find two calls touching one
object where they do not (the gather then runs as written, a graph break), never the reverse.
"""

from __future__ import annotations

import builtins
import dataclasses
import inspect
from typing import TYPE_CHECKING, Any

import libcst as cst

from .immutables import immutable_names
from .state import _names_in, walk

if TYPE_CHECKING:
    from .source import FunctionSource

HELD = "\x00holds:"  # the key of an object made in the call itself, then the names it holds

_DISPLAYS = (cst.List, cst.Tuple, cst.Set)
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp)


def held_names(src: FunctionSource, e: cst.BaseExpression) -> set[str]:
    """The workflow's names whose objects the object ``e`` makes may hold (see the module
    docstring); empty for anything else (a name itself, a string, a call's result)."""
    if isinstance(e, _DISPLAYS):
        return {n for el in e.elements for n in _element(src, el.value)}
    if isinstance(e, cst.Dict):
        return {n for el in e.elements for n in _element(src, el.value)}
    if isinstance(e, _COMPREHENSIONS):
        return _element(src, e.elt)
    if isinstance(e, cst.DictComp):
        return _element(src, e.value)
    if isinstance(e, cst.Call) and _user_class(src, e.func):
        return {n for a in e.args for n in _element(src, a.value)}
    return set()


def _element(src: FunctionSource, e: cst.BaseExpression) -> set[str]:
    """What an element of a made object may hold: a name's object itself, or what an object made
    there holds."""
    return {e.value} if isinstance(e, cst.Name) else held_names(src, e)


def _user_class(src: FunctionSource, func: cst.BaseExpression) -> bool:
    """Whether ``func`` names a class that is not a builtin (``list(log)`` copies, holds nothing)."""
    value: Any = None
    if isinstance(func, cst.Name):
        value = src.fn.__globals__.get(func.value)
        if value is None:
            try:
                value = inspect.getclosurevars(src.fn).nonlocals.get(func.value)
            except (TypeError, ValueError):
                value = None
    elif isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
        value = getattr(src.fn.__globals__.get(func.value.value), func.attr.value, None)
    return inspect.isclass(value) and value.__module__ != builtins.__name__


def holdings(src: FunctionSource) -> dict[str, frozenset[str]]:
    """The workflow's names mapped to the names whose objects theirs may hold (transitively)."""
    held: dict[str, set[str]] = {}
    over: dict[str, set[str]] = {}  # a loop's name: the names it iterates over
    for n in walk(src.node.body, lambda n: isinstance(n, cst.FunctionDef | cst.ClassDef | cst.Lambda)):
        if isinstance(n, cst.Assign):
            for t in n.targets:
                for target, value in _pairs(t.target, n.value):
                    found = held_names(src, value)
                    for name in _names_in(target):
                        held.setdefault(name, set()).update(found - {name})
        elif isinstance(n, cst.For | cst.CompFor):
            for name in _names_in(n.target):
                over.setdefault(name, set()).update(_names_in(n.iter))
    changed = True
    while changed:
        changed = False
        for name in {*held, *over}:
            mine = held.setdefault(name, set())
            more = {m for source in over.get(name, ()) for m in held.get(source, ())}
            more |= {m for h in list(mine) for m in held.get(h, ())}
            if not more <= mine | {name}:
                mine.update(more - {name})
                changed = True
    objects = _objects(src)
    return {name: frozenset(found & objects) for name, found in held.items() if found & objects}


def _pairs(
    target: cst.BaseExpression, value: cst.BaseExpression
) -> list[tuple[cst.BaseExpression, cst.BaseExpression]]:
    """``(target, value)`` of an assignment, element by element when both are tuples or lists of
    one length without a star (``ann, bob = Poster(a), Poster(b)``)."""
    seqs = (cst.Tuple, cst.List)
    if (
        isinstance(target, seqs)
        and isinstance(value, seqs)
        and len(target.elements) == len(value.elements)
        and not any(isinstance(e, cst.StarredElement) for e in [*target.elements, *value.elements])
    ):
        return [(t.value, v.value) for t, v in zip(target.elements, value.elements, strict=True)]
    return [(target, value)]


def _objects(src: FunctionSource) -> set[str]:
    """The workflow's names that may hold an object something changes in place: its parameters and
    the names it assigns (not a loop's item alone, a text or a number: ``immutables.immutable_names``)."""
    params = src.node.params
    names = {p.name.value for p in [*params.posonly_params, *params.params, *params.kwonly_params]}
    for n in walk(src.node.body, lambda n: isinstance(n, cst.FunctionDef | cst.ClassDef | cst.Lambda)):
        if isinstance(n, cst.Assign):
            names.update(m for t in n.targets for m in _names_in(t.target))
    return names - immutable_names(src)


def holder_key(src: FunctionSource, e: cst.BaseExpression) -> str | None:
    """The key of an object made in a call's own text that holds workflow objects (``Poster(board)``
    in ``Poster(board).post(q)``), else None."""
    found = held_names(src, e)
    return HELD + ",".join(sorted(found)) if found else None


def held_by(key_root: str, holds: dict[str, frozenset[str]]) -> frozenset[str]:
    """The names the object a touch's key starts with may hold."""
    if key_root.startswith(HELD):
        return frozenset(key_root[len(HELD) :].split(","))
    return holds.get(key_root, frozenset())


def with_held(entries: list[Any], holds: dict[str, frozenset[str]], item_mark: str) -> list[Any]:
    """``entries`` (``sites.Touch``), each touch of a holder followed by the same touch of every
    object it may hold (``key`` the held name)."""
    out = []
    for x in entries:
        out.append(x)
        root = x.key.split(".")[0].split(item_mark)[0]
        out.extend(dataclasses.replace(x, key=name, same="") for name in sorted(held_by(root, holds)))
    return out
