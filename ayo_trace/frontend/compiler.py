"""Compile a workflow's statements into a graph.

The compiler walks the function's libcst tree in program order with an environment of ``Value``s.
Awaited primitive calls become primitive nodes; plain statements become ``python`` nodes compiled
from the user's own source, reading exactly the traced values libcst's scope analysis says they
read; loops and comprehensions over traced lists that await primitives become ``map`` nodes;
branches on traced values that await primitives become ``cond`` nodes; what cannot be traced with
its meaning intact becomes a graph break (``break``: the runtime runs that statement, or the rest of
the function, eagerly with the values materialized) or a ``TraceError`` that names the line.

This module holds the statement compiler and the state of a body (``builder.Builder``), which owns an
``ExpressionCompiler`` (``exprs``, ``expressions.py``); statements of one kind have modules of their own:
``for`` loops that become ``map`` nodes ``map_loops.py``, other loops ``control_flow.py``, ``try``
``try_except.py`` (``try_returns.py``, ``try_reasons.py``), ``match`` ``matching.py``, task groups
``task_groups.py``, a ``return`` inside ``returning.py``, tasks run as written ``task_regions.py``."""

from __future__ import annotations

import dataclasses
from typing import Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import PyCode, SourceLoc, compile_statement
from ..ir.graph import Graph, Node
from . import (
    aliases,
    branches,
    closures,
    completion,
    control_flow,
    coroutine_lists,
    imports,
    impure,
    lazy_effects,
    locks,
    made_fields,
    map_loops,
    matching,
    module_reads,
    nested_loops,
    object_classes,
    parallel,
    param_parts,
    partials,
    returning,
    source_checks,
    supers,
    task_groups,
    task_regions,
    try_except,
    try_reasons,
    try_returns,
    unroll,
)
from .breaks import fix_for
from .builder import Builder, Chain, Expressions, Returned
from .deps import TraceDeps
from .expressions import ExpressionCompiler, contains_await
from .returns import Unbound, UnboundRead, checked, mark_unbound, may_be_unbound, returning_if, settle
from .source import FunctionSource
from .state import HEADER_AWAITS, _construct, _has, _immutable, awaits_in, header_awaits, unshadowed
from .task_windows import Interleaved
from .values import Static, Text, Traced, Value

__all__ = ["Chain", "Compiler", "TraceDeps"]


