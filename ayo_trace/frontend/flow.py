"""Python's definite-assignment rules, for the names of one function scope.

``flow(stmts, assigned)`` says, for a block of statements, which names are bound on *every* path
that completes normally (``definite``), which on *some* path (``maybe``), which a path may leave
unbound although they were bound before (``killed``: ``except E as e`` deletes ``e``, and so does
``del``), and whether any path completes normally at all (``falls_through``: a body that ends in
``return`` or ``raise`` on every path does not). A name is refused only where Python itself could
raise ``UnboundLocalError``: read after a block that binds it on some paths only.

The rules are Python's, simplified where the simplification only makes the answer more cautious
(a ``while`` or ``for`` body may run zero times; a ``try`` body may stop before any of its
statements), except for ``with``, whose body is taken to run to its end (a context manager that
swallows exceptions is rare, and Python's compiler makes the same assumption).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import libcst as cst

from .visiting import visit

Assigned = Callable[[cst.CSTNode], list[str]]


@dataclass(frozen=True)
class Flow:
    definite: frozenset[str] = frozenset()
    maybe: frozenset[str] = frozenset()
    killed: frozenset[str] = frozenset()
    falls_through: bool = True
    # names bound on every path that leaves the enclosing loop by ``break`` (None: no such path)
    breaks: frozenset[str] | None = None

    def then(self, other: Flow) -> Flow:
        """This block followed by ``other`` (which runs only if this one falls through)."""
        if not self.falls_through:
            return self
        later = None if other.breaks is None else (self.definite - other.killed) | other.breaks
        return Flow(
            (self.definite - other.killed) | other.definite,
            self.maybe | other.maybe,
            (self.killed - other.definite) | other.killed,
            other.falls_through,
            _meet([self.breaks, later]),
        )


def _meet(sets: Sequence[frozenset[str] | None]) -> frozenset[str] | None:
    present = [s for s in sets if s is not None]
    return frozenset.intersection(*present) if present else None


def join(flows: Sequence[Flow]) -> Flow:
    """Several alternative paths (branches of an ``if``, handlers of a ``try``)."""
    through = [f for f in flows if f.falls_through]
    definite = frozenset.intersection(*(f.definite for f in through)) if through else frozenset()
    return Flow(
        definite,
        frozenset().union(*(f.maybe for f in flows)),
        frozenset().union(*(f.killed for f in through)),
        bool(through),
        _meet([f.breaks for f in flows]),
    )


def flow(stmts: Sequence[cst.CSTNode], assigned: Assigned) -> Flow:
    """The flow of a block of statements; ``assigned(node)`` names the scope's names ``node`` binds."""
    out = Flow()
    for s in stmts:
        if not out.falls_through:
            break
        out = out.then(_statement(s, assigned))
    return out


def _block(body: cst.BaseSuite | None, assigned: Assigned) -> Flow:
    return Flow() if body is None else flow(list(body.body), assigned)


