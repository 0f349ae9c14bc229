"""``try``/``except``/``else``/``finally`` around primitives, traced as a ``try`` node.

The body, each handler, the ``else`` and the ``finally`` become subgraphs. The runtime runs the body
and, on an error, the first handler whose classes match the exception the user's code would have
seen eagerly (``except ayo.EngineError as e``, ``except MyError``, ``except Exception``, a bare
``except``); ``e`` is the handler's first input, and it is unbound after the statement as Python
leaves it. A bare ``raise`` in a handler (``if attempt == 2: raise``) raises that input again
(``reraising``). The node's value holds every name the statement binds.

A subgraph that fails gives no partial results, so the statement is traced only where that loses
nothing Python would keep (otherwise it stays a graph break):

* names the body binds are bound by its last statement only (the one before a trailing ``break``,
  ``continue`` or ``return x`` in a loop; of a last ``if``, ``match`` or nested ``try`` that awaits,
  the last statement of each part, likewise: ``_bound_early``), or else every handler binds them
  all (or ends by raising) and reads none of them first;
* a loop awaiting in the body binds or changes no name read after the statement or by a handler
  (unless every handler raises): Python keeps what the items before a failing one did;
* ``finally`` binds nothing and reads nothing the other parts bind;
* ``break``/``continue`` only at the end of a part in a loop body; no bare ``raise`` in a function
  a handler defines, no ``except*``; a ``return`` only where ``try_returns.py`` takes it (in the
  function's own body, reached through ``if``s of a part).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import UNBOUND, PyCode, SourceLoc, compile_statement
from ..ir.graph import Node
from . import aliases, impure, normalize
from .control_flow import (
    BROKE,
    JUMP,
    PART,
    RETURNED,
    _branch_stmts,
    _has_return,
    align,
    bound_names,
    branch,
    capture,
    in_part,
    jump_block,
    jumps,
    leaves_surely,
)
from .returns import UnboundRead, held_unbound, may_be_unbound, reads_outside
from .state import accumulated, ancestors, contains_await, walk
from .try_reasons import (
    BARE_RAISE,
    BOUND_EARLY,
    CLASS_AT_RUN_TIME,
    FINALLY_JUMPS,
    FINALLY_NAMES,
    FINALLY_RETURNS,
    KEEPS_PROGRESS,
    bare_raise_in_def,
    refused,
)
from .try_tails import before_last_await
from .values import Static, Traced, Value
from .visiting import visit

if TYPE_CHECKING:
    from .builder import Builder

CATCH = "__ayo_catch"
HANDLED = "__ayo_exc"  # a handler's error, when it binds no name


def try_statement(
    comp: Builder,
    stmt: cst.Try,
    loc: SourceLoc,
    rest: list[cst.BaseStatement] | None = None,
    *,
    finally_after: bool = False,
    returns: bool = False,
) -> bool:
    """Compile ``stmt`` into a ``try`` node; False when it must stay a graph break (see above).

    In a loop body, ``rest`` is the body after the statement, and a part of it may ``break`` or
    ``continue``, at its end (``except ayo.EngineError: continue``) or in an ``if`` of it (``if
    not r: continue``: that part then sets ``JUMP`` where the jump stands, ``control_flow.in_part``):
    the node then also outputs which jump ran, and the rest of the body runs only when none did.
    ``finally_after``: the ``finally`` is compiled after the node by the caller
    (``_finally_after``), not into it. ``returns``: a part may
    ``return`` (``try_returns.py``): the caller has bound ``RETURNED``/``RESULT``, which the node
    also outputs, and the ``else`` runs only when the body did not return."""
    if _has_return(stmt) and not returns:
        return False
    if bare_raise_in_def(stmt.handlers):
        return refused(comp, stmt, BARE_RAISE)
    if returns and stmt.finalbody is not None and _has_return(stmt.finalbody):
        return refused(comp, stmt, FINALLY_RETURNS)  # a `return` in `finally` overrides the others
    if rest is None and not returns and (jumps(stmt) or not contains_await(stmt)):
        return False
    if not finally_after and rest is None and _finally_after(comp, stmt, loc, returns=returns):
        return True
    if rest is not None and stmt.finalbody is not None and jumps(stmt.finalbody):
        return refused(comp, stmt, FINALLY_JUMPS)
    if rest is not None and stmt.finalbody is not None and not finally_after and _plain_finally(comp, stmt):
        return try_statement(comp, stmt, loc, rest, finally_after=True, returns=returns)
    body = _branch_stmts(stmt.body)
    early: set[str] = set()  # names bound before the body's last statement, which a failure keeps
    ends = body[:-1] if rest is not None and body and leaves_surely(body[-1]) else body
    early.update(_bound_early(comp, before_last_await(comp, ends, stmt.handlers)))  # (`return x` cannot fail)
    early.discard(BROKE)
    relevant = early & reads_outside(comp, stmt)
    if _loop_keeps_progress(comp, stmt, body):
        return refused(comp, stmt, KEEPS_PROGRESS)
    trouble = {n for h in stmt.handlers for n in comp.src.free_names(h.body)[0] if n in early}
    for h in stmt.handlers:
        if not (_reraises(h) or (returns and _returns(h)) or relevant <= set(bound_names(comp, [h.body]))):
            trouble |= relevant
    if trouble:
        cut = None if returns else _cut(comp, stmt, ends, trouble)
        if cut is None:
            return refused(comp, stmt, BOUND_EARLY)
        return try_statement(comp, cut, loc, rest, finally_after=finally_after)
    bind = [
        h.name.name.value if h.name and isinstance(h.name.name, cst.Name) else None for h in stmt.handlers
    ]
    catches = [_catch(comp, h, comp.src.loc(h)) for h in stmt.handlers]
    if any(c is False for c in catches):
        return refused(comp, stmt, CLASS_AT_RUN_TIME)
    parts: list[cst.CSTNode] = [*body, *(h.body for h in stmt.handlers)]
    if stmt.orelse is not None:
        parts.append(stmt.orelse.body)
    names = [n for n in bound_names(comp, parts) if n not in bind and n != BROKE]
    final = _branch_stmts(stmt.finalbody.body) if stmt.finalbody is not None and not finally_after else []
    if final:
        final_reads = set(comp.src.free_names(stmt.finalbody.body)[0])  # type: ignore[union-attr]
        if bound_names(comp, final) or final_reads & {*names, *(b for b in bind if b)}:
            return refused(comp, stmt, FINALLY_NAMES)

    children: list[tuple[str, Builder, list[Node]]] = []

    if rest is not None:
        if JUMP not in names:  # (in a part around this `try`, its jumps set that part's too)
            names.append(JUMP)
        comp.env[JUMP] = Static("")

    def part(role: str, stmts: list[cst.BaseStatement], first: list[str]) -> Builder:
        child = comp.nested(role)
        child.catching = role == "body" and not normalize.regrouping(stmt)  # (a group's: re-raises)
        if role.startswith("except"):
            child.handling = first[0]  # what a bare `raise` in it re-raises
        inputs = []
        for n in first:
            inp = child.graph.add("input", (), {"name": n}, name="exc" if n == HANDLED else n.strip("_"))
            child.env[n] = Traced(inp, unbound=n in handed_unbound)
            inputs.append(inp)
        nested = rest is not None and _nested_jump(stmts, returns)
        jump = _trailing_jump(stmts[-1]) if rest is not None and stmts and not nested else None

        def fill(c: Builder) -> None:
            run = stmts if jump is None else stmts[:-1]
            if nested:
                c.env[PART] = Static(True)  # a `break`/`continue` in an `if` of it sets `JUMP`
            if returns or nested:
                jump_block(c, run)  # a `return` binds the flag and the value, and ends the part
            else:
                c.block(run, top=False)
            if jump is not None:
                last = stmts[-1]
                assert isinstance(last, cst.SimpleStatementLine)
                for small in last.body[:-1]:
                    c.small_statement(small, last, comp.src.loc(last))
                c.env[JUMP] = Static(jump)
            if returns and rest is not None:  # in a loop body, a return leaves the loop
                c.env[JUMP] = _jump_or_return(c, loc)

        if returns and role == "orelse":  # not after a body that returned
            flag = child.materialize(child.env[RETURNED], loc, "returned")
            branch(child, stmt, flag, lambda c: None, fill, names, loc)
        else:
            fill(child)
        children.append((role, child, inputs))
        return child

    handed_unbound: set[str] = set()  # names the body may hand the `else` as UNBOUND
    body_part = part("body", body, [])
    handed_unbound.update(n for n in names if not body_part.is_bound(n) or held_unbound(body_part, n, loc))
    for k, h in enumerate(stmt.handlers):
        part(f"except{k}", _branch_stmts(h.body), [bind[k] or HANDLED])
    if stmt.orelse is not None:
        part("orelse", _branch_stmts(stmt.orelse.body), names)
    if final:
        part("finalbody", final, [])
    unbound: set[str] = set()
    body_unbound: set[str] = set()
    maybe: set[str] = set()  # names a part hands on as a path left them: maybe UNBOUND
    raising = {f"except{k}" for k, h in enumerate(stmt.handlers) if _reraises(h)}  # (ends with `raise`)
    for role, child, inputs in children:
        if role == "finalbody":
            child.graph.add("output", [child.const(None, loc)])
            continue
        outs = []
        for n in names:
            try:
                value = child.lookup_local(n, loc, raw=True)
                if isinstance(value, Traced) and value.unbound:
                    maybe.add(n)
            except TraceError as unset:
                jumped = child.env.get(JUMP)
                returned = child.env.get(RETURNED) if returns else None
                if (
                    not (isinstance(jumped, Static) and jumped.value)
                    and not (isinstance(returned, Static) and returned.value is True)
                    and role not in raising
                ):  # (a jump, a return or a `raise` skips the reads after the statement)
                    if isinstance(unset, UnboundRead):  # deleted (`del`, `except ... as`): refused
                        (body_unbound if role == "body" else unbound).add(n)
                    else:  # never bound on this path: handed on as UNBOUND
                        maybe.add(n)
                value = Static(UNBOUND)
            if role == "orelse" and n in body_unbound and isinstance(value, Traced) and value.node in inputs:
                unbound.add(n)  # unbound after the body, and the else leaves it alone
            outs.append(child.materialize(value, loc, n))
        child.graph.add("output", outs or [child.const(None, loc)])
    if stmt.orelse is None:
        unbound |= body_unbound
    order: list[str] = []
    for _, child, _ in children:
        order.extend(n for n in child.captures if n not in order)
    for _, child, inputs in children:
        for n in order:
            capture(child, n, loc)
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
        comp.env[n] = Traced(comp.graph.add("getitem", (node,), {"index": i}, loc=loc, name=n.strip("_")))
    may_be_unbound(comp, maybe - unbound)
    for n in unbound:
        comp.leave_unbound(n, stmt, loc)
    for name in bind:
        # Python deletes `e` after its handler: unbound after the statement if the handler ran
        # (libcst's scopes may not see `as e` bind a local: the marker makes later reads of `e`
        # local reads, which the compiler refuses)
        if name is not None:
            comp.leave_unbound(name, stmt, loc)
    if rest is not None:
        if finally_after and stmt.finalbody is not None:  # (on every path: jumped or not)
            comp.block(_branch_stmts(stmt.finalbody.body), top=False)
        _after_jumps(comp, stmt, rest, loc)
    return True


def _cut(comp: Builder, stmt: cst.Try, ends: list[cst.BaseStatement], trouble: set[str]) -> cst.Try | None:
    """``stmt`` as the two ``try`` statements it means when a statement of its body before the last
    (``ends``: before a trailing jump) binds a name in ``trouble`` (read after the statement or by a
    handler, which Python keeps bound when a later statement fails): the body up to that statement,
    whose ``else`` is the rest of the body with the same handlers and ``else``. Python runs the
    same code either way (an error of the handlers or the ``else`` is caught by neither), and each
    part then binds the name by its last statement (``raw = await ayo.llm(...)`` then
    ``json.loads(raw)`` in a retry loop). The ``finally`` stays on the outer one. None when no
    statement before the last binds one (a name bound inside the last statement)."""
    body = _branch_stmts(stmt.body)
    at = next((i for i, s in enumerate(ends[:-1]) if set(bound_names(comp, [s])) & trouble), None)
    if at is None:
        return None
    inner = stmt.with_changes(body=cst.IndentedBlock(body=body[at + 1 :]), finalbody=None)
    outer = stmt.with_changes(
        body=cst.IndentedBlock(body=body[: at + 1]), orelse=cst.Else(body=cst.IndentedBlock(body=[inner]))
    )
    comp.src.stand_in(outer, stmt)
    comp.src.stand_in(inner, stmt, parent=outer)
    return outer


def _jump_or_return(c: Builder, loc: SourceLoc) -> Value:
    """The part's jump, or ``"break"`` when it returned (its ``RETURNED`` flag)."""
    returned = c.lookup_local(RETURNED, loc)
    jumped = c.lookup_local(JUMP, loc)
    if isinstance(returned, Static):
        return Static("break") if returned.value else jumped
    c.temps[RETURNED] = returned
    c.temps[JUMP] = jumped
    source = f"jump = 'break' if {RETURNED} else {JUMP}"
    node = c.python_node(cst.Pass(), loc, ["jump"], source=source, reads=[RETURNED, JUMP], name="jump")
    del c.temps[RETURNED], c.temps[JUMP]
    return Traced(node)


