"""``for`` loops starting tasks, as the comprehensions the tracer reads::

    async with asyncio.TaskGroup() as tg:          async with asyncio.TaskGroup() as tg:
        for d in docs:                       ->        ayo_group_tasks__ = [
            tg.create_task(summarize(d))                   tg.create_task(summarize(d)) for d in docs]

(anyio's ``tg.start_soon(f, d)`` alike: ``[tg.start_soon(f, d) for d in docs]``, a list of Nones
read nowhere, which ``task_groups`` traces as the ``tg.create_task(f(d))`` comprehension), and,
where the statement before the loop (in the group's body, or before the group when the loop
comes first in it) is ``tasks = []``, ``tasks.append(tg.create_task(f(d)))`` as the loop's body:
``tasks = [tg.create_task(f(d)) for d in docs]``. Outside a group the same holds for a loop keeping
``asyncio.create_task(...)`` or ``asyncio.ensure_future(...)`` after ``tasks = []``
(``tasks.append(...)``, or ``t = ...`` then ``tasks.append(t)``) or after ``tasks = {}``
(``tasks[k] = ...``, ``k`` a name or a constant: ``{k: ... for ...}``), so the tasks can be awaited
one by one later as a comprehension's can; and for a list of any calls (coroutines) read only
spread into a call (``gather(*coros)``), whose ``coros = []`` then goes (a ``pass`` stands there:
the tracer defers a comprehension of calls to its gather, ``coroutine_lists``). Before the line
keeping the task, the body may filter (``if cond: continue``) and bind names per item (``text =
d.strip()``), and that line may stand in an ``if cond:``: the comprehension's clauses (``if not
(cond)``, ``for text in [d.strip()]``, ``if (cond)``), in the same order. The same tasks are made
in the same order, from the same items, and the list is the same; a comprehension's names are its
own, so only where the loop's names are read nowhere else in the function, the loop has no
``else``, its header and its body lines are a line each (the comprehension takes as many lines, so
every line keeps its number), and it is in no class body. Where a call's arguments may raise, the
loop keeps the tasks made before the error and the comprehension none: so a ``try`` around the loop
must not read the list past its body, unless the arguments are names, constants and attributes. A
dict is rewritten only where every other read of it is one a dict of tasks allows before they are
awaited (``task_dicts``): the comprehension's would be refused where the loop ran as written. A
task group's comprehension is traced as one ``map`` (``task_groups``); the loop was a graph break
running the whole group as written, and a loop of plain tasks awaited one by one was one too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import libcst as cst

from .state import ScopedTransformer, children, set_item, walk
from .visiting import visit

TASKS = "ayo_group_tasks__"


def rewrite(
    module: cst.Module,
    is_group: Callable[[cst.BaseExpression], bool],
    makes_task: Callable[[cst.BaseExpression], bool],
) -> cst.Module:
    """``module`` with its task-starting loops rewritten (above); ``is_group(e)``: whether ``e``
    makes a task group; ``makes_task(f)``: whether calling ``f`` makes an asyncio task
    (``asyncio.create_task``, ``asyncio.ensure_future``)."""
    nodes = list(walk(module))
    if not any(type(n) is cst.For for n in nodes) or not any(
        (type(n) is cst.With and n.asynchronous is not None)
        or (type(n) is cst.Call and (any(a.star == "*" for a in n.args) or makes_task(n.func)))
        for n in nodes
    ):  # (no loop, or none of a task group, a task made, a list spread into a call: libcst's
        return module  # visit would only build the tree again)
    counts = _reads(module)
    tries = _tries(module)

    class Loops(ScopedTransformer):
        def leave_IndentedBlock(self, old: cst.IndentedBlock, new: cst.IndentedBlock) -> cst.IndentedBlock:
            if self.scopes[-1]:  # (a comprehension in a class body cannot see the class's names)
                return new
            body = list(new.body)
            for k, stmt in enumerate(body):
                if k:  # `tasks = []`, then a loop appending `asyncio.create_task(...)` to it
                    made = _made(module, old.body[k], makes_task, body[k - 1], counts, tries, bare=False)
                    if made is not None:
                        body[k], unbound = made
                        if unbound:  # (a list of calls: its `coros = []` would be a read of it)
                            was = body[k - 1]
                            assert isinstance(was, cst.SimpleStatementLine)  # (`_emptied`)
                            body[k - 1] = was.with_changes(body=[cst.Pass()])
                        continue
                was = old.body[k]
                ahead = body[k - 1] if k else None
                if isinstance(stmt, cst.With):
                    body[k] = group(stmt, was, ahead)
                elif isinstance(stmt, cst.Try) and isinstance(was, cst.Try) and stmt.body.body:
                    # (a group first in a `try`: what stands before the `try` stands before it)
                    first = stmt.body.body[0]
                    if isinstance(first, cst.With):
                        lines = [group(first, was.body.body[0], ahead), *stmt.body.body[1:]]
                        body[k] = stmt.with_changes(body=stmt.body.with_changes(body=lines))
            return new.with_changes(body=body)

    def group(stmt: cst.With, was: cst.CSTNode, ahead: cst.CSTNode | None) -> cst.With:
        """``stmt`` (``was`` as parsed), a task group, with its loops rewritten (``ahead``: the
        statement before it)."""
        tg = _group(stmt, is_group)
        if tg is None:
            return stmt
        inner = list(stmt.body.body)
        old_inner = was.body.body if isinstance(was, cst.With) else inner
        for j, loop in enumerate(old_inner):
            before = inner[j - 1] if j else ahead
            made = _made(module, loop, _starts_in(tg), before, counts, tries, bare=True)
            if made is not None:
                inner[j] = made[0]
        return stmt.with_changes(body=stmt.body.with_changes(body=inner))

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


def _starts_in(tg: str) -> Callable[[cst.BaseExpression], bool]:
    """Whether a called function is ``tg.create_task`` (asyncio) or ``tg.start_soon`` (anyio)."""
    return lambda f: (
        isinstance(f, cst.Attribute)
        and isinstance(f.value, cst.Name)
        and f.value.value == tg
        and f.attr.value in ("create_task", "start_soon")
    )


def _soon(element: cst.Call) -> bool:
    """``tg.start_soon(f, *args)``: anyio's, which returns None (kept nowhere, so only a bare line)."""
    return isinstance(element.func, cst.Attribute) and element.func.attr.value == "start_soon"