class Compiler(Builder):
    """Compiles one function body (or one loop/branch body) into ``graph``: the ``Builder`` the
    statement modules and the expression side work through."""

    def __init__(
        self,
        src: FunctionSource,
        graph: Graph,
        env: dict[str, Value],
        deps: TraceDeps,
        *,
        parent: Builder | None = None,
        chain: Chain | None = None,
        depth: int = 0,
    ) -> None:
        self.src = src
        self.graph = graph
        self.env = env
        self.deps = deps
        self.parent = parent
        self.chain = chain or Chain()
        # how many helpers or workflows are inlined around this body (a nested body inherits it)
        self.depth = parent.depth if parent is not None else depth
        self.enclosing: Builder | None = None  # the body whose names an inlined local helper reads
        self.caller: Builder | None = None  # the body that inlined this one (same graph)
        self.local_defs: dict[str, tuple[cst.FunctionDef, Value]] = {}  # async defs of this body
        self.handling: str | None = None  # in a handler's body: the name of its error (try_except.py)
        self.catching = False  # a `try` node's body: an error in it may be caught (try_except.py)
        self.forwarded: dict[str, Any] = {}  # a helper's `*args`/`**kwargs`: ``forwarding.bind``
        self.parts: dict[str, list[param_parts.Part]] = {}  # a helper's parameters: ``param_parts``
        self.comprehension_names: set[str] = set()  # names a comprehension binds in this map body
        self.captures: dict[str, tuple[Node, Node]] = {}  # name -> (outer node, body input)
        self.unrollable: tuple[Any, set[str], tuple[str, str] | None] | None = None  # unroll.mark
        self.temps: dict[str, Value] = {}
        self.exprs: Expressions = ExpressionCompiler(self)

    # --- bodies ----------------------------------------------------------------------------------

    def nested(self, label: str) -> Compiler:
        return Compiler(self.src, Graph(label), {}, self.deps, parent=self)

    def inlined(self, src: FunctionSource, env: dict[str, Value]) -> Compiler:
        child = Compiler(src, self.graph, env, self.deps, chain=self.chain, depth=self.depth + 1)
        child.caller = self
        return child

    # --- nodes -----------------------------------------------------------------------------------

    def emit(
        self,
        op: str,
        args: list[Node] | tuple[Node, ...],
        attrs: dict[str, Any],
        loc: SourceLoc | None,
        name: str | None = None,
    ) -> Node:
        last = self.chain.last
        after = [last] if last is not None and last not in args else []
        node = self.graph.add(op, args, attrs, loc=loc, name=name or op, after=after)
        self.chain.last = node
        return node

    def const(self, value: Any, loc: SourceLoc | None, name: str = "const") -> Node:
        return self.graph.add("const", (), {"value": value}, loc=loc, name=name)

    def materialize(self, value: Value, loc: SourceLoc | None, name: str = "value") -> Node:
        if isinstance(value, Traced):
            return value.node
        if isinstance(value, Text):
            return value.node()
        return self.const(value.value, loc, name)

    # --- names -----------------------------------------------------------------------------------

    def lookup_local(self, name: str, loc: SourceLoc, *, raw: bool = False) -> Value:
        """The value of ``name`` here, checked first if a path may have left it unbound (``checked``)
        unless ``raw``: handed on as it is (a body's output, a parameter of code that reads it)."""
        if name in self.temps:
            return self.temps[name]
        unbound = self.env.get(name)
        if isinstance(unbound, Unbound):
            raise UnboundRead(name, unbound, loc)
        if name in self.env:
            return self.env[name] if raw else checked(self, name, self.env[name], loc)
        if self.parent is not None:
            outer = self.parent.lookup_local(name, loc, raw=True)
            if isinstance(outer, Static):
                return outer
            if name not in self.captures:
                outer_node = self.parent.materialize(outer, loc, name)
                inp = self.graph.add("input", (), {"name": name}, name=name)
                self.captures[name] = (outer_node, inp)
            value = Traced(self.captures[name][1])
            if isinstance(outer, Traced):  # its class, fields, module imported, whether it may be unbound
                value = dataclasses.replace(outer, node=value.node)
            self.env[name] = value
            return value if raw else checked(self, name, value, loc)
        if self.enclosing is not None:
            return self.enclosing.lookup_enclosing(name, loc)
        raise TraceError(
            f"`{name}` is read here but may not be assigned on every path before this line; assign it "
            "before it is read (or give it a default) so the trace is the same on every path",
            loc=loc,
            construct="name",
        )

    def lookup_enclosing(self, name: str, loc: SourceLoc) -> Value:
        """``name`` as the workflow's own variable, which a helper defined in the workflow reads: in a
        map body, a name the comprehension binds is not it, so it comes from the body around."""
        if name not in self.comprehension_names or self.parent is None:
            return self.lookup_local(name, loc)
        outer = self.parent.lookup_enclosing(name, loc)
        if isinstance(outer, Static):
            return outer
        key = f"{name} (outside the comprehension)"
        if key not in self.captures:
            outer_node = self.parent.materialize(outer, loc, name)
            self.captures[key] = (outer_node, self.graph.add("input", (), {"name": name}, name=name))
        return Traced(self.captures[key][1])

    def leave_unbound(self, name: str, stmt: cst.CSTNode, loc: SourceLoc) -> None:
        mark_unbound(self, name, stmt, loc)

    def capture(self, name: str, outer: Node) -> None:
        """Make ``outer`` (a node of the enclosing graph) an input of this body, read as ``name``."""
        if name not in self.captures:
            self.captures[name] = (outer, self.graph.add("input", (), {"name": name}, name=name))

    def is_bound(self, name: str) -> bool:
        if name in self.temps:
            return True
        if name in self.env:
            return not isinstance(self.env[name], Unbound)
        return self.parent is not None and self.parent.is_bound(name)

    def compile_function(self) -> Value:
        """Compile the whole function body; returns the value it returns."""
        source_checks.check_all(self.src)
        try:
            self.block(list(self.src.node.body.body), top=True)
        except Returned as r:
            return r.value
        return Static(None)

    def block(self, stmts: Any, *, top: bool) -> None:
        """Compile ``stmts``; ``top``: a ``return`` among them returns from the function."""
        stmts = locks.unwrapped(self, list(stmts))  # `async with sem:` runs its body as it stands
        for i, stmt in enumerate(stmts):
            if top and self._returning_if(stmt):
                raise Returned(returning_if(self, stmt, stmts[i + 1 :], self.src.loc(stmt)))
            if top and returning.returning_loop(stmt):
                raise Returned(returning.compile_returning_loop(self, stmt, stmts[i + 1 :]))
            if top and matching.returning_match(stmt):
                raise Returned(returning.compile_returning_match(self, stmt, stmts[i + 1 :]))
            if top and try_returns.returning_try(stmt):
                assert isinstance(stmt, cst.Try)
                value = try_returns.compile_returning_try(self, stmt, stmts[i + 1 :])
                if value is not None:
                    raise Returned(value)
            if top and returning.needs_rest_break(self, stmt):
                self.rest_break(stmts[i:])
            try:
                self.statement(stmt, top=top)
            except Interleaved as err:  # (a task taking turns with the statements after it)
                return self.block(task_regions.as_written(self, stmts, i, err, top=top), top=top)

    def _returning_if(self, stmt: cst.BaseStatement) -> bool:
        """An ``if`` on a traced value with a ``return`` inside (not inside a loop or ``try`` of it)."""
        return isinstance(stmt, cst.If) and _has(stmt, cst.Return) and self.static_test(stmt.test) is None

    def statement(self, stmt: cst.BaseStatement, *, top: bool) -> None:
        with object_classes.kept_through(self, stmt):  # (what it changes in place keeps its class)
            self._statement(stmt, top=top)

    def _statement(self, stmt: cst.BaseStatement, *, top: bool) -> None:
        loc = self.src.loc(stmt)
        if coroutine_lists.consumed(self, stmt):
            return  # it built a list of coroutines, traced where it is gathered
        if isinstance(stmt, cst.SimpleStatementLine | cst.FunctionDef | cst.ClassDef) and header_awaits(stmt):
            return self.statement_break(stmt, loc, HEADER_AWAITS)  # (`def f(p=await g())`: as written)
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self.small_statement(small, stmt, loc)
            return
        if self._compound(stmt, loc):  # loops, try, match, task groups
            return
        if isinstance(stmt, cst.If):
            return branches.if_statement(self, stmt, loc, top=top)
        if isinstance(stmt, cst.For) and stmt.asynchronous is None:
            return map_loops.for_statement(self, stmt, loc)
        if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            return closures.define(self, stmt, loc)
        if not contains_await(stmt):  # while, try, with, async for/with: plain code, else a break
            return self.python_statement(stmt, loc, self.src.assigned_names(stmt), effect=True)
        why = task_groups.with_reason(self, stmt) or try_reasons.taken(self, stmt) or _construct(stmt)
        self.statement_break(stmt, loc, why)

    def _compound(self, stmt: cst.BaseStatement, loc: SourceLoc) -> bool:
        """Compile ``stmt`` if it is a loop, ``try``, ``match`` or task group traced into the IR; False
        to leave it to ``statement``. Statements with a ``return`` inside never reach here (``block``)."""
        if isinstance(stmt, cst.With) and stmt.asynchronous is not None:
            return task_groups.task_group(self, stmt, loc)
        if isinstance(stmt, cst.Try):
            return try_except.try_statement(self, stmt, loc)
        if isinstance(stmt, cst.While) or (isinstance(stmt, cst.For) and stmt.asynchronous is None):
            if not contains_await(stmt) or control_flow._has_return(stmt):
                return False
            if nested_loops.as_written(self, stmt, loc):  # (a loop nested in it cannot jump out)
                return True
            if isinstance(stmt, cst.For) and unroll.compile_unrolled(self, stmt, loc):
                return True
            if (
                isinstance(stmt, cst.For)
                and stmt.orelse is None
                and not control_flow.jumps(stmt.body)
                and not control_flow._carries(self, stmt)
                and map_loops.accumulators(self, stmt) is not None
            ):
                return False  # a map, the compiler's own path
            nested_loops.traced_loop(self, stmt, loc)  # (a `while`'s condition awaits in its body)
            return True
        if isinstance(stmt, cst.Match):
            if control_flow._has_return(stmt) or not matching.traced(stmt):
                return False
            matching.match_statement(self, stmt, loc)
            return True
        return False

    def loop_statement(self, stmt: cst.BaseStatement, loc: SourceLoc, rest: list[cst.BaseStatement]) -> bool:
        if isinstance(stmt, cst.Match):
            matching.match_statement(self, stmt, loc, rest)
            return True
        if not isinstance(stmt, cst.Try):  # a nested loop whose `else` or `return` leaves this one:
            return isinstance(stmt, cst.For | cst.While) and nested_loops.nested_loop(self, stmt, loc, rest)
        returns = control_flow._has_return(stmt) and self.is_bound(control_flow.RETURNED)  # returning.py
        return try_except.try_statement(self, stmt, loc, rest, returns=returns)

    def small_statement(self, small: cst.BaseSmallStatement, line: cst.CSTNode, loc: SourceLoc) -> None:
        if isinstance(small, cst.Return):
            if small.value is None:
                raise Returned(Static(None))
            raise Returned(self.exprs.expr(small.value, loc, "result", text=False))
        if isinstance(small, cst.Pass) or (
            isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString | cst.ConcatenatedString)
        ):
            return  # (a docstring, or any bare string literal: nothing to run)
        if parallel.small_statement(self, small, loc):  # t = asyncio.create_task(...)
            return
        if isinstance(small, cst.Global | cst.Nonlocal):
            source_checks.refuse_outer_names(self.src, small, loc)
        if isinstance(small, cst.AnnAssign) and small.value is None:
            return None  # `ctx: str`: binds nothing, evaluates nothing (in a function)
        if isinstance(small, cst.Assign | cst.AnnAssign) and small.value is not None:
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            alone = contains_await(small) or len(self.src.assigned_names(small)) == 1  # (a walrus binds too)
            if len(targets) == 1 and isinstance(targets[0], cst.Name) and alone:
                name = targets[0].value
                self.env[name] = self.assign_value(small, small.value, name, loc)
                return
            if len(targets) == 1 and isinstance(targets[0], cst.Tuple | cst.List):
                names = [e.value.value for e in targets[0].elements if isinstance(e.value, cst.Name)]
                if len(names) == len(targets[0].elements) and not any(
                    isinstance(e, cst.StarredElement) for e in targets[0].elements
                ):
                    return self.unpack(small, small.value, names, loc)
        if isinstance(small, cst.Expr):
            value = small.value
            if isinstance(value, cst.Await) and not self.exprs.break_call_target(value):
                self.exprs.await_expr(value, loc, None)  # a primitive, or an inlined workflow or helper
                return
            if isinstance(value, cst.Await) and self.exprs.break_call_target(value):
                return self.statement_break(line, loc, self.exprs.await_break_reason(value))
        if isinstance(small, cst.Import | cst.ImportFrom):
            self.python_statement(small, loc, self.src.assigned_names(small), effect=False)
            return imports.know(self.env, small)  # (`import asyncio as aio`: `aio.gather` is gather)
        if contains_await(small):
            return self.anf_statement(small, loc)
        names = self.src.assigned_names(small)
        effect = not isinstance(small, cst.Assign | cst.AnnAssign | cst.AugAssign)
        self.python_statement(small, loc, names, effect=effect)

    def assign_value(self, stmt: cst.CSTNode, value: cst.BaseExpression, name: str, loc: SourceLoc) -> Value:
        if isinstance(value, cst.Lambda):
            closures.check_definition(self.src, value)
        if (partial := partials.bind(self, value)) is not None:
            return partial  # awaited later as the call it stands for
        if (outcomes := completion.as_completed(self, value, loc, name)) is not None:
            return outcomes  # `it = asyncio.as_completed([...])`: its calls' outcomes
        if (
            isinstance(value, cst.Await | cst.Name)
            or self.exprs.map_comprehension(value)
            or self.exprs.branching_await(value)
        ):
            return self.exprs.expr(value, loc, name)
        if contains_await(value):
            self.anf_statement(stmt, loc)
            return self.env[name]
        static = self.exprs.try_static(value)
        if static is not None and _immutable(static.value):
            return static
        # A Text is made whole later from its parts evaluated (``as_text``): not `s = s + "..."`
        if name not in self.src.free_names(value)[0]:
            text = self.exprs.as_text(value, loc, name, stmt)
            if text is not None:
                return text
        return lazy_effects.assigned(self, stmt, value, name, loc, self._made_class(value))

    def _made_class(self, value: cst.BaseExpression) -> type | None:
        """The plain class of what ``value`` makes: a class's call, a factory's (``factories``)."""
        made = self.exprs.callee(value) if isinstance(value, cst.Call) else None
        return made if made_fields.plain_class(made) else made_fields.factory_class(self, value)

    def unpack(self, stmt: cst.CSTNode, value: cst.BaseExpression, names: list[str], loc: SourceLoc) -> None:
        if not contains_await(value):
            static = self.exprs.try_static(value)
            if static is not None and _immutable(static.value):
                for n, v in zip(names, static.value, strict=True):  # type: ignore[call-overload]
                    self.env[n] = Static(v)
                return
            self.python_statement(stmt, loc, names, effect=False)
            if isinstance(value, cst.Tuple) and len(value.elements) == len(names):
                for n, el in zip(names, value.elements, strict=True):  # `a, b = Agent(), RAG("kb")`
                    cls = None if isinstance(el, cst.StarredElement) else self._made_class(el.value)
                    if cls is not None and isinstance(now := self.env.get(n), Traced):
                        fields = made_fields.initial_fields(self, n, el.value, cls)
                        self.env[n] = Traced(now.node, cls=cls, fields=fields)
            return
        self.anf_statement(stmt, loc)

    # --- plain statements --------------------------------------------------------------------------

    def python_node(
        self,
        stmt: cst.CSTNode,
        loc: SourceLoc,
        returns: list[str],
        *,
        name: str | None = None,
        effect: bool = False,
        source: str | None = None,
        exclude: frozenset[int] = frozenset(),
        reads: list[str] | None = None,
        is_async: bool = False,
        op: str = "python",
        reason: str | None = None,
        keep: tuple[str, ...] = (),
    ) -> Node:
        """A node running ``stmt`` (or ``source``) with the traced values it reads as parameters
        (and the names in ``keep``, which it must hand back unchanged on some path)."""
        if source is None and (reraise := try_except.reraising(self, stmt, loc)) is not None:
            try:  # a bare `raise` in a handler: `raise <its error>`, a temporary
                more = None if reads is None else [*reads, try_except.RERAISED]
                return self.python_node(
                    stmt,
                    loc,
                    returns,
                    name=name,
                    effect=effect,
                    source=reraise,
                    exclude=exclude,
                    reads=more,
                    is_async=is_async,
                    op=op,
                    reason=reason,
                    keep=keep,
                )
            finally:
                del self.temps[try_except.RERAISED]
        if reads is not None:
            local, other = reads, list[str]()
        elif exclude:
            local, other = self.exprs.free_excluding(stmt, exclude)
        else:
            local, other = self.src.free_names(stmt)
        if reads is None:  # a closure of the workflow the statement uses reads names when called
            used = [n for n in aliases.closure_uses(self.src, stmt, local)[0] if self.is_bound(n)]
            local = list(dict.fromkeys([*local, *used]))
        local, other = self.exprs.split_names(local, other)
        source, local, bindings = supers.spelled_out(self, stmt, source, local)  # (run outside its class)
        if source is not None:  # (a temporary named after a function it calls: `prompt = prompt(q)`)
            source, returns = unshadowed(source, returns, set(other), {*local, *self.temps})
        params: list[str] = []
        args: list[Node] = []
        # names the code binds itself: read before any binding, Python raises as it would eagerly
        assigned = {*returns, *(self.src.assigned_names(stmt) if source is None or reads is None else ())}
        unbound: list[str] = []  # parameters a path may have left unbound: the code reads them itself
        for n in dict.fromkeys([*local, *keep, *self.temps]):
            if n in self.temps and n not in local and n not in (source or ""):
                continue
            if n in assigned and n not in keep and not self.is_bound(n):
                continue  # the statement binds it before reading it (a loop variable, say)
            value = self.lookup_local(n, loc, raw=True)
            if isinstance(value, Static) and n not in assigned:
                bindings[n] = coroutine_lists.bound(value.value, n, loc)
                continue
            if isinstance(value, Traced) and value.unbound:
                unbound.append(n)
            # (state kept between queries; an object whose `__str__`, `__iter__`... has an effect)
            effect = effect or (
                isinstance(value, Traced) and (value.held or impure.implicit_changes(value.cls))
            )
            params.append(n)
            args.append(self.materialize(value, loc, n))
        changes = param_parts.changes(self, stmt, params, args, returns, loc)  # (a helper's statement)
        for n in other:  # (the object itself, read when the node runs: its contents are not folded)
            bindings.update(self.closure_binding(n, contents=False))
        if not effect and closures.reads_changed(self, other):
            effect = True  # it reads module state the workflow changes: keep its place among effects
        code = PyCode(
            source=(source if source is not None else self.src.code(stmt)).strip("\n"),
            params=tuple(params),
            returns=tuple(returns),
            module=getattr(self.src.fn, "__module__", "") or "",
            filename=self.src.filename,
            line=loc.line,
            is_async=is_async,
            effect=effect,
            bindings=bindings,
            unbound=tuple(unbound),
            changes=tuple(changes),
            scope=self.src.qualname,
        )
        fn = compile_statement(code, self.src.fn.__globals__)
        if not effect and module_reads.effect_in(self, fn.__code__, {**self.src.fn.__globals__, **bindings}):
            # it calls code of the user's changing module state, or reading what the workflow changes
            code = dataclasses.replace(code, effect=True)  # (the same function: `effect` is not compiled)
        object.__setattr__(code, "fn", fn)
        attrs: dict[str, Any] = {"code": code}
        if reason is not None:
            attrs["reason"] = reason
            if (fix := fix_for(reason)) is not None:
                attrs["fix"] = fix
        return self.emit(op, args, attrs, loc, name or (returns[0] if len(returns) == 1 else op))

    def closure_binding(self, name: str, *, contents: bool = True) -> dict[str, Any]:
        return closures.cell_binding(self.src, self.deps, name, contents=contents)

    def python_statement(self, stmt: cst.CSTNode, loc: SourceLoc, names: list[str], *, effect: bool) -> None:
        changed = self.mutated_locals(stmt)
        returns, keep, maybe = settle(self, stmt, list(dict.fromkeys([*names, *changed])), loc)
        classes = aliases.classes_of(self, changed, names)
        node = self.python_node(stmt, loc, returns, effect=effect or not names, keep=tuple(keep))
        self.rebind(returns, node, loc)
        may_be_unbound(self, maybe)
        aliases.restore_classes(self, classes)

    def rebind(self, names: list[str], node: Node, loc: SourceLoc) -> None:
        if len(names) == 1:
            self.env[names[0]] = Traced(node)
            return
        for i, n in enumerate(names):
            self.env[n] = Traced(self.graph.add("getitem", (node,), {"index": i}, loc=loc, name=n))

    def mutated_locals(self, stmt: cst.CSTNode) -> list[str]:
        return aliases.mutated_locals(self, stmt)

    def anf_statement(self, stmt: cst.CSTNode, loc: SourceLoc) -> None:
        """A statement with awaited primitives inside a larger expression: the awaits become nodes,
        the rest of the statement a python node reading them."""
        names = self.src.assigned_names(stmt)
        new_stmt, replaced = self.exprs.lift_awaits(stmt, loc)
        if new_stmt is None:
            awaits = [a for a in awaits_in(stmt) if self.exprs.break_call_target(a)]
            awaits = awaits or [a for a in awaits_in(stmt) if self.exprs.reordered(a)]  # (operand_order)
            reason = self.exprs.await_break_reason(awaits[0]) if awaits else "await of a non-primitive"
            return self.statement_break(stmt, loc, reason)
        changed = aliases.mutated_locals(self, stmt, replaced)
        returns = list(dict.fromkeys([*names, *changed]))
        classes = aliases.classes_of(self, changed, names)
        read = set(self.exprs.free_excluding(stmt, replaced)[0])
        node = self.python_node(
            stmt,
            loc,
            returns,
            source=self.src.module.code_for_node(new_stmt),
            exclude=replaced,
            effect=not names,
            name=names[0] if len(names) == 1 else None,
            keep=tuple(n for n in returns if n not in names and n not in read),  # aliases it changes
        )
        self.temps.clear()
        self.rebind(returns, node, loc)
        aliases.restore_classes(self, classes)

    # --- graph breaks ------------------------------------------------------------------------------

    def statement_break(
        self, stmt: cst.CSTNode, loc: SourceLoc, reason: str, source: str | None = None
    ) -> None:
        names = self.src.assigned_names(stmt)
        changed = self.mutated_locals(stmt)
        returns, keep, maybe = settle(self, stmt, list(dict.fromkeys([*names, *changed])), loc)
        classes = aliases.classes_of(self, changed, names)
        node = self.python_node(
            stmt,
            loc,
            returns,
            is_async=True,
            op="break",
            source=source,
            reason=reason,
            effect=True,
            name="break",
            keep=tuple(keep),
        )
        if returns:
            self.rebind(returns, node, loc)
            may_be_unbound(self, maybe)
            aliases.restore_classes(self, classes)

    def rest_break(self, stmts: list[cst.BaseStatement], reason: str | None = None) -> None:
        """The rest of the function runs eagerly; its return value is the workflow's."""
        loc = self.src.loc(stmts[0])
        source = "".join(self.src.code(s) for s in stmts)
        holder = cst.IndentedBlock(body=stmts)
        reason = reason or f"{_construct(stmts[0])} with a return inside, on a traced value"
        node = self.python_node(
            holder,
            loc,
            [],
            source=source,
            is_async=True,
            op="break",
            reason=reason,
            effect=True,
            name="break",
        )
        raise Returned(Traced(node))

    def static_test(self, test: cst.BaseExpression) -> Static | None:
        return None if contains_await(test) else self.exprs.try_static(test)
