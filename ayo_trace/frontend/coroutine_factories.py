"""Calls of plain functions that only return a primitive's coroutine, spelled out where they are made.

``def ask(x): return ayo.llm(f"Summarize: {x}", max_tokens=8)`` (or ``ask = lambda x: ayo.llm(...)``,
at the module's top or at the top of the workflow's body) is a plain function: calling it evaluates
its arguments, then its return's call, which makes the coroutine, and does nothing else. So
``ask(d)`` means what the return's expression means with ``d`` put for ``x``, and that expression is
one the graph takes (``await asyncio.gather(*(ask(d) for d in docs))`` then traces as the gather of
the calls it spells; awaiting the plain function's coroutine was a graph break).

A call is spelled out only where that changes nothing Python does:

* the function is a plain ``def`` (no decorator, no ``*args``, ``**kwargs`` or keyword-only
  parameters, defaults that are literals) whose body is its return (after a docstring), or a
  ``lambda``; the returned expression is a call of an ayo primitive, a workflow or an ``async def``,
  with no lambda, comprehension, ``:=``, ``await`` or ``yield`` in it;
* each name the expression reads means the same object at the call: a module function's names
  resolve to the same objects in the caller's module and are bound nowhere in the caller; a
  function the caller defines is bound once, at the top of its body, before the call, and no
  comprehension or function around the call binds a name it reads;
* each argument is a literal or a name the caller binds (evaluated where its parameter is read: a
  local is the same object wherever it is read in the expression), positional or by keyword, each
  parameter read at least once unless its argument is a literal;
* the expression fits on one line (the caller's lines do not move).
"""

from __future__ import annotations

import builtins
import inspect
import textwrap
from dataclasses import dataclass
from typing import Any

import libcst as cst

from .state import walk

_LITERALS = (cst.Integer, cst.Float, cst.SimpleString)
_TARGETED = (cst.AssignTarget, cst.AugAssign, cst.AnnAssign, cst.For, cst.CompFor, cst.NamedExpr, cst.Del)
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
_NESTED = (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.NamedExpr, cst.Await)
_NESTED_YIELD = (cst.Yield,)


@dataclass(frozen=True)
class _Factory:
    params: tuple[str, ...]
    defaults: dict[str, cst.BaseExpression]
    expr: cst.BaseExpression
    free: frozenset[str]  # the names the expression reads that are not its parameters
    in_fstrings: dict[str, str]  # the parameters read inside f-strings: the quotes of those
    local_at: int | None  # for a function the caller defines, the index of its defining statement


def rewrite(module: cst.Module, names: dict[str, Any]) -> cst.Module:
    """``module`` (a function's source) with the calls of coroutine factories spelled out (above).
    ``names``: the function's globals and closure."""
    fn = next((s for s in module.body if isinstance(s, cst.FunctionDef)), None)
    if fn is None or not isinstance(fn.body, cst.IndentedBlock):
        return module
    bound = _bound_names(fn)
    factories = _local_factories(fn, names, bound)
    called = set()  # (the names called, and those mapped: `map(ask, docs)`)
    for n in _walk(fn.body):
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Name):
            called.add(n.func.value)
            if n.func.value == "map" and n.args and isinstance(n.args[0].value, cst.Name):
                called.add(n.args[0].value.value)
    for name in called - bound - factories.keys():
        found = _module_factory(names.get(name), names, bound)
        if found is not None:
            factories[name] = found
    if not factories:
        return module
    new_body = list(fn.body.body)
    for i, stmt in enumerate(new_body):
        usable = {k: f for k, f in factories.items() if f.local_at is None or f.local_at < i}
        if usable:
            mapped = "map" not in bound and names.get("map", builtins.map) is builtins.map
            new_body[i] = stmt.visit(_SpellOut(usable, bound, mapped))  # type: ignore[assignment]
    new_fn = fn.with_changes(body=fn.body.with_changes(body=new_body))
    return module.with_changes(body=[new_fn if s is fn else s for s in module.body])


def _walk(node: cst.CSTNode) -> list[cst.CSTNode]:
    return list(walk(node))  # (`state.walk`: libcst's own `children` rebuilds every node it passes)


def _target_names(target: cst.CSTNode) -> set[str]:
    """Every name under a binding target (more than it binds where the target is an attribute or
    subscript: only fewer calls are spelled out for it)."""
    return {n.value for n in _walk(target) if isinstance(n, cst.Name)}