def _finally_after(comp: Builder, stmt: cst.Try, loc: SourceLoc, *, returns: bool = False) -> bool:
    """A ``finally`` that binds or reads names of the other parts (``finally: notes.append("done")``)
    and is plain local code (no await, no jump, no ``raise``): the statement without it, then the
    ``finally``'s statements after. On the path where the rest of the statement raises, the query
    fails with that error and the ``finally``'s local bindings are never seen, so it may change
    nothing outside (``aliases.stays_inside``). False when this does not apply, or when that
    error may be caught (``_guarded``): then the ``finally``'s changes are seen."""
    if stmt.finalbody is None or _guarded(comp, stmt):
        return False
    final = _branch_stmts(stmt.finalbody.body)
    if not aliases.stays_inside(comp.src, final):
        return False  # (what it changes outside the workflow must happen on the failing path too)
    if contains_await(stmt.finalbody) or _exits(stmt.finalbody):
        return False
    parts: list[cst.CSTNode] = [*_branch_stmts(stmt.body), *(h.body for h in stmt.handlers)]
    if stmt.orelse is not None:
        parts.append(stmt.orelse.body)
    if not bound_names(comp, final) and not set(comp.src.free_names(stmt.finalbody.body)[0]) & set(
        bound_names(comp, parts)
    ):
        return False  # the try node runs it itself, on every path
    if stmt.handlers or returns:
        if not try_statement(comp, stmt, loc, finally_after=True, returns=returns):
            return False
    else:
        comp.block(_branch_stmts(stmt.body), top=False)
    comp.block(final, top=False)
    return True


