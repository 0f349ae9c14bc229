"""Expressions: awaited primitives, nested workflows, comprehensions that become maps, and awaits
inside larger expressions. Static folding is in ``folding.py``, string templates in ``text.py``."""

from __future__ import annotations

import asyncio
import inspect
import keyword
from collections.abc import Callable
from typing import Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import UNBOUND, SourceLoc
from ..ir.graph import Node
from ..ir.spec import primitive_spec
from . import dispatch, forwarding, operand_order, partials, try_except, unpacking, unroll, user_code
from .builder import Builder
from .chat_calls import ChatMessages
from .completion import as_completed, awaited_outcome, awaits_outcome
from .comprehensions import ComprehensionMaps
from .folding import StaticFolding
from .helpers import Helpers
from .parallel import awaited, interleaved, traceable_await
from .primitive_calls import PrimitiveCalls
from .state import _in_scope, awaits_in, contains_await, mutated_roots, walk
from .text import TextBuilding
from .values import Static, Traced, Value
from .visiting import visit

__all__ = ["ExpressionCompiler", "contains_await", "mutated_roots"]


class ExpressionCompiler(
    Helpers, PrimitiveCalls, ChatMessages, ComprehensionMaps, StaticFolding, TextBuilding
):
    """Compiles the expressions of one body (``body``): awaited primitives, workflows and helpers,
    comprehensions that become maps, conditional awaits, prompts built as text, static folding.
    Each part of it is a module of its own (``primitive_calls``, ``chat_calls``, ``comprehensions``,
    ``folding``, ``text``, ``helpers``); they reach the body only through ``Builder``."""

    def __init__(self, body: Builder) -> None:
        self.body = body

    def expr(self, e: cst.BaseExpression, loc: SourceLoc, hint: str, *, text: bool = True) -> Value:
        """The value of expression ``e``; ``text=False`` when a string it builds is needed whole."""
        if isinstance(e, cst.Await):
            return self.await_expr(e, loc, hint)
        if isinstance(e, cst.NamedExpr) and isinstance(e.target, cst.Name):
            # `(n := value)`: binds `n` where it is evaluated, in evaluation order
            value = self.expr(e.value, loc, e.target.value, text=text)
            self.body.env[e.target.value] = value
            return value
        if (outcomes := as_completed(self.body, e, loc, hint)) is not None:
            return outcomes  # `for fut in asyncio.as_completed([...])`: its calls' outcomes
        walrus = walrus_targets(e)
        if isinstance(e, cst.Name) and (
            e.value in self.body.temps
            or e.value in self.body.env
            or (e.value.startswith("__ayo_") and self.body.is_bound(e.value))  # a body around's temporary
            or self._is_local(e)
        ):
            return self.body.lookup_local(e.value, loc)
        if self.map_comprehension(e):
            return self.comprehension_map(e, loc, hint)
        if self.branching_await(e) and walrus:  # (a `cond`'s branch would keep what `:=` binds)
            reason = "a `:=` in a part of a conditional that awaits: the expression runs as written"
            return self._walrus_node(
                e, loc, hint or "value", walrus, is_async=True, op="break", reason=reason
            )
        if self.branching_await(e):
            return self.branch_value(e, loc, hint)  # type: ignore[arg-type]
        if contains_await(e):
            hint = hint or "value"
            new_stmt, replaced = self.lift_awaits(e, loc)
            if new_stmt is None:  # it awaits something else too: the whole expression runs eagerly
                breaking = [a for a in awaits_in(e) if self.break_call_target(a)]
                reason = self.await_break_reason(breaking[0] if breaking else cst.Await(expression=e))
                source = f"{hint} = {self.body.src.expr_code(e)}"
                return Traced(
                    self.body.python_node(
                        e, loc, [hint], source=source, is_async=True, op="break", reason=reason, effect=True
                    )
                )
            assert isinstance(new_stmt, cst.BaseExpression)
            source = f"{hint} = {self.body.src.expr_code(new_stmt)}"
            if walrus:
                return self._walrus_node(e, loc, hint, walrus, source=source, exclude=replaced)
            node = self.body.python_node(e, loc, [hint], source=source, exclude=replaced, name=hint)
            self.body.temps.clear()
            return Traced(node)
        if walrus:
            return self._walrus_node(e, loc, hint or "value", walrus)
        static = self.try_static(e)
        if static is not None:
            return static
        if text:
            built = self.as_text(e, loc, hint or "value")
            if built is not None:
                return built
        return Traced(self._expr_node(e, loc, hint))

    def _walrus_node(
        self,
        e: cst.BaseExpression,
        loc: SourceLoc,
        hint: str,
        walrus: list[tuple[str, bool]],
        *,
        source: str | None = None,
        exclude: frozenset[int] = frozenset(),
        **graph_break: Any,
    ) -> Value:
        """A node computing ``e`` that also hands back the names its ``:=`` bind (``graph_break``:
        ``python_node``'s arguments making it a break, which awaits). One bound only
        on some paths (right of ``and``/``or``, a branch of ``if``/``else``) keeps its old value on
        the others, or is unbound after it when it had none (a later read checks, raising Python's
        ``UnboundLocalError`` where it is: ``while queue and (item := queue.pop(0)):`` binds
        ``item`` whenever the body runs)."""
        target = self.body.src.target(e, hint, tuple(n for n, _ in walrus))
        names: list[str] = []
        keep: list[str] = []
        unbound: list[str] = []
        for n, maybe in walrus:
            if maybe and not self.body.is_bound(n):  # (read as unbound, handed back so where unset)
                self.body.env[n] = Traced(self.body.const(UNBOUND, loc, n), unbound=True)
                unbound.append(n)
            names.append(n)
            if maybe:
                keep.append(n)
        node = self.body.python_node(
            e,
            loc,
            [target, *names],
            source=source or f"{target} = {self.body.src.expr_code(e)}",
            exclude=exclude,
            name=hint,
            keep=tuple(keep),
            **({"effect": True, **graph_break} if graph_break else {}),
        )
        self.body.temps.clear()
        for i, n in enumerate(names, start=1):
            item = self.body.graph.add("getitem", (node,), {"index": i}, loc=loc, name=n)
            self.body.env[n] = Traced(item, unbound=n in unbound)  # (a later read checks it is bound)
        return Traced(self.body.graph.add("getitem", (node,), {"index": 0}, loc=loc, name=hint))

    def _expr_node(self, e: cst.BaseExpression, loc: SourceLoc, hint: str) -> Node:
        hint = hint or "value"
        target = self.body.src.target(e, hint)
        source = f"{target} = {self.body.src.expr_code(e)}"
        return self.body.python_node(e, loc, [target], source=source, name=hint)

    def split_names(self, local: list[str], other: list[str]) -> tuple[list[str], list[str]]:
        """Move to ``local`` the names libcst sees as non-local that this body binds (a map body's
        loop variable is a comprehension's own name in the source, but a local of the body)."""
        moved = [n for n in other if n in self.body.env or n in self.body.temps or _outside(self.body, n)]
        if not moved:
            return local, other
        return [*local, *moved], [n for n in other if n not in moved]

    def _is_local(self, name: cst.Name) -> bool:
        try:
            local, _ = self.body.src.free_names(name)
        except KeyError:
            return name.value in self.body.env
        return name.value in local

    # --- static folding ------------------------------------------------------------------------------

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
        if not getattr(fn, "__ayo_workflow__", False):
            return None
        # (`await sub(**params)` of a dict built at run time: its arguments are not known one by
        # one, so the call runs eagerly, as a helper's does)
        return fn if self._spreads_known(e.expression) else None

    def break_call_target(self, e: cst.Await) -> bool:
        """Whether ``await e`` is a graph break; in a comprehension traced unrolled, whether it is
        one for any of its items (``unroll.per_item``)."""
        return bool(unroll.per_item(self.body, e, lambda: self._break_target(e) or None))

    def _break_target(self, e: cst.Await) -> bool:
        forwarded = forwarding.expand(self.body, e.expression) if isinstance(e.expression, cst.Call) else None
        if forwarded is not None:
            return self._break_target(cst.Await(expression=forwarded))
        expanded = self._expanded_partial(e)
        if expanded is not None:
            call, temps = expanded
            self.body.temps.update(temps)
            try:
                return self.break_call_target(cst.Await(expression=call))
            finally:
                for k in temps:
                    self.body.temps.pop(k, None)
        if self.no_chat_template(e):
            return True  # (raising `NoChatTemplate` where it stands, as eagerly)
        if self.static_at_run_time(e) is not None:
            return dispatch.choice(self.body, e) is None  # (a choice among a few constants traces)
        if (
            self.primitive_of(e) is None
            and self.workflow_of(e) is None
            and self.helper_of(e) is None
            and not traceable_await(self.body, e)
            and not awaits_outcome(self.body, e)
            and dispatch.choice(self.body, e) is None
        ):
            self._unroll_callee(e)
            return True
        return False

    def _unroll_callee(self, e: cst.Await) -> None:
        """An await the tracer cannot follow whose callee is the item of a loop or comprehension over
        constants (`for step in (research, write): state = await step(state)`): unrolled, where the
        callee is known (``unroll.request``)."""
        func = e.expression.func if isinstance(e.expression, cst.Call) else None
        if func is None:
            return
        attrs = {id(n.attr) for n in walk(func) if isinstance(n, cst.Attribute)}
        reads = {n.value for n in walk(func) if isinstance(n, cst.Name) and id(n) not in attrs}
        if reads:  # (the root of `step.run`, and of `TOOLS[name]` the key `name` too)
            unroll.request(self.body, e, reads)

    def messages_at_run_time(self, m: cst.BaseExpression) -> bool:
        """Whether ``ayo.llm(messages=m)`` gets a list built when the workflow runs (a chat history
        grown by ``append``, a helper's result, a literal splicing one in: ``[*history,
        ayo.user(q)]``): its turns cannot be a prompt template, so the call runs eagerly, as a graph
        break (``chat_calls.py`` traces literals and constants)."""
        if isinstance(m, cst.List | cst.Tuple):  # (or a message held in a name: `[msg]`)
            return any(
                self.try_static(el.value) is None
                if isinstance(el, cst.StarredElement)
                else not self.message_literal(el.value)
                for el in m.elements
            )
        return self.try_static(m) is None

    def _arguments_first(self, e: cst.Await, loc: SourceLoc) -> tuple[cst.Await, list[str]]:
        """``await ayo.<op>(...)`` of a gather returning exceptions (or ``as_completed``), the parts
        of its data arguments that may raise (a call, an item, an attribute: ``int(d)`` in
        ``f"Say {int(d)}"``, ``row["text"]``) evaluated here, before the ``try`` that makes the
        call's error its value: Python evaluates them making the coroutine, so their error is
        raised where the gather stands, not returned. A prompt's text around them stays in the
        call (its template). The call's arguments then name them (``temps``, for the caller to
        drop)."""
        call = e.expression
        if not (isinstance(call, cst.Call) and self.primitive_of(e) is not None):
            return e, []
        temps: list[str] = []

        def made(x: cst.BaseExpression) -> cst.BaseExpression:
            if isinstance(x, cst.FormattedString):
                return x.with_changes(
                    parts=[
                        p.with_changes(expression=made(p.expression))
                        if isinstance(p, cst.FormattedStringExpression)
                        else p
                        for p in x.parts
                    ]
                )
            if isinstance(x, cst.ConcatenatedString | cst.BinaryOperation) and not (
                isinstance(x, cst.BinaryOperation) and not isinstance(x.operator, cst.Add)
            ):
                return x.with_changes(left=made(x.left), right=made(x.right))
            if not any(isinstance(n, cst.Call | cst.Subscript | cst.Attribute) for n in walk(x)):
                return x
            name = f"__ayo_made_{id(call)}_{len(temps)}"
            self.body.temps[name] = Traced(self.body.materialize(self.expr(x, loc, "part"), loc, "part"))
            temps.append(name)
            return cst.Name(name)

        args = [
            a if a.star or a.keyword is not None else a.with_changes(value=made(a.value)) for a in call.args
        ]
        return (cst.Await(expression=call.with_changes(args=args)) if temps else e), temps

    def _expanded_partial(self, e: cst.Await) -> tuple[cst.Call, dict[str, Static]] | None:
        """The call a static ``functools.partial`` stands for (see ``partials``)."""
        return partials.expand(self.body, e.expression)

    def await_expr(self, e: cst.Await, loc: SourceLoc, hint: str | None) -> Value:
        call = e.expression
        call_loc = self.body.src.loc(e) if e in self.body.src.positions else loc
        forwarded = forwarding.expand(self.body, call) if isinstance(call, cst.Call) else None
        if forwarded is not None:  # `await fn(*args, **kwargs)` of a helper's own parameters
            return self.await_expr(cst.Await(expression=forwarded), call_loc, hint)
        caught = self.body.deps.caught
        if id(call) in caught:  # a call of `gather(..., return_exceptions=True)`: its error is its value
            outcomes = caught.pop(id(call))
            made, made_temps = self._arguments_first(e, loc)
            try:
                return try_except.caught(
                    self.body,
                    lambda c: c.exprs.await_expr(made, loc, hint),
                    call_loc,
                    hint or "value",
                    outcomes,
                )
            finally:
                caught[id(call)] = outcomes
                for t in made_temps:
                    del self.body.temps[t]
        expanded = self._expanded_partial(e)
        if expanded is not None and not self.break_call_target(e):
            new_call, temps = expanded
            self.body.temps.update(temps)
            try:
                return self.await_expr(cst.Await(expression=new_call), call_loc, hint)
            finally:
                for k in temps:
                    self.body.temps.pop(k, None)
        op = self.primitive_of(e)
        if op is not None and self.static_at_run_time(e) is None and not self.no_chat_template(e):
            assert isinstance(call, cst.Call)
            return Traced(self.primitive_call(op, call, call_loc, hint))
        wf = self.workflow_of(e)
        if wf is not None:
            assert isinstance(call, cst.Call)
            return self.inline_workflow(wf, call, call_loc)
        helper = self.helper_of(e)
        if helper is not None:
            assert isinstance(call, cst.Call)
            return self.inline_helper(helper, call, call_loc)
        gathered = awaited(self.body, e, loc, hint) or awaited_outcome(self.body, e, loc, hint)
        if gathered is not None:  # gather, tasks, `await fut` of `asyncio.as_completed`
            return gathered
        found = dispatch.choice(self.body, e)  # await TOOLS[name](q): a cond over what it may call
        if found is not None:
            return dispatch.dispatch(self.body, e, found, call_loc, hint or "value")
        # anything else runs eagerly where it stands: a graph break of this one await (unless its
        # callee is the item of a loop over constants: unrolled)
        self._unroll_callee(e)
        name = self.body.src.target(e, hint or "value")
        reason = self.await_break_reason(e)
        # a primitive with no effect whose value depends on its arguments only (an llm call with a
        # run-time seed=) needs no place among the effects: calls in a map's items run at once
        spec = primitive_spec(op) if op is not None else None
        pure = spec is not None and spec.pure and spec.order_free
        node = self.body.python_node(
            e,
            call_loc,
            [name],
            source=f"{name} = {self.body.src.expr_code(e)}",
            is_async=True,
            op="break",
            reason=reason,
            effect=not pure,
            name=hint or "value",
        )
        if pure and not node.attrs["code"].effect and not self.body.mutated_locals(e):
            node.attrs["pure"] = True  # (nothing its arguments run changes state: `note(2)` might)
        return Traced(node)

    def await_break_reason(self, e: cst.Await) -> str:
        """Why ``await e`` is a graph break (it awaits something the tracer does not trace)."""
        call = e.expression
        if isinstance(call, cst.Call) and self.callee(call) is asyncio.wait_for:
            # A timeout is a deadline on the call: eagerly, `TimeoutError` after `timeout` seconds,
            # which the code around may catch. Run as a break, the call keeps exactly that meaning
            # (the runtime has no per-node deadline that raises `TimeoutError`).
            return "asyncio.wait_for around an await: the call runs eagerly, under its timeout"
        if self.no_chat_template(e):
            return "ayo.llm(messages=...) on an LLM engine with no chat template: the call runs eagerly, raising its error where it stands"
        interleaving = interleaved(self.body, e)
        if interleaving is not None:
            return f"a gather whose calls Python interleaves runs eagerly, as written: {interleaving}"
        if self.reordered(e):
            return (
                "a statement whose code Python runs before its await touches an object the awaited "
                "call may change (or changes one it reads, or changes anything, which Python does "
                "even when the call fails): run as written, in Python's order"
            )
        if id(e) in self.body.deps.fallbacks:  # the last arm of `await TOOLS[name](q)` (dispatch.py)
            return (
                "a call of a function (or with a graph constant) computed when the workflow runs that is "
                "none of those it may be when traced (Python's KeyError for a missing key, an entry "
                "added since): it runs eagerly"
            )
        if isinstance(call, cst.Call) and user_code.behind_library_decorator(self.callee(call)):
            return (
                "a call behind a library's decorator (retrying, tracing spans): it runs eagerly, as written"
            )
        recursive = self.eager_recursion(e)
        if recursive is not None:
            return (
                f"a call of `{recursive}`, which recurses on values known only when the workflow runs: "
                "it runs eagerly (to trace it, make the argument that ends the recursion static, or loop)"
            )
        # the call itself, or a primitive call it awaits (a gather's comprehension of such calls)
        calls = (cst.Await(expression=n) for n in self._calls_awaited_by(call) if isinstance(n, cst.Call))
        found = ((self.static_at_run_time(a), a) for a in calls)
        keyword, at = next(((k, a) for k, a in found if k is not None), (None, e))
        if keyword is not None:
            return (
                f"{keyword} of ayo.{self.primitive_of(at)}() is computed when the workflow runs: the call "
                f"runs eagerly (to trace it, give {keyword} a constant or a workflow parameter as it is)"
            )
        callee = self.callee(call) if isinstance(call, cst.Call) else None
        named = getattr(callee, "__ayo_workflow__", False) or inspect.iscoroutinefunction(callee)
        if isinstance(call, cst.Call) and named and not self._spreads_known(call):
            spread = next(a for a in call.args if a.star)
            return (
                f"a call with `{spread.star}{self.body.src.code(spread.value).strip()}` built when the workflow "
                "runs: its arguments are not known one by one, so it runs eagerly (to trace it, pass each "
                "argument as it is)"
            )
        return "await of something that is not an ayo primitive, workflow or traced helper"

    def reordered(self, e: cst.Await) -> bool:
        """Whether ``e``, or an await in it, is of a statement run as written to keep Python's order
        of evaluation (``operand_order``)."""
        return any(self._await_key(a) in self.body.deps.reordered for a in [e, *awaits_in(e.expression)])

    def _await_key(self, e: cst.Await) -> tuple[str, int]:
        """An await's code and line (the compiler may hand on a copy of the tree's node)."""
        src = self.body.src
        return src.expr_code(e), src.loc(e).line if e in src.positions else -1

    def _calls_awaited_by(self, e: cst.BaseExpression) -> list[cst.CSTNode]:
        """The nodes of ``e`` and, for a ``*coros`` it unpacks, of the comprehension ``coros`` was
        assigned from (``coros = [ayo.llm(...) for ...]`` then ``gather(*coros)``)."""
        out = list(walk(e, _in_scope))
        for arg in [n for n in out if isinstance(n, cst.Arg) and n.star == "*"]:
            name = arg.value
            rhs = unpacking.only_assignment(self.body, name.value) if isinstance(name, cst.Name) else None
            if isinstance(rhs, cst.ListComp | cst.GeneratorExp):
                out += walk(rhs.elt, _in_scope)
        return out

    def bind_call(self, fn: Callable[..., Any], call: cst.Call, loc: SourceLoc) -> dict[str, Any]:
        """The call's argument expressions by the parameters of ``fn`` they bind to, in the order
        Python evaluates them: as written, the positional ones first, then the keywords (a tuple of
        them for ``*args``, a dict for ``**kwargs``)."""
        args = unpacking.expand(self.body, call, loc) if any(a.star for a in call.args) else call.args
        sig = inspect.signature(fn)
        positional = [a.value for a in args if a.keyword is None]
        keywords = {a.keyword.value: a.value for a in args if a.keyword is not None}
        try:
            bound = sig.bind(*positional, **keywords)
        except TypeError as err:
            raise TraceError(f"bad call to {fn.__name__}: {err}", loc=loc, construct="call") from err
        written = {id(e): i for i, e in enumerate([*positional, *keywords.values()])}

        def first(value: Any) -> int:  # (`*args` and `**kwargs` by their first argument)
            if isinstance(value, tuple | dict):
                value = next(iter(value.values() if isinstance(value, dict) else value), None)
            return written.get(id(value), len(written))

        return dict(sorted(bound.arguments.items(), key=lambda kv: first(kv[1])))

    def inline_workflow(self, wf: Any, call: cst.Call, loc: SourceLoc) -> Value:
        bound = self.bind_call(wf.signature_fn, call, loc)
        src = wf.source()
        env: dict[str, Value] = {}
        sig = inspect.signature(wf.signature_fn)
        given: dict[str, Value] = {}  # (evaluated as written)
        for pname, e in bound.items():
            kind = sig.parameters[pname].kind
            if kind is inspect.Parameter.VAR_POSITIONAL:  # `*parts`: a tuple of the extra arguments
                given[pname] = self.packed(pname, [self.expr(x, loc, pname) for x in e], None, loc)
            elif kind is inspect.Parameter.VAR_KEYWORD:  # `**opts`: a dict of the extra keywords
                given[pname] = self.packed(pname, [self.expr(x, loc, k) for k, x in e.items()], list(e), loc)
            else:
                given[pname] = self.expr(e, loc, pname)
        for pname, param in sig.parameters.items():
            if pname in given:
                env[pname] = given[pname]
            elif param.default is not inspect.Parameter.empty:
                env[pname] = Static(param.default)
            elif param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                none: list[str] | None = None if param.kind is inspect.Parameter.VAR_POSITIONAL else []
                env[pname] = self.packed(pname, [], none, loc)
        if getattr(wf, "bound_self", None) is not None:  # `self`: the method's own first parameter
            env[next(iter(inspect.signature(wf.fn).parameters))] = Static(wf.bound_self)
        self.check_depth(call, loc, None)
        return self.body.inlined(src, env).compile_function()

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
                if compiler.map_comprehension(n) or compiler.branching_await(n):
                    targets.append(n)
                    return False
                return not isinstance(n, cst.FunctionDef | cst.Lambda | cst.ClassDef)

        visit(node, Find())
        replacements: dict[cst.CSTNode, cst.CSTNode] = {}
        if any(isinstance(t, cst.Await) and self.break_call_target(t) for t in targets):
            return None, frozenset()
        if operand_order.reordered(self.body, node, targets):
            self.body.deps.reordered.update(self._await_key(t) for t in targets if isinstance(t, cst.Await))
            return None, frozenset()  # (run as written: a graph break)
        for t in targets:
            value = self.expr(t, self.body.src.loc(t), "value")  # type: ignore[arg-type]
            n = self.body.materialize(value, loc, "value")
            temp = n.name if not keyword.iskeyword(n.name) else f"{n.name}_value"  # (a graph break's `break`)
            self.body.temps[temp] = Traced(n)
            replacements[t] = cst.Name(temp)
        by_id = {id(old): repl for old, repl in replacements.items()}

        class Replace(cst.CSTTransformer):  # one pass: each replacement copies the nodes around it
            def on_leave(self, original: cst.CSTNode, updated: cst.CSTNode) -> Any:
                return by_id.get(id(original), updated)

        new = node.visit(Replace())
        assert isinstance(new, cst.CSTNode)
        return new, frozenset(id(t) for t in targets)

    def free_excluding(self, node: cst.CSTNode, exclude: frozenset[int]) -> tuple[list[str], list[str]]:
        """``free_names`` of ``node`` without the subtrees in ``exclude`` (lifted awaits)."""
        local: dict[str, None] = {}
        other: dict[str, None] = {}
        src = self.body.src
        root = node

        class V(cst.CSTVisitor):
            def on_visit(self, n: cst.CSTNode) -> bool:
                if id(n) in exclude:
                    return False
                if isinstance(n, cst.Name):
                    lo, ot = src.free_names(n, root)
                    local.update(dict.fromkeys(lo))
                    other.update(dict.fromkeys(ot))
                return True

        visit(node, V())
        return list(local), list(other)


