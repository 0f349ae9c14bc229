"""What an inlined helper's parameter may be a part of, among the objects of the body calling it.

``await add_note(state["notes"], q)`` binds ``add_note``'s ``notes`` to the object
``state["notes"]`` is; ``notes.append(x)`` in the helper then changes ``state``. Likewise
``first = objs[0]`` then ``await enrich(first)``, ``await enrich(mem.facts)``, a loop or a
comprehension over a new list of the same objects (``for o in objs[:2]: await enrich(o)``,
``gather(*[enrich(o) for o in todo])`` of ``todo = [o for o in objs if ...]``), a helper's own
parameter handed on (``await inner(state["notes"])`` in a helper given ``state``). The graph hands
the argument to the helper as a value of its own (``%notes = python(%state)``), which the passes
take for a new object (``passes/objects``), so the caller's later read of ``state`` would not wait
for the helper's change: a statement of the helper changing such a parameter in place also takes
the caller's values whose objects the argument may be, be part of or be kept by (``aliases``:
the names it reads, what they share an object with, hold or are held by) and is known to change
them (``PyCode.changes``), as a statement of the workflow changing ``first`` hands on ``objs``.

Which caller names a parameter may reach is found from the call's source when the helper is
inlined (``bind``); their values are read, under hidden names of the helper's body, only where a
statement changes the parameter (``changed``), so a helper that only reads its parameter adds
nothing to the graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import SourceLoc
from ..ir.graph import Node
from . import aliases, kept_in
from .aliases import _held, groups, peek, reference_root
from .immutables import immutable_names
from .source import FunctionSource
from .state import _target_names, mutated_roots
from .values import Traced

if TYPE_CHECKING:
    from .builder import Builder

_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
_PREFIX = "__ayo_part_"


@dataclass(frozen=True)
class Part:
    """A value of the calling body ``at`` (its name ``name`` there) that a helper's parameter may
    be, be part of or be kept by; ``hidden``: the helper body's name for it once read."""

    hidden: str
    at: Builder
    name: str


def bind(caller: Builder, child: Builder, args: dict[str, Any], call: cst.CSTNode) -> None:
    """Record in ``child``, a helper's body inlined by ``caller``, the parts of ``caller`` each
    parameter may reach (``args``: the parameter's argument expression, evaluated in ``caller``,
    or a value known now; ``call``: the helper's call)."""
    for param, e in args.items():
        own = child.env.get(param)
        if not isinstance(own, Traced) or not isinstance(e, cst.BaseExpression):
            continue
        found: list[Part] = []
        for n in reached(caller, e, call):
            now = peek(caller, n)
            if not (isinstance(now, Traced) and now.node is own.node):  # (the argument itself: handed on)
                found.append(Part(f"{_PREFIX}{param}_{n}", caller, n))
            # a part of the caller's own parameter (a helper handing its argument on)
            _, above = _parts_of(caller, n) or (caller, [])
            found += [Part(f"{_PREFIX}{param}{p.hidden}", caller, p.hidden) for p in above]
        if found:
            child.parts[param] = list({p.hidden: p for p in found}.values())


def bind_item(body: Builder, name: str, iterable: cst.BaseExpression) -> None:
    """Record in ``body``, a map body, that ``name`` is an item of ``iterable`` of the body around
    (``gather(*map(enrich, objs[:2]))``): a helper given it reaches what ``iterable`` may hold."""
    if body.parent is not None:
        found = [Part(f"{_PREFIX}{name}_{n}", body, n) for n in reached(body.parent, iterable, iterable)]
        body.parts[name] = found


