"""Loops and ``break``/``continue`` traced into the IR instead of graph breaks.

The compiler hands each compound statement whose meaning is known at trace time to the module of
its kind (``Builder._compound``); loops come here, and the rest stays what it was (a ``map``,
plain code, or a graph break).

* ``for`` loops that await primitives and that the ``map`` path cannot take (a tuple target such as
  ``for i, (a, b) in enumerate(zip(xs, ys))``, ``break``/``continue``/``else``, or a body that
  changes outer state in other ways) and ``while`` loops that await primitives become ``loop``
  nodes: the body is a subgraph run in order, carrying every name the body binds or changes in
  place from one iteration to the next. A ``while`` body tests the condition first (awaiting what
  the condition awaits, binding what its ``:=`` bind) and says whether to go on; it may run at most ``MAX_ITERATIONS`` times (the runtime's error names the node and
  line past it).
* ``break`` and ``continue`` are compiled away inside the body: the statements after an ``if`` that
  may jump move into the branches that do not jump (``cond`` nodes), and a flag carried out of the
  body says whether the loop broke (for ``go_on`` and the loop's ``else``).
* ``match`` statements are in ``matching.py``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import UNBOUND, SourceLoc
from ..ir.graph import Node
from . import aliases, branches, locks, task_regions, task_windows, try_reasons, unroll
from .breaks import fix_for
from .carried import read_before_bound
from .deleted import carried_out, deleted_in
from .flow import flow
from .returns import may_be_unbound, reads_outside
from .state import children, contains_await, has_return, leaves_loop, pattern_captures, walk
from .values import Static, Traced, Value
from .visiting import visit

if TYPE_CHECKING:
    from .builder import Builder

MAX_ITERATIONS = 1000  # how many times a traced `while` body may run before the runtime refuses
BROKE = "__ayo_broke"  # in a loop body: whether this iteration ran a `break`
ITEM = "__ayo_item"  # a loop's item, when its target unpacks it
RETURNED = "__ayo_returned"  # whether a loop body ran a `return` (returning.py)
RESULT = "__ayo_result"  # the value it returned
JUMP = "__ayo_jump"  # in a loop body: which jump a try's part ran ("" for none: try_except.py)
PART = "__ayo_part"  # whose jumps a body compiles: a `try` part's (True) or a loop body's (False)
_LOOPS = (cst.For, cst.While)
_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)

Fill = Callable[["Builder"], None]


# --- jumps -----------------------------------------------------------------------------------------


def jumps(node: cst.CSTNode, *, returns: bool = True) -> bool:
    """Whether ``node`` holds a ``break``/``continue`` of the loop around it (not one of a nested
    loop's body; one of a nested loop's ``else`` is this loop's), or a ``return``, also in a nested
    loop (it leaves every loop around it: ``returning.py``; not counted when ``returns`` is False)."""
    return (returns and _has_return(node)) or leaves_loop(node, (cst.Break, cst.Continue))


def leaves_surely(line: cst.BaseStatement) -> bool:
    """Whether ``line`` is a simple line ending in a jump that cannot fail: ``break``,
    ``continue``, or a ``return`` of names and constants (``return out``, ``return out, log``)."""
    if not (isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1):
        return False
    last = line.body[0]
    if isinstance(last, cst.Break | cst.Continue):
        return True
    if not isinstance(last, cst.Return) or last.value is None:
        return isinstance(last, cst.Return)
    plain = (cst.Name, cst.Integer, cst.Float, cst.SimpleString, cst.Tuple)
    return all(isinstance(n, plain) for n in walk(last.value) if isinstance(n, cst.BaseExpression))


_has_return = has_return


def jump_block(comp: Builder, stmts: Sequence[cst.BaseStatement]) -> None:
    """Compile a loop body's statements, turning ``break``/``continue`` into the ``BROKE`` flag and
    the end of the statements compiled on that path."""
    stmts = locks.unwrapped(comp, list(stmts))  # `async with sem:` runs its body as it stands
    for i, stmt in enumerate(stmts):
        loc = comp.src.loc(stmt)
        if isinstance(stmt, cst.SimpleStatementLine) and any(
            isinstance(s, cst.Break | cst.Continue | cst.Return) for s in stmt.body
        ):
            for small in stmt.body:
                if isinstance(small, cst.Break):
                    comp.env[BROKE] = Static(True)
                    if in_part(comp):
                        comp.env[JUMP] = Static("break")
                    return
                if isinstance(small, cst.Return):
                    return loop_return(comp, small, loc)
                if isinstance(small, cst.Continue):
                    if in_part(comp):
                        comp.env[JUMP] = Static("continue")
                    return
                comp.small_statement(small, stmt, loc)
        if not jumps(stmt):
            try:
                comp.statement(stmt, top=False)
            except task_windows.Interleaved as err:  # (a task taking turns with the statements after it)
                return jump_block(comp, task_regions.as_written(comp, stmts, i, err, top=False))
            continue
        rest = list(stmts[i + 1 :])
        if isinstance(stmt, cst.If):
            return if_with_jumps(comp, stmt, rest, loc)
        if comp.loop_statement(stmt, loc, rest):  # a `match`, a `try` whose parts may jump, a loop
            return  # whose `else` may jump or that may return (`nested_loops.py`)
        said = try_reasons.taken(comp, stmt)  # (the rule the `try` stopped at, with its fix)
        why = (
            f"its `try` cannot be traced here: {said}; {fix_for(said)}"
            if said is not None and fix_for(said) is not None
            else "its `try` cannot be traced here (a name its body binds before the await that may fail is "
            "read after it and a handler does not bind it again, as Python keeps what the body bound "
            "before it failed, a loop's progress included; a handler's class made when the workflow "
            "runs, a class it defines; or a bare `raise`, a `return` or jump in `finally`): bind the "
            "name again in each handler, define the class in the module, or move the jump after the `try`"
            if isinstance(stmt, cst.Try)
            else "move it into an `if` of the loop body"
        )
        # (one of a nested loop's `else` or body, or a `break`/`continue` of this loop's: the loop
        # around runs as written instead; a `return` through it is refused)
        error = TraceError if _leaves_directly(stmt) and _has_return(stmt) else NestedJump
        raise error(
            f"a `break`, `continue` or `return` inside this `{type(stmt).__name__.lower()}` statement of a loop "
            f"that awaits primitives cannot be traced: {why}",
            loc=loc,
            construct="loop",
        )


class NestedJump(TraceError):
    """Internal, a refusal: a statement of a loop body that cannot carry the jumps out of the loop
    that a loop nested in it makes (its ``else``'s, its ``return``). The loop around is traced
    again to run as written (``nested_loops.LoopAsWritten``)."""


def _leaves_directly(stmt: cst.CSTNode) -> bool:
    """Whether ``stmt`` holds a ``break``, ``continue`` or ``return`` outside any loop nested in it."""
    nested = _LOOPS + _SCOPES
    own = (cst.Break, cst.Continue, cst.Return)
    inside = (n for c in children(stmt) for n in walk(c, lambda n: isinstance(n, nested)))
    return not isinstance(stmt, _LOOPS) and any(isinstance(n, own) for n in inside)


def loop_return(comp: Builder, small: cst.Return, loc: SourceLoc) -> None:
    """A ``return`` in a loop body (or a ``try`` part, ``try_returns.py``): bind the flag and the
    value, and leave the loop (``returning.py``)."""
    comp.env[RESULT] = (
        Static(None) if small.value is None else comp.exprs.expr(small.value, loc, "result", text=False)
    )
    comp.env[RETURNED] = Static(True)
    comp.env[BROKE] = Static(True)


def _branch_stmts(block: Any) -> list[cst.BaseStatement]:
    if block is None:
        return []
    if isinstance(block, cst.If):
        return [block]
    if isinstance(block, cst.Else):
        block = block.body
    return [s for s in block.body if isinstance(s, cst.BaseStatement)]


def if_with_jumps(comp: Builder, stmt: cst.If, rest: list[cst.BaseStatement], loc: SourceLoc) -> None:
    """An ``if`` of a loop body that may jump: each branch runs its own statements, then the rest of
    the body (unless it jumped)."""
    then_stmts = _branch_stmts(stmt.body) + rest
    else_stmts = _branch_stmts(stmt.orelse) + rest
    static = comp.static_test(stmt.test)
    if static is not None:
        return jump_block(comp, then_stmts if static.value else else_stmts)
    pred = comp.materialize(comp.exprs.expr(stmt.test, loc, "test"), loc, "test")
    names = bound_names(comp, [*then_stmts, *else_stmts])
    branch(
        comp,
        stmt,
        pred,
        lambda c: jump_block(c, then_stmts),
        lambda c: jump_block(c, else_stmts),
        names,
        loc,
    )


def bound_names(comp: Builder, stmts: Sequence[cst.CSTNode]) -> list[str]:
    """Names the statements bind or change in place (plus the loop's flag inside a loop body)."""
    out: dict[str, None] = {}
    for s in stmts:
        out.update(dict.fromkeys(comp.src.assigned_names(s)))
        out.update(dict.fromkeys(comp.mutated_locals(s)))
        if isinstance(s, cst.Match):
            for case in s.cases:
                out.update(dict.fromkeys(pattern_captures(case.pattern)))
    if in_loop(comp):
        out[BROKE] = None
    if in_part(comp):
        out[JUMP] = None
    if comp.is_bound(RETURNED) and any(_has_return(s) for s in stmts):
        out[RETURNED] = out[RESULT] = None  # a `return` in a loop body (returning.py)
    return list(out)


def in_loop(comp: Builder) -> bool:
    """Whether ``comp`` compiles (a branch of) a traced loop's body."""
    return comp.is_bound(BROKE)


def in_part(comp: Builder) -> bool:
    """Whether ``comp`` compiles (a branch of) a ``try`` part whose ``break``/``continue`` set its
    ``JUMP`` where they stand (one nested in an ``if``), rather than a loop body's own jumps."""
    body: Builder | None = comp
    while body is not None:
        if PART in body.env:
            flag = body.env[PART]
            return isinstance(flag, Static) and flag.value is True
        body = body.parent
    return False


# --- cond from callbacks ----------------------------------------------------------------------------


def branch(
    comp: Builder,
    stmt: cst.CSTNode,
    pred: Node,
    then: Fill,
    orelse: Fill,
    names: list[str],
    loc: SourceLoc,
) -> Node:
    """A ``cond`` node on ``pred`` whose branches ``then``/``orelse`` fill; it outputs ``names``
    (each branch passes on the value a name had before when it leaves the name alone) and rebinds
    them in ``comp``. A name one branch leaves unbound is unbound-on-a-path afterwards, for the
    reason Python gives for ``stmt`` (the statement the branches come from)."""
    children = []
    for role, fill in (("then", then), ("orelse", orelse)):
        child = comp.nested(role)
        fill(child)
        children.append(child)
    unbound: set[str] = set()
    maybe: set[str] = set()
    for child in children:
        child.graph.add("output", branches.branch_outputs(child, names, loc, True, unbound, maybe))
    order: list[str] = []
    for child in children:
        order.extend(n for n in child.captures if n not in order)
    for child in children:
        for n in order:
            capture(child, n, loc)
        align(child, [], order)
    captured = [next(c.captures[n][0] for c in children if n in c.captures) for n in order]
    node = comp.emit(
        "cond",
        [pred, *captured],
        {"then": children[0].graph, "orelse": children[1].graph},
        loc,
        names[0] if len(names) == 1 and not names[0].startswith("__") else "cond",
    )
    if names:
        comp.rebind(names, node, loc)
    may_be_unbound(comp, maybe - unbound)
    for n in unbound:
        comp.leave_unbound(n, stmt, comp.src.loc(stmt))
    return node


def capture(child: Builder, name: str, loc: SourceLoc) -> None:
    """Give ``child`` an input for the outer value of ``name`` (so sibling bodies take the same
    inputs), also when it binds ``name`` itself before reading it."""
    if name in child.captures:
        return
    assert child.parent is not None
    outer = child.parent.materialize(child.parent.lookup_local(name, loc, raw=True), loc, name)
    child.captures[name] = (outer, child.graph.add("input", (), {"name": name}, name=name))


def align(child: Builder, first: list[Node], order: list[str]) -> None:
    """Put the body's inputs first: ``first`` (item, carried values, exception), then the captured
    names in ``order``."""
    inputs = [*first, *(child.captures[n][1] for n in order)]
    child.graph.nodes = inputs + [n for n in child.graph.nodes if n not in inputs]


def negate(comp: Builder, value: Value, loc: SourceLoc, name: str) -> Value:
    if isinstance(value, Static):
        return Static(not value.value)
    comp.temps[BROKE] = value
    node = comp.python_node(cst.Pass(), loc, [name], source=f"{name} = not {BROKE}", reads=[BROKE], name=name)
    del comp.temps[BROKE]
    return Traced(node)


# --- loops -------------------------------------------------------------------------------------------


def compile_loop(
    comp: Builder, stmt: cst.For | cst.While, loc: SourceLoc, *, orelse: bool = True
) -> Node | None:
    """A ``loop`` node for ``stmt`` (see the module docstring), then its ``else`` (unless ``orelse``
    is False: the caller compiles it). Returns the node saying whether the loop broke (None when
    it cannot or has no ``else``)."""
    body_stmts = _branch_stmts(stmt.body)
    is_for = isinstance(stmt, cst.For)
    outside = reads_outside(comp, stmt)
    if stmt.orelse is not None:  # (run after the loop: what it reads is the loop's last)
        outside |= set(comp.src.free_names(stmt.orelse)[0])
    targets = set(comp.src.assigned_names(stmt.target)) if isinstance(stmt, cst.For) else set()
    early = read_before_bound(comp.src, stmt.body, targets)  # (what an earlier iteration bound)
    names = [
        n
        for n in dict.fromkeys([*bound_names(comp, [stmt]), *deleted_in(stmt.body)])
        if n != BROKE and (comp.is_bound(n) or n in outside or (n in early and n not in targets))
    ]
    can_break = _breaks(stmt.body)
    carried = [*names, BROKE] if can_break and stmt.orelse is not None else list(names)
    init: list[Node] = []
    maybe: set[str] = set()  # may hold UNBOUND (none before the loop, or one a path left so)
    for n in carried:
        if n == BROKE:
            init.append(comp.const(False, loc, "broke"))
        elif (value := _bound_value(comp, n, loc)) is not None:
            if isinstance(value, Traced) and value.unbound:
                maybe.add(n)
            init.append(comp.materialize(value, loc, n))
        else:
            maybe.add(n)
            init.append(comp.const(UNBOUND, loc, n))
    # what an iteration may read first (`early`; a `del x` is no binding there: any read of it; a
    # `while`'s test): if the last iteration may have deleted it, the read checks it
    read_first = early | (deleted_in(stmt.body, handlers=False) & set(comp.src.free_names(stmt.body)[0]))
    read_first |= set(comp.src.free_names(stmt.test)[0]) if isinstance(stmt, cst.While) else set()
    maybe |= deleted_in(stmt.body) & read_first
    iterable = None
    if isinstance(stmt, cst.For):
        iterable = comp.materialize(comp.exprs.expr(stmt.iter, loc, "items"), loc, "items")
    child = comp.nested("body")
    first: list[Node] = []
    item_name = None
    if isinstance(stmt, cst.For):
        target = stmt.target
        unroll.mark(child, comp, stmt)
        item_name = target.value if isinstance(target, cst.Name) else ITEM
        first.append(child.graph.add("input", (), {"name": item_name}, name=item_name.strip("_")))
    # an object of a plain class the body changes only in place keeps its class and constant
    # fields through the loop (`agent.memory.add(t)`: `await agent.think(q)` is inlined again)
    assigned = comp.src.assigned_names(stmt)
    classes = aliases.classes_of(comp, [n for n in carried if n != BROKE], assigned)
    for n in carried:
        inp = child.graph.add("input", (), {"name": n}, name=n.strip("_"))
        first.append(inp)
        if n != BROKE:
            cls, fields = classes.get(n, (None, None))
            # (a module imported before the loop, which the loop does not bind again, stays known)
            outer = comp.env.get(n)
            known = outer.imported if isinstance(outer, Traced) and n not in assigned else None
            child.env[n] = Traced(inp, cls=cls, fields=fields, unbound=n in maybe, imported=known)
    child.env[BROKE] = Static(False)
    child.env[PART] = Static(False)  # (its jumps are its own, also in a `try` part)
    if isinstance(stmt, cst.For):
        bind_target(child, stmt.target, first[0], loc)
        jump_block(child, body_stmts)
        go = negate(child, child.env[BROKE], loc, "go_on")
    else:
        go = _while_body(child, stmt, body_stmts, names, loc)
    outs = [child.materialize(go, loc, "go_on")]
    dead: list[str] = []
    for n in carried:
        value, gone = carried_out(comp, child, stmt, n, (read_first, outside), loc)
        dead += [n] if gone else []
        if isinstance(value, Traced) and value.unbound:
            maybe.add(n)
        outs.append(child.materialize(value, loc, n.strip("_")))
    child.graph.add("output", outs)
    order = list(child.captures)
    align(child, first, order)
    attrs: dict[str, Any] = {
        "body": child.graph,
        "carried": tuple(n.strip("_") if n == BROKE else n for n in carried),
        "item": comp.src.code(stmt.target).strip() if isinstance(stmt, cst.For) else None,
        "max_iterations": None if is_for else MAX_ITERATIONS,
        # a generator the header makes is the loop's alone: left early, it is closed there, as
        # Python's loop dropping its iterator closes it (its `finally` runs then, not after the query)
        "closes": (isinstance(stmt, cst.For) and inspect.isgeneratorfunction(_callee(comp, stmt.iter)))
        or None,
    }
    args = [*([iterable] if iterable is not None else []), *init, *(child.captures[n][0] for n in order)]
    node = comp.emit("loop", args, attrs, loc, "loop")
    values = {
        n: comp.graph.add("getitem", (node,), {"index": i}, loc=loc, name=n.strip("_"))
        for i, n in enumerate(carried)
    }
    for n in names:
        comp.env[n] = Traced(values[n])
    aliases.restore_classes(comp, classes)
    if stmt.orelse is not None and orelse:
        _loop_else(comp, stmt, stmt.orelse, values.get(BROKE), loc)
    # A name unbound before the loop is bound after it where Python's rules say so (flow.py): it is
    # bound on every path that leaves the loop, by its `else` or by a `break` (for `while True`,
    # `break` is the only way out); otherwise it may hold UNBOUND, which a later read checks.
    after = flow([stmt], comp.src.assigned_names)
    bound = after.definite if after.falls_through else None  # None: the code after never runs
    once = first_iteration_binds(comp, stmt)
    may_be_unbound(comp, [n for n in names if n in maybe and n not in (bound or ()) and n not in once])
    for n in dead:
        comp.leave_unbound(n, stmt, loc)
    return values.get(BROKE)


def _callee(comp: Builder, e: cst.BaseExpression) -> Any:
    return comp.exprs.callee(e) if isinstance(e, cst.Call) else None


def open_body(comp: Builder, stmt: cst.For, loc: SourceLoc) -> tuple[Node, Builder, Node]:
    """The items of loop ``stmt`` and a body to compile once per item, its target bound to the
    item's input (a tuple target, `for i, (a, b) in enumerate(zip(...))`, unpacks it there)."""
    iterable = comp.materialize(comp.exprs.expr(stmt.iter, loc, "items"), loc, "items")
    child = comp.nested("body")
    item = stmt.target.value if isinstance(stmt.target, cst.Name) else ITEM
    item_input = child.graph.add("input", (), {"name": item}, name=item.strip("_"))
    bind_target(child, stmt.target, item_input, loc)
    return iterable, child, item_input


def close_map(
    comp: Builder, stmt: cst.For, body: tuple[Node, Builder, Node], loc: SourceLoc, name: str
) -> Node:
    """The ``map`` node of ``open_body``'s body, once its output is added."""
    iterable, child, item_input = body
    order = list(child.captures)
    align(child, [item_input], order)
    return comp.emit(
        "map",
        [iterable, *(child.captures[n][0] for n in order)],
        {"body": child.graph, "item": comp.src.code(stmt.target).strip(), "concurrency": 1},
        loc,
        name,
    )


def first_iteration_binds(comp: Builder, stmt: cst.For | cst.While) -> set[str]:
    """Names a ``for`` over a non-empty iterable known at trace time (``range(4)``, a constant list)
    binds for sure: its target, and what the body's statements bind before anything that may jump
    out of the first iteration (the loop runs at least once, so they are bound after it)."""
    if not isinstance(stmt, cst.For) or contains_await(stmt.iter):
        return set()
    items = comp.exprs.try_static(stmt.iter)
    if items is None or not isinstance(items.value, list | tuple | range | str | dict) or not items.value:
        return set()
    out = set(comp.src.assigned_names(stmt.target))
    for s in _branch_stmts(stmt.body):
        if jumps(s) or _has_return(s):
            break
        if isinstance(s, cst.SimpleStatementLine):
            if any(isinstance(small, cst.Raise) for small in s.body):
                break
            out.update(comp.src.assigned_names(s))
    return out


def _carries(comp: Builder, stmt: cst.For) -> bool:
    """Whether an iteration may read what an earlier one bound (``out += ...``, ``n = n + 1``): the
    body rebinds (or deletes) and reads a name bound before the loop, or reads one before it binds it
    (``carried.read_before_bound``). Its items cannot be a ``map``'s."""
    read = set(comp.src.free_names(stmt.body)[0])
    if any(
        n in read and comp.is_bound(n) for n in [*comp.src.assigned_names(stmt.body), *deleted_in(stmt.body)]
    ):
        return True
    return bool(read_before_bound(comp.src, stmt.body, set(comp.src.assigned_names(stmt.target))))


def _bound_value(comp: Builder, name: str, loc: SourceLoc) -> Value | None:
    """The value ``name`` has before a loop, or None when it may be unbound there."""
    if not comp.is_bound(name):
        return None
    try:
        return comp.lookup_local(name, loc, raw=True)
    except TraceError:
        return None


def _breaks(node: cst.CSTNode) -> bool:
    """Whether ``node`` may leave its loop early: a ``break`` (also one of a nested loop's
    ``else``), or a ``return`` (also in a nested loop: ``returning.py``)."""
    return _has_return(node) or leaves_loop(node, (cst.Break,))


def target_names(target: cst.CSTNode) -> list[str]:
    """The names a loop or comprehension target binds, in order (a comprehension's are its own,
    which the function's scope does not list)."""
    out: dict[str, None] = {}

    class V(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            out[n.value] = None

        def visit_Attribute(self, n: cst.Attribute) -> bool:
            return False

        def visit_Subscript(self, n: cst.Subscript) -> bool:
            return False

    visit(target, V())
    return list(out)


def bind_target(child: Builder, target: cst.BaseAssignTargetExpression, item: Node, loc: SourceLoc) -> None:
    if isinstance(target, cst.Name):
        child.env[target.value] = Traced(item)
        return
    if any(isinstance(n, cst.Attribute | cst.Subscript) for n in walk(target)):
        raise TraceError(
            f"the loop target `{child.src.code(target).strip()}` sets an attribute or an item; a loop "
            "whose body awaits binds only names: loop over a name (`for cur in docs:`) and assign the "
            "item at the top of the body (`state['cur'] = cur`)",
            loc=loc,
            construct="loop",
        )
    names = target_names(target)
    item_var = item.attrs["name"]
    source = f"{child.src.code(target).strip()} = {item_var}"
    child.env[item_var] = Traced(item)
    node = child.python_node(target, loc, names, source=source, reads=[item_var], name=names[0])
    child.rebind(names, node, loc)


def _while_body(
    child: Builder, stmt: cst.While, body_stmts: list[cst.BaseStatement], names: list[str], loc: SourceLoc
) -> Value:
    """A ``while`` body: test the condition, and run the statements only when it holds."""
    GO = "__ayo_go"
    test = child.static_test(stmt.test)
    if test is not None and not test.value:
        return Static(False)
    if test is not None:
        jump_block(child, body_stmts)
        return negate(child, child.env[BROKE], loc, "go_on")
    pred = child.materialize(child.exprs.expr(stmt.test, loc, "test"), loc, "test")

    def then(c: Builder) -> None:
        jump_block(c, body_stmts)
        c.env[GO] = negate(c, c.lookup_local(BROKE, loc), loc, "go_on")

    def orelse(c: Builder) -> None:
        c.env[GO] = Static(False)

    child.env[GO] = Static(False)
    flag = [BROKE] if _breaks(stmt.body) else []
    branch(child, stmt, pred, then, orelse, [*names, *flag, GO], loc)
    return child.env[GO]


def _loop_else(
    comp: Builder, stmt: cst.For | cst.While, orelse: cst.Else, broke: Node | None, loc: SourceLoc
) -> None:
    stmts = _branch_stmts(orelse)
    run: Fill = (lambda c: jump_block(c, stmts)) if in_loop(comp) else (lambda c: c.block(stmts, top=False))
    if broke is None:
        run(comp)
        return
    branch(comp, stmt, broke, lambda c: None, run, bound_names(comp, stmts), loc)