def _names(target: cst.BaseExpression) -> list[str]:
    """The plain names a ``del`` target deletes (``del x``, ``del x, y``; not ``del x[i]``)."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, cst.Tuple | cst.List):
        return [n for e in target.elements for n in _names(e.value)]
    return []


def _bound(node: cst.CSTNode, assigned: Assigned) -> Flow:
    names = frozenset(assigned(node))
    # a walrus in a comprehension binds only when an item reaches it (`[y for d in docs if (y := f(d))]`)
    looped = {
        t.value
        for c in _walk(node)
        if isinstance(c, _COMPREHENSIONS)
        for n in _walk(c)
        if isinstance(n, cst.NamedExpr) and isinstance(t := n.target, cst.Name)
    }
    return Flow(names - looped, names)


_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


def _walk(node: cst.CSTNode) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []

    class V(cst.CSTVisitor):
        def on_visit(self, n: cst.CSTNode) -> bool:
            out.append(n)
            return not isinstance(n, cst.Lambda | cst.FunctionDef | cst.ClassDef)

    visit(node, V())
    return out


def _statement(s: cst.CSTNode, assigned: Assigned) -> Flow:
    if isinstance(s, cst.SimpleStatementLine):
        return flow(list(s.body), assigned)
    if isinstance(s, cst.Return | cst.Raise):
        return Flow(falls_through=False)
    if isinstance(s, cst.Break):
        return Flow(falls_through=False, breaks=frozenset())
    if isinstance(s, cst.Continue):
        return Flow(falls_through=False)
    if isinstance(s, cst.Del):
        return Flow(killed=frozenset(_names(s.target)))
    if isinstance(s, cst.If):
        then = _block(s.body, assigned)
        if isinstance(s.orelse, cst.If):
            other = _statement(s.orelse, assigned)
        elif isinstance(s.orelse, cst.Else):
            other = _block(s.orelse.body, assigned)
        else:
            other = Flow()
        return join([then, other])
    if isinstance(s, cst.For | cst.While):
        head = _bound(s.target, assigned) if isinstance(s, cst.For) else Flow()
        body = head.then(_block(s.body, assigned))
        # the body may run zero times; `else` runs when no `break` left the loop
        orelse = _block(s.orelse.body, assigned) if s.orelse is not None else Flow()
        ran = Flow(maybe=body.maybe | head.maybe, killed=body.killed)
        # leaving by `break`: the body ran at least once, up to a break
        broke = None if body.breaks is None else Flow(body.breaks, body.maybe, body.killed)
        if isinstance(s, cst.While) and _always_true(s.test):
            return (
                broke
                if broke is not None
                else Flow(maybe=body.maybe, killed=body.killed, falls_through=False)
            )
        return join([ran.then(orelse), *([broke] if broke is not None else [])])
    if isinstance(s, cst.Try | cst.TryStar):
        body = _block(s.body, assigned)
        orelse = _block(s.orelse.body, assigned) if s.orelse is not None else Flow()
        happy = body.then(orelse)
        # an exception may stop the body before any statement: only its maybe-names carry over
        partial = Flow(maybe=body.maybe, killed=body.killed)
        paths = [happy]
        for h in s.handlers:
            handler = partial.then(_block(h.body, assigned))
            if h.name is not None:
                caught = frozenset(assigned(h.name.name))
                handler = handler.then(Flow(killed=caught))  # Python deletes `e` after the handler
                handler = Flow(
                    handler.definite - caught,
                    handler.maybe | caught,
                    handler.killed,
                    handler.falls_through,
                    handler.breaks,
                )
            paths.append(handler)
        out = join(paths)
        if s.finalbody is not None:
            out = out.then(_block(s.finalbody.body, assigned)) if out.falls_through else out
        return out
    if isinstance(s, cst.With):
        # a context manager may swallow an error its body raised part-way (its `__exit__` returns
        # true): what the body binds after that point is not bound, and the code after the `with`
        # runs on
        names = frozenset(n for item in s.items if item.asname is not None for n in assigned(item.asname))
        entered = Flow(names, names)
        body = entered.then(_block(s.body, assigned))
        return join([body, entered]) if _may_swallow(s) else body
    if isinstance(s, cst.Match):
        cases = []
        irrefutable = False
        for case in s.cases:
            cases.append(_bound(case.pattern, assigned).then(_block(case.body, assigned)))
            if case.guard is None and isinstance(case.pattern, cst.MatchAs) and case.pattern.pattern is None:
                irrefutable = True
        return join(cases if irrefutable else [*cases, Flow()])
    if isinstance(s, cst.FunctionDef | cst.ClassDef):
        return Flow(frozenset([s.name.value]), frozenset([s.name.value]))
    return _bound(s, assigned)


# context managers that never swallow their body's error (``__exit__`` returns a false value)
_NEVER_SWALLOW = frozenset(
    {"open", "nullcontext", "closing", "Lock", "RLock", "Semaphore", "TemporaryDirectory"}
)


def _may_swallow(s: cst.With) -> bool:
    """Whether a context manager of ``s`` may swallow an error (any but ``_NEVER_SWALLOW``'s calls,
    ``with open(path) as f``)."""
    for item in s.items:
        call = item.item
        func = call.func if isinstance(call, cst.Call) else None
        name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
        if name not in _NEVER_SWALLOW:
            return True
    return False


def _always_true(test: cst.BaseExpression) -> bool:
    """``while True:`` or ``while 1:`` (Python's compiler treats both as loops only ``break`` leaves)."""
    if isinstance(test, cst.Integer):
        return test.evaluated_value != 0
    return isinstance(test, cst.Name) and test.value == "True"