def _bound_names(fn: cst.FunctionDef) -> set[str]:
    """The names bound anywhere in ``fn`` (any scope inside it), its parameters and declared names."""
    out: set[str] = set()
    for n in _walk(fn):
        if isinstance(n, _TARGETED):
            out |= _target_names(n.target)
        elif isinstance(n, cst.AsName):
            out |= _target_names(n.name)
        elif isinstance(n, cst.Param | cst.FunctionDef | cst.ClassDef):
            out.add(n.name.value)
        elif isinstance(n, cst.ImportAlias) and n.asname is None:
            out.add(cst.Module([]).code_for_node(n.name).split(".")[0])
        elif isinstance(n, cst.Global | cst.Nonlocal):
            out |= {a.name.value for a in n.names}
        elif isinstance(n, cst.MatchAs | cst.MatchStar) and n.name is not None:
            out.add(n.name.value)
        elif isinstance(n, cst.MatchMapping) and n.rest is not None:
            out.add(n.rest.value)
    return out


def _read_names(expr: cst.BaseExpression) -> list[cst.Name]:
    """The name nodes ``expr`` reads (not attribute names or keywords)."""
    skip: set[int] = set()
    for n in _walk(expr):
        if isinstance(n, cst.Attribute):
            skip.add(id(n.attr))
        elif isinstance(n, cst.Arg) and n.keyword is not None:
            skip.add(id(n.keyword))
    return [n for n in _walk(expr) if isinstance(n, cst.Name) and id(n) not in skip]


def _reads(expr: cst.BaseExpression) -> list[str]:
    """The names ``expr`` reads, one entry for each read."""
    return [n.value for n in _read_names(expr)]


def _resolve(e: cst.BaseExpression, names: dict[str, Any]) -> Any:
    if isinstance(e, cst.Name):
        return names[e.value] if e.value in names else getattr(builtins, e.value, None)
    if isinstance(e, cst.Attribute):
        return getattr(_resolve(e.value, names), e.attr.value, None)
    return None


def _makes_coroutine(callee: Any) -> bool:
    return (
        getattr(callee, "__ayo_primitive__", None) is not None
        or getattr(callee, "__ayo_workflow__", False)
        or inspect.iscoroutinefunction(callee)
    )


