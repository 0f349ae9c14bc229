"""``for`` loops over traced lists that await primitives, traced as ``map`` nodes.

A loop whose iterations are independent (each reads only its item and values bound before the loop)
and that changes outer state only by ``acc.append(x)``/``acc.extend(xs)`` on lists bound before it,
or by ``acc[key] = value`` on a dict (or list) bound before it, which no iteration reads (else each
would see what earlier ones added: a ``loop`` carries them), becomes a ``map``: the body is a
subgraph run once per item, its outputs are the appended values (the keys and values, each taken
where its line stands) and the last iteration's value of each name the loop binds that later code
reads; after the node, the lists are extended (the items set) in the loop's order and those names
bound. Other loops are ``control_flow.py``'s (``loop`` nodes) or graph breaks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from ..ir.code import UNBOUND, UNBOUND_NAME, SourceLoc
from . import aliases, closures, lazy_effects, unroll
from .control_flow import close_map, first_iteration_binds, jumps, open_body
from .expressions import contains_await
from .returns import Unbound, held_unbound
from .state import _contains_node, set_item, walk
from .values import Traced

if TYPE_CHECKING:
    from .builder import Builder


def _drawn(comp: Builder, stmt: cst.For) -> cst.BaseExpression:
    """What loop ``stmt`` draws its items from, as code: for a name bound once to a lazy builtin
    (``it = filter(None, RAW)``, ``map(str.strip, RAW)``) read only as this loop's iterable, that
    call, judged as if written in the header; else the header's iterable."""
    it = stmt.iter
    bound = comp.src.only_binding(it) if isinstance(it, cst.Name) else None
    if bound is None or not isinstance(bound[1], cst.Call) or not lazy_effects.lazy_builtin(comp, bound[1]):
        return it
    mentions = [n for n in walk(comp.src.node.body) if isinstance(n, cst.Name) and n.value == bound[0].value]
    return bound[1] if len(mentions) == 2 and unroll.only_iterated(comp, bound[0]) else it