def _made(
    module: cst.Module,
    loop: cst.CSTNode,
    starts: Callable[[cst.BaseExpression], bool],
    before: cst.CSTNode | None,
    counts: Counter[str],
    tries: dict[cst.CSTNode, list[cst.Try | cst.TryStar]],
    *,
    bare: bool,
) -> tuple[cst.BaseStatement, bool] | None:
    """The comprehension ``loop`` stands for, and whether the ``name = []`` before it goes (a
    list of calls, spread into a call: a ``pass`` stands there), or None when it is not such a
    loop. ``starts(f)``: whether calling ``f`` starts a task; ``bare``: whether a loop whose one
    line starts a task kept nowhere counts (a task group's, which keeps it)."""
    if not (isinstance(loop, cst.For) and loop.asynchronous is None and loop.orelse is None):
        return None
    body = _body(loop.body)
    if body is None:
        return None
    clauses, last = body
    stored = _stored(last, before)
    if stored is None:
        if not bare or not isinstance(last, cst.Expr):
            return None
        name, key, element = TASKS, None, last.value
    else:
        name, key, element = stored
    temps = [c.target.value for c in clauses if isinstance(c, _Temp)]
    kept = clauses[-1] if clauses else None
    if isinstance(kept, _Temp) and isinstance(element, cst.Name) and element.value == temps[-1]:
        clauses, element = clauses[:-1], kept.value  # `t = asyncio.create_task(...)`, then `tasks.append(t)`
    if not isinstance(element, cst.Call):
        return None
    plain = not starts(element.func)  # (a coroutine, or any call: only for a list spread into a call)
    soon = not plain and _soon(element)
    if soon and (stored is not None or not element.args or any(a.keyword or a.star for a in element.args)):
        return None  # (`tg.start_soon(f, x)` alone on its line: the comprehension's list is never read)
    if plain and (bare or key is not None or stored is None or not _only_spread(module, name, loop)):
        return None
    if plain and any(_reads(t.body)[name] != counts[name] for t in tries.get(loop, [])):
        return None  # (read past a `try` around: unbound where the comprehension raised, not `[]`)
    own = _reads(loop)
    if any(
        own[n] != counts[n]
        for n in [*temps, *(n.value for n in walk(loop.target) if isinstance(n, cst.Name))]
    ):
        return None  # (a name the loop binds is read after it, or elsewhere)
    if (stored is not None and own[name] != 1) or any(
        isinstance(n, cst.NamedExpr | cst.Await | cst.Lambda | cst.FunctionDef) for n in walk(loop)
    ):
        return None  # (the list read, or a name bound, by the loop's own expressions)
    tested = [c.value if isinstance(c, _Temp) else c.test for c in clauses]
    if any(isinstance(n, cst.Call) and starts(n.func) for e in tested for n in walk(e)):
        return None  # (a task started by a filter or a name bound per item)
    inner = element if plain else element.args[0].value if element.args else None
    arguments = [a.value for a in inner.args] if isinstance(inner, cst.Call) else [inner] if inner else []
    if soon:  # (`tg.start_soon(f, a, b)` calls `f(a, b)`)
        arguments = [a.value for a in element.args]
    if not _same_when_raising(loop, [*arguments, *tested], name, counts, tries):
        return None
    if key is not None and not _awaited_as_dict(module, name, loop):
        return None
    code = module.code_for_node
    made = code(element)
    if key is not None:
        made = f"{code(key)}: {made}"
    parts = [f"for {code(loop.target)} in {code(loop.iter)}"]
    for c in clauses:
        if isinstance(c, _Temp):
            parts.append(f"for {c.target.value} in [{code(c.value)}]")
        else:
            parts.append(f"if {'not ' if c.skips else ''}({code(c.test)})")
    if any("\n" in p or "#" in p for p in [made, *parts]):
        return None
    opening, closing = ("{", "}") if key is not None else ("[", "]")
    text = f"{name} = {opening}\n    {made}" + "".join(f"\n    {p}" for p in parts)
    lines = code(loop.with_changes(leading_lines=[])).strip("\n").count("\n") + 1
    if text.count("\n") + 1 > lines:  # (the loop's lines are fewer: the clauses on one line)
        text = f"{name} = {opening}\n    {made} " + " ".join(parts)
    text += "\n" * (lines - text.count("\n") - 1) + closing + "\n"
    return cst.parse_statement(text).with_changes(leading_lines=loop.leading_lines), plain


