"""Objects of the workflow that come to keep another's object: by a change of theirs, or made
whole as a display of it.

``state["log"] = log``, ``box.items = items``, ``msgs.append(msg)``, ``setattr(box, "items",
notes)``, ``log += [entry]``, ``rec = {"doc": d}``: after such a statement, changing the held object in place (``log.append(x)``,
``msg["content"] = answer``) changes what the holder holds, so a later read of the holder
(``repr(msgs)``, ``len(state["log"])``) must run after that change. The relation is directed: a
change of the holder (``out[d] = r``) is no change of what it holds, so unlike ``aliases.groups``
(names bound to the same object, both ways) it does not join the two names, which would make every
loop filling a dict change its values.

And it holds only from the statement that makes it on: a change of ``rec`` made in a loop's body
before ``results.append(rec)``, on a ``rec`` the body binds anew above the change, is a change of
an object nothing holds yet (``for d in docs: rec = {...}; rec["a"] = await ...;
results.append(rec)`` stays a map of independent iterations).
"""

from __future__ import annotations

import collections
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import libcst as cst

from ..ir.mutation import CHANGING_CALLS, READ_ONLY_CALLS, READ_ONLY_METHODS
from .handed import resolve
from .source import FunctionSource
from .state import change_root, target_leaves, walk
from .user_code import parse_function, user_function, weak_cache

# methods of the built-in containers that put their arguments into them
_STORING_METHODS = frozenset(
    {"append", "extend", "insert", "add", "update", "setdefault", "appendleft", "extendleft", "__setitem__"}
)

_DISPLAYS = (cst.List, cst.Tuple, cst.Set, cst.Dict)

# methods of the built-in containers that put their arguments into them as they are (not iterating them)
_KEEPING_METHODS = frozenset({"append", "appendleft", "add", "insert", "setdefault", "__setitem__"})
_CONTAINERS = (list, dict, set, collections.deque, collections.defaultdict, collections.OrderedDict)

Held = Callable[[FunctionSource, cst.BaseExpression], set[str]]


@dataclass(frozen=True)
class Holds:
    """``holder``'s object comes to hold ``held``'s by the statement ``site``."""

    held: str
    holder: str
    site: cst.CSTNode


def holds(src: FunctionSource, held: Held) -> list[Holds]:
    """Every such relation of the workflow's own names (``held``: the names whose objects a
    value may hold, ``aliases._held``)."""
    if src.kept is not None:
        return list(src.kept)
    out: list[Holds] = []

    def add(holder: cst.BaseExpression, value: cst.BaseExpression, site: cst.CSTNode) -> None:
        root = _root(holder)
        if root is None:
            return
        out.extend(Holds(n, root, site) for n in sorted(held(src, value)) if n != root)

    scoped = lambda n: isinstance(n, cst.FunctionDef | cst.ClassDef | cst.Lambda)  # noqa: E731
    local = set(src.assigned_names(src.node.body))
    for node in walk(src.node.body, scoped):
        if isinstance(node, cst.Assign | cst.AnnAssign) and node.value is not None:
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            for leaf in (leaf for t in targets for leaf in target_leaves(t)):
                if isinstance(leaf, cst.Attribute | cst.Subscript):
                    add(leaf, node.value, node)
                elif isinstance(leaf, cst.Name) and isinstance(node.value, _DISPLAYS):
                    add(leaf, node.value, node)  # (`rec = {"doc": d}`: a new object keeping `d`)
        elif isinstance(node, cst.AugAssign):  # (`log += [entry]`: the list takes the entry)
            add(node.target, node.value, node)
        elif isinstance(node, cst.Call):
            func, args = node.func, node.args
            if isinstance(func, cst.Attribute) and func.attr.value in _STORING_METHODS:
                for a in args:
                    add(func.value, a.value, node)
            elif isinstance(func, cst.Name) and func.value in CHANGING_CALLS and len(args) == 3:
                add(args[0].value, args[2].value, node)  # (`setattr(box, "items", notes)`)
            elif isinstance(func, cst.Name) and func.value not in local:  # (`keep(items)`: `LOG.append(x)`)
                helper = resolve(getattr(src.fn, "__globals__", {}), local, func)
                for holder, i in _stored_params(helper) if isinstance(helper, types.FunctionType) else ():
                    if i < len(args) and args[i].keyword is None and not args[i].star:
                        add(cst.Name(holder), args[i].value, node)
    src.kept = tuple(out)
    return out


@weak_cache
def _stored_params(fn: Any) -> tuple[tuple[str, int], ...]:
    """``(module name, parameter index)`` for each parameter a plain function of the user's puts
    as it is into a module's container (``def keep(x): LOG.append(x)``: ``("LOG", 0)``)."""
    user = user_function(fn)
    node = parse_function(user) if user is not None else None
    if node is None:
        return ()
    params = [p.name.value for p in (*node.params.posonly_params, *node.params.params)]
    bound = {n.value for n in walk(node.body) if isinstance(n, cst.Name)} - set(user.__globals__)  # type: ignore[union-attr]
    out: list[tuple[str, int]] = []
    for n in walk(node.body):
        if not (isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute)):
            continue
        holder = n.func.value
        if n.func.attr.value not in _KEEPING_METHODS or not isinstance(holder, cst.Name):
            continue
        if holder.value in params or holder.value in bound:
            continue
        out += [
            (holder.value, params.index(a.value.value))
            for a in n.args
            if isinstance(a.value, cst.Name) and a.value.value in params
        ]
    return tuple(out)


