"""Expressions: awaited primitives, comprehensions that become maps, templates, static folding.

A mixin of ``Compiler``: it relies on ``src``, ``graph``, ``env``, ``deps``, ``temps``, ``emit``,
``const``, ``materialize``, ``lookup_local``, ``python_node`` and ``closure_binding``.
"""

from __future__ import annotations

import builtins
import inspect
import string
from collections.abc import Callable
from typing import Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import SourceLoc
from ..ir.graph import Graph, Node
from ..ir.params import SearchParams
from ..ir.parsers import Parser
from ..ir.template import Template
from .primitives import PRIMITIVES, sampling_params
from .values import Piece, Static, Text, Traced, Value, pieces_of

# Calls that static folding may evaluate at trace time: pure, deterministic, cheap.
_PURE_BUILTINS = frozenset(
    getattr(builtins, n)
    for n in [
        "abs",
        "all",
        "any",
        "bool",
        "bytes",
        "chr",
        "dict",
        "divmod",
        "enumerate",
        "float",
        "frozenset",
        "int",
        "isinstance",
        "len",
        "list",
        "max",
        "min",
        "ord",
        "range",
        "repr",
        "reversed",
        "round",
        "set",
        "sorted",
        "str",
        "sum",
        "tuple",
        "zip",
    ]
)
_PURE_STR_METHODS = frozenset(
    [
        "capitalize",
        "casefold",
        "center",
        "count",
        "endswith",
        "find",
        "format",
        "index",
        "isalnum",
        "isalpha",
        "isdigit",
        "islower",
        "isspace",
        "isupper",
        "join",
        "ljust",
        "lower",
        "lstrip",
        "partition",
        "removeprefix",
        "removesuffix",
        "replace",
        "rfind",
        "rjust",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
        "zfill",
    ]
)
_STATIC_NODES = (
    cst.Name,
    cst.Attribute,
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.FormattedString,
    cst.FormattedStringText,
    cst.FormattedStringExpression,
    cst.BinaryOperation,
    cst.UnaryOperation,
    cst.BooleanOperation,
    cst.Comparison,
    cst.ComparisonTarget,
    cst.Tuple,
    cst.List,
    cst.Set,
    cst.Dict,
    cst.DictElement,
    cst.Element,
    cst.StarredElement,
    cst.IfExp,
    cst.Subscript,
    cst.SubscriptElement,
    cst.Index,
    cst.Slice,
    cst.Call,
    cst.Arg,
    cst.LeftParen,
    cst.RightParen,
)


def contains_await(node: cst.CSTNode) -> bool:
    """Whether ``node`` awaits anything outside nested functions."""
    found = False

    class V(cst.CSTVisitor):
        def on_visit(self, n: cst.CSTNode) -> bool:
            nonlocal found
            if isinstance(n, cst.Await):
                found = True
            return not found and not isinstance(n, cst.FunctionDef | cst.Lambda | cst.ClassDef)

    node.visit(V())
    return found


# Method names that never change their receiver on the built-in types (str, list, dict, Hit ...);
# a call of any other method is taken to may change it.
_READ_ONLY_METHODS = frozenset(
    [
        "capitalize",
        "casefold",
        "center",
        "copy",
        "count",
        "decode",
        "encode",
        "endswith",
        "find",
        "format",
        "get",
        "index",
        "isalnum",
        "isalpha",
        "isdigit",
        "islower",
        "isspace",
        "isupper",
        "items",
        "join",
        "keys",
        "ljust",
        "lower",
        "lstrip",
        "partition",
        "removeprefix",
        "removesuffix",
        "replace",
        "rfind",
        "rjust",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
        "values",
        "zfill",
    ]
)


def mutated_roots(node: cst.CSTNode) -> list[str]:
    """Names whose object ``node`` may change in place: ``x.m(...)``, ``x[i] = ...``, ``x.a = ...``."""
    out: dict[str, None] = {}

    def root(e: cst.BaseExpression) -> str | None:
        while isinstance(e, cst.Attribute | cst.Subscript):
            e = e.value
        return e.value if isinstance(e, cst.Name) else None

    class V(cst.CSTVisitor):
        def visit_Call(self, n: cst.Call) -> None:
            func = n.func
            if (
                isinstance(func, cst.Attribute)
                and func.attr.value not in _READ_ONLY_METHODS
                and (r := root(func.value))
            ):
                out[r] = None

        def visit_AssignTarget(self, n: cst.AssignTarget) -> None:
            if isinstance(n.target, cst.Attribute | cst.Subscript) and (r := root(n.target)):
                out[r] = None

        def visit_AugAssign(self, n: cst.AugAssign) -> None:
            if isinstance(n.target, cst.Attribute | cst.Subscript) and (r := root(n.target)):
                out[r] = None

        def visit_Del(self, n: cst.Del) -> None:
            if isinstance(n.target, cst.Attribute | cst.Subscript) and (r := root(n.target)):
                out[r] = None

    node.visit(V())
    return list(out)


