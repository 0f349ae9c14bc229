"""``try``/``except``/``else``/``finally`` around primitives, traced as a ``try`` node.

The body, each handler, the ``else`` and the ``finally`` become subgraphs. The runtime runs the body
and, on an error, the first handler whose classes match the exception the user's code would have
seen eagerly (``except ayo.EngineError as e``, ``except MyError``, ``except Exception``, a bare
``except``); ``e`` is the handler's first input, and it is unbound after the statement as Python
leaves it. The node's value holds every name the statement binds.

A subgraph that fails gives no partial results, so the statement is traced only where that loses
nothing Python would keep (otherwise it stays a graph break):

* names the body binds are bound by its last statement only, or else every handler binds them all
  (or re-raises) and reads none of them first;
* ``finally`` binds nothing and reads nothing the other parts bind;
* no ``return``, ``break``/``continue``, bare ``raise`` or ``except*``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import PyCode, SourceLoc, compile_statement
from ..ir.graph import Graph, Node
from .control_flow import BROKE, _branch_stmts, _has_return, align, bound_names, jumps
from .state import contains_await
from .values import Traced

if TYPE_CHECKING:
    from .compiler import Compiler

CATCH = "__ayo_catch"


def try_statement(comp: Compiler, stmt: cst.Try, loc: SourceLoc) -> bool:
    """Compile ``stmt`` into a ``try`` node; False when it must stay a graph break (see above)."""
    if not contains_await(stmt) or _has_return(stmt) or jumps(stmt) or _bare_raise(stmt.handlers):
        return False
    body = _branch_stmts(stmt.body)
    body_names = bound_names(comp, body)
    if any(comp.src.assigned_names(s) for s in body[:-1]):
        for h in stmt.handlers:
            reads = set(comp.src.free_names(h.body)[0])
            if not _reraises(h) and (
                set(body_names) - set(bound_names(comp, [h.body])) or reads & set(body_names)
            ):
                return False
    bind = [
        h.name.name.value if h.name and isinstance(h.name.name, cst.Name) else None for h in stmt.handlers
    ]
    catches = [_catch(comp, h, comp.src.loc(h)) for h in stmt.handlers]
    if any(c is False for c in catches):
        return False
    parts: list[cst.CSTNode] = [*body, *(h.body for h in stmt.handlers)]
    if stmt.orelse is not None:
        parts.append(stmt.orelse.body)
    names = [n for n in bound_names(comp, parts) if n not in bind and n != BROKE]
    final = _branch_stmts(stmt.finalbody.body) if stmt.finalbody is not None else []
    if final:
        final_reads = set(comp.src.free_names(stmt.finalbody.body)[0])  # type: ignore[union-attr]
        if bound_names(comp, final) or final_reads & {*names, *(b for b in bind if b)}:
            return False

    children: list[tuple[str, Compiler, list[Node]]] = []

    def part(role: str, stmts: list[cst.BaseStatement], first: list[str]) -> Compiler:
        child = type(comp)(comp.src, Graph(role), {}, comp.deps, parent=comp)
        inputs = []
        for n in first:
            inp = child.graph.add("input", (), {"name": n}, name=n)
            child.env[n] = Traced(inp)
            inputs.append(inp)
        child.block(stmts, top=False)
        children.append((role, child, inputs))
        return child

    part("body", body, [])
    for k, h in enumerate(stmt.handlers):
        part(f"except{k}", _branch_stmts(h.body), [bind[k] or "exc"])
    if stmt.orelse is not None:
        part("orelse", _branch_stmts(stmt.orelse.body), names)
    if final:
        part("finalbody", final, [])
    unbound: set[str] = set()
    for role, child, _ in children:
        if role == "finalbody":
            child.graph.add("output", [child.const(None, loc)])
            continue
        outs = []
        for n in names:
            try:
                outs.append(child.materialize(child.lookup_local(n, loc), loc, n))
            except TraceError:
                unbound.add(n)
                outs.append(child.const(None, loc, n))
        child.graph.add("output", outs or [child.const(None, loc)])
    order: list[str] = []
    for _, child, _ in children:
        order.extend(n for n in child.captures if n not in order)
    for _, child, inputs in children:
        for n in order:
            if n not in child.captures:
                child.lookup_local(n, loc)
        align(child, inputs, order)
    captured = [next(c.captures[n][0] for _, c, _ in children if n in c.captures) for n in order]
    graphs = {role: child.graph for role, child, _ in children}
    attrs: dict[str, Any] = {
        "body": graphs["body"],
        "handlers": tuple(graphs[f"except{k}"] for k in range(len(stmt.handlers))),
        "catches": tuple(catches),
        "bind": tuple(bind),
        "orelse": graphs.get("orelse"),
        "finalbody": graphs.get("finalbody"),
        "names": tuple(names),
    }
    node = comp.emit("try", captured, attrs, loc, "try")
    for i, n in enumerate(names):
        comp.env[n] = Traced(comp.graph.add("getitem", (node,), {"index": i}, loc=loc, name=n))
    for n in unbound:
        comp.maybe_unbound[n] = (loc, comp.env[n])
    for b in bind:
        # Python deletes `e` after its handler: unbound after the statement if the handler ran
        if b is not None and comp.is_bound(b) and b in comp.env:
            comp.maybe_unbound[b] = (loc, comp.env[b])
        elif b is not None:
            comp.env.pop(b, None)
    return True


def _catch(comp: Compiler, handler: cst.ExceptHandler, loc: SourceLoc) -> PyCode | bool | None:
    """The code that gives the handler's exception class(es); None for a bare ``except``; False when
    the classes depend on traced values."""
    if handler.type is None:
        return None
    local, other = comp.src.free_names(handler.type)
    if local:
        return False
    bindings: dict[str, Any] = {}
    for n in other:
        bindings.update(comp.closure_binding(n))
    code = PyCode(
        source=f"{CATCH} = {comp.src.code(handler.type).strip()}",
        params=(),
        returns=(CATCH,),
        module=getattr(comp.src.fn, "__module__", "") or "",
        filename=comp.src.filename,
        line=loc.line,
        bindings=bindings,
    )
    object.__setattr__(code, "fn", compile_statement(code, comp.src.fn.__globals__))
    return code


def _reraises(handler: cst.ExceptHandler) -> bool:
    last = handler.body.body[-1] if handler.body.body else None
    return isinstance(last, cst.SimpleStatementLine) and any(isinstance(s, cst.Raise) for s in last.body)


def _bare_raise(handlers: Any) -> bool:
    found = False

    class V(cst.CSTVisitor):
        def visit_Raise(self, n: cst.Raise) -> None:
            nonlocal found
            found = found or n.exc is None

    for h in handlers:
        h.visit(V())
    return found