def _root(e: cst.BaseExpression) -> str | None:
    """The name whose object keeps what is put into ``e``: ``x`` of ``x[k]``, ``x.a``, and of a
    part of it a method hands out (``groups.setdefault(k, []).append(o)``, ``index.get(k).append(o)``)."""
    while True:
        if (
            isinstance(e, cst.Call)
            and isinstance(e.func, cst.Attribute)
            and e.func.attr.value in ("get", "setdefault")
        ):
            e = e.func.value
        elif isinstance(e, cst.Attribute | cst.Subscript):
            e = e.value
        else:
            found = change_root(e)
            return found.value if found is not None else None


def whole_displays(src: FunctionSource) -> set[int]:
    """The ids of the displays the workflow binds a name to whole (``rec = {"doc": d}``, ``a, b =
    [x], y``): a new object holding the names it is made of, not one of them (as the item of
    ``for a in [log]`` or ``first, *rest = [log, []]`` is)."""
    out: set[int] = set()

    def pair(target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name) and isinstance(value, _DISPLAYS):
            out.add(id(value))
        elif (
            isinstance(target, cst.Tuple | cst.List)
            and isinstance(value, cst.Tuple | cst.List)
            and len(target.elements) == len(value.elements)
            and not any(isinstance(e, cst.StarredElement) for e in [*target.elements, *value.elements])
        ):
            for t, v in zip(target.elements, value.elements, strict=True):
                pair(t.value, v.value)

    for node in walk(src.node.body, lambda n: isinstance(n, cst.FunctionDef | cst.ClassDef | cst.Lambda)):
        if isinstance(node, cst.Assign):
            for t in node.targets:
                pair(t.target, node.value)
        elif isinstance(node, cst.AnnAssign | cst.NamedExpr) and node.value is not None:
            pair(node.target, node.value)
    return out


def holders_of(src: FunctionSource, name: str, stmt: cst.CSTNode, held: Held) -> list[str]:
    """The names whose objects may hold ``name``'s when ``stmt`` runs: a change ``stmt`` makes to
    it in place changes theirs too."""
    return sorted({h.holder for h in holds(src, held) if h.held == name and _may_follow(src, h, stmt)})


def kept_by(src: FunctionSource, name: str, stmt: cst.CSTNode, held: Held, *, own: bool = False) -> list[str]:
    """The names whose objects ``name``'s may keep when ``stmt`` runs and ``stmt`` may change in
    place through it (``state["log"].append(x)`` after ``state["log"] = log``: ``log``; a method
    of the user's, ``box.add(x)`` after ``box.items = items``: ``items``); none where ``stmt``
    changes only ``name``'s object itself (``state["n"] = 1``, ``out.append(r)``). ``own``: the
    object is of a class of the user's, whose ``add`` or ``update`` is no container's."""
    if not reaches_into(stmt, name, own):
        return []
    return sorted({h.held for h in holds(src, held) if h.holder == name and _may_follow(src, h, stmt)})


_OWN_METHODS = _STORING_METHODS | {
    "pop",
    "popitem",
    "remove",
    "discard",
    "clear",
    "sort",
    "reverse",
    "popleft",
}


def reaches_into(stmt: cst.CSTNode, name: str, own: bool) -> bool:
    """Whether ``stmt`` may change in place an object ``name``'s object holds: a change through a
    part of it (``name[k].append``, ``name.a[i] = v``), a method not of the built-in containers
    (``name.add(x)``), an attribute set on an object of the user's class (``own``: a property's
    setter may do anything), or a change not seen here (``name`` handed to a function)."""
    seen = False
    for n in walk(stmt):
        part: cst.BaseExpression | None = None
        if isinstance(n, cst.Call) and _hands_on(n, name):
            return True
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute):
            part = n.func.value
            if isinstance(part, cst.Name) and part.value == name:
                if own or n.func.attr.value not in _OWN_METHODS:
                    return True
                seen = True
                continue
        elif isinstance(n, cst.AssignTarget | cst.AugAssign | cst.Del):
            part = n.target if isinstance(n.target, cst.Attribute | cst.Subscript) else None
            if part is not None and isinstance(part.value, cst.Name) and part.value.value == name:
                if (own and isinstance(part, cst.Attribute)) or isinstance(n, cst.AugAssign):
                    return True  # (a property's setter; `rec["items"] += [x]` extends the list held)
                seen = True
                continue
        if part is not None and (root := change_root(part)) is not None and root.value == name:
            return True
    return not seen


