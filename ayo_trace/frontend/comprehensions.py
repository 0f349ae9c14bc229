"""Comprehensions that await primitives become ``map`` nodes; conditional expressions that await
become ``cond`` nodes.

A comprehension's element (a dict comprehension's key and value) is the map body, run once per item.
The items are what its ``for`` clauses (any number of them, with tuple targets and ``if`` filters)
bind, computed by a ``python`` node when there is more than a single ``for name in items``: a list of
the tuples of every name the clauses bind, which the body unpacks. The outermost iterable is
evaluated in the enclosing scope, as Python does; a comprehension with an ``await`` anywhere else in
its clauses (an inner iterable, a filter) or an ``async for`` runs eagerly as a graph break.
"""

from __future__ import annotations

import keyword
from typing import Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import ITEMS_NAME, SourceLoc
from ..ir.graph import Node
from . import impure, param_parts, unroll
from .builder import Builder, Expressions, align_inputs, cond_node
from .drawn_items import drawn_ahead
from .handed import handed_changed
from .immutables import immutable_names
from .state import _items_changed, contains_await, mutated_roots, walk
from .values import Static, Traced, Value
from .visiting import visit

COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
MAP_ITEM = "__ayo_item"  # the item a map body of `map(f, items)` passes to `f`


class ComprehensionMaps(Expressions):
    def map_comprehension(self, e: cst.CSTNode) -> bool:
        """A comprehension that awaits: it must become a map (its awaits run once per item)."""
        return isinstance(e, COMPREHENSIONS) and contains_await(e)

    def comprehension_map(self, e: Any, loc: SourceLoc, hint: str, *, awaits: bool = False) -> Value:
        """A ``map`` node for comprehension ``e`` (``awaits``: its element is an awaitable each item
        awaits, as in ``asyncio.gather(*(f(x) for x in xs))``)."""
        hint = hint or "value"  # (a comprehension nested in another's element has no name of its own)
        unrolled = unroll.compile_comprehension(self.body, e, loc, hint, awaits=awaits)
        if unrolled is not None:
            return unrolled
        comp: cst.CompFor = e.for_in
        simple = isinstance(comp.target, cst.Name) and not comp.ifs and comp.inner_for_in is None
        parts_target = _sets_parts(comp)
        if awaits and parts_target is not None:
            raise TraceError(
                f"the comprehension target `{self.body.src.code(parts_target).strip()}` sets an "
                "attribute or an item; a comprehension spread into `gather` binds only names: bind "
                "a name (`for cur in docs`) and read the item through it",
                loc=loc,
                construct="comprehension",
            )
        interleaved = not awaits and (
            parts_target is not None
            or _interleaved(self.body, e)
            or bool(_items_changed(e, self._table_calls(e)))
            or (not simple and not drawn_ahead(self.body, e))
        )
        if comp.asynchronous is not None or _clause_awaits(comp) or interleaved:
            # an await in a `for`/`if` clause runs once per item outside the element, and clauses
            # that change what the element reads (or read what it changes) must take turns with it:
            # the whole comprehension runs eagerly, as written (a graph break, not a refusal)
            name = self.body.src.target(e, hint or "value")
            reason = (
                "comprehension whose target sets an attribute or an item, whose element changes its "
                "items in place, whose `if` filters change "
                "what its element reads (or read what it changes), or whose items cannot all be made "
                "before its first element (a generator, `itertools.groupby`: Python draws them in turn)"
                if interleaved
                else "comprehension that awaits in an `async for`, an inner iterable or an `if` filter"
            )
            source = f"{name} = {self.body.src.expr_code(e)}"
            node = self.body.python_node(
                e,
                loc,
                [name],
                source=source,
                is_async=True,
                op="break",
                reason=reason,
                effect=True,
                name=hint or "value",
            )
            return Traced(node)
        names = _bound_names(comp)
        items = self.body.materialize(self.expr(comp.iter, loc, "items"), loc, "items")
        if not simple or (awaits and not drawn_ahead(self.body, e)):
            # (spread into a gather, Python makes every item before the first call: a generator
            # of the user's changing state runs whole first, as the list the clauses make)
            items = self._comprehension_items(e, comp, items, names, loc, hint, lazy=not awaits)
        item = names[0] if len(names) == 1 else "item"
        child = self.body.nested("body")
        child.comprehension_names = set(names)
        item_input = child.graph.add("input", (), {"name": item}, name=item)
        if len(names) == 1:
            child.env[names[0]] = Traced(item_input)
        else:
            for i, n in enumerate(names):
                child.env[n] = Traced(child.graph.add("getitem", (item_input,), {"index": i}, name=n))
        parts = [e.key, e.value] if isinstance(e, cst.DictComp) else [e.elt]
        if awaits:  # (a dict's value, not its key)
            parts = [p if i < len(parts) - 1 else cst.Await(expression=p) for i, p in enumerate(parts)]
        outs = [child.materialize(child.exprs.expr(p, loc, ""), loc, "item") for p in parts]
        child.graph.add("output", outs)
        node = self._map_node(child, items, item_input, loc, hint, e)
        if isinstance(e, cst.ListComp | cst.GeneratorExp):
            return Traced(node)
        make = "dict" if isinstance(e, cst.DictComp) else "set"
        return Traced(self._wrap(node, f"{hint} = {make}({node.name})", e, loc, hint))

    def _table_calls(self, e: cst.BaseComp) -> frozenset[int]:
        """The calls in ``e`` of a method of an item of a module's table of agents no method
        changes (``[await a.run(q) for a in TEAM]``): they change no item (``item_method_calls``)."""
        src = self.body.src
        local = {a.name for a in src.fn_scope.assignments if src.fn_scope.assignments[a.name]}
        return impure.item_method_calls(e, src.fn.__globals__, local)

    def call_map(
        self, func: cst.BaseExpression, iterable: cst.BaseExpression, loc: SourceLoc, hint: str
    ) -> Value:
        """A ``map`` node for ``map(func, iterable)`` spread into ``gather``: each item awaits
        ``func(item)``."""
        hint = hint or "value"
        items = self.body.materialize(self.expr(iterable, loc, "items"), loc, "items")
        child = self.body.nested("body")
        item_input = child.graph.add("input", (), {"name": "item"}, name="item")
        child.temps[MAP_ITEM] = Traced(item_input)
        call = cst.Call(func=func, args=[cst.Arg(cst.Name(MAP_ITEM))])
        param_parts.bind_item(child, MAP_ITEM, iterable)  # (what a helper changing the item changes)
        out = child.materialize(child.exprs.await_expr(cst.Await(expression=call), loc, ""), loc, "item")
        child.temps.pop(MAP_ITEM, None)
        child.graph.add("output", [out])
        return Traced(self._map_node(child, items, item_input, loc, hint, None))

    def _map_node(
        self, child: Builder, items: Node, item_input: Node, loc: SourceLoc, hint: str, e: Any
    ) -> Node:
        order = list(child.captures)
        align_inputs(child, order, first=item_input)
        return self.body.emit(
            "map",
            [items, *(child.captures[n][0] for n in order)],
            {"body": child.graph, "item": item_input.attrs["name"], "concurrency": 1},
            loc,
            hint if e is None or isinstance(e, cst.ListComp | cst.GeneratorExp) else f"{hint}_items",
        )

    def _wrap(self, node: Node, source: str, at: cst.CSTNode, loc: SourceLoc, hint: str) -> Node:
        self.body.temps[node.name] = Traced(node)
        try:
            return self.body.python_node(at, loc, [hint], source=source, name=hint, reads=[node.name])
        finally:
            del self.body.temps[node.name]

    def _comprehension_items(
        self,
        e: Any,
        comp: cst.CompFor,
        iterable: Node,
        names: list[str],
        loc: SourceLoc,
        hint: str,
        *,
        lazy: bool,
    ) -> Node:
        """A python node for the list of what the ``for`` clauses bind, one tuple per item. ``lazy``
        (the element awaits, item by item): when a clause raises at an item (a filter, an inner
        iterable, an unpacking), the list of the items before it, which raises that error when
        iterated after them (``ir.code.ItemsThenError``); not for ``gather(*(f(x) for ...))``,
        whose items Python makes all before the first call."""
        over = iterable.name if not keyword.iskeyword(iterable.name) else iterable.name + "_"  # (`break`)
        clause_parts = [*comp.ifs, *([comp.inner_for_in] if comp.inner_for_in is not None else [])]
        read = {n for p in clause_parts for n in self.body.src.free_names(p)[0]} | set(names)
        while over in read:  # (the node named `items` and the user's `items` an inner clause reads)
            over += "_"
        clauses = f"for {self.body.src.code(comp.target).strip()} in {over}"
        clauses += "".join(f" if {self.body.src.code(c.test).strip()}" for c in comp.ifs)
        if comp.inner_for_in is not None:
            clauses += " " + self.body.src.code(comp.inner_for_in).strip()
        bound = names[0] if len(names) == 1 else f"({', '.join(names)},)"
        target = f"{hint}_items"
        # (a clause raising at an item is met after the elements before it, as Python meets it)
        source = f"{target} = {ITEMS_NAME}({bound} {clauses})" if lazy else f"{target} = [{bound} {clauses}]"
        parts = [e.key, e.value] if isinstance(e, cst.DictComp) else [e.elt]
        exclude = frozenset(id(p) for p in [*parts, comp.iter])
        self.body.temps[over] = Traced(iterable)
        try:
            return self.body.python_node(e, loc, [target], source=source, exclude=exclude, name=target)
        finally:
            del self.body.temps[over]

    # --- conditional expressions ---------------------------------------------------------------------

    def branching_await(self, e: cst.CSTNode) -> bool:
        """A conditional expression, or an ``and``/``or``, whose conditionally evaluated part awaits."""
        if isinstance(e, cst.IfExp):
            return contains_await(e.body) or contains_await(e.orelse)
        return isinstance(e, cst.BooleanOperation) and contains_await(e.right)

    def branch_value(self, e: cst.IfExp | cst.BooleanOperation, loc: SourceLoc, hint: str) -> Value:
        """A ``cond`` for ``a if test else b`` (or ``a or b``, ``a and b``) whose branches await: only
        the chosen branch runs, as in Python."""
        if isinstance(e, cst.IfExp):
            static = None if contains_await(e.test) else self.try_static(e.test)
            if static is not None:
                return self.expr(e.body if static.value else e.orelse, loc, hint)
            pred = self.body.materialize(self.expr(e.test, loc, "test"), loc, "test")
            return self._cond_of(pred, e.body, e.orelse, loc, hint)
        left = self.expr(e.left, loc, "left", text=False)
        if isinstance(left, Static):
            keep = bool(left.value) == isinstance(e.operator, cst.Or)
            return left if keep else self.expr(e.right, loc, hint)
        node = self.body.materialize(left, loc, "left")
        if isinstance(e.operator, cst.Or):
            return self._cond_of(node, node, e.right, loc, hint)
        return self._cond_of(node, e.right, node, loc, hint)

    def _cond_of(
        self,
        pred: Node,
        then: cst.BaseExpression | Node,
        orelse: cst.BaseExpression | Node,
        loc: SourceLoc,
        hint: str,
    ) -> Value:
        branches = []
        for label, part in (("then", then), ("orelse", orelse)):
            child = self.body.nested(label)
            if isinstance(part, Node):
                self.body.temps[part.name] = Traced(part)
                try:
                    value = child.lookup_local(part.name, loc)
                finally:
                    del self.body.temps[part.name]
            else:
                value = child.exprs.expr(part, loc, hint, text=False)
            child.graph.add("output", [child.materialize(value, loc, hint or "value")])
            branches.append(child)
        return Traced(cond_node(self.body, pred, branches, loc, hint or "cond"))


