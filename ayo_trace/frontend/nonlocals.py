"""``nonlocal`` of a workflow's name, rewritten as the cell Python keeps it in.

A function the workflow defines that declares ``nonlocal calls`` shares the workflow's variable:
Python keeps ``calls`` in a cell that both read and write. The rewrite makes that cell an object
the tracer already follows, a list of one item::

    calls = 0                          calls__cell = [0]
    async def ask(p):                  async def ask(p):
        nonlocal calls                     pass
        calls += 1              ->         calls__cell[0] += 1
        return await ayo.llm(p)            return await ayo.llm(p)
    ...                                ...
    return answer, calls               return answer, calls__cell[0]

so a helper changing it changes an object of the workflow in place, which the graph orders as it
orders ``seen.append(x)`` in a helper (and refuses where it cannot keep Python's order: calls run
at once that touch it on both sides of their awaits, ``interleaving``). Every use of the name that
means the workflow's variable (in the workflow, in the functions declaring it ``nonlocal``, in
functions and comprehensions reading it) becomes ``calls__cell[0]``.

Rewritten when the workflow's first binding of the name is a plain assignment in its body (not in a
branch or a loop; ``best, score = None, 0`` binds each name of a tuple of values so, the cell made
in place of the value: ``best__cell, score = [None], 0``) that comes before any other use (or the
name is a parameter: its cell is made on a line of its own, first in the body, ``q__cell = [q]``),
the name is never deleted, bound as a walrus, an ``except ... as``, an import, a ``def`` or a
``class`` name, nor used in a class body, and the declaring function is defined in the workflow
itself. Anything else keeps its ``nonlocal``, which the compiler refuses.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import ClassScope, FunctionScope

from .state import walk
from .visiting import Scopes, Wrapper, visit

SUFFIX = "__cell"


def rewrite(module: cst.Module) -> tuple[cst.Module, int]:
    """``module`` (a function's source) with each ``nonlocal`` name of its function that the rules
    above allow kept in a one-item list, and how many lines it put first in the function's body (a
    parameter's cell each: lines the source does not have, standing for the line after them)."""
    fn = next((s for s in module.body if isinstance(s, cst.FunctionDef)), None)
    if fn is None or not _has_nonlocal(fn):
        return module, 0
    wrapper = Wrapper(module, unsafe_skip_copy=True)
    scopes = wrapper.resolve(Scopes)
    top = scopes.get(fn.body.body[0]) if fn.body.body else None
    if not isinstance(top, FunctionScope):
        return module, 0
    declared = _declarations(fn, scopes, top)
    plans: dict[str, _Plan] = {}
    for name in declared:
        plan = _plan(fn, scopes, top, name)
        if plan is not None:
            plans[name] = plan
    if not plans:
        return module, 0
    rewriter = _Rewrite(fn, plans)
    return module.visit(rewriter), len(rewriter.parameters)


def _has_nonlocal(fn: cst.FunctionDef) -> bool:
    return any(isinstance(n, cst.Nonlocal) for n in walk(fn.body))


def _declarations(fn: cst.FunctionDef, scopes: object, top: FunctionScope) -> list[str]:
    """Names declared ``nonlocal`` by functions defined directly in ``fn``'s body and bound there."""
    out: dict[str, None] = {}

    class V(cst.CSTVisitor):
        def visit_Nonlocal(self, n: cst.Nonlocal) -> None:
            scope = scopes.get(n)  # type: ignore[attr-defined]
            if isinstance(scope, FunctionScope) and scope.parent is top:
                for a in n.names:
                    if top.assignments[a.name.value]:
                        out[a.name.value] = None

    visit(fn.body, V())
    return list(out)


class _Plan:
    """One name's rewrite: the statement of its first binding, the Name nodes that mean it, and the
    ``nonlocal`` statements declaring it."""

    def __init__(self, first: cst.CSTNode | None, uses: set[int]) -> None:
        self.first = first  # the `name = value` statement (None for a parameter: a line of its own)
        self.uses = uses  # ids of the Name nodes to rewrite
        self.declarations: set[int] = set()  # ids of the `nonlocal` statements meaning it


def _plan(fn: cst.FunctionDef, scopes: object, top: FunctionScope, name: str) -> _Plan | None:
    uses: list[cst.Name] = []
    declarations: set[int] = set()
    bad = False

    class V(cst.CSTVisitor):
        def __init__(self) -> None:
            self.classes = 0

        def visit_ClassDef(self, n: cst.ClassDef) -> None:
            self.classes += 1

        def leave_ClassDef(self, n: cst.ClassDef) -> None:
            self.classes -= 1

        def visit_Name(self, n: cst.Name) -> None:
            nonlocal bad
            if n.value != name or not _means(scopes, n, top, name):
                return
            if self.classes:
                bad = True
            uses.append(n)

        def visit_Attribute(self, n: cst.Attribute) -> bool:
            visit(n.value, self)
            return False

        def visit_Arg(self, n: cst.Arg) -> bool:
            visit(n.value, self)
            return False

        def visit_Param(self, n: cst.Param) -> bool:
            if n.default is not None:
                visit(n.default, self)
            return False

        def visit_Nonlocal(self, n: cst.Nonlocal) -> bool:
            scope = scopes.get(n)  # type: ignore[attr-defined]
            if (
                any(a.name.value == name for a in n.names)
                and isinstance(scope, FunctionScope)
                and _reaches(scope.parent, top, name)
            ):
                declarations.add(id(n))
            return False

        def visit_Global(self, n: cst.Global) -> bool:
            return False

        def visit_ImportAlias(self, n: cst.ImportAlias) -> bool:
            nonlocal bad
            bound = n.asname.name if n.asname is not None else n.name
            if isinstance(bound, cst.Name) and bound.value == name:
                bad = True
            return False

    visit(fn.body, V())
    if bad or not uses:
        return None
    ids = {id(u) for u in uses}
    if any(_bad_binding(fn, ids, name)):
        return None
    params = [p.name.value for p in [*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params]]
    if name in params:
        plan = _Plan(None, ids)
        plan.declarations = declarations
        return plan
    first = fn.body.body
    for stmt in first:
        inside = _ids_in(stmt) & ids
        if not inside:
            continue
        target = _assigned(stmt) or next((t for t in _unpacked(stmt) if t.value == name), None)
        if target is None or target.value != name or inside != {id(target)}:
            return None  # used (or bound otherwise) before its first plain assignment
        plan = _Plan(stmt, ids - inside)
        plan.declarations = declarations
        return plan
    return None


def _assigned(stmt: cst.CSTNode) -> cst.Name | None:
    """The name a line ``name = value`` (or ``name: T = value``) alone assigns, else None."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
        return None
    small = stmt.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target = small.targets[0].target
    elif isinstance(small, cst.AnnAssign) and small.value is not None:
        target = small.target
    else:
        return None
    return target if isinstance(target, cst.Name) else None


def _unpacked(stmt: cst.CSTNode) -> list[cst.Name]:
    """The names a line ``a, b = x, y`` alone assigns (names only, a tuple of as many values,
    nothing starred), else none."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
        return []
    small = stmt.body[0]
    if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
        return []
    target, value = small.targets[0].target, small.value
    if not (isinstance(target, cst.Tuple | cst.List) and isinstance(value, cst.Tuple)):
        return []
    names = [el.value for el in target.elements if isinstance(el, cst.Element)]
    if len(names) != len(target.elements) or not all(isinstance(n, cst.Name) for n in names):
        return []
    plain = all(isinstance(el, cst.Element) for el in value.elements)
    return names if plain and len(value.elements) == len(names) else []  # type: ignore[return-value]


def _means(scopes: object, n: cst.Name, top: FunctionScope, name: str) -> bool:
    """Whether the name ``n`` stands for ``top``'s variable ``name`` (Python's lexical rule, with
    ``nonlocal`` declarations passing through)."""
    return _reaches(scopes.get(n), top, name)  # type: ignore[attr-defined]


def _reaches(scope: object, top: FunctionScope, name: str) -> bool:
    """Whether ``name`` looked up from ``scope`` finds ``top``'s variable."""
    while scope is not None and scope is not top:
        if isinstance(scope, ClassScope):
            scope = scope.parent
            continue
        if isinstance(scope, FunctionScope) and _declares(scope, name):
            scope = scope.parent
            continue
        if scope.assignments[name]:  # type: ignore[attr-defined]
            return False
        if scope is scope.parent:  # type: ignore[attr-defined]
            return False
        scope = scope.parent  # type: ignore[attr-defined]
    return scope is top


def _declares(scope: FunctionScope, name: str) -> bool:
    node = getattr(scope, "node", None)
    if not isinstance(node, cst.FunctionDef):
        return False
    found = False

    class V(cst.CSTVisitor):
        def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
            return n is node

        def visit_ClassDef(self, n: cst.ClassDef) -> bool:
            return False

        def visit_Nonlocal(self, n: cst.Nonlocal) -> None:
            nonlocal found
            found = found or any(a.name.value == name for a in n.names)

    visit(node, V())
    return found


def _bad_binding(fn: cst.FunctionDef, ids: set[int], name: str) -> list[cst.CSTNode]:
    """Bindings of the name a subscript cannot stand in for: ``del``, a walrus, ``except ... as``,
    a ``def``/``class`` name, a ``match`` capture."""
    out: list[cst.CSTNode] = []

    class V(cst.CSTVisitor):
        def visit_Del(self, n: cst.Del) -> None:
            if _ids_in(n.target) & ids:
                out.append(n)

        def visit_NamedExpr(self, n: cst.NamedExpr) -> None:
            if id(n.target) in ids:
                out.append(n)

        def visit_ExceptHandler(self, n: cst.ExceptHandler) -> None:
            if n.name is not None and _ids_in(n.name) & ids:
                out.append(n)

        def visit_FunctionDef(self, n: cst.FunctionDef) -> None:
            if n.name.value == name:
                out.append(n)

        def visit_ClassDef(self, n: cst.ClassDef) -> None:
            if n.name.value == name:
                out.append(n)

        def visit_MatchAs(self, n: cst.MatchAs) -> None:
            if n.name is not None and n.name.value == name:
                out.append(n)

        def visit_MatchStar(self, n: cst.MatchStar) -> None:
            if n.name is not None and n.name.value == name:
                out.append(n)

    visit(fn.body, V())
    return out


def _ids_in(node: cst.CSTNode) -> set[int]:
    out: set[int] = set()

    class V(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            out.add(id(n))

    visit(node, V())
    return out


def _cell(name: str) -> cst.Subscript:
    return cst.Subscript(
        value=cst.Name(name + SUFFIX), slice=[cst.SubscriptElement(cst.Index(cst.Integer("0")))]
    )


class _Rewrite(cst.CSTTransformer):
    def __init__(self, top: cst.FunctionDef, plans: dict[str, _Plan]) -> None:
        super().__init__()
        self.top = top
        self.plans = plans
        self.uses = {u: name for name, p in plans.items() for u in p.uses}
        self.firsts: dict[int, list[str]] = {}
        for name, p in plans.items():
            if p.first is not None:
                self.firsts.setdefault(id(p.first), []).append(name)
        self.declarations = {d: name for name, p in plans.items() for d in p.declarations}
        self.parameters = [name for name, p in plans.items() if p.first is None]

    def leave_FunctionDef(self, old: cst.FunctionDef, new: cst.FunctionDef) -> cst.FunctionDef:
        if old is not self.top or not self.parameters:
            return new
        cells = [cst.parse_statement(f"{n}{SUFFIX} = [{n}]") for n in self.parameters]
        return new.with_changes(body=new.body.with_changes(body=[*cells, *new.body.body]))

    def leave_Name(self, old: cst.Name, new: cst.Name) -> cst.BaseExpression:
        name = self.uses.get(id(old))
        return _cell(name) if name is not None else new

    def leave_SimpleStatementLine(
        self, old: cst.SimpleStatementLine, new: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        names = self.firsts.get(id(old))
        if not names:
            return new
        assign = new.body[0]
        assert isinstance(assign, cst.Assign | cst.AnnAssign) and assign.value is not None
        target = assign.targets[0].target if isinstance(assign, cst.Assign) else assign.target
        if isinstance(target, cst.Tuple | cst.List) and isinstance(assign.value, cst.Tuple):
            # `a, b = None, 0` with `a` kept in a cell: `a__cell, b = [None], 0`
            pairs = [
                (cst.Name(t.value.value + SUFFIX), cst.List([cst.Element(v.value)]))
                if isinstance(t.value, cst.Name) and t.value.value in names
                else (t.value, v.value)
                for t, v in zip(target.elements, assign.value.elements, strict=True)
            ]
            made = cst.Assign(
                targets=[cst.AssignTarget(cst.Tuple([cst.Element(t) for t, _ in pairs]))],
                value=cst.Tuple([cst.Element(v) for _, v in pairs]),
                semicolon=assign.semicolon,
            )
        else:
            made = cst.Assign(
                targets=[cst.AssignTarget(cst.Name(names[0] + SUFFIX))],
                value=cst.List([cst.Element(assign.value)]),
                semicolon=assign.semicolon,
            )
        return new.with_changes(body=[made, *new.body[1:]])

    def leave_Nonlocal(self, old: cst.Nonlocal, new: cst.Nonlocal) -> cst.BaseSmallStatement:
        if id(old) not in self.declarations:
            return new
        kept = [a for a in new.names if a.name.value not in self.plans or not self._means(old, a.name.value)]
        if len(kept) == len(new.names):
            return new
        if not kept:
            return cst.Pass(semicolon=new.semicolon)
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return new.with_changes(names=kept)

    def _means(self, stmt: cst.Nonlocal, name: str) -> bool:
        return id(stmt) in self.plans[name].declarations