def _plain_finally(comp: Builder, stmt: cst.Try) -> bool:
    """A loop body's ``finally`` that is plain local code (no await, jump, ``return``, ``raise``,
    nothing changed outside) and whose error cannot be caught around it: compiled after the node,
    before the rest of the body (``finally_after``), so it runs whether a part jumped or not; where
    the statement raises, the query fails (as ``_finally_after``)."""
    final = stmt.finalbody
    if final is None or contains_await(final) or _exits(final) or _guarded(comp, stmt):
        return False
    return aliases.stays_inside(comp.src, _branch_stmts(final.body))


def _guarded(comp: Builder, stmt: cst.Try) -> bool:
    """Whether an error leaving ``stmt`` may be caught, so that what its ``finally`` does is seen
    after all: it stands in another ``try`` of its function, or its body is inside a ``try`` node's
    body (its own function's, or a caller's that inlined it)."""
    if any(isinstance(a, cst.Try | cst.TryStar) for a in ancestors(comp.src, stmt)):
        return True
    c: Builder | None = comp
    while c is not None:
        if c.catching:
            return True
        c = c.parent if c.parent is not None else c.caller
    return False


def _exits(node: cst.CSTNode) -> bool:
    found = False

    class V(cst.CSTVisitor):
        def on_visit(self, n: cst.CSTNode) -> bool:
            nonlocal found
            found = found or isinstance(n, cst.Return | cst.Raise | cst.Break | cst.Continue)
            return not found and not isinstance(n, cst.FunctionDef | cst.ClassDef | cst.Lambda)

    visit(node, V())
    return found