def _flat(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """``expr`` on one line (its line breaks inside brackets made spaces; comments dropped), or
    None where a string in it spans lines."""

    class Flatten(cst.CSTTransformer):
        def leave_Comma(self, old: cst.Comma, new: cst.Comma) -> cst.Comma:
            if isinstance(old.whitespace_after, cst.ParenthesizedWhitespace):
                return new.with_changes(whitespace_after=cst.SimpleWhitespace(" "))
            return new

        def leave_Call(self, old: cst.Call, new: cst.Call) -> cst.Call:
            if new.args and isinstance(new.args[-1].comma, cst.Comma):  # (a trailing comma)
                last = new.args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                return new.with_changes(args=[*new.args[:-1], last])
            return new

        def leave_ParenthesizedWhitespace(
            self, old: cst.ParenthesizedWhitespace, new: cst.ParenthesizedWhitespace
        ) -> cst.SimpleWhitespace:
            return cst.SimpleWhitespace("")

    flat = expr.visit(Flatten())
    assert isinstance(flat, cst.BaseExpression)
    return None if "\n" in cst.Module([]).code_for_node(flat) else flat


def _factory(
    params: cst.Parameters, expr: cst.BaseExpression, local_at: int | None, names: dict[str, Any]
) -> _Factory | None:
    """The factory of a function with these parameters returning ``expr``, or None (above)."""
    if params.posonly_params or params.kwonly_params or params.star_kwarg is not None:
        return None
    if isinstance(params.star_arg, cst.Param | cst.ParamStar):
        return None
    if not isinstance(expr, cst.Call) or not _makes_coroutine(_resolve(expr.func, names)):
        return None
    if any(isinstance(n, _NESTED + _NESTED_YIELD) for n in _walk(expr)):
        return None
    flat = _flat(expr)
    if flat is None:
        return None
    defaults: dict[str, cst.BaseExpression] = {}
    for p in params.params:
        if p.default is not None:
            if not _literal(p.default):
                return None
            defaults[p.name.value] = p.default
    names_of = tuple(p.name.value for p in params.params)
    free = frozenset(_reads(flat)) - set(names_of)
    in_fstrings: dict[str, str] = {}
    for n in _walk(flat):
        if isinstance(n, cst.FormattedString):
            for r in set(_reads(n)) & set(names_of):
                in_fstrings[r] = in_fstrings.get(r, "") + n.start[-1]
    return _Factory(names_of, defaults, flat, free, in_fstrings, local_at)


def _literal(e: cst.BaseExpression) -> bool:
    if isinstance(e, cst.SimpleString):
        return "\n" not in e.value
    return isinstance(e, _LITERALS) or (isinstance(e, cst.Name) and e.value in ("True", "False", "None"))


def _returned(body: cst.BaseSuite) -> cst.BaseExpression | None:
    """The expression a ``def`` body of only (a docstring and) a ``return`` returns."""
    stmts = list(body.body) if isinstance(body, cst.IndentedBlock) else [body]
    lines = [s for s in stmts if isinstance(s, cst.SimpleStatementLine | cst.SimpleStatementSuite)]
    if len(lines) != len(stmts):
        return None
    small = [s for line in lines for s in line.body]
    if len(small) == 2 and isinstance(small[0], cst.Expr) and isinstance(small[0].value, cst.SimpleString):
        small = small[1:]
    if len(small) != 1 or not isinstance(small[0], cst.Return) or small[0].value is None:
        return None
    return small[0].value


def _local_factories(fn: cst.FunctionDef, names: dict[str, Any], bound: set[str]) -> dict[str, _Factory]:
    """The factories ``fn`` defines at the top of its body, each bound once in it."""
    counts: dict[str, int] = {}
    for n in _walk(fn.body):
        if isinstance(n, cst.AssignTarget | cst.AugAssign | cst.AnnAssign | cst.For | cst.CompFor):
            for name in _target_names(n.target):
                counts[name] = counts.get(name, 0) + 1
        elif isinstance(n, cst.FunctionDef | cst.ClassDef | cst.Param):
            counts[n.name.value] = counts.get(n.name.value, 0) + 1
    out: dict[str, _Factory] = {}
    assert isinstance(fn.body, cst.IndentedBlock)
    for i, stmt in enumerate(fn.body.body):
        if isinstance(stmt, cst.FunctionDef):
            name, params, expr = stmt.name.value, stmt.params, _returned(stmt.body)
            if stmt.decorators or stmt.asynchronous is not None:
                continue
        elif (
            isinstance(stmt, cst.SimpleStatementLine)
            and len(stmt.body) == 1
            and isinstance(assign := stmt.body[0], cst.Assign)
            and len(assign.targets) == 1
            and isinstance(assign.targets[0].target, cst.Name)
            and isinstance(assign.value, cst.Lambda)
        ):
            name, params, expr = assign.targets[0].target.value, assign.value.params, assign.value.body
        else:
            continue
        if expr is None or counts.get(name) != 1 or name in out:
            continue
        found = _factory(params, expr, i, names)
        if found is not None and name not in found.free:
            out[name] = found
    return out


def _module_factory(obj: Any, names: dict[str, Any], bound: set[str]) -> _Factory | None:
    """The factory of a module's function ``obj`` the caller reads by name, or None."""
    if not inspect.isfunction(obj) or inspect.iscoroutinefunction(obj) or inspect.isgeneratorfunction(obj):
        return None
    if obj.__module__ != names.get("__name__") or obj.__closure__ or hasattr(obj, "__wrapped__"):
        return None
    if obj.__kwdefaults__ or getattr(obj, "__dict__", None):
        return None  # (attributes set on it: a decorator's registry, a counter)
    try:
        source = textwrap.dedent(inspect.getsource(obj))
        stmts = cst.parse_module(source).body
    except (OSError, TypeError, cst.ParserSyntaxError):
        return None
    if len(stmts) != 1:
        return None
    stmt = stmts[0]
    if isinstance(stmt, cst.FunctionDef) and obj.__name__ == stmt.name.value:
        if stmt.decorators or stmt.asynchronous is not None:
            return None
        params, expr = stmt.params, _returned(stmt.body)
    elif (
        obj.__name__ == "<lambda>"
        and isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(assign := stmt.body[0], cst.Assign)
        and isinstance(assign.value, cst.Lambda)
    ):
        params, expr = assign.value.params, assign.value.body
    else:
        return None
    if expr is None:
        return None
    found = _factory(params, expr, None, obj.__globals__)
    if found is None or found.free & bound:
        return None
    for name in found.free:  # each means the same object where the caller reads it
        mine = obj.__globals__[name] if name in obj.__globals__ else getattr(builtins, name, _MISSING)
        theirs = names[name] if name in names else getattr(builtins, name, _MISSING)
        if mine is _MISSING or mine is not theirs:
            return None
    return found


_MISSING = object()


class _SpellOut(cst.CSTTransformer):
    """Each call of a factory in a statement spelled out, outside scopes that bind a name it reads."""

    def __init__(self, factories: dict[str, _Factory], bound: set[str], mapped: bool) -> None:
        super().__init__()
        self.factories = factories
        self.bound = bound  # (an argument that is a name must be one of these: the caller's own)
        self.mapped = mapped  # (whether `map` is the builtin where the caller reads it)
        self.scopes: list[set[str]] = []  # the names bound by each comprehension or function around

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # (a call in a nested function runs when it is called: not spelled out)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, _COMPREHENSIONS):  # (the names its `for`s bind)
            fors = [n for n in _walk(node) if isinstance(n, cst.CompFor)]
            self.scopes.append(set().union(*(_target_names(f.target) for f in fors)))
        return super().on_visit(node)

    def on_leave(self, original: cst.CSTNode, updated: cst.CSTNode) -> Any:
        if isinstance(original, _COMPREHENSIONS):
            self.scopes.pop()
        return super().on_leave(original, updated)

    def leave_Call(self, old: cst.Call, new: cst.Call) -> cst.BaseExpression:
        if not isinstance(new.func, cst.Name):
            return new
        if new.func.value == "map" and self.mapped:
            return self._map(old, new)
        if new.func.value not in self.factories:
            return new
        f = self.factories[new.func.value]
        around = set().union(*self.scopes) if self.scopes else set()
        if f.free & around or "\n" in cst.Module([]).code_for_node(old):
            return new
        args = _bind(f, new.args, self.bound)
        if args is None:
            return new
        return _substituted(f, args).with_changes(lpar=new.lpar, rpar=new.rpar)

    def _map(self, old: cst.Call, new: cst.Call) -> cst.BaseExpression:
        """``map(ask, items)`` of a factory as ``(<ask(item) spelled out> for item in items)``: the
        same lazy iterator of the same calls, the items' iterator made at once as ``map`` makes it."""
        if len(new.args) != 2 or any(a.star or a.keyword is not None for a in new.args):
            return new
        fn, items = new.args[0].value, new.args[1].value
        if not isinstance(fn, cst.Name) or fn.value not in self.factories:
            return new
        f = self.factories[fn.value]
        if f.free & (set().union(*self.scopes) if self.scopes else set()):
            return new
        if "\n" in cst.Module([]).code_for_node(old):
            return new
        item = cst.Name(_ITEM)
        args = _bind(f, [cst.Arg(item)], self.bound | {_ITEM})
        if args is None:
            return new
        return cst.GeneratorExp(
            elt=_substituted(f, args),
            for_in=cst.CompFor(target=item, iter=items),
            lpar=[cst.LeftParen()],
            rpar=[cst.RightParen()],
        )


_ITEM = "ayo_item__"


def _bind(f: _Factory, args: Any, bound: set[str]) -> dict[str, cst.BaseExpression] | None:
    """Each parameter's argument (or default) for the call's ``args``, or None where the call is not
    one to spell out (above)."""
    out: dict[str, cst.BaseExpression] = {}
    positional = True
    for i, a in enumerate(args):
        if a.star:
            return None
        if a.keyword is None:
            if not positional or i >= len(f.params):
                return None
            name = f.params[i]
        else:
            positional = False
            name = a.keyword.value
            if name not in f.params or name in out:
                return None
        value = a.value
        if not (_literal(value) or (isinstance(value, cst.Name) and value.value in bound)):
            return None
        out[name] = value
    for p in f.params:
        if p not in out:
            if p not in f.defaults:
                return None
            out[p] = f.defaults[p]
    for p, quotes in f.in_fstrings.items():
        value = out[p]
        if isinstance(value, cst.SimpleString) and (
            "\\" in value.value or any(q in value.value for q in quotes)
        ):
            return None  # (an f-string's quotes or a backslash in its braces do not parse before 3.12)
    reads = _reads(f.expr)
    if any(p not in reads and not _literal(out[p]) for p in f.params):
        return None
    return out


def _substituted(f: _Factory, args: dict[str, cst.BaseExpression]) -> cst.BaseExpression:
    reads = {id(n) for n in _read_names(f.expr)}
    # (names whose attribute is read: `(3).real`, not `3.real`)
    dotted = {id(n.value) for n in _walk(f.expr) if isinstance(n, cst.Attribute)}

    class Put(cst.CSTTransformer):
        def leave_Name(self, old: cst.Name, new: cst.Name) -> cst.BaseExpression:
            if id(old) not in reads or old.value not in args:
                return new
            value = args[old.value]
            if isinstance(value, cst.Integer | cst.Float) and id(old) in dotted:
                return value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            return value.with_changes(lpar=old.lpar, rpar=old.rpar)

    out = f.expr.visit(Put())
    assert isinstance(out, cst.BaseExpression)
    return out