def _hands_on(call: cst.Call, name: str) -> bool:
    """Whether ``call`` hands ``name`` bare to a function that may change it (not a container's
    method keeping it, ``out.append(rec)``, nor a builtin only reading it, ``len(rec)``)."""
    if not any(isinstance(a.value, cst.Name) and a.value.value == name for a in call.args):
        return False
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value not in _OWN_METHODS | READ_ONLY_METHODS
    return not (isinstance(func, cst.Name) and func.value in READ_ONLY_CALLS)


def _may_follow(src: FunctionSource, h: Holds, stmt: cst.CSTNode) -> bool:
    """Whether ``stmt`` may run after ``h.site`` with ``h.held`` still naming the object the site
    put into its holder: it stands after the site, or before it in a loop around both whose body
    does not bind ``h.held`` anew above ``stmt``. Where the tree cannot tell, it may."""
    try:
        at, site = src.positions[stmt].start, src.positions[h.site].start
    except KeyError:
        return True
    if (at.line, at.column) >= (site.line, site.column):
        return True
    loop, top = _common_loop(src, stmt, h.site)
    if loop is None:
        return False  # (before the site, and run once)
    if top is None:
        return True
    body: list[cst.CSTNode] = list(loop.body.body) if isinstance(loop.body, cst.IndentedBlock) else []
    for line in body[: body.index(top)] if top in body else []:
        if isinstance(line, cst.SimpleStatementLine) and any(
            isinstance(s, cst.Assign)
            and any(isinstance(t.target, cst.Name) and t.target.value == h.held for t in s.targets)
            for s in line.body
        ):
            return False  # (bound anew in each pass before the change: not yet held)
    return True


def _common_loop(
    src: FunctionSource, stmt: cst.CSTNode, site: cst.CSTNode
) -> tuple[cst.For | cst.While | None, cst.CSTNode | None]:
    """The innermost loop of the function around both ``stmt`` and ``site``, with the statement of
    its body ``stmt`` is in (None where the tree cannot tell)."""
    around_site = {id(n) for n in _ancestors(src, site)}
    child: cst.CSTNode | None = None
    for n in [stmt, *_ancestors(src, stmt)]:
        if isinstance(n, cst.For | cst.While) and id(n) in around_site and n is not stmt:
            return n, child
        if isinstance(n, cst.BaseStatement):
            child = n
        if n is src.node:
            break
    return None, None


def _ancestors(src: FunctionSource, node: cst.CSTNode) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    n = src.parents.get(node) if hasattr(src.parents, "get") else None
    while n is not None and n is not src.node:
        out.append(n)
        n = src.parents.get(n)
    return out


def keeps_as_is(src: FunctionSource, call: cst.Call) -> bool:
    """Whether ``call`` puts its arguments as they are into a built-in container the workflow makes
    itself (``seen.append(d)``, ``counts.setdefault(d, 0)``): it changes the container, none of
    them (a method of another object, a class's ``append``, may change what it is handed)."""
    func = call.func
    return (
        isinstance(func, cst.Attribute)
        and func.attr.value in _KEEPING_METHODS
        and isinstance(func.value, cst.Name)
        and made_container(src, func.value.value)
    )


def made_container(src: FunctionSource, name: str) -> bool:
    """Whether every binding of ``name`` makes a new built-in container: a display or a
    comprehension (``seen = []``, ``rec = {"doc": d}``), ``list()``, ``dict()``, ``set()``,
    ``collections.deque()`` and kin; ``+=`` keeps it one. Not a parameter, nor a name a nested
    function rebinds (``nonlocal``)."""
    params = src.node.params
    if any(p.name.value == name for p in (*params.posonly_params, *params.params, *params.kwonly_params)):
        return False
    sites = 0
    for n in walk(src.node.body):
        if isinstance(n, cst.Global | cst.Nonlocal) and any(a.name.value == name for a in n.names):
            return False
        if not (isinstance(n, cst.Name) and n.value == name and src.assigned_names(n) == [name]):
            continue
        sites += 1
        parent = src.parents.get(n)
        if isinstance(parent, cst.AugAssign) and parent.target is n:
            continue
        if isinstance(parent, cst.AssignTarget):
            parent = src.parents.get(parent)
        elif not (isinstance(parent, cst.AnnAssign) and parent.target is n):
            return False  # (a loop's target, `with ... as`, a tuple's part: any object)
        if not isinstance(parent, cst.Assign | cst.AnnAssign) or not _new_container(src, parent.value):
            return False
    return sites > 0


def _new_container(src: FunctionSource, e: cst.BaseExpression | None) -> bool:
    if isinstance(e, cst.List | cst.Set | cst.Dict | cst.ListComp | cst.SetComp | cst.DictComp):
        return True
    if not isinstance(e, cst.Call):
        return False
    local = set(src.assigned_names(src.node.body))
    made = resolve(getattr(src.fn, "__globals__", {}), local, e.func)
    return any(made is c for c in _CONTAINERS)