def _trailing_jump(line: cst.BaseStatement) -> str | None:
    """``"break"``/``"continue"`` when ``line`` is a simple line ending in one, else None."""
    last = line.body[-1] if isinstance(line, cst.SimpleStatementLine) else None
    return "break" if isinstance(last, cst.Break) else "continue" if isinstance(last, cst.Continue) else None


def _after_jumps(comp: Builder, stmt: cst.Try, rest: list[cst.BaseStatement], loc: SourceLoc) -> None:
    """The loop body after a try that may have jumped: it runs only when no part jumped (a break sets the flag)."""
    went_on = comp.python_node(cst.Pass(), loc, ["went_on"], source=f"went_on = {JUMP} == ''", reads=[JUMP])

    def jumped(c: Builder) -> None:
        c.env[BROKE] = Traced(
            c.python_node(cst.Pass(), loc, ["broke"], source=f"broke = {JUMP} == 'break'", reads=[JUMP])
        )

    branch(comp, stmt, went_on, lambda c: jump_block(c, rest), jumped, bound_names(comp, rest), loc)
    if not in_part(comp):  # (in a part around, the jump is that part's too: its `JUMP`)
        comp.env.pop(JUMP, None)


def _nested_jump(stmts: list[cst.BaseStatement], returns: bool) -> bool:
    """Whether a part's ``break``/``continue`` may stand elsewhere than at its end (in an ``if``)."""
    leaves = [jumps(x, returns=not returns) for x in stmts]
    return bool(leaves) and (any(leaves[:-1]) or (leaves[-1] and _trailing_jump(stmts[-1]) is None))


