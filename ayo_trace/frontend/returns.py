"""Early returns and what a statement leaves bound.

An ``if`` on a traced value with a ``return`` inside (``if not hits: return "none"``, followed by
more code) becomes a ``cond`` whose branches are the rest of the function: each branch is the
branch's own statements followed, when they fall through, by the statements after the ``if``. Both
branches end by returning, so the ``cond``'s value is the function's result, and names assigned
after the ``if`` are never "maybe unassigned" because of it.

``settle`` applies Python's definite-assignment rules (``flow.py``) to a statement that runs as one
node: it returns the names the node hands back, reads first the names it may leave as they were, and
marks the names it may leave unbound so that a later read is refused where Python could raise
``UnboundLocalError``. ``leave_unbound`` is that mark, for every statement the compiler traces
(``cond``, ``loop``, ``try``, ``match`` and breaks alike): an ``Unbound`` value whose message gives
Python's reason for the construct (``why_unbound``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import UNBOUND, SourceLoc
from .builder import Builder, Returned, cond_node
from .flow import Assigned, flow
from .source import _is_load
from .state import _construct
from .values import Static, Traced, Value
from .visiting import visit


class Unbound(Static):
    """The value of a name a statement may leave unbound: reading it is refused (``why`` says which
    statement and how, ``fix`` what to change). The reason is worked out only when a read is refused
    (it runs Python's definite-assignment analysis again, which a trace marking many names would
    otherwise pay for every one of them)."""

    unbound = True
    _reason: Callable[[], tuple[str, str]]
    _text: tuple[str, str] | None

    def __init__(self, reason: Callable[[], tuple[str, str]]) -> None:
        super().__init__(None)
        object.__setattr__(self, "_reason", reason)
        object.__setattr__(self, "_text", None)

    def _explained(self) -> tuple[str, str]:
        if self._text is None:
            object.__setattr__(self, "_text", self._reason())
        assert self._text is not None
        return self._text

    @property
    def why(self) -> str:
        return self._explained()[0]

    @property
    def fix(self) -> str:
        return self._explained()[1]


class UnboundRead(TraceError):
    """A read of a name that some path leaves unbound. Its message is worked out only when shown:
    the compiler catches most of these itself (a branch that leaves a name alone passes it on)."""

    def __init__(self, name: str, unbound: Unbound, loc: SourceLoc) -> None:
        Exception.__init__(self)
        self.loc = loc
        self.construct = "name"
        self._name = name
        self._unbound = unbound

    def __str__(self) -> str:
        return (
            f"{self.loc}: `{self._name}` is read here but {self._unbound.why} (Python could raise "
            f"UnboundLocalError here); {self._unbound.fix}"
        )

    def __reduce__(self) -> tuple[Any, ...]:  # a copy is a plain TraceError with the same text
        return (_plain_trace_error, (str(self).split(": ", 1)[1], self.loc))


def _plain_trace_error(message: str, loc: SourceLoc) -> TraceError:
    return TraceError(message, loc=loc, construct="name")


def why_unbound(stmt: cst.CSTNode, name: str, loc: SourceLoc, assigned: Assigned) -> tuple[str, str]:
    """``(why, fix)`` for ``name``, which ``stmt`` (at ``loc``) may leave unbound: the reason is the
    one Python's definite-assignment rules give (``flow.py``): deleted (``except ... as e``, ``del``)
    or assigned on some paths only."""
    stmts = list(stmt.body) if isinstance(stmt, cst.IndentedBlock) else [stmt]
    what = f"the `{_construct(stmt)}` at {loc}" if isinstance(stmt, _COMPOUND) else f"the statement at {loc}"
    if _catches_as(stmt, name):
        return (
            f"{what} may delete it (Python deletes `{name}` after its `except ... as {name}` handler)",
            f"inside the handler, keep what is needed in another name (`error = {name}`)",
        )
    if name in flow(stmts, assigned).killed:
        return f"{what} may delete it (`del {name}`)", "assign it again after the `del`"
    fix = f"assign it before {what.split(' at ')[0]} (or on every path through it)"
    if isinstance(stmt, cst.If):
        return f"{what} assigns it on {'one branch' if _arms(stmt) == 2 else 'some branches'} only", fix
    if isinstance(stmt, cst.For | cst.While):
        why = "the loop may end before assigning it: no item, a false condition, or a `break`"
        return f"{what} assigns it on some paths only ({why})", fix
    if isinstance(stmt, cst.Try | cst.TryStar):
        return f"{what} assigns it on some paths only (an exception may stop the body before it)", fix
    if isinstance(stmt, cst.Match):
        return f"{what} assigns it on some paths only (in some cases, or when no case matches)", fix
    return f"{what} assigns it on some paths only", fix


_COMPOUND = (cst.If, cst.For, cst.While, cst.Try, cst.TryStar, cst.Match, cst.With)


def _arms(stmt: cst.If) -> int:
    """How many branches an ``if``/``elif``/``else`` chain has (an ``if`` alone has two)."""
    if isinstance(stmt.orelse, cst.If):
        return 1 + _arms(stmt.orelse)
    return 2


def _catches_as(stmt: cst.CSTNode, name: str) -> bool:
    """Whether ``stmt`` holds an ``except ... as name`` handler."""
    found = False

    class V(cst.CSTVisitor):
        def visit_ExceptHandler(self, h: cst.ExceptHandler) -> None:
            nonlocal found
            found = found or (
                h.name is not None and isinstance(h.name.name, cst.Name) and h.name.name.value == name
            )

    visit(stmt, V())
    return found


def returning_if(comp: Builder, stmt: cst.If, rest: list[cst.BaseStatement], loc: SourceLoc) -> Value:
    """Compile ``stmt`` followed by ``rest`` as a ``cond`` whose branches both return; the value is
    what the function returns."""
    pred = comp.materialize(comp.exprs.expr(stmt.test, loc, "test"), loc, "test")
    then_body: list[Any] = list(stmt.body.body)
    orelse: list[Any] = []
    if isinstance(stmt.orelse, cst.Else):
        orelse = list(stmt.orelse.body.body)
    elif isinstance(stmt.orelse, cst.If):
        orelse = [stmt.orelse]
    branches = []
    for label, body in (("then", then_body), ("orelse", orelse)):
        if flow(body, comp.src.assigned_names).falls_through:
            body = body + rest
        child = comp.nested(label)
        try:
            child.block(body, top=True)
            value: Value = Static(None)
        except Returned as r:
            value = r.value
        child.graph.add("output", [child.materialize(value, loc, "result")])
        branches.append(child)
    return Traced(cond_node(comp, pred, branches, loc, "result"))


def settle(
    comp: Builder, stmt: cst.CSTNode, names: list[str], loc: SourceLoc
) -> tuple[list[str], list[str], list[str]]:
    """``(returns, keep, maybe)`` for a node running ``stmt`` that may bind ``names``: the names it
    hands back, among them those it must read first because some path leaves them as they were,
    and among those the ones that may then be unbound (a name not bound before is read as
    ``UNBOUND``, which the node hands back where it leaves it alone; one ``stmt`` may delete,
    ``del x`` or ``except ... as x``, is handed back as ``UNBOUND`` where it does)."""
    stmts = list(stmt.body) if isinstance(stmt, cst.IndentedBlock) else [stmt]
    f = flow(stmts, comp.src.assigned_names)
    returns: list[str] = []
    keep: list[str] = []
    maybe: list[str] = []
    later: set[str] | None = None
    for n in dict.fromkeys([*names, *f.killed]):
        if n in f.definite or not f.falls_through:
            returns.append(n)
            continue
        if not comp.is_bound(n):
            later = reads_outside(comp, stmt) if later is None else later
            if n not in later:  # (a loop's variable read nowhere else: no node hands it on)
                mark_unbound(comp, n, stmt, loc)
                continue
            comp.env[n] = Traced(comp.const(UNBOUND, loc, n), unbound=True)
        elif n in f.killed:  # the node's code reads it as a name that may end unbound
            value = comp.lookup_local(n, loc, raw=True)
            node = value.node if isinstance(value, Traced) else comp.materialize(value, loc, n)
            comp.env[n] = Traced(node, unbound=True)
        returns.append(n)
        keep.append(n)
        if held_unbound(comp, n, loc):
            maybe.append(n)
    return returns, keep, maybe


def checked(comp: Builder, name: str, value: Value, loc: SourceLoc) -> Value:
    """``value``, which ``name`` holds, read at ``loc``: when a path may have left ``name`` unbound,
    a node reading it first (raising ``UnboundLocalError`` there as Python would), and ``name`` is
    bound from then on."""
    if not (isinstance(value, Traced) and value.unbound):
        return value
    node = comp.python_node(cst.Pass(), loc, [name], source=f"{name} = {name}", reads=[name], name=name)
    read = dataclasses.replace(value, node=node, unbound=False)
    comp.env[name] = read
    return read


def may_be_unbound(comp: Builder, names: Iterable[str]) -> None:
    """Mark the values ``names`` hold now as ones a path may have left unbound (``UNBOUND``)."""
    for n in names:
        if isinstance(value := comp.env.get(n), Traced):
            comp.env[n] = dataclasses.replace(value, unbound=True)


def held_unbound(comp: Builder, name: str, loc: SourceLoc) -> bool:
    """Whether ``name`` holds a value here that a path may have left unbound."""
    try:
        value = comp.lookup_local(name, loc, raw=True)
    except TraceError:
        return False
    return isinstance(value, Traced) and value.unbound


def mark_unbound(comp: Builder, name: str, stmt: cst.CSTNode, loc: SourceLoc) -> None:
    """Mark ``name`` as one that ``stmt`` (at ``loc``) may leave unbound: a later read is refused,
    with Python's reason, until it is assigned again."""
    comp.env[name] = Unbound(lambda: why_unbound(stmt, name, loc, comp.src.assigned_names))