@dataclass(frozen=True)
class _Guard:
    """An ``if`` clause of the comprehension: ``test``, or ``not test`` for ``if test: continue``."""

    test: cst.BaseExpression
    skips: bool


@dataclass(frozen=True)
class _Temp:
    """A name bound per item (``text = c.strip()``): a ``for text in [c.strip()]`` clause."""

    target: cst.Name
    value: cst.BaseExpression


Clause = _Guard | _Temp


def _body(block: cst.BaseSuite) -> tuple[list[Clause], cst.BaseSmallStatement] | None:
    """A loop body's clauses and its last statement (what keeps the task): lines of one statement
    each, names bound (``text = c.strip()``) and ``if test: continue`` before it, the last one in
    an ``if test:`` of its own or not; None for any other body."""
    lines = list(block.body) if isinstance(block, cst.IndentedBlock) else None
    if not lines:
        return None
    clauses: list[Clause] = []
    for k, line in enumerate(lines):
        last = k == len(lines) - 1
        small = _one(line)
        if small is not None:
            if last:
                return clauses, small
            if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
                return None
            target = small.targets[0].target
            if not isinstance(target, cst.Name):
                return None
            clauses.append(_Temp(target, small.value))
            continue
        if not (isinstance(line, cst.If) and line.orelse is None):
            return None
        inner = _only(line.body)
        if inner is None:
            return None
        if isinstance(inner, cst.Continue) and not last:
            clauses.append(_Guard(line.test, skips=True))
        elif last and not isinstance(inner, cst.Continue | cst.Break | cst.Return | cst.Pass):
            clauses.append(_Guard(line.test, skips=False))
            return clauses, inner
        else:
            return None
    return None