def _catch(comp: Builder, handler: cst.ExceptHandler, loc: SourceLoc) -> PyCode | bool | None:
    """The code giving the handler's exception class(es); None for a bare ``except``; False: known only at run time."""
    if handler.type is None:
        return None
    local, other = comp.src.free_names(handler.type)
    known = [comp.lookup_local(n, loc, raw=True) for n in local]  # (`retryable = (ValueError, E)`)
    # (a module the workflow imports itself, loaded already: `import json` ... `json.JSONDecodeError`)
    known = [Static(v.imported) if isinstance(v, Traced) and v.imported is not None else v for v in known]
    if not all(isinstance(v, Static) for v in known):
        return False
    bindings: dict[str, Any] = {n: v.value for n, v in zip(local, known, strict=True)}  # type: ignore[union-attr]
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


def _bound_early(comp: Builder, stmts: list[cst.BaseStatement]) -> set[str]:
    """Names the statements may have bound when the last of them fails at an await: all the
    earlier ones bind, and what the last binds before it can: in a line of several statements, all
    but the last; a walrus's target; in an ``if``, a ``match`` or a nested ``try``, each part's
    (likewise); in any other compound statement awaiting (``with``, a loop), all it binds. A last
    statement awaiting nothing fails whole, as before."""
    if not stmts:
        return set()
    out = set(bound_names(comp, list(stmts[:-1])))
    last = stmts[-1]
    if not contains_await(last):
        return out
    walrus = {
        n.target.value for n in walk(last) if isinstance(n, cst.NamedExpr) and isinstance(n.target, cst.Name)
    }
    if isinstance(last, cst.SimpleStatementLine):
        return out | set(bound_names(comp, list(last.body[:-1]))) | walrus
    if isinstance(last, cst.If):
        out |= _bound_early(comp, _branch_stmts(last.body)) | walrus
        if last.orelse is not None:
            orelse = last.orelse
            out |= _bound_early(comp, [orelse] if isinstance(orelse, cst.If) else _branch_stmts(orelse.body))
        return out
    if isinstance(last, cst.Match):
        for case in last.cases:
            out |= _bound_early(comp, _branch_stmts(case.body))
        return out | walrus
    if isinstance(last, cst.Try) and last.finalbody is None:
        out |= _bound_early(comp, _branch_stmts(last.body))
        for h in last.handlers:
            out |= _bound_early(comp, _branch_stmts(h.body))
        if last.orelse is not None:
            out |= set(bound_names(comp, [last.body])) | _bound_early(comp, _branch_stmts(last.orelse.body))
        return out
    return out | set(bound_names(comp, [last]))


