"""``global`` in a workflow's own body, rewritten as calls of functions that declare it.

A workflow declaring ``global CALLS`` binds the module's name: ``CALLS += 1`` changes the module,
and every read of ``CALLS`` reads the module's current value. The rewrite turns each binding into
a call of a function the workflow defines where the ``global`` statement was, which declares the
name ``global`` itself (as a helper of the module's may)::

    async def answer(q):                   async def answer(q):
        global CALLS, LAST                     def CALLS__global_iadd(ayo_old__, ayo_value__): ...
        CALLS += 1                  ->         def LAST__global(ayo_value__): global LAST; LAST = ...
        LAST = await ayo.llm(q)                CALLS__global_iadd(CALLS, 1)
        return LAST, CALLS                     LAST__global(await ayo.llm(q))
                                               return LAST, CALLS

so the tracer sees what it already follows: a function of the workflow that changes module state
(``impure.rebound_globals``), whose calls run as effects in program order, and reads of a module
name the workflow changes, which are never folded into the graph and keep their place among those
changes (``closures.changed_globals``). ``X op= v`` becomes ``X__global_<op>(X, v)``, which loads
``X`` where Python loads it (before ``v`` is evaluated) and applies the same in-place operator;
``del X`` becomes ``X__global_del()``.

Rewritten when every ``global`` statement of the workflow's own scope is a line of its body's top
level (Python runs the functions there before any use of the names, which it requires to come
after the declaration), and the workflow binds each name only by ``X = v`` (one target),
``X op= v`` and ``del X``. Anything else (``for X in``, ``X, y = ...``, ``with ... as X``, a walrus,
an import or ``def`` of the name) keeps its ``global``, which the compiler refuses. A workflow run
eagerly (``wf.eager``) is the function as written.
"""

from __future__ import annotations

import libcst as cst

from .state import children, walk

SUFFIX = "__global"
_VALUE, _OLD = "ayo_value__", "ayo_old__"


def rewrite(module: cst.Module) -> tuple[cst.Module, frozenset[str]]:
    """``module`` (a function's source) with its function's ``global`` names bound through functions
    declaring them (above), and the names of the functions put on lines the source does not have
    (those after the first that a ``global`` line becomes)."""
    fn = next((s for s in module.body if isinstance(s, cst.FunctionDef)), None)
    if fn is None or not any(isinstance(n, cst.Global) for n in _own_scope(fn.body)):
        return module, frozenset()
    lines = [s for s in fn.body.body if isinstance(s, cst.SimpleStatementLine) and _declares(s)]
    declared = {a.name.value for line in lines for g in line.body for a in g.names}  # type: ignore[attr-defined]
    top = sum(len(line.body) for line in lines)
    if top != sum(1 for n in _own_scope(fn.body) if isinstance(n, cst.Global)):
        return module, frozenset()  # (a `global` in a branch, or beside other statements)
    kinds = _bindings(fn, declared)
    if kinds is None:
        return module, frozenset()
    rewriter = _Rewrite(fn, declared, kinds)
    return module.visit(rewriter), frozenset(rewriter.extra)


def _declares(line: cst.SimpleStatementLine) -> bool:
    return bool(line.body) and all(isinstance(s, cst.Global) for s in line.body)