def reached(caller: Builder, e: cst.BaseExpression, call: cst.CSTNode) -> list[str]:
    """The names of ``caller`` whose objects the value of ``e`` (an argument of ``call``) may be,
    hold, be held by or share: what it reads (``state["notes"]``: ``state``; ``objs[:2]``,
    ``next(o for o in objs)``: ``objs``), the iterables of the comprehensions around ``call`` its
    names are items of, and what those share an object with (``aliases.groups``), keep or are kept
    by (``kept_in``); strings and numbers left out."""
    src = caller.src
    items = _items(src, call)
    shared = groups(src)
    found = set(_held(src, e))
    if (root := reference_root(e)) is not None:
        found.add(root)
    work = list(found)
    while work:
        n = work.pop()
        more = set(shared.get(n, ()))
        if n in items:
            more |= _held(src, items[n])
            more |= {r} if (r := reference_root(items[n])) is not None else set()
        more.update(kept_in.holders_of(src, n, call, _held))
        more.update(kept_in.kept_by(src, n, call, _held, own=True))
        for m in sorted(more - found):
            found.add(m)
            work.append(m)
    return sorted(found - immutable_names(src))


def _items(src: FunctionSource, node: cst.CSTNode) -> dict[str, cst.BaseExpression]:
    """The names the comprehensions around ``node`` bind, each to the iterable it is an item of
    (``gather(*[enrich(o) for o in objs[:2]])``: ``o`` of ``objs[:2]``)."""
    out: dict[str, cst.BaseExpression] = {}
    parents = src.parents
    n = parents.get(node)
    while n is not None:
        if isinstance(n, _COMPREHENSIONS):
            comp: cst.CompFor | None = n.for_in
            while comp is not None:
                for name in _target_names(comp.target):
                    out.setdefault(name, comp.iter)
                comp = comp.inner_for_in
        n = parents.get(n)
    return out


def _parts_of(comp: Builder, name: str) -> tuple[Builder, list[Part]] | None:
    """The helper body whose parameter ``name`` read in ``comp`` is, with its parts (None for a
    name that is no such parameter, or one a body of its own binds)."""
    c: Builder | None = comp
    while c is not None:
        if name in c.parts:
            return c, c.parts[name]
        if c.parent is None and name in c.env:
            return None
        c = c.parent if c.parent is not None else c.enclosing
    return None


def _read(owner: Builder, part: Part, loc: SourceLoc) -> None:
    """Bind ``part.hidden`` in ``owner``'s body to the caller's value, once."""
    if part.hidden in owner.env:
        return
    if part.name.startswith(_PREFIX):  # (the caller's own part: read there first)
        c: Builder | None = part.at
        while c is not None:
            inner = next((p for ps in c.parts.values() for p in ps if p.hidden == part.name), None)
            if inner is not None:
                _read(c, inner, loc)
                break
            c = c.parent if c.parent is not None else c.enclosing
    try:
        value = part.at.lookup_local(part.name, loc, raw=True)
    except TraceError:  # (unbound where the helper is called)
        return
    if isinstance(value, Traced) and not value.unbound:
        owner.env[part.hidden] = value


def changes(
    comp: Builder,
    stmt: cst.CSTNode,
    params: list[str],
    args: list[Node],
    returns: Sequence[str],
    loc: SourceLoc,
) -> list[str]:
    """The names of the caller's objects a statement of an inlined helper changes through a name
    of the helper's, added to ``params`` and ``args`` (``PyCode.changes``): those a name it reads
    from the workflow may hold (``aliases.outer_aliases``), and those a parameter it changes in
    place may reach (``notes.append(x)``, ``o.summary = v``, also through a name of the helper's
    for it, handed on in ``returns``)."""
    out = aliases.outer_aliases(comp, stmt, params, args, loc)
    bound = set(comp.src.assigned_names(stmt))
    roots = {*mutated_roots(stmt), *(n for n in returns if n in params and n not in bound)}
    for owner, parts in [_parts_of(comp, n) or (comp, []) for n in params if n in roots]:
        for part in parts:
            _read(owner, part, loc)
            if part.hidden not in owner.env:
                continue
            value = comp.lookup_local(part.hidden, loc, raw=True)
            if not isinstance(value, Traced):
                continue
            same = [params[i] for i, a in enumerate(args) if a is value.node]
            if not same:  # (else the statement reads it already, under that name)
                params.append(part.hidden)
                args.append(value.node)
            out += [n for n in same or [part.hidden] if n not in out]
    return out
