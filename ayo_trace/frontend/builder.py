"""The builder interface: what the modules that compile parts of a workflow body use of the body
being compiled.

``compiler.Compiler`` compiles a body's statements and implements ``Builder``; it owns an
``expressions.ExpressionCompiler`` (``exprs``, the ``Expressions`` protocol here) that compiles the
body's expressions. The modules that compile one kind of statement (``control_flow``,
``map_loops``, ``matching``, ``try_except``, ``try_returns``, ``returning``, ``parallel``) and the
expression compiler see a body only through ``Builder``: they add nodes to its graph, read and bind
its names, compile nested statements, and open nested bodies (``nested``: a branch or loop body
with its own graph; ``inlined``: a helper or workflow inlined into this graph). The state of a body
(its graph, names, temporaries, captures) lives in the ``Builder`` only. None of these modules
imports the compiler, so imports point one way: ``compiler`` → the statement modules and
``expressions`` → ``builder``.

The pieces every kind of body shares are here too: the program-order ``Chain``, the ``Returned``
signal of a ``return``, and ``cond_node``, a ``cond`` over two branch bodies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import libcst as cst

from ..ir.code import SourceLoc
from ..ir.graph import Graph, Node
from .deps import TraceDeps
from .source import FunctionSource
from .values import Static, Text, Traced, Value


@dataclass
class Chain:
    """The last statement-level node of a body, for program-order edges."""

    last: Node | None = None


class Returned(Exception):
    """A ``return`` compiled in a body whose statements end there: ``value`` is what it returns."""

    def __init__(self, value: Value) -> None:
        self.value = value


class Builder(Protocol):
    """One body being compiled into ``graph`` (see the module docstring)."""

    src: FunctionSource
    graph: Graph
    env: dict[str, Value]
    deps: TraceDeps
    temps: dict[str, Value]  # names the compiler binds for the code it generates (`__ayo_…`)
    chain: Chain
    depth: int  # how many helpers or workflows are inlined around this body
    parent: Builder | None  # the body around this one (another graph: its values are captured)
    caller: Builder | None  # the body that inlined this one (same graph)
    catching: bool  # a `try` node's body: an error in it may be caught
    enclosing: Builder | None  # the body whose names an inlined local helper reads
    captures: dict[str, tuple[Node, Node]]  # name -> (outer node, body input)
    # the body of a `for` that could be unrolled: (its key, the names its items reach), unroll.mark
    unrollable: tuple[Any, set[str], tuple[str, str] | None] | None
    comprehension_names: set[str]  # names a comprehension binds in this map body
    local_defs: dict[str, tuple[cst.FunctionDef, Value]]  # async defs of this body
    forwarded: dict[str, Any]  # a helper's *args/**kwargs (``forwarding.bind``)
    # a helper's parameters: what of its caller each may reach (``param_parts.Part``)
    parts: dict[str, list[Any]]
    handling: str | None  # in a handler's body: the name of the error it handles
    exprs: Expressions  # the expression compiler of this body

    # --- bodies ------------------------------------------------------------------------------------

    def nested(self, label: str) -> Builder:
        """A new body (a branch, a loop or map body) with a graph of its own, inside this one."""
        ...

    def inlined(self, src: FunctionSource, env: dict[str, Value]) -> Builder:
        """A helper's or workflow's body, inlined into this graph in program order."""
        ...

    def compile_function(self) -> Value: ...

    def block(self, stmts: Sequence[Any], *, top: bool) -> None: ...

    def statement(self, stmt: cst.BaseStatement, *, top: bool) -> None: ...

    def small_statement(self, small: cst.BaseSmallStatement, line: cst.CSTNode, loc: SourceLoc) -> None: ...

    def loop_statement(self, stmt: cst.BaseStatement, loc: SourceLoc, rest: list[cst.BaseStatement]) -> bool:
        """A compound statement of a loop body that may ``break``/``continue`` (a ``match``, a
        ``try``, a nested loop: ``nested_loops.py``), with ``rest`` the body after it: True once
        compiled."""
        ...

    def python_statement(
        self, stmt: cst.CSTNode, loc: SourceLoc, names: list[str], *, effect: bool
    ) -> None: ...

    def statement_break(
        self, stmt: cst.CSTNode, loc: SourceLoc, reason: str, source: str | None = None
    ) -> None: ...

    def rest_break(self, stmts: list[cst.BaseStatement], reason: str | None = None) -> None:
        """The rest of the function (``stmts``) runs eagerly: raises ``Returned``."""
        ...

    # --- nodes -------------------------------------------------------------------------------------

    def emit(
        self,
        op: str,
        args: list[Node] | tuple[Node, ...],
        attrs: dict[str, Any],
        loc: SourceLoc | None,
        name: str | None = None,
    ) -> Node: ...

    def const(self, value: Any, loc: SourceLoc | None, name: str = "const") -> Node: ...

    def materialize(self, value: Value, loc: SourceLoc | None, name: str = "value") -> Node: ...

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
    ) -> Node: ...

    def rebind(self, names: list[str], node: Node, loc: SourceLoc) -> None: ...

    def static_test(self, test: cst.BaseExpression) -> Static | None:
        """The value of an ``if``/``while`` test known at trace time (None: traced)."""
        ...

    # --- names -------------------------------------------------------------------------------------

    def lookup_local(self, name: str, loc: SourceLoc, *, raw: bool = False) -> Value: ...

    def lookup_enclosing(self, name: str, loc: SourceLoc) -> Value: ...

    def capture(self, name: str, outer: Node) -> None: ...

    def is_bound(self, name: str) -> bool: ...

    def leave_unbound(self, name: str, stmt: cst.CSTNode, loc: SourceLoc) -> None: ...

    def mutated_locals(self, stmt: cst.CSTNode) -> list[str]: ...

    def closure_binding(self, name: str, *, contents: bool = True) -> dict[str, Any]: ...


class Expressions(Protocol):
    """The expression compiler of one body (``expressions.ExpressionCompiler``): what the statement
    side asks of it, and what its parts ask of each other. It reads and adds to ``body`` only
    through ``Builder``."""

    body: Builder

    def expr(self, e: cst.BaseExpression, loc: SourceLoc, hint: str, *, text: bool = True) -> Value: ...

    def await_expr(self, e: cst.Await, loc: SourceLoc, hint: str | None) -> Value: ...

    def break_call_target(self, e: cst.Await) -> bool: ...

    def await_break_reason(self, e: cst.Await) -> str: ...

    def reordered(self, e: cst.Await) -> bool: ...

    def try_static(self, e: cst.BaseExpression, *, iterator: bool = False) -> Static | None: ...

    def known_defaults(self, fn: cst.FunctionDef) -> dict[str, Any]: ...

    def try_static_callable(self, func: cst.BaseExpression) -> Static | None: ...

    def value_now(self, e: cst.BaseExpression) -> Static | None: ...

    def static_arguments(self, args: Sequence[cst.Arg]) -> tuple[list[Any], dict[str, Any]] | None: ...

    def static_arg(self, e: cst.BaseExpression, name: str, op: str, loc: SourceLoc) -> Any: ...

    def static_at_run_time(self, e: cst.Await) -> str | None: ...

    def param_of(self, value: Value) -> str | None: ...

    def messages_at_run_time(self, m: cst.BaseExpression) -> bool: ...

    def no_chat_template(self, e: cst.Await) -> bool: ...

    def primitive_of(self, e: cst.Await) -> str | None: ...

    def eager_recursion(self, e: cst.Await) -> str | None: ...

    def callee(self, call: cst.Call) -> Any: ...

    def bind_call(self, fn: Any, call: cst.Call, loc: SourceLoc) -> dict[str, Any]: ...

    def chat_prompt(
        self, e: cst.BaseExpression, engine: str | None, loc: SourceLoc
    ) -> tuple[Any, list[Node]]: ...

    def comprehension_map(self, e: Any, loc: SourceLoc, hint: str, *, awaits: bool = False) -> Value: ...

    def call_map(
        self, func: cst.BaseExpression, iterable: cst.BaseExpression, loc: SourceLoc, hint: str
    ) -> Value: ...

    def helper_of(self, e: cst.Await) -> Any: ...

    def inline_helper(self, helper: Any, call: cst.Call, loc: SourceLoc) -> Value: ...

    def check_depth(self, call: cst.Call, loc: SourceLoc, callee: Any) -> None: ...

    def split_names(self, local: list[str], other: list[str]) -> tuple[list[str], list[str]]: ...

    def map_comprehension(self, e: cst.CSTNode) -> bool: ...

    def branching_await(self, e: cst.CSTNode) -> bool: ...

    def lift_awaits(self, node: cst.CSTNode, loc: SourceLoc) -> tuple[cst.CSTNode | None, frozenset[int]]: ...

    def free_excluding(self, node: cst.CSTNode, exclude: frozenset[int]) -> tuple[list[str], list[str]]: ...

    def as_text(
        self, e: cst.BaseExpression, loc: SourceLoc, name: str, stmt: cst.CSTNode | None = None
    ) -> Text | Traced | None: ...


def cond_node(
    parent: Builder,
    pred: Node,
    branches: Sequence[Builder],
    loc: SourceLoc,
    name: str,
    captured: dict[str, Node] | None = None,
) -> Node:
    """A ``cond`` node in ``parent`` choosing between two branch bodies (``then``, ``orelse``): every
    outer value either branch reads is an input of the node, in one order (those in ``captured``
    first), and each branch takes them all as its inputs in that order (an input it does not read,
    or binds first, included)."""
    captured = dict(captured or {})
    for child in branches:
        for n, (outer, _) in child.captures.items():
            captured.setdefault(n, outer)
    order = list(captured)
    for child in branches:
        for n in order:
            child.capture(n, captured[n])
        align_inputs(child, order)
    return parent.emit(
        "cond",
        [pred, *(captured[n] for n in order)],
        {"then": branches[0].graph, "orelse": branches[1].graph},
        loc,
        name,
    )


def align_inputs(child: Builder, order: list[str], first: Node | None = None) -> None:
    """Put the body's input nodes first, in ``order`` (after ``first``, the map item)."""
    inputs = [first] if first is not None else []
    inputs += [child.captures[n][1] for n in order]
    rest = [n for n in child.graph.nodes if n not in inputs]
    child.graph.nodes = inputs + rest
