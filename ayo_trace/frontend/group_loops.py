"""``for`` loops starting a task group's tasks, as the comprehensions the tracer reads::

    async with asyncio.TaskGroup() as tg:          async with asyncio.TaskGroup() as tg:
        for d in docs:                       ->        ayo_group_tasks__ = [
            tg.create_task(summarize(d))                   tg.create_task(summarize(d)) for d in docs]

and, where the statement before the loop (in the group's body, or before the group when the loop
comes first in it) is ``tasks = []``, ``tasks.append(tg.create_task(f(d)))`` as the loop's body:
``tasks = [tg.create_task(f(d)) for d in docs]``. The same tasks are made in the same order, from
the same items, and the list is the same; a comprehension's names are its own, so only where the
loop's names are read nowhere else in the function, the loop has no ``else`` and its header and its
one body line are a line each (the comprehension takes the same two lines, so every line keeps its
number). A task group's comprehension is traced as one ``map`` (``task_groups``); the loop was a
graph break running the whole group as written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import libcst as cst

from .state import children, walk

TASKS = "ayo_group_tasks__"


def rewrite(module: cst.Module, is_group: Callable[[cst.BaseExpression], bool]) -> cst.Module:
    """``module`` with its task groups' loops rewritten (above); ``is_group(e)``: whether ``e``
    makes a task group."""
    counts = _reads(module)

    class Loops(cst.CSTTransformer):
        def leave_IndentedBlock(self, old: cst.IndentedBlock, new: cst.IndentedBlock) -> cst.IndentedBlock:
            body = list(new.body)
            for k, stmt in enumerate(body):
                tg = _group(stmt, is_group)
                if tg is None or not isinstance(stmt, cst.With):
                    continue
                inner = list(stmt.body.body)
                for j, loop in enumerate(inner):
                    before = inner[j - 1] if j else body[k - 1] if k else None
                    made = _made(module, loop, tg, before, counts)
                    if made is not None:
                        inner[j] = made
                body[k] = stmt.with_changes(body=stmt.body.with_changes(body=inner))
            return new.with_changes(body=body)

    out = module.visit(Loops())
    assert isinstance(out, cst.Module)
    return out


def _group(stmt: cst.BaseStatement, is_group: Callable[[cst.BaseExpression], bool]) -> str | None:
    """The name of the task group ``stmt`` opens (``async with asyncio.TaskGroup() as tg:``)."""
    if not (isinstance(stmt, cst.With) and stmt.asynchronous is not None and len(stmt.items) == 1):
        return None
    item = stmt.items[0]
    if item.asname is None or not isinstance(item.asname.name, cst.Name) or not is_group(item.item):
        return None
    return item.asname.name.value


def _made(
    module: cst.Module, loop: cst.CSTNode, tg: str, before: cst.CSTNode | None, counts: Counter[str]
) -> cst.BaseStatement | None:
    """The comprehension ``loop`` stands for, or None when it is not such a loop."""
    if not (isinstance(loop, cst.For) and loop.asynchronous is None and loop.orelse is None):
        return None
    lines = loop.body.body
    if len(lines) != 1 or not isinstance(lines[0], cst.SimpleStatementLine) or len(lines[0].body) != 1:
        return None
    small = lines[0].body[0]
    call = small.value if isinstance(small, cst.Expr) else None
    if not isinstance(call, cst.Call):
        return None
    name = TASKS
    if _method(call) == ("append", None) and len(call.args) == 1:  # `tasks.append(tg.create_task(...))`
        assert isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Name)
        name, call = call.func.value.value, call.args[0].value
        if not (isinstance(call, cst.Call) and _emptied(before, name)):
            return None
    if _method(call) != ("create_task", tg):
        return None
    own = _reads(loop)
    if any(own[n.value] != counts[n.value] for n in walk(loop.target) if isinstance(n, cst.Name)):
        return None  # (a name the loop binds is read after it, or elsewhere)
    code = module.code_for_node
    header, element = code(loop.target) + " in " + code(loop.iter), code(call)
    if "\n" in header or "\n" in element or "#" in header:
        return None
    made = cst.parse_statement(f"{name} = [\n    {element} for {header}]\n")
    return made.with_changes(leading_lines=loop.leading_lines)


def _reads(node: cst.CSTNode) -> Counter[str]:
    """How often each name stands in ``node``, but in a function or ``lambda`` it defines where
    the name is one of its parameters (its own variable, not the loop's)."""
    out: Counter[str] = Counter()
    stack: list[tuple[cst.CSTNode, frozenset[str]]] = [(node, frozenset())]
    while stack:
        n, own = stack.pop()
        if isinstance(n, cst.Name) and n.value not in own:
            out[n.value] += 1
        if isinstance(n, cst.FunctionDef | cst.Lambda):
            own = own | {p.name.value for p in _params(n.params)}
        stack.extend((c, own) for c in children(n))
    return out


def _params(params: cst.Parameters) -> list[cst.Param]:
    star = [params.star_arg] if isinstance(params.star_arg, cst.Param) else []
    kw = [params.star_kwarg] if params.star_kwarg is not None else []
    return [*params.posonly_params, *params.params, *star, *params.kwonly_params, *kw]


def _method(call: cst.Call) -> tuple[str, str | None] | None:
    """``(method, receiver)`` of ``receiver.method(...)`` (receiver None: not ``tg``-like)."""
    func = call.func
    if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
        return None
    return func.attr.value, func.value.value if func.attr.value == "create_task" else None


def _emptied(before: cst.CSTNode | None, name: str) -> bool:
    """Whether ``before`` is ``name = []``."""
    if not (isinstance(before, cst.SimpleStatementLine) and len(before.body) == 1):
        return False
    small = before.body[0]
    return (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
        and small.targets[0].target.value == name
        and isinstance(small.value, cst.List)
        and not small.value.elements
    )