class ExpressionCompiler:
    """Expression methods of ``Compiler``; the attributes and methods below are the Compiler's."""

    src: Any
    graph: Graph
    env: dict[str, Value]
    deps: Any
    temps: dict[str, Value]
    chain: Any

    def emit(
        self, op: str, args: Any, attrs: dict[str, Any], loc: SourceLoc | None, name: str | None = None
    ) -> Node:
        raise NotImplementedError

    def materialize(self, value: Value, loc: SourceLoc | None, name: str = "value") -> Node:
        raise NotImplementedError

    def lookup_local(self, name: str, loc: SourceLoc) -> Value:
        raise NotImplementedError

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
    ) -> Node:
        raise NotImplementedError

    def closure_binding(self, name: str) -> dict[str, Any]:
        raise NotImplementedError

    # --- entry ---------------------------------------------------------------------------------------

    def expr(self, e: cst.BaseExpression, loc: SourceLoc, hint: str, *, text: bool = True) -> Value:
        """The value of expression ``e``; ``text=False`` when a string it builds is needed whole."""
        if isinstance(e, cst.Await):
            return self.await_expr(e, loc, hint)
        if isinstance(e, cst.Name) and (e.value in self.temps or e.value in self.env or self._is_local(e)):
            return self.lookup_local(e.value, loc)
        if self.map_comprehension(e):
            return self.comprehension_map(e, loc, hint)  # type: ignore[arg-type]
        if contains_await(e):
            holder = cst.SimpleStatementLine(
                body=[cst.Assign(targets=[cst.AssignTarget(cst.Name(hint))], value=e)]
            )
            new_stmt, replaced = self.lift_awaits(e, loc)
            if new_stmt is None:
                raise TraceError(
                    "an await of something that is not an ayo primitive or workflow, inside an "
                    "argument, cannot be traced; await it in its own statement (`x = await f(...)`)",
                    loc=loc,
                    construct="await",
                )
            source = f"{hint} = {self.src.module.code_for_node(new_stmt)}"
            node = self.python_node(e, loc, [hint], source=source, exclude=replaced, name=hint)
            del holder
            self.temps.clear()
            return Traced(node)
        static = self.try_static(e)
        if static is not None:
            return static
        if text:
            built = self.as_text(e, loc, lambda: self._expr_node(e, loc, hint))
            if built is not None:
                return built
        return Traced(self._expr_node(e, loc, hint))

    def _expr_node(self, e: cst.BaseExpression, loc: SourceLoc, hint: str) -> Node:
        local, _ = self.src.free_names(e)
        target = hint if hint not in local else hint + "_"
        source = f"{target} = {self.src.code(e)}"
        return self.python_node(e, loc, [target], source=source, name=hint)

    def split_names(self, local: list[str], other: list[str]) -> tuple[list[str], list[str]]:
        """Move to ``local`` the names libcst sees as non-local that this body binds (a map body's
        loop variable is a comprehension's own name in the source, but a local of the body)."""
        moved = [n for n in other if n in self.env or n in self.temps]
        if not moved:
            return local, other
        return [*local, *moved], [n for n in other if n not in moved]

    def _is_local(self, name: cst.Name) -> bool:
        try:
            local, _ = self.src.free_names(name)
        except KeyError:
            return name.value in self.env
        return name.value in local

    # --- static folding ------------------------------------------------------------------------------

    def try_static(self, e: cst.BaseExpression) -> Static | None:
        """The value of ``e`` at trace time, when it reads only static values and pure operations."""
        if not self._static_shape(e):
            return None
        try:
            local, other = self.split_names(*self.src.free_names(e))
        except KeyError:
            return None
        scope: dict[str, Any] = {}
        for n in local:
            v = self.env.get(n) if n not in self.temps else self.temps[n]
            if v is None and getattr(self, "parent", None) is not None:
                try:
                    v = self.lookup_local(n, SourceLoc(self.src.filename, 0))
                except TraceError:
                    return None
            if not isinstance(v, Static):
                return None
            scope[n] = v.value
        fn = self.src.fn
        for n in other:
            closure = self.closure_binding(n)
            if closure:
                scope.update(closure)
            elif n in fn.__globals__:
                self.deps.seen[("global", n)] = fn.__globals__[n]
        if not self._pure_calls(e, scope):
            return None
        try:
            value = eval(self.src.code(e).strip(), fn.__globals__, scope)
        except Exception:
            return None
        return Static(value)

    def _static_shape(self, e: cst.CSTNode) -> bool:
        ok = True

        class V(cst.CSTVisitor):
            def on_visit(self, n: cst.CSTNode) -> bool:
                nonlocal ok
                if not isinstance(n, _STATIC_NODES) and not isinstance(
                    n,
                    (
                        cst.BaseBinaryOp,
                        cst.BaseBooleanOp,
                        cst.BaseUnaryOp,
                        cst.BaseCompOp,
                        cst.BaseParenthesizableWhitespace,
                        cst.Comma,
                        cst.Dot,
                        cst.Colon,
                        cst.AssignEqual,
                    ),
                ):
                    ok = False
                return ok

        e.visit(V())
        return ok

    def _pure_calls(self, e: cst.CSTNode, scope: dict[str, Any]) -> bool:
        calls: list[cst.Call] = []

        class V(cst.CSTVisitor):
            def visit_Call(self, n: cst.Call) -> None:
                calls.append(n)

        e.visit(V())
        for call in calls:
            try:
                fn = eval(self.src.code(call.func).strip(), self.src.fn.__globals__, scope)
            except Exception:
                return False
            if fn in _PURE_BUILTINS:
                continue
            owner = getattr(fn, "__self__", None)
            if isinstance(owner, str) and getattr(fn, "__name__", "") in _PURE_STR_METHODS:
                continue
            return False
        return True

    # --- text ------------------------------------------------------------------------------------------

    def as_text(self, e: cst.BaseExpression, loc: SourceLoc, materialize: Callable[[], Node]) -> Text | None:
        """A ``Text`` for a string built from traced values by f-string, ``+``, ``str.format`` or
        ``sep.join([...])``; None when ``e`` is not such an expression."""
        parts = self._text_parts(e, loc)
        if parts is None or all(isinstance(p, str) for p in parts):
            return None
        return Text(parts, materialize)

    def _text_parts(self, e: cst.BaseExpression, loc: SourceLoc) -> list[str | Piece] | None:
        if isinstance(e, cst.FormattedString):
            if "b" in e.prefix.lower():
                return None
            out: list[str | Piece] = []
            for part in e.parts:
                if isinstance(part, cst.FormattedStringText):
                    out.append(_unescape_fstring_text(part.value, e.prefix))
                    continue
                assert isinstance(part, cst.FormattedStringExpression)
                spec = ""
                if part.format_spec:
                    if not all(isinstance(s, cst.FormattedStringText) for s in part.format_spec):
                        return None
                    spec = "".join(
                        s.value for s in part.format_spec if isinstance(s, cst.FormattedStringText)
                    )
                conv = part.conversion
                value = self.expr(part.expression, loc, "field")
                if part.equal is not None:
                    return None
                if isinstance(value, Static):
                    v = value.value
                    v = _convert(v, conv)
                    out.append(format(v, spec))
                elif isinstance(value, Text) and not conv and not spec:
                    out.extend(value.parts)
                else:
                    node = self.materialize(value, loc, "field")
                    out.append(Piece(node, "format", conv, spec))
            return out
        if isinstance(e, cst.BinaryOperation) and isinstance(e.operator, cst.Add):
            left = self._text_operand(e.left, loc)
            right = self._text_operand(e.right, loc)
            if left is None or right is None:
                return None
            if not any(isinstance(p, str) for p in left + right) and not (
                self._stringy(e.left) or self._stringy(e.right)
            ):
                return None
            return left + right
        if isinstance(e, cst.Call) and isinstance(e.func, cst.Attribute):
            method = e.func.attr.value
            receiver = self.try_static(e.func.value)
            if receiver is None or not isinstance(receiver.value, str):
                return None
            if method == "format":
                return self._format_parts(receiver.value, e.args, loc)
            if method == "join" and len(e.args) == 1 and isinstance(e.args[0].value, cst.List | cst.Tuple):
                elems = e.args[0].value.elements
                if any(isinstance(x, cst.StarredElement) for x in elems):
                    return None
                out = []
                for i, el in enumerate(elems):
                    if i:
                        out.append(receiver.value)
                    operand = self._text_operand(el.value, loc)
                    if operand is None:
                        return None
                    out.extend(operand)
                return out
        return None

    def _stringy(self, e: cst.BaseExpression) -> bool:
        return isinstance(e, cst.SimpleString | cst.FormattedString | cst.ConcatenatedString) or (
            isinstance(e, cst.BinaryOperation) and (self._stringy(e.left) or self._stringy(e.right))
        )

    def _text_operand(self, e: cst.BaseExpression, loc: SourceLoc) -> list[str | Piece] | None:
        if isinstance(e, cst.FormattedString | cst.BinaryOperation | cst.Call):
            parts = self._text_parts(e, loc)
            if parts is not None:
                return parts
        value = self.expr(e, loc, "part")
        return pieces_of(value, "str")

    def _format_parts(self, fmt: str, args: Any, loc: SourceLoc) -> list[str | Piece] | None:
        positional = [a.value for a in args if a.keyword is None and not a.star]
        keywords = {a.keyword.value: a.value for a in args if a.keyword is not None}
        if any(a.star for a in args):
            return None
        out: list[str | Piece] = []
        auto = 0
        try:
            parsed = list(string.Formatter().parse(fmt))
        except ValueError:
            return None
        for literal, field, spec, conv in parsed:
            out.append(literal)
            if field is None:
                continue
            if spec and "{" in spec:
                return None
            if field == "":
                if auto >= len(positional):
                    return None
                expr, auto = positional[auto], auto + 1
            elif field.isdigit():
                if int(field) >= len(positional):
                    return None
                expr = positional[int(field)]
            elif field.isidentifier() and field in keywords:
                expr = keywords[field]
            else:
                return None  # attribute or index lookups in the field: leave it to Python
            value = self.expr(expr, loc, field or "field")
            if isinstance(value, Static):
                v = value.value
                v = _convert(v, conv)
                out.append(format(v, spec or ""))
            else:
                out.append(Piece(self.materialize(value, loc, "field"), "format", conv, spec or ""))
        return out

    # --- awaits ------------------------------------------------------------------------------------

    def callee(self, call: cst.Call) -> Any:
        """What a call's function is at trace time, or None when it is not known then."""
        static = self.try_static_callable(call.func)
        return None if static is None else static.value

    def try_static_callable(self, func: cst.BaseExpression) -> Static | None:
        if not isinstance(func, cst.Name | cst.Attribute):
            return None
        try:
            local, other = self.split_names(*self.src.free_names(func))
        except KeyError:
            return None
        scope: dict[str, Any] = {}
        for n in local:
            v = self.env.get(n)
            if not isinstance(v, Static):
                return None
            scope[n] = v.value
        for n in other:
            scope.update(self.closure_binding(n))
        try:
            value = eval(self.src.code(func).strip(), self.src.fn.__globals__, scope)
        except Exception:
            return None
        return Static(value)

    def primitive_of(self, e: cst.Await) -> str | None:
        if not isinstance(e.expression, cst.Call):
            return None
        fn = self.callee(e.expression)
        op = getattr(fn, "__ayo_primitive__", None)
        return op if isinstance(op, str) else None

    def workflow_of(self, e: cst.Await) -> Any:
        if not isinstance(e.expression, cst.Call):
            return None
        fn = self.callee(e.expression)
        return fn if getattr(fn, "__ayo_workflow__", False) else None

    def break_call_target(self, e: cst.Await) -> bool:
        return self.primitive_of(e) is None and self.workflow_of(e) is None

    def await_expr(self, e: cst.Await, loc: SourceLoc, hint: str | None) -> Value:
        call = e.expression
        call_loc = self.src.loc(e) if e in self.src.positions else loc
        op = self.primitive_of(e)
        if op is not None:
            assert isinstance(call, cst.Call)
            return Traced(self.primitive_call(op, call, call_loc, hint))
        wf = self.workflow_of(e)
        if wf is not None:
            assert isinstance(call, cst.Call)
            return self.inline_workflow(wf, call, call_loc)
        raise TraceError(
            f"`{self.src.code(e).strip()}` awaits something that is not an ayo primitive or workflow "
            "inside an expression the tracer must understand; await it in a statement of its own "
            "(`x = await f(...)`), which becomes a graph break, or decorate it with @ayo.workflow",
            loc=loc,
            construct="await",
        )

    def bind_call(
        self, fn: Callable[..., Any], call: cst.Call, loc: SourceLoc
    ) -> dict[str, cst.BaseExpression]:
        if any(a.star for a in call.args):
            raise TraceError(
                "*args/**kwargs in a primitive call cannot be traced; pass each argument by name",
                loc=loc,
                construct="call",
            )
        sig = inspect.signature(fn)
        positional = [a.value for a in call.args if a.keyword is None]
        keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        try:
            bound = sig.bind(*positional, **keywords)
        except TypeError as err:
            raise TraceError(f"bad call to {fn.__name__}: {err}", loc=loc, construct="call") from err
        return dict(bound.arguments)

    def static_arg(self, e: cst.BaseExpression, name: str, op: str, loc: SourceLoc) -> Any:
        value = self.expr(e, loc, name)
        if not isinstance(value, Static):
            raise TraceError(
                f"`{name}=` of ayo.{op}() must be known when the workflow is traced, but "
                f"`{self.src.code(e).strip()}` depends on traced values; compute it from static "
                "arguments or constants (an int argument is static), or call ayo.{op} in eager mode",
                loc=loc,
                construct=op,
            )
        return value.value

    def primitive_call(self, op: str, call: cst.Call, loc: SourceLoc, hint: str | None) -> Node:
        bound = self.bind_call(PRIMITIVES[op], call, loc)
        data = {"llm": ("prompt",), "embed": ("texts",), "ingest": ("passages",), "search": ("query",)}.get(
            op, ("query", "passages")
        )
        st = {k: self.static_arg(v, k, op, loc) for k, v in bound.items() if k not in data}
        name = hint or op
        if op == "llm":
            prompt = self.expr(bound["prompt"], loc, "prompt")
            if isinstance(prompt, Static):
                template, args = Template.constant(str(prompt.value)), list[Node]()
            elif isinstance(prompt, Text):
                template, args = prompt.template()
            else:
                template, args = Template((_hole0(),)), [prompt.node]
            parse = st.pop("parse", None)
            if parse is not None and not isinstance(parse, Parser):
                raise TraceError("parse= takes ayo.lines or ayo.json_list", loc=loc, construct="llm")
            engine = st.pop("engine", None)
            attrs = {
                "template": template,
                "sampling": sampling_params(**st),
                "parse": parse,
                "engine": engine,
            }
            return self.emit("llm", args, attrs, loc, name)
        values = [self.materialize(self.expr(bound[k], loc, k), loc, k) for k in data if k in bound]
        if op == "search":
            params = SearchParams(collection=st["collection"], top_k=st.get("top_k", 4))
            attrs = {"params": params, "engine": st.get("engine"), "embed_engine": st.get("embed_engine")}
        elif op == "ingest":
            attrs = {
                "collection": st["collection"],
                "engine": st.get("engine"),
                "embed_engine": st.get("embed_engine"),
            }
        elif op == "rerank":
            attrs = {"top_k": st.get("top_k", 3), "engine": st.get("engine")}
        else:
            attrs = {"engine": st.get("engine")}
        return self.emit(op, values, attrs, loc, name)

    def inline_workflow(self, wf: Any, call: cst.Call, loc: SourceLoc) -> Value:
        from .compiler import Compiler as _Compiler

        bound = self.bind_call(wf.signature_fn, call, loc)
        src = wf.source()
        env: dict[str, Value] = {}
        sig = inspect.signature(wf.signature_fn)
        for pname, param in sig.parameters.items():
            if pname in bound:
                env[pname] = self.expr(bound[pname], loc, pname)
            elif param.default is not inspect.Parameter.empty:
                env[pname] = Static(param.default)
        if getattr(wf, "bound_self", None) is not None:
            env[next(iter(sig.parameters))] = Static(wf.bound_self)
        child = _Compiler(src, self.graph, env, self.deps, chain=self.chain)
        return child.compile_function()

    # --- comprehensions that become maps -------------------------------------------------------------

    def map_comprehension(self, e: cst.BaseExpression) -> bool:
        return isinstance(e, cst.ListComp | cst.GeneratorExp) and contains_await(e.elt)

    def comprehension_map(self, e: cst.ListComp, loc: SourceLoc, hint: str) -> Value:
        from .compiler import Compiler as _Compiler

        comp = e.for_in
        if (
            comp.inner_for_in is not None
            or comp.asynchronous is not None
            or not isinstance(comp.target, cst.Name)
        ):
            raise TraceError(
                "a comprehension that awaits primitives must have a single `for name in items` "
                "(no nested or async for, no tuple target); write a for loop or flatten the list first",
                loc=loc,
                construct="comprehension",
            )
        item = comp.target.value
        if comp.ifs:
            cond = " ".join(self.src.code(c).strip() for c in comp.ifs)
            source = f"{hint}_items = [{item} for {item} in {self.src.code(comp.iter).strip()} {cond}]"
            iterable = self.python_node(comp, loc, [f"{hint}_items"], source=source, name=f"{hint}_items")
        else:
            iterable = self.materialize(self.expr(comp.iter, loc, "items"), loc, "items")
        child = _Compiler(self.src, Graph("body"), {}, self.deps, parent=self)  # type: ignore[arg-type]
        item_input = child.graph.add("input", (), {"name": item}, name=item)
        child.env[item] = Traced(item_input)
        out = child.materialize(child.expr(e.elt, loc, ""), loc, "item")
        child.graph.add("output", [out])
        order = list(child.captures)
        from .compiler import _align_inputs

        _align_inputs(child, order, first=item_input)
        node = self.emit(
            "map",
            [iterable, *(child.captures[n][0] for n in order)],
            {"body": child.graph, "item": item, "concurrency": 1},
            loc,
            hint,
        )
        return Traced(node)

    # --- awaits inside larger expressions ------------------------------------------------------------

    def lift_awaits(self, node: cst.CSTNode, loc: SourceLoc) -> tuple[cst.CSTNode | None, frozenset[int]]:
        """Replace each awaited primitive (and each comprehension that awaits) in ``node`` by a name
        bound in ``temps``; None when an await is of something else."""
        targets: list[cst.CSTNode] = []
        compiler = self

        class Find(cst.CSTVisitor):
            def on_visit(self, n: cst.CSTNode) -> bool:
                if isinstance(n, cst.Await):
                    targets.append(n)
                    return False
                if isinstance(n, cst.ListComp | cst.GeneratorExp) and compiler.map_comprehension(n):
                    targets.append(n)
                    return False
                return not isinstance(n, cst.FunctionDef | cst.Lambda | cst.ClassDef)

        node.visit(Find())
        replacements: dict[cst.CSTNode, cst.CSTNode] = {}
        for t in targets:
            if isinstance(t, cst.Await) and self.break_call_target(t):
                return None, frozenset()
            value = self.expr(t, self.src.loc(t), "value")  # type: ignore[arg-type]
            n = self.materialize(value, loc, "value")
            self.temps[n.name] = Traced(n)
            replacements[t] = cst.Name(n.name)
        new = node
        for old, repl in replacements.items():
            new = new.deep_replace(old, repl)
        return new, frozenset(id(t) for t in targets)

    def free_excluding(self, node: cst.CSTNode, exclude: frozenset[int]) -> tuple[list[str], list[str]]:
        """``free_names`` of ``node`` without the subtrees in ``exclude`` (lifted awaits)."""
        local: dict[str, None] = {}
        other: dict[str, None] = {}
        src = self.src

        class V(cst.CSTVisitor):
            def on_visit(self, n: cst.CSTNode) -> bool:
                if id(n) in exclude:
                    return False
                if isinstance(n, cst.Name):
                    lo, ot = src.free_names(n)
                    local.update(dict.fromkeys(lo))
                    other.update(dict.fromkeys(ot))
                return True

        node.visit(V())
        return list(local), list(other)


def _convert(value: Any, conversion: str | None) -> Any:
    if conversion == "r":
        return repr(value)
    if conversion == "s":
        return str(value)
    if conversion == "a":
        return ascii(value)
    return value


def _hole0() -> Any:
    from ..ir.template import Hole

    return Hole(0)


def _unescape_fstring_text(text: str, prefix: str) -> str:
    text = text.replace("{{", "{").replace("}}", "}")
    if "r" in prefix.lower():
        return text
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape")