def _loop_keeps_progress(comp: Builder, stmt: cst.Try, body: list[cst.BaseStatement]) -> bool:
    """Whether a loop awaiting in the body binds or changes a name read after the statement or by
    a handler that does not raise: Python keeps what the items before a failing one did (``last``,
    ``out.append(...)``, ``done += 1``), where the loop's node fails whole."""
    if all(_reraises(h) for h in stmt.handlers):
        return False
    read = reads_outside(comp, stmt)
    for h in stmt.handlers:
        read |= set(comp.src.free_names(h.body)[0])
    for s in body:
        for n in walk(s):
            loop = isinstance(n, cst.For | cst.While) and contains_await(n)
            if loop and set(bound_names(comp, [n])) & read:
                return True
            # a helper awaited in the body whose loop changes an object it was given or closes
            # over (`await fill(out, docs)` appending to `out`): its items before a failing one too
            helper = comp.exprs.helper_of(n) if isinstance(n, cst.Await) else None
            if helper is not None and _helper_loop_changes_outside(helper.src):
                return True
    return False


def _helper_loop_changes_outside(src: Any) -> bool:
    """Whether a loop awaiting in the helper ``src`` changes in place a parameter's object or one it
    closes over (not a list of its own, which a failure drops with the helper's frame)."""
    params = {p.name.value for p in src.node.params.params}
    loops = [m for m in walk(src.node.body) if isinstance(m, cst.For | cst.While) and contains_await(m)]
    names = getattr(src.fn, "__globals__", {})

    def outside(r: str) -> bool:  # (not `json.loads(raw)`, `log.info(...)`: a module's, a logger's)
        if r in params:
            return True
        if src.fn_scope.assignments[r]:
            return False
        return impure.stateful(names[r]) if r in names else True

    return any(outside(r) for m in loops for r in accumulated(m))


def _returns(handler: cst.ExceptHandler) -> bool:
    """Whether the handler ends by returning: nothing after the statement reads what it left."""
    last = handler.body.body[-1] if handler.body.body else None
    return isinstance(last, cst.SimpleStatementLine) and any(isinstance(s, cst.Return) for s in last.body)


