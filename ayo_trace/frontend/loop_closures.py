"""A function made in a loop that awaits, reading a name the loop binds, kept past its turn.

    fs = []
    for d in docs:
        r = await ayo.llm(d)
        fs.append(lambda: r)      # Python: every one reads the last `r` once the loop is done

Python's functions read the names they close over when they are called, so a ``lambda`` or
``def`` made at one turn of a loop and called after the loop sees the last turn's values. The
graph runs a loop that awaits as a ``map`` (or a ``loop`` node) whose turns each have their own
names, so the function would see its own turn's. Such a function is refused at trace time, with
the fix (a default argument, ``lambda r=r: r``, binds the value where the function is made, in
Python as in the graph). One called in its own turn (``sorted(hits, key=lambda h: h.score + w)``,
``f = lambda x: x + d`` then ``f(1)``) reads that turn's names in both and is traced; a loop that
awaits nothing runs as plain code and is not concerned.
"""

from __future__ import annotations

import libcst as cst

from ..errors import TraceError
from .source import FunctionSource, _is_load
from .state import contains_await, walk

_KEEPING = frozenset(
    {"append", "extend", "insert", "add", "setdefault", "update", "appendleft", "extendleft"}
)


def check(src: FunctionSource, fn: cst.Lambda | cst.FunctionDef, name: str | None) -> None:
    """Refuse ``fn`` (named ``name``: ``def name`` or ``name = lambda ...``) when it stands in a
    loop that awaits, reads a name that loop binds, and may be called after its turn."""
    loop = _loop_around(src, fn)
    if loop is None:
        return
    bound = set(src.assigned_names(loop.body)) | (
        set(src.assigned_names(loop.target)) if isinstance(loop, cst.For) else set()
    )
    own = {p.name.value for p in _params(fn)}
    reads = [n for n in src.free_names(fn.body)[0] if n in bound and n not in own]
    if not reads or not _kept(src, fn, name, loop):
        return
    what = f"`{name}`" if name else "this `lambda`"
    raise TraceError(
        f"{what}, made in a loop that awaits, reads `{reads[0]}`, which the loop binds again at "
        f"its next turn, and is kept past its turn: Python reads `{reads[0]}` when it is called "
        f"(the last turn's value once the loop is done), the graph when it is made; bind it where "
        f"the function is made (`lambda {reads[0]}={reads[0]}: ...`)",
        loc=src.loc(fn),
        construct="closure",
    )


def _params(fn: cst.Lambda | cst.FunctionDef) -> list[cst.Param]:
    p = fn.params
    out = [*p.posonly_params, *p.params, *p.kwonly_params]
    return out + [x for x in (p.star_arg, p.star_kwarg) if isinstance(x, cst.Param)]


def _loop_around(src: FunctionSource, node: cst.CSTNode) -> cst.For | cst.While | None:
    """The innermost loop of the workflow around ``node`` (not across another function), when it
    awaits (traced as a ``map`` or a ``loop`` node)."""
    child: cst.CSTNode = node
    parent = src.parents.get(node)
    while parent is not None and parent is not src.node:
        if isinstance(parent, cst.FunctionDef | cst.Lambda | cst.ClassDef):
            return None
        if isinstance(parent, cst.For | cst.While) and child is parent.body:
            return parent if contains_await(parent) else None
        child, parent = parent, src.parents.get(parent)
    return None


def _kept(src: FunctionSource, fn: cst.CSTNode, name: str | None, loop: cst.CSTNode) -> bool:
    """Whether the function may be called after its turn: kept in a container or an attribute,
    returned, or (named) read outside the loop or kept so inside it."""
    if name is None:
        return _keeps(src, fn)
    for n in walk(src.node.body):
        if not (isinstance(n, cst.Name) and n.value == name and _is_load(n, src.parents)):
            continue
        if not src.within(n, loop) or _keeps(src, n):
            return True
    return False


def _keeps(src: FunctionSource, e: cst.CSTNode) -> bool:
    """Whether the value of expression ``e`` is kept where it stands: an argument of
    ``xs.append``/``d.setdefault``..., an item of a literal or a comprehension, assigned to an item
    or an attribute, returned or yielded. An argument of any other call (``sorted(key=...)``) or
    a call of it is used at once."""
    child, parent = e, src.parents.get(e)
    while parent is not None:
        if isinstance(parent, cst.Arg):
            call = src.parents.get(parent)
            func = call.func if isinstance(call, cst.Call) else None
            return isinstance(func, cst.Attribute) and func.attr.value in _KEEPING
        if isinstance(parent, cst.Call) and parent.func is child:
            return False  # called here
        if isinstance(parent, cst.Element | cst.DictElement | cst.StarredElement | cst.BaseComp):
            return True
        if isinstance(parent, cst.Return | cst.Yield):
            return True
        if isinstance(parent, cst.Assign):
            return any(isinstance(t.target, cst.Attribute | cst.Subscript) for t in parent.targets)
        if isinstance(parent, cst.BaseStatement | cst.BaseSmallStatement):
            return False
        child, parent = parent, src.parents.get(parent)
    return False


def check_all(src: FunctionSource) -> None:
    """``check`` every function the source's body makes (a ``def``, ``name = lambda``, or a
    ``lambda`` anywhere), once per source."""
    if src.loop_closures_checked:
        return
    for n in walk(src.node.body):
        if isinstance(n, cst.FunctionDef):
            check(src, n, n.name.value)
        elif isinstance(n, cst.Lambda):
            parent = src.parents.get(n)
            named = isinstance(parent, cst.Assign) and len(parent.targets) == 1 and parent.value is n
            target = parent.targets[0].target if named else None
            check(src, n, target.value if isinstance(target, cst.Name) else None)
    src.loop_closures_checked = True