def walrus_targets(e: cst.CSTNode) -> list[tuple[str, bool]]:
    """``(name, maybe)`` for each ``name := ...`` in ``e`` outside nested functions (in a
    comprehension too: it binds the function's name, PEP 572); ``maybe``: it is evaluated on some
    paths only (right of ``and``/``or``, in a branch of a conditional expression, in a
    comprehension, which binds it only when an item reaches it)."""
    out: dict[str, bool] = {}

    def walk(n: cst.CSTNode, maybe: bool) -> None:
        if isinstance(n, cst.Lambda):
            return
        if isinstance(n, cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp):
            for child in n.children:
                walk(child, True)
            return
        if isinstance(n, cst.NamedExpr) and isinstance(n.target, cst.Name):
            out[n.target.value] = out.get(n.target.value, True) and maybe
            walk(n.value, maybe)
            return
        if isinstance(n, cst.BooleanOperation):
            walk(n.left, maybe)
            walk(n.right, True)
            return
        if isinstance(n, cst.IfExp):
            walk(n.test, maybe)
            walk(n.body, True)
            walk(n.orelse, True)
            return
        for child in n.children:
            walk(child, maybe)

    walk(e, False)
    return list(out.items())


def _outside(body: Any, name: str) -> bool:
    """Whether ``name`` is a variable of a function around the one ``body`` compiles (the workflow
    around a helper it defines, through helpers calling helpers and the bodies of each: a handler's,
    a branch's), which the helper reads as Python's closure would."""
    c = body
    while c is not None:
        while c.parent is not None:
            c = c.parent
        c = c.enclosing
        if c is not None and c.is_bound(name):
            return True
    return False