def _one(line: cst.CSTNode) -> cst.BaseSmallStatement | None:
    if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
        return line.body[0]
    return None


def _only(block: cst.BaseSuite) -> cst.BaseSmallStatement | None:
    """The one statement of an ``if``'s body (on its line, or the next)."""
    if isinstance(block, cst.SimpleStatementSuite):
        return block.body[0] if len(block.body) == 1 else None
    return _one(block.body[0]) if len(block.body) == 1 else None


def _stored(
    small: cst.BaseSmallStatement, before: cst.CSTNode | None
) -> tuple[str, cst.BaseExpression | None, cst.BaseExpression] | None:
    """``(name, key, value)`` of ``name.append(value)`` after ``name = []`` (key None), or of
    ``name[key] = value`` after ``name = {}`` where the key is a name or a constant (a dict
    comprehension evaluates its key first, the assignment its value: the same only for those)."""
    if isinstance(small, cst.Expr) and isinstance(call := small.value, cst.Call):
        func = call.func
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.attr.value == "append"
            and len(call.args) == 1
            and not call.args[0].star
            and call.args[0].keyword is None
            and _emptied(before, func.value.value, cst.List)
        ):
            return func.value.value, None, call.args[0].value
        return None
    found = set_item(small)
    if found is None:
        return None
    name, key, value = found
    if not isinstance(key, cst.Name | cst.SimpleString | cst.Integer) or not _emptied(before, name, cst.Dict):
        return None
    return name, key, value


def _same_when_raising(
    loop: cst.For,
    evaluated: list[cst.BaseExpression],
    name: str,
    counts: Counter[str],
    tries: dict[cst.CSTNode, list[cst.Try | cst.TryStar]],
) -> bool:
    """Whether the comprehension leaves ``name`` as the loop would when an item's expression raises
    (``evaluated``: the call's arguments, a filter, a name bound per item): the loop kept the tasks
    made so far, the comprehension none. Either no ``try`` around it reads ``name`` past its body,
    or those expressions are names, constants, attributes and strings made of them (no call, no
    item)."""
    read_past = any(_reads(t.body)[name] != counts[name] for t in tries.get(loop, []))
    return not read_past or all(
        not isinstance(n, cst.Call | cst.Subscript) for e in evaluated for n in walk(e)
    )


def _only_spread(module: cst.Module, name: str, loop: cst.CSTNode) -> bool:
    """Whether every other read of the list ``name`` is ``*name`` in a call (``gather(*coros)``):
    a list of calls made by a comprehension, spread where it is awaited, is one the tracer
    traces there (``coroutine_lists``)."""
    for _, up, parents in _other_reads(module, name, loop, cst.List):
        if not (isinstance(up, cst.Arg) and up.star == "*" and isinstance(parents.get(up), cst.Call)):
            return False
    return True


def _other_reads(
    module: cst.Module, name: str, loop: cst.CSTNode, kind: type[cst.List] | type[cst.Dict]
) -> Iterator[tuple[cst.Name, cst.CSTNode | None, dict[cst.CSTNode, cst.CSTNode]]]:
    """Each mention of ``name`` outside ``loop`` but its ``name = []`` (``kind`` List) or ``name =
    {}``, with what holds it, and the parent links."""
    parents: dict[cst.CSTNode, cst.CSTNode] = {}
    for n in walk(module):
        for c in children(n):
            parents[c] = n
    skip = {id(n) for n in walk(loop)}
    for n in walk(module):
        if not (isinstance(n, cst.Name) and n.value == name) or id(n) in skip:
            continue
        up = parents.get(n)
        line = parents.get(parents[up]) if isinstance(up, cst.AssignTarget) else None
        if line is None or not _emptied(line, name, kind):
            yield n, up, parents


