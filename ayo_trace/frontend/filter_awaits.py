"""A list or set comprehension whose ``if`` filter awaits, as one whose element awaits::

    [c for c in cands if await passes(c)]
      ->  [ayo_kept__[0] for ayo_kept__ in [((c,) if await passes(c) else None) for c in cands] if ayo_kept__ is not None]

Python evaluates, item by item, the filters in order and, for an item they all pass, the
element. The inner comprehension does the same, in the same order: its plain filters before the
first awaiting one stay its filters, and the rest (joined by ``and``, which stops at the first
false one as the ``if`` clauses do) become the test of a conditional whose one branch is the
element, in a tuple (an element may be ``None``); the outer one keeps the tuples. An error
raised by a filter or the element at an item is raised there, after the items before it, in
both, and the result is bound only once whole in both. The tracer reads an awaiting element as a
``map`` (one run per item); an awaiting filter was a graph break running the comprehension as
written.

Only a comprehension with one plain ``for`` clause (no ``async for``, no inner ``for``) whose
parts hold no comment; one written over several lines keeps its line count (the new text's
newlines stand before its closing bracket), so every line after it keeps its number.
"""

from __future__ import annotations

import libcst as cst

from .state import contains_await, walk

KEPT = "ayo_kept__"


def rewrite(module: cst.Module) -> cst.Module:
    """``module`` with its comprehensions filtering by an await rewritten (above)."""
    if not any(type(n) is cst.CompFor and any(contains_await(c.test) for c in n.ifs) for n in walk(module)):
        return module  # (none: libcst's visit would only build the tree again)

    class Filters(cst.CSTTransformer):
        def leave_ListComp(self, old: cst.ListComp, new: cst.ListComp) -> cst.BaseExpression:
            return _kept(module, old, new, "[", "]")

        def leave_SetComp(self, old: cst.SetComp, new: cst.SetComp) -> cst.BaseExpression:
            return _kept(module, old, new, "{", "}")

    out = module.visit(Filters())
    assert isinstance(out, cst.Module)
    return out


def _kept(
    module: cst.Module,
    old: cst.ListComp | cst.SetComp,
    new: cst.ListComp | cst.SetComp,
    opening: str,
    closing: str,
) -> cst.BaseExpression:
    clause = new.for_in
    if clause.asynchronous is not None or clause.inner_for_in is not None:
        return new
    first = next((i for i, c in enumerate(clause.ifs) if contains_await(c.test)), None)
    if first is None:
        return new
    code = module.code_for_node
    plain = "".join(f" if {code(c.test).strip()}" for c in clause.ifs[:first])
    tests = " and ".join(f"({code(c.test).strip()})" for c in clause.ifs[first:])
    parts = [code(new.elt), code(clause.target), code(clause.iter), plain, tests]
    if any("#" in p or "\n" in p for p in parts):
        return new  # (a comment, or a part over lines: left as written)
    element, target, items = (p.strip() for p in parts[:3])
    inner = f"[(({element},) if {tests} else None) for {target} in {items}{plain}]"
    text = f"{opening}{KEPT}[0] for {KEPT} in {inner} if {KEPT} is not None"
    newlines = code(old).count("\n")
    made = (
        cst.parse_expression(text + "\n" * newlines + closing)
        if newlines
        else cst.parse_expression(text + closing)
    )
    return made.with_changes(lpar=new.lpar, rpar=new.rpar)