def for_statement(comp: Builder, stmt: cst.For, loc: SourceLoc) -> None:
    if not contains_await(stmt):
        return comp.python_statement(stmt, loc, comp.src.assigned_names(stmt), effect=True)
    if stmt.orelse is not None or jumps(stmt.body):  # (a nested loop's own `break` is no jump of it)
        return comp.statement_break(stmt, loc, "for loop with break/continue/else around primitives")
    if lazy_effects.drawn_with_effects(comp, _drawn(comp, stmt)):
        return comp.statement_break(
            stmt,
            loc,
            "for loop drawing its items by code with an effect (a lazy `map`/`filter`/generator of a "
            "function changing state, an `__iter__` of the user's moving a cursor): Python draws each "
            "item just before its iteration, so the loop runs as written",
        )
    accs = accumulators(comp, stmt)
    if accs is None:
        return comp.statement_break(
            stmt, loc, "for loop that changes outer state other than list.append/extend"
        )
    targets = comp.src.assigned_names(stmt.target)
    # Names the loop binds that later code reads take their last iteration's value.
    later = set(names_read_after(comp, stmt))
    live = [n for n in dict.fromkeys([*targets, *comp.src.assigned_names(stmt.body)]) if n in later]
    iterable, child, item_input = open_body(comp, stmt, loc)
    unroll.mark(child, comp, stmt)
    # A name bound before the loop that an item may leave as it is (`if ok: answer = d`, set in an
    # `except`) starts each item unbound, so that the item hands on whether it set it: after the
    # loop the name has the value of the last item that did (the body never reads it: `_carries`).
    for n in live:
        if n not in targets and comp.is_bound(n):
            child.env[n] = Traced(child.const(UNBOUND, loc, n), unbound=True)
    # the body in order, each accumulating line's arguments evaluated where it stands (a name the
    # body binds again after `out.append(r)` must not change what was appended)
    at_line = {id(a[2]): a for a in accs}
    outs, segment = [], list[cst.BaseStatement]()
    for s in [*stmt.body.body, None]:
        if s is not None and id(s) not in at_line:
            segment.append(s)
            continue
        if segment:
            child.block(segment, top=False)
            segment = []
        if s is not None:
            for arg in at_line[id(s)][3]:
                outs.append(child.materialize(child.exprs.expr(arg, comp.src.loc(s), "item"), loc, "item"))
    maybe = set()  # names an item may hand on UNBOUND (a branch of the body left them so)
    for n in live:
        value = child.lookup_local(n, loc, raw=True)
        if isinstance(value, Traced) and value.unbound:
            maybe.add(n)
        outs.append(child.materialize(value, loc, n))
    child.graph.add("output", outs or [child.const(None, loc)])
    mapped = close_map(
        comp, stmt, (iterable, child, item_input), loc, accs[0][0] if len(accs) == 1 and not live else "map"
    )
    m = mapped.name  # (the code below reads the map's items by this name: not an accumulator's)
    while m in {a[0] for a in accs} | set(live) | {"v"}:
        m += "_items"
    comp.temps[m] = Traced(mapped)
    tuple_out = len(outs) > 1
    i = 0
    for acc, method, line, args in accs:
        v = f"v[{i}]" if tuple_out else "v"
        if method == "append":
            source = f"{acc}.extend({v} for v in {m})" if tuple_out else f"{acc}.extend({m})"
        elif method == "extend":
            source = f"for v in {m}:\n    {acc}.extend({v})"
        else:  # acc[key] = value: the key and the value, set in the loop's order
            source = f"for v in {m}:\n    {acc}[v[{i + 1}]] = v[{i}]"
        i += len(args)
        # (`keep`: the list is read, also the workflow's own list a local helper's loop extends)
        node = comp.python_node(
            line, comp.src.loc(line), [acc], source=source, name=acc, reads=[acc, m], keep=(acc,)
        )
        comp.env[acc] = Traced(node)
    once = first_iteration_binds(comp, stmt)  # bound for sure when the items are known non-empty
    for j, n in enumerate(live, start=i):
        last = f"{m}[-1][{j}]" if tuple_out else f"{m}[-1]"
        if n in maybe:  # (an item may not set it: the last item that did, else as it was)
            _last_set(comp, stmt, loc, n, m, f"[{j}]" if tuple_out else "")
            continue
        if not comp.is_bound(n) and n in once:
            source = f"{n} = {last}"
            node = comp.python_node(stmt, loc, [n], source=source, name=n, reads=[m])
            comp.env[n] = Traced(node, unbound=n in maybe)
            continue
        if isinstance(comp.env.get(n), Unbound):
            continue  # deleted before the loop (`del`, `except ... as`): a later read is refused
        if not comp.is_bound(n):  # Python leaves it unbound when there is no item: UNBOUND then
            comp.env[n] = Traced(comp.const(UNBOUND, loc, n), unbound=True)
        before = held_unbound(comp, n, loc)
        # the last item's value, or the one from before the loop when there is no item (as it is)
        source = f"if {m}:\n    {n} = {last}"
        node = comp.python_node(stmt, loc, [n], source=source, name=n, reads=[m, n])
        comp.env[n] = Traced(node, unbound=before or n in maybe)
    comp.temps.clear()


def _last_set(comp: Builder, stmt: cst.For, loc: SourceLoc, n: str, m: str, part: str) -> None:
    """Bind ``n`` after the map ``m`` to the value the last item that set it gave (``part`` picks
    it out of an item's outputs), or, when none did, leave it as it was before the loop (unbound
    if it was)."""
    if isinstance(comp.env.get(n), Unbound):
        return  # deleted before the loop (`del`, `except ... as`): a later read is refused
    if not comp.is_bound(n):  # (unbound when no item set it, as Python leaves it)
        comp.env[n] = Traced(comp.const(UNBOUND, loc, n), unbound=True)
    before = held_unbound(comp, n, loc)
    source = f"for v in reversed({m}):\n    if v{part} is not {UNBOUND_NAME}:\n        {n} = v{part}\n        break"
    node = comp.python_node(stmt, loc, [n], source=source, name=n, reads=[m, n])
    comp.env[n] = Traced(node, unbound=before)