def _interleaved(body: Builder, e: Any) -> bool:
    """Whether the clauses of comprehension ``e`` and its element must take turns, item by item, as
    Python runs them: a filter or inner iterable changes an object in place (``if not
    seen.add(d)``, ``log.append(d)``) or hands it to a function that may change it (``if note(d,
    log)``, ``for c in list(tracked(d, log))``), or the element changes, or hands to a call, an object the
    clauses read (``seen.add(d) or await ask(d)`` under ``if d not in seen``; ``await cached(d,
    store)`` under ``if d not in store``). The map computes every item before any element runs."""
    clauses: list[cst.CSTNode] = []
    comp: cst.CompFor | None = e.for_in
    while comp is not None:
        clauses.extend(comp.ifs)
        if comp is not e.for_in:
            clauses.append(comp.iter)
        comp = comp.inner_for_in
    if not clauses:
        return False
    own = set(_bound_names(e.for_in))
    if any(set(mutated_roots(c)) & set(body.src.free_names(c)[0]) - own for c in clauses):
        return True  # (a workflow object's: not `re.search(p, d)`)
    handed = {
        n
        for c in clauses
        for call in walk(c)
        if isinstance(call, cst.Call)
        for n in handed_changed(body.src, call)
    }
    if handed - own:
        return True  # (`if note(d, log)`, `for c in chunks(d, log)`: a function changes `log`)
    element = [e.key, e.value] if isinstance(e, cst.DictComp) else [e.elt]
    # an item a filter changes in place and the element reads (`if o.bump()` then `o.n`): the
    # iterable may hold one object twice, whose second filter must come after the first element
    items_changed = {n for c in clauses for n in mutated_roots(c)} | handed
    if items_changed & own & {n for part in element for n in body.src.free_names(part)[0]}:
        return True
    read = {n for c in clauses for n in body.src.free_names(c)[0]} - own
    changed = {n for part in element for n in mutated_roots(part)}
    element_handed = {
        n
        for part in element
        for c in walk(part)
        if isinstance(c, cst.Call)
        for n in handed_changed(body.src, c)
    }
    return bool(read & (changed | element_handed) - immutable_names(body.src))


def _clause_awaits(comp: cst.CompFor) -> bool:
    if any(contains_await(c) for c in comp.ifs):
        return True
    inner = comp.inner_for_in
    return inner is not None and (contains_await(inner.iter) or _clause_awaits(inner))


def _sets_parts(comp: cst.CompFor | None) -> cst.CSTNode | None:
    """The first ``for`` target that sets an attribute or an item (``for c.pos in docs``), if any:
    the map body binds names only, so such a comprehension runs as written."""
    while comp is not None:
        if any(isinstance(n, cst.Attribute | cst.Subscript) for n in walk(comp.target)):
            return comp.target
        comp = comp.inner_for_in
    return None


def _bound_names(comp: cst.CompFor | None) -> list[str]:
    """Every name the ``for`` clauses bind, in order."""
    out: dict[str, None] = {}
    while comp is not None:

        class V(cst.CSTVisitor):
            def visit_Name(self, n: cst.Name) -> None:
                out[n.value] = None

        visit(comp.target, V())
        comp = comp.inner_for_in
    return list(out)