def _own_scope(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The nodes of the function scope ``node`` is in, not those of functions,
    lambdas and classes defined in it (their ``def``/``class`` nodes are: they bind a name here)."""
    out: list[cst.CSTNode] = [node]
    for c in children(node):  # (not libcst's own `children`, which rebuilds every node it passes)
        if isinstance(c, cst.FunctionDef | cst.ClassDef):
            out.append(c)
        elif not isinstance(c, cst.Lambda):
            out += _own_scope(c)
    return out


def _bindings(fn: cst.FunctionDef, declared: set[str]) -> dict[str, dict[str, str]] | None:
    """For each declared name, the kinds of binding the workflow makes of it (``set``, ``del``, an
    augmented operator's name, each with the operator's text); None when it binds one in a way
    the rewrite does not take."""
    kinds: dict[str, dict[str, str]] = {n: {} for n in declared}

    def names_in(node: cst.CSTNode | None) -> set[str]:
        return (
            {n.value for n in walk(node) if isinstance(n, cst.Name)} & declared if node is not None else set()
        )

    if any(isinstance(n, cst.NamedExpr) and names_in(n.target) for n in walk(fn.body)):
        return None  # (a walrus in a comprehension binds in the workflow too)
    for n in _own_scope(fn.body):
        if isinstance(n, cst.Assign):
            for t in n.targets:
                if isinstance(t.target, cst.Name) and t.target.value in declared and len(n.targets) == 1:
                    kinds[t.target.value]["set"] = "="
                elif _bound(t.target, declared):  # (`X = Y = v`, `X, y = ...`)
                    return None
        elif isinstance(n, cst.AugAssign):
            if isinstance(n.target, cst.Name) and n.target.value in declared:
                kinds[n.target.value][_op_name(n.operator)] = _op_text(n.operator)
        elif isinstance(n, cst.Del):
            if isinstance(n.target, cst.Name) and n.target.value in declared:
                kinds[n.target.value]["del"] = "del"
            elif _bound(n.target, declared):
                return None
        elif isinstance(n, cst.AnnAssign | cst.For | cst.CompFor):
            if not isinstance(n, cst.CompFor) and names_in(n.target):
                return None
        elif isinstance(n, cst.WithItem | cst.ExceptHandler | cst.ExceptStarHandler):
            if names_in(n.asname if isinstance(n, cst.WithItem) else n.name):
                return None
        elif isinstance(n, cst.FunctionDef | cst.ClassDef):
            if n.name.value in declared:
                return None
        elif isinstance(n, cst.ImportAlias):  # (`import a.b` binds `a`)
            bound: cst.BaseExpression = n.asname.name if n.asname is not None else n.name
            while isinstance(bound, cst.Attribute):
                bound = bound.value
            if isinstance(bound, cst.Name) and bound.value in declared:
                return None
        elif isinstance(n, cst.MatchAs | cst.MatchStar):
            if n.name is not None and n.name.value in declared:
                return None
        elif isinstance(n, cst.MatchMapping) and n.rest is not None and n.rest.value in declared:
            return None
    return kinds


def _bound(target: cst.BaseExpression, declared: set[str]) -> bool:
    """Whether assigning to ``target`` (a tuple, a starred item) binds a declared name (not an item
    or attribute of one: ``X[k] = v`` loads ``X``)."""
    if isinstance(target, cst.Name):
        return target.value in declared
    if isinstance(target, cst.Tuple | cst.List):
        return any(_bound(e.value, declared) for e in target.elements)
    if isinstance(target, cst.StarredElement):
        return _bound(target.value, declared)
    return False


def _op_name(op: cst.BaseAugOp) -> str:
    return type(op).__name__.removesuffix("Assign").lower()


def _op_text(op: cst.BaseAugOp) -> str:
    return cst.Module([]).code_for_node(op).strip()


def _definition(name: str, kind: str, op: str) -> cst.FunctionDef:
    if kind == "set":
        code = f"def {name}{SUFFIX}({_VALUE}): global {name}; {name} = {_VALUE}\n"
    elif kind == "del":
        code = f"def {name}{SUFFIX}_del(): global {name}; del {name}\n"
    else:
        code = (
            f"def {name}{SUFFIX}_{kind}({_OLD}, {_VALUE}): "
            f"global {name}; {_OLD} {op} {_VALUE}; {name} = {_OLD}\n"
        )
    made = cst.parse_statement(code)
    assert isinstance(made, cst.FunctionDef)
    return made


class _Rewrite(cst.CSTTransformer):
    def __init__(self, fn: cst.FunctionDef, declared: set[str], kinds: dict[str, dict[str, str]]) -> None:
        super().__init__()
        self.fn, self.declared, self.kinds = fn, declared, kinds
        self.depth = 0
        self.extra: list[str] = []
        self.defined: set[str] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.depth += 1
        return self.depth == 1

    def leave_FunctionDef(self, old: cst.FunctionDef, new: cst.FunctionDef) -> cst.FunctionDef:
        self.depth -= 1
        return new

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def leave_Assign(self, old: cst.Assign, new: cst.Assign) -> cst.BaseSmallStatement:
        target = new.targets[0].target
        if len(new.targets) == 1 and isinstance(target, cst.Name) and target.value in self.declared:
            return _call(f"{target.value}{SUFFIX}", [new.value], new.semicolon)
        return new

    def leave_AugAssign(self, old: cst.AugAssign, new: cst.AugAssign) -> cst.BaseSmallStatement:
        if isinstance(new.target, cst.Name) and new.target.value in self.declared:
            name = new.target.value
            return _call(
                f"{name}{SUFFIX}_{_op_name(new.operator)}", [cst.Name(name), new.value], new.semicolon
            )
        return new

    def leave_Del(self, old: cst.Del, new: cst.Del) -> cst.BaseSmallStatement:
        if isinstance(new.target, cst.Name) and new.target.value in self.declared:
            return _call(f"{new.target.value}{SUFFIX}_del", [], new.semicolon)
        return new

    def leave_SimpleStatementLine(
        self, old: cst.SimpleStatementLine, new: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        if self.depth != 1 or not _declares(new):
            return new
        names = [a.name.value for g in new.body if isinstance(g, cst.Global) for a in g.names]
        names = [n for n in dict.fromkeys(names) if n not in self.defined]  # (declared twice)
        self.defined.update(names)
        defs = [_definition(n, k, op) for n in names for k, op in self.kinds.get(n, {}).items()]
        if not defs:
            return new.with_changes(body=[cst.Pass()])
        self.extra += [d.name.value for d in defs[1:]]
        return cst.FlattenSentinel([defs[0].with_changes(leading_lines=new.leading_lines), *defs[1:]])


def _call(func: str, args: list[cst.BaseExpression], semicolon: object) -> cst.Expr:
    call = cst.Call(cst.Name(func), [cst.Arg(a) for a in args])
    return cst.Expr(call, semicolon=semicolon)  # type: ignore[arg-type]