def _reraises(handler: cst.ExceptHandler) -> bool:
    last = handler.body.body[-1] if handler.body.body else None
    return isinstance(last, cst.SimpleStatementLine) and any(isinstance(s, cst.Raise) for s in last.body)


def caught(
    comp: Builder,
    compile: Callable[[Builder], Value],
    loc: SourceLoc,
    hint: str,
    outcomes: tuple[Any, ...] | None = None,
) -> Value:
    """The value ``compile`` makes in a body of its own, or the error that body raises, as the
    user's code sees it (``gather(..., return_exceptions=True)``): a ``try`` node whose one handler,
    a bare ``except``, hands its error back as the value. ``outcomes``: the two functions making
    the value of the value and of the error, and one applied to either once the ``try`` has ended
    (``completion``'s ``Completed``, ``Failed`` and ``ended``)."""
    body = comp.nested("body")
    value = body.materialize(compile(body), loc, hint)
    body.graph.add("output", [value if outcomes is None else _applied(body, outcomes[0], value, loc)])
    handler = comp.nested("except0")
    error = handler.graph.add("input", (), {"name": "exc"}, name="exc")
    handler.graph.add("output", [error if outcomes is None else _applied(handler, outcomes[1], error, loc)])
    order = list(body.captures)
    for n in order:
        capture(handler, n, loc)
    align(body, [], order)
    align(handler, [error], order)
    attrs: dict[str, Any] = {
        "body": body.graph,
        "handlers": (handler.graph,),
        "catches": (None,),
        "bind": (None,),
        "orelse": None,
        "finalbody": None,
        "names": (hint,),
    }
    node = comp.emit("try", [body.captures[n][0] for n in order], attrs, loc, "try")
    got = comp.graph.add("getitem", (node,), {"index": 0}, loc=loc, name=hint)
    return Traced(_applied(comp, outcomes[2], got, loc) if outcomes and len(outcomes) > 2 else got)


def _applied(comp: Builder, fn: Any, value: Node, loc: SourceLoc) -> Node:
    """A ``python`` node calling ``fn`` (known at trace time) on ``value``."""
    comp.temps["__ayo_fn"], comp.temps["__ayo_arg"] = Static(fn), Traced(value)
    source = "outcome = __ayo_fn(__ayo_arg)"
    node = comp.python_node(
        cst.Name("__ayo_arg"), loc, ["outcome"], source=source, reads=["__ayo_fn", "__ayo_arg"]
    )
    del comp.temps["__ayo_fn"], comp.temps["__ayo_arg"]
    return node


RERAISED = "__ayo_reraised"


def reraising(comp: Builder, stmt: cst.CSTNode, loc: SourceLoc) -> str | None:
    """The code of plain statement ``stmt`` with each bare ``raise`` of the handler it is in
    (``if attempt == 2: raise``, a retry's last try) made ``raise RERAISED``, a temporary bound to
    that handler's error; None when it has none. Not inside a handler of its own nor a function."""
    handling = None
    c: Builder | None = comp
    while c is not None and handling is None:
        handling, c = c.handling, c.parent
    if handling is None:
        return None
    found = False

    class Rewrite(cst.CSTTransformer):
        def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
            return False

        def visit_ExceptHandler(self, n: cst.ExceptHandler) -> bool:
            return False

        def leave_Raise(self, old: cst.Raise, new: cst.Raise) -> cst.Raise:
            nonlocal found
            if new.exc is not None:
                return new
            found = True
            return new.with_changes(exc=cst.Name(RERAISED), whitespace_after_raise=cst.SimpleWhitespace(" "))

    rewritten = stmt.visit(Rewrite())
    assert isinstance(rewritten, cst.CSTNode)
    code = comp.src.code(rewritten)
    if not found:
        return None
    comp.temps[RERAISED] = comp.lookup_local(handling, loc)  # (read by the node: its code names it)
    return code