Accumulator = tuple[str, str, cst.SimpleStatementLine, list[cst.BaseExpression]]


def accumulators(comp: Builder, stmt: cst.For) -> list[Accumulator] | None:
    """``acc.append(x)`` / ``acc.extend(xs)`` / ``acc[key] = value`` lines of a loop body on
    lists (dicts) defined before the loop, with what each line computes per item; None when the body
    changes outer state in any other way."""
    # the loop's target too: `for row in rows: row.append(x)` changes an item, not an outer list
    assigned_in_body = {*comp.src.assigned_names(stmt.body), *comp.src.assigned_names(stmt.target)}
    out: list[Accumulator] = []
    for line in stmt.body.body:
        if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
            continue
        small = line.body[0]
        item = set_item(small)
        if item is not None and item[0] not in assigned_in_body:
            out.append((item[0], "setitem", line, [item[2], item[1]]))  # Python's order: value, key
            continue
        if not isinstance(small, cst.Expr) or not isinstance(small.value, cst.Call):
            continue
        call = small.value
        func = call.func
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.attr.value in ("append", "extend")
            and len(call.args) == 1
            and call.args[0].keyword is None
            and not call.args[0].star
            and func.value.value not in assigned_in_body
        ):
            out.append((func.value.value, func.attr.value, line, [call.args[0].value]))
    acc_lines = {id(a[2]) for a in out}
    if {a[0] for a in out} & assigned_in_body:
        return None
    if {a[0] for a in out} & closures.changed_globals(comp.src):
        return None  # a module-level list: its changes keep their place among the effects
    names = [a[0] for a in out]
    shared = aliases.groups(comp.src)
    if len(set(names)) < len(names) or any(shared.get(n, set()) & set(names) - {n} for n in names):
        return None  # one list grown by two lines: the map would add each line's items in a run
    if {a[0] for a in out} & set(comp.src.free_names(stmt.iter)[0]):
        return None  # grown while iterated over: Python sees the growth (or refuses it for a dict)
    # a body changing its item in place changes the list iterated over: not a map's independent items
    accs = {a[0] for a in out}
    if any(n not in accs and n not in assigned_in_body for n in comp.mutated_locals(stmt)):
        return None
    for line in stmt.body.body:
        if id(line) in acc_lines:
            continue
        outer_mutated = [n for n in comp.mutated_locals(line) if n not in assigned_in_body]
        if outer_mutated:
            return None
    if _reads_accumulated(comp, stmt, out):
        return None
    return out


def _reads_accumulated(comp: Builder, stmt: cst.For, accs: list[Accumulator]) -> bool:
    """Whether an iteration reads a list the loop accumulates into (``history.append(reply)`` after
    a prompt built from ``history``, ``len(out)`` in the body): it then sees what earlier iterations
    appended, so the iterations are not independent. Reads through a name sharing the list's object
    (``view = history``) and through a closure the body calls count too."""
    shared = aliases.groups(comp.src)
    accumulated: set[str] = set()
    for acc, *_ in accs:
        accumulated |= {acc, *shared.get(acc, ())}
    acc_lines = {id(a[2]): a[3] for a in accs}
    read: list[str] = []
    for line in stmt.body.body:
        # an accumulating line reads only its argument (key and value); its receiver is the list
        # (dict) being extended
        for part in acc_lines.get(id(line), [line]):
            names = comp.src.free_names(part)[0]
            read += [*names, *aliases.closure_uses(comp.src, part, names)[0]]
    # (the iterable is evaluated once, before the first iteration, but a list grown while iterated
    # over is not a map's either: ``accumulators`` refuses it)
    return bool(accumulated & set(read))


def names_read_after(comp: Builder, stmt: cst.CSTNode) -> list[str]:
    body = list(comp.src.node.body.body)
    found = False
    names: list[str] = []
    for s in body:
        if found:
            names.extend(comp.src.free_names(s)[0])
        if s is stmt or _contains_node(s, stmt):
            found = True
    return names