def reads_outside(comp: Builder, stmt: cst.CSTNode) -> set[str]:
    """Names of the workflow's scope read anywhere in the function but inside ``stmt``: a name a
    loop binds that is read nowhere else lives one iteration and need not be carried. A read in the
    body of another ``for`` whose target binds the name, or of a handler ``except ... as`` it,
    reads that statement's own value, not this one."""
    out: set[str] = set()
    src = comp.src
    shadowed: list[set[str]] = []
    # (of a `try` the compiler cut in two, its nodes of the tree; its handlers, which the other
    # part of the cut `try` has too, are read as outside it)
    inside = {id(n) for n in src.tree_parts(stmt, cst.ExceptHandler)} if id(stmt) in src.made else {id(stmt)}

    class V(cst.CSTVisitor):
        def on_visit(self, n: cst.CSTNode) -> bool:
            if id(n) in inside:
                return False
            if isinstance(n, cst.For):
                visit(n.iter, self)
                shadowed.append(set(src.assigned_names(n.target)))
                visit(n.body, self)
                shadowed.pop()
                if n.orelse is not None:
                    visit(n.orelse, self)
                return False
            if isinstance(n, cst.ExceptHandler) and n.name is not None:  # (binds its own `e` first)
                if n.type is not None:
                    visit(n.type, self)
                shadowed.append(set(src.assigned_names(n.name)))
                visit(n.body, self)
                shadowed.pop()
                return False
            if (
                isinstance(n, cst.Name)
                and _is_load(n, src.parents)
                and not any(n.value in s for s in shadowed)
            ):
                scope = src.scopes.get(n)  # (a comprehension's or lambda's own `e` is not the workflow's)
                if scope is not None and src.home(scope, n.value) is src.fn_scope:
                    out.add(n.value)
            return True

    visit(src.node.body, V())
    return out