def _awaited_as_dict(module: cst.Module, name: str, loop: cst.CSTNode) -> bool:
    """Whether every other read of the dict ``name`` is one a dict of tasks made by a comprehension
    may have before its tasks are awaited (``task_dicts``): ``for k, t in name.items()`` (or
    ``.values()``, in a loop or a comprehension), ``*name.values()`` spread into a call, ``await
    name[key]``. Another read is refused there, where the loop ran as written."""
    for n, up, parents in _other_reads(module, name, loop, cst.Dict):
        if isinstance(up, cst.Subscript) and up.value is n and isinstance(parents.get(up), cst.Await):
            continue
        if not (isinstance(up, cst.Attribute) and up.value is n and up.attr.value in ("items", "values")):
            return False
        call = parents.get(up)
        held = parents.get(call) if isinstance(call, cst.Call) and not call.args else None
        if isinstance(held, cst.For | cst.CompFor) and held.iter is call:
            continue
        if not (isinstance(held, cst.Arg) and held.star == "*" and up.attr.value == "values"):
            return False
    return True


def _tries(module: cst.Module) -> dict[cst.CSTNode, list[cst.Try | cst.TryStar]]:
    """Each loop of ``module`` in a ``try``'s body: those ``try`` statements."""
    out: dict[cst.CSTNode, list[cst.Try | cst.TryStar]] = {}

    class Find(cst.CSTVisitor):
        def __init__(self) -> None:
            super().__init__()
            self.around: list[cst.Try | cst.TryStar] = []

        def visit_Try(self, node: cst.Try) -> bool:
            return self._around(node)

        def visit_TryStar(self, node: cst.TryStar) -> bool:
            return self._around(node)

        def _around(self, node: cst.Try | cst.TryStar) -> bool:
            self.around.append(node)
            visit(node.body, self)
            self.around.pop()
            for part in [*node.handlers, node.orelse, node.finalbody]:
                if part is not None:
                    visit(part, self)
            return False

        def visit_For(self, node: cst.For) -> None:
            if self.around:
                out[node] = list(self.around)

    visit(module, Find())
    return out


def _reads(node: cst.CSTNode) -> Counter[str]:
    """How often each name stands in ``node``, but in a function or ``lambda`` it defines where
    the name is one of its parameters, or in a comprehension whose ``for`` binds it (its own
    variable, not the loop's; its first iterable is read around it)."""
    out: Counter[str] = Counter()
    stack: list[tuple[cst.CSTNode, frozenset[str]]] = [(node, frozenset())]
    while stack:
        n, own = stack.pop()
        if isinstance(n, cst.Name) and n.value not in own:
            out[n.value] += 1
        if isinstance(n, cst.FunctionDef | cst.Lambda):
            own = own | {p.name.value for p in _params(n.params)}
        if isinstance(n, cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp):
            stack.append((n.for_in.iter, own))  # (evaluated in the scope around it)
            clause: cst.CompFor | None = n.for_in
            while clause is not None:
                own = own | {t.value for t in walk(clause.target) if isinstance(t, cst.Name)}
                clause = clause.inner_for_in
            stack.extend((c, own) for c in children(n) if c is not n.for_in)
            stack.extend((c, own) for c in children(n.for_in) if c is not n.for_in.iter)
            continue
        stack.extend((c, own) for c in children(n))
    return out


def _params(params: cst.Parameters) -> list[cst.Param]:
    star = [params.star_arg] if isinstance(params.star_arg, cst.Param) else []
    kw = [params.star_kwarg] if params.star_kwarg is not None else []
    return [*params.posonly_params, *params.params, *star, *params.kwonly_params, *kw]


def _emptied(before: cst.CSTNode | None, name: str, kind: type[cst.List] | type[cst.Dict]) -> bool:
    """Whether ``before`` is ``name = []`` (``kind`` List) or ``name = {}`` (Dict)."""
    if not (isinstance(before, cst.SimpleStatementLine) and len(before.body) == 1):
        return False
    small = before.body[0]
    return (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
        and small.targets[0].target.value == name
        and isinstance(small.value, kind)
        and not small.value.elements
    )
