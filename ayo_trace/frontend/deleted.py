"""Names a loop's body may delete, and how the loop carries one its body may leave deleted.

Python deletes ``e`` after its ``except ... as e`` handler, and ``del x`` deletes ``x``. A loop
carries a name from one iteration to the next and out of the loop (``control_flow.compile_loop``);
where its body may delete one, an iteration that reads it before binding it checks it first (the
last iteration may have deleted it: Python raises ``UnboundLocalError`` there). A ``try`` leaves
its handler's ``e`` marked as possibly deleted (``returns.Unbound``) without saying whether it is,
so at the end of the body such a name is carried as ``UNBOUND`` only where that is what Python
holds, or where nothing reads it before binding it again; otherwise the read is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from ..errors import TraceError
from ..ir.code import UNBOUND, SourceLoc
from .carried import read_after
from .returns import Unbound
from .state import ancestors, walk
from .values import Traced, Value

if TYPE_CHECKING:
    from .builder import Builder
    from .source import FunctionSource

_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
_HANDLERS = (cst.ExceptHandler, cst.ExceptStarHandler)


def deleted_in(body: cst.CSTNode, *, handlers: bool = True) -> set[str]:
    """The names ``body`` may delete: ``del x`` (also ``del a, b``), ``except ... as e`` (unless
    not ``handlers``)."""
    out: set[str] = set()
    for n in walk(body, lambda n: isinstance(n, _SCOPES)):
        if isinstance(n, cst.Del):
            parts = (
                [e.value for e in n.target.elements]
                if isinstance(n.target, cst.Tuple | cst.List)
                else [n.target]
            )
            out.update(t.value for t in parts if isinstance(t, cst.Name))
        elif (
            handlers and isinstance(n, _HANDLERS) and n.name is not None and isinstance(n.name.name, cst.Name)
        ):
            out.add(n.name.name.value)
    return out


def carried_out(
    comp: Builder,
    child: Builder,
    stmt: cst.For | cst.While,
    name: str,
    reads: tuple[set[str], set[str]],
    loc: SourceLoc,
) -> tuple[Value, bool]:
    """The value loop ``stmt`` carries ``name`` out of an iteration with (``child``: its body, at
    its end), and whether nothing reads it before binding it again. Where a handler may have
    deleted it (a ``returns.Unbound`` mark, not a value): ``UNBOUND`` where Python surely holds
    nothing there (only handlers bind it, none around the loop: ``_only_caught``) or nothing
    reads it before binding it again (``reads``: what the body, or a ``while``'s test, may read
    first; every read outside the loop, for where the tree cannot tell what runs after it);
    refused where a read may see either."""
    mark = child.env.get(name)
    if not isinstance(mark, Unbound):
        return child.lookup_local(name, loc, raw=True), False
    src = comp.src
    unset = Traced(child.const(UNBOUND, loc, name), unbound=True)
    if _only_caught(src, stmt, name):
        return unset, False
    first, live = reads
    later = read_after(src, stmt)
    if later is not None and stmt.orelse is not None:  # (run after the loop: it reads the loop's last)
        later |= set(src.free_names(stmt.orelse)[0])
    if name not in first and name not in (live if later is None else later):
        return unset, True
    raise TraceError(
        f"`{name}` is read after this loop or by its next pass, but {mark.why} (Python could raise "
        f"UnboundLocalError there, or not); {mark.fix}",
        loc=loc,
        construct="name",
    )


def _only_caught(src: FunctionSource, stmt: cst.For | cst.While, name: str) -> bool:
    """Whether only handlers bind ``name`` (``except ... as name``), none of them around ``stmt``:
    outside those handlers it never holds anything."""
    params = src.node.params
    if any(p.name.value == name for p in (*params.posonly_params, *params.params, *params.kwonly_params)):
        return False
    nodes = list(walk(src.node.body))
    if any(
        isinstance(n, cst.Global | cst.Nonlocal) and any(a.name.value == name for a in n.names) for n in nodes
    ):
        return False
    binds = [
        n for n in nodes if isinstance(n, cst.Name) and n.value == name and src.assigned_names(n) == [name]
    ]
    around = {id(n) for n in ancestors(src, stmt)}
    return all(_caught_as(src, n) and id(src.parents.get(src.parents.get(n))) not in around for n in binds)


def _caught_as(src: FunctionSource, name: cst.Name) -> bool:
    """Whether ``name`` is bound by ``except ... as name`` (which Python deletes after the handler)."""
    handler = src.parents.get(src.parents.get(name))
    return isinstance(handler, _HANDLERS) and handler.name is not None and handler.name.name is name
