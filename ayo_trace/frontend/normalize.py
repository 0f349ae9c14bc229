"""The function's tree as the tracer reads it, rewritten once when it is parsed, meaning the same.

* A body written on its compound statement's line (``for d in docs: out.append(await f(d))``,
  ``try: x = await f()``, ``else: r = ...``) is put on a line of its own, as every body the
  compiler reads is a block of lines.
* ``with contextlib.suppress(E1, E2): body`` is the ``try`` it stands for:

      with contextlib.suppress(ayo.EngineError):       try:
          draft = await ayo.llm(prompt)          ->        draft = await ayo.llm(prompt)
                                                       except ayo.EngineError:
                                                           pass

  ``suppress`` swallows the errors of the classes it is given that its body raises, which is what
  ``except (E1, E2): pass`` does, so the ``try`` is traced as any other (a ``try`` node,
  ``try_except``). Only a plain ``with`` whose items are all ``suppress(...)`` of classes, with no
  ``as``, found to be ``contextlib.suppress`` in the function's globals or closure when it is
  parsed (``with suppress(A), suppress(B):`` is a ``try`` in a ``try``).

* ``x: T = value`` in a function's body is ``x = value``: Python never evaluates a local name's
  annotation (PEP 526), so the two mean the same, and every rule about assignments then holds for
  annotated ones (``batch: list[Awaitable[str]] = []`` grown and gathered, say). A class body's
  annotations are kept (they make its fields), and so are ``x: T`` with no value (it makes ``x``
  a local name) and annotations of attributes or items.

* ``x = asyncio.create_task(f()) if cond else None``, a task made in one branch of a conditional
  expression assigned to names, is the ``if`` statement it stands for::

      bg = asyncio.create_task(f(q)) if docs else None      ->    if docs:
                                                                     bg = asyncio.create_task(f(q))
                                                                 else:
                                                                     bg = None

  Python evaluates the condition, then one branch, then assigns, in both; a task made in a
  statement of its own is one the tracer keeps (``parallel``) where, inside an expression, it
  would be work started and never awaited. Only a one-line statement of one ``=`` whose value is
  a conditional expression with ``asyncio.create_task`` or ``ensure_future`` in a branch (a
  conditional in the ``else`` branch is rewritten the same way, as an ``elif``).

* ``t1, t2 = asyncio.create_task(f()), asyncio.create_task(g())`` (one line, no value reading a
  name it binds) is one assignment per name, each task then kept as one assigned alone is.

* ``f"{x=}"`` is ``f"x={x!r}"``: a field with ``=`` is its text, as written, then its value
  (``repr`` unless a conversion or a format spec is given), as Python prints it; so a field
  holding an await (``f"{await ask(q)=}"``) prints its own text, not the name of the value the
  graph binds for it.

* ``d[await key(q)] = value(q)``, an assignment whose targets await, is
  ``ayo_value__ = value(q); d[await key(q)] = ayo_value__`` (on the same line; so are tuple,
  chained and annotated ones, and ``(await get(q)).field = value(q)``): Python evaluates the value
  first, then the targets' expressions, where the targets' awaits lifted out of the statement
  would run first. A value that is a name or a constant is read the same after them and stays;
  an augmented assignment evaluates its target first (``d[await key(q)] += value(q)``) and stays.

* A task group's ``for d in docs: tg.create_task(f(d))`` is the comprehension it stands for
  (``group_loops``).

* A list or set comprehension whose ``if`` filter awaits is one whose element awaits
  (``filter_awaits``).

* A ``try`` whose body holds a loop that awaits is the loop with the ``try`` inside it, each
  handler ending with a ``break``, what stands before and after the loop in ``try`` statements of
  their own with copies of the handlers (``try_loops``), where that means the same.

* ``groups.setdefault(k, []).append(await ask(w))``, a method call awaiting in its arguments on
  a receiver that calls something, awaits nothing and is made from a name by method calls, items
  and attributes (``_held``: not ``make_session(k)``, whose object the temporary would keep
  alive), is ``ayo_receiver__ = groups.setdefault(k, [])`` then ``ayo_receiver__.append(await
  ask(w))`` (a new line, standing for the one before it): Python runs the receiver's code, then
  looks the method up, then evaluates the arguments, in both.

* ``getattr(obj, "name")`` (two arguments, a name written out) is ``obj.name``, the same read.

* ``nonlocal calls`` in a function the workflow defines: the workflow's ``calls`` kept in a cell
  (``calls__cell = [0]``, every use ``calls__cell[0]``), as Python keeps it (``nonlocals``).

* ``async with asyncio.TaskGroup() as tg:`` (or anyio's ``create_task_group()``) is wrapped in
  the ``try`` that makes its error what the group raises::

      try:
          async with asyncio.TaskGroup() as tg: ...
      except Exception as ayo_task_group_error__:
          raise (ayo_task_group_error__ if isinstance(ayo_task_group_error__, BaseExceptionGroup)
                 else ExceptionGroup("unhandled errors in a TaskGroup", [ayo_task_group_error__]))

  A group wraps what fails in it (a task, or its own body) in an ``ExceptionGroup``; in the graph
  the failed call raises its error itself, so the ``try`` wraps it as the group would (a group run
  as written, a graph break, raised its own already). With several failed tasks the group may
  gather more than one error where the graph raises the first.

Most add lines the source does not have (a body moved to its own line, a handler, a branch, an
assignment split off, a cell): the lines after them in the rewritten code are further down,
which ``lines`` undoes for the file's line numbers (a new line stands for the one before it, a
``try:`` for the one after it); a conditional written over several lines is on fewer, which
``lines`` undoes too.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import keyword
import sys
from collections.abc import Sequence
from typing import Any

import libcst as cst

from . import coroutine_factories, filter_awaits, global_names, group_loops, nonlocals, try_loops, with_blocks
from .state import ScopedTransformer, contains_await, walk
from .user_code import read_attribute
from .visiting import visit


def rewrite(
    module: cst.Module, names: dict[str, Any]
) -> tuple[cst.Module, try_loops.Lines, list[tuple[cst.CSTNode, int]]]:
    """``module`` rewritten (above), and the nodes starting a line the source does not have, to
    find those lines once the tree is laid out: those standing for the line before them (a body
    moved to its own line; each handler and its ``pass``; the inner ``try`` of ``with
    suppress(A), suppress(B):``; a task group's handler and ``raise``), those standing for the
    line after them (a task group's ``try:``, a parameter's cell), and copies of handlers standing
    for the lines of the handler they copy (``try_loops``); then the statements now on fewer
    lines. ``names``: the function's globals and closure."""
    names = {**names, **_imported(module)}  # (`import contextlib` in the function: the module's)
    module, cells = nonlocals.rewrite(module)  # (first: its lines are found where it puts them)
    module, setters = global_names.rewrite(module)  # (`global X`: functions binding it)
    module = coroutine_factories.rewrite(module, names)  # (`ask(d)` of `def ask(x): return ayo.llm(..)`)
    module = group_loops.rewrite(  # (a loop of `tg.create_task`, or appending `asyncio.create_task`)
        module, lambda e: _is_group(e, names), lambda f: _is_task_maker(_resolve(f, names))
    )
    module = filter_awaits.rewrite(module)  # (`[c for c in cs if await ok(c)]`: the filter in the element)
    seen = try_loops.survey(module)
    added: list[cst.CSTNode] = []
    ahead: list[cst.CSTNode] = []  # (new lines standing for the line after them: a `try:`)
    made = try_loops.Lines(added, ahead)
    shrunk: list[tuple[cst.CSTNode, int]] = []  # (a statement now on fewer lines: how many fewer)
    withs: list[cst.With] = []  # (those `with_blocks` rewrote: each one's names its own)

    class Rewrite(ScopedTransformer):
        def leave_AnnAssign(self, old: cst.AnnAssign, new: cst.AnnAssign) -> cst.BaseSmallStatement:
            if self.scopes[-1] or new.value is None or not isinstance(new.target, cst.Name):
                return new
            return cst.Assign(
                targets=[cst.AssignTarget(new.target)], value=new.value, semicolon=new.semicolon
            )

        def leave_SimpleStatementSuite(
            self, old: cst.SimpleStatementSuite, new: cst.SimpleStatementSuite
        ) -> cst.BaseSuite:
            line = _value_first(
                cst.SimpleStatementLine(body=new.body, trailing_whitespace=new.trailing_whitespace)
            )
            lines = _receiver_first(line, added) or [line]
            added.append(lines[0])
            return cst.IndentedBlock(body=lines)

        def leave_SimpleStatementLine(
            self, old: cst.SimpleStatementLine, new: cst.SimpleStatementLine
        ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
            split = _split(new, names, added)
            if split is None and (two := _receiver_first(new, added)) is not None:
                return cst.FlattenSentinel(two)
            return split if split is not None else _branched(_value_first(new), names, added, shrunk)

        def leave_FormattedString(
            self, old: cst.FormattedString, new: cst.FormattedString
        ) -> cst.FormattedString:
            return _spelled_out(old, new)

        def leave_Try(
            self, old: cst.Try, new: cst.Try
        ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
            if len(self.scopes) != 2:  # (the function's own body: `seen` is of its names, not a
                return new  # nested function's, whose `items` may be another object)
            return try_loops.rewrite(old, new, names, seen, made)

        def leave_Call(self, old: cst.Call, new: cst.Call) -> cst.BaseExpression:
            return _attribute_read(new, names)

        def leave_With(
            self, old: cst.With, new: cst.With
        ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
            if new.asynchronous is not None:
                return _grouped(new, names, added, ahead)
            caught = [_suppressed(item, names) for item in new.items]
            if any(c is None for c in caught):  # (a context manager's: the `try` it stands for)
                kept = [c is not None for c in caught]  # (`suppress` among managers: one more)
                if (
                    self.scopes[-1]
                    or (tried := with_blocks.rewrite(new, names, added, len(withs), kept)) is None
                ):
                    return new
                withs.append(new)
                return tried
            made: cst.Try | None = None
            for kinds in reversed(caught):  # `with suppress(A), suppress(B):` is A around B
                assert kinds is not None
                passing = cst.SimpleStatementLine([cst.Pass()])
                added.append(passing)
                handler = cst.ExceptHandler(
                    body=cst.IndentedBlock([passing]),
                    type=kinds[0] if len(kinds) == 1 else cst.Tuple([cst.Element(k) for k in kinds]),
                    whitespace_after_except=cst.SimpleWhitespace(" "),
                )
                added.append(handler)
                if made is not None:
                    added.append(made)  # (an inner `try:` line is new too)
                made = cst.Try(
                    body=new.body if made is None else cst.IndentedBlock([made]), handlers=[handler]
                )
            assert made is not None
            outer = made
            return outer.with_changes(leading_lines=new.leading_lines)

    rewritten = module.visit(Rewrite())
    assert isinstance(rewritten, cst.Module)
    fn = next((s for s in rewritten.body if isinstance(s, cst.FunctionDef)), None)
    if cells and fn is not None:  # (a parameter's cell, first in the body: the first statement's line)
        ahead.extend(fn.body.body[:cells])
    if setters and fn is not None:  # (the second and later functions a `global` line became)
        added.extend(s for s in fn.body.body if isinstance(s, cst.FunctionDef) and s.name.value in setters)
    return rewritten, made, shrunk


def _spelled_out(old: cst.FormattedString, new: cst.FormattedString) -> cst.FormattedString:
    """``f"{x=}"`` as ``f"x={x!r}"`` (and ``f"{x = :>5}"`` as ``f"x = {x:>5}"``): the field's text
    written out, as Python prints it, so that the field is a value like any other (``f"{await
    ask(q)=}"`` prints ``await ask(q)=``, not the name the await's result is bound to)."""
    parts: list[cst.BaseFormattedStringContent] = []
    for was, part in zip(old.parts, new.parts, strict=True):
        if not (
            isinstance(was, cst.FormattedStringExpression) and isinstance(part, cst.FormattedStringExpression)
        ):
            parts.append(part)
            continue
        if was.equal is None:
            parts.append(part)
            continue
        text = cst.Module([]).code_for_node(was.with_changes(conversion=None, format_spec=None))[1:-1]
        parts.append(cst.FormattedStringText(text.replace("{", "{{").replace("}", "}}")))
        conversion = part.conversion or (None if part.format_spec else "r")
        parts.append(
            part.with_changes(
                equal=None,
                conversion=conversion,
                whitespace_before_expression=cst.SimpleWhitespace(""),
                whitespace_after_expression=cst.SimpleWhitespace(""),
            )
        )
    return new.with_changes(parts=parts) if parts != list(new.parts) else new


def _branched(
    line: cst.SimpleStatementLine,
    names: dict[str, Any],
    added: list[cst.CSTNode],
    shrunk: list[tuple[cst.CSTNode, int]],
) -> cst.BaseStatement:
    """``x = a if c else b`` with a task made in ``a`` or ``b`` as ``if c: x = a`` / ``else: x = b``
    (``rewrite``); any other line as it is. Written over several lines (in parentheses), the
    statement is then on fewer lines: ``shrunk`` notes how many."""
    if len(line.body) != 1 or not isinstance(line.body[0], cst.Assign):
        return line
    assign = line.body[0]
    value = assign.value
    if not isinstance(value, cst.IfExp):
        return line
    code = cst.Module([]).code_for_node
    parts: list[cst.BaseExpression] = []
    e: cst.BaseExpression = value
    while isinstance(e, cst.IfExp):  # (each test and branch on one line of its own)
        parts += [e.test, e.body]
        e = e.orelse
    if any("\n" in code(p) for p in [*parts, e, *(t.target for t in assign.targets)]):
        return line
    if not any(_makes_task(branch, names) for branch in (value.body, value.orelse)):
        return line

    def assigned(e: cst.BaseExpression) -> cst.SimpleStatementLine:
        made = cst.SimpleStatementLine([assign.with_changes(value=e, semicolon=cst.MaybeSentinel.DEFAULT)])
        added.append(made)
        return made

    def branch(e: cst.IfExp) -> cst.If:
        orelse: cst.If | cst.Else
        if isinstance(e.orelse, cst.IfExp):
            orelse = branch(e.orelse)
        else:
            orelse = cst.Else(cst.IndentedBlock([assigned(e.orelse)]))
        added.append(orelse)
        return cst.If(test=e.test, body=cst.IndentedBlock([assigned(e.body)]), orelse=orelse)

    made = branch(value).with_changes(leading_lines=line.leading_lines)
    fewer = code(line.with_changes(leading_lines=())).rstrip("\n").count("\n")
    if fewer:
        shrunk.append((made, fewer))
    return made


VALUE = "ayo_value__"
RECEIVER = "ayo_receiver__"  # (a method call's receiver that runs code, awaiting in its arguments)
_CONSTANTS = (cst.Name, cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.Ellipsis)


def _value_first(line: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
    """Each assignment of ``line`` whose targets await, its value assigned first to ``VALUE``
    (``rewrite``); the line as it is when none is."""
    body: list[cst.BaseSmallStatement] = []
    for small in line.body:
        targets: list[cst.BaseExpression] = []
        if isinstance(small, cst.Assign):
            targets = [t.target for t in small.targets]
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            targets = [small.target]
        value = getattr(small, "value", None)
        if not any(contains_await(t) for t in targets) or isinstance(value, _CONSTANTS) or value is None:
            body.append(small)
            continue
        body.append(cst.Assign([cst.AssignTarget(cst.Name(VALUE))], value))
        body.append(small.with_changes(value=cst.Name(VALUE)))
    return line.with_changes(body=body) if len(body) != len(line.body) else line


def _receiver_first(
    line: cst.SimpleStatementLine, added: list[cst.CSTNode]
) -> list[cst.SimpleStatementLine] | None:
    """``line`` as two lines when its one statement's value is a method call awaiting in its
    arguments on a receiver that runs code (``_receiver``): the receiver assigned to
    ``RECEIVER``, then the call on it, a line standing for the one before it (two statements, so
    that a ``try`` around them can be cut between them); None for any other line."""
    if len(line.body) != 1 or (receiver := _receiver(line.body[0])) is None:
        return None
    small = line.body[0]
    assert isinstance(small, cst.Expr | cst.Assign)
    assert isinstance(small.value, cst.Call) and isinstance(small.value.func, cst.Attribute)
    call = small.value
    first = cst.SimpleStatementLine(
        [cst.Assign([cst.AssignTarget(cst.Name(RECEIVER))], receiver)], leading_lines=line.leading_lines
    )
    then = line.with_changes(
        body=[
            small.with_changes(value=call.with_changes(func=call.func.with_changes(value=cst.Name(RECEIVER))))
        ],
        leading_lines=[],
    )
    added.append(then)
    return [first, then]


def _receiver(small: cst.BaseSmallStatement) -> cst.BaseExpression | None:
    """The receiver of ``small``'s value when that is a method call awaiting in its arguments
    (``groups.setdefault(k, []).append(await ask(w))``) on a receiver that calls something, awaits
    nothing and is held (``_held``): Python runs the receiver's code first, before the await, so
    it is assigned first (``RECEIVER``), where the tracer would run it with the call; None for
    anything else."""
    value = small.value if isinstance(small, cst.Expr | cst.Assign) else None
    if not isinstance(value, cst.Call) or not isinstance(value.func, cst.Attribute):
        return None
    receiver = value.func.value
    if contains_await(receiver) or not any(contains_await(a) for a in value.args):
        return None
    scopes = (cst.Lambda, cst.FunctionDef, cst.ClassDef)
    if not any(isinstance(n, cst.Call) for n in walk(receiver, lambda n: isinstance(n, scopes))):
        return None
    return receiver if _held(receiver) else None


def _held(e: cst.BaseExpression) -> bool:
    """Whether ``e`` is made by method calls, items and attributes on a name, at any depth
    (``groups.setdefault(k, [])``, ``self.store.bucket(k).items``): what it hands back is likely
    held by that name's object, so keeping it a statement longer (in ``RECEIVER``) keeps nothing
    alive that Python would drop (``make_session(k)``'s object, which only a weak table holds)."""
    while True:
        if isinstance(e, cst.Call):
            if not isinstance(e.func, cst.Attribute):
                return False
            e = e.func.value
        elif isinstance(e, cst.Attribute | cst.Subscript):
            e = e.value
        else:
            return isinstance(e, cst.Name)


def _split(
    line: cst.SimpleStatementLine, names: dict[str, Any], added: list[cst.CSTNode]
) -> cst.FlattenSentinel[cst.BaseStatement] | None:
    """``t1, t2 = asyncio.create_task(f()), asyncio.create_task(g())`` as one assignment per name
    (``rewrite``), when no value reads a name assigned (Python evaluates every value, then binds
    the names: the same here); None for any other line."""
    if len(line.body) != 1 or not isinstance(assign := line.body[0], cst.Assign) or len(assign.targets) != 1:
        return None
    target, value = assign.targets[0].target, assign.value
    seqs = (cst.Tuple, cst.List)
    if not (
        isinstance(target, seqs) and isinstance(value, seqs) and len(target.elements) == len(value.elements)
    ):
        return None
    if any(isinstance(e, cst.StarredElement) or not isinstance(e.value, cst.Name) for e in target.elements):
        return None
    if any(isinstance(e, cst.StarredElement) for e in value.elements):
        return None
    if "\n" in cst.Module([]).code_for_node(line.with_changes(leading_lines=())).rstrip("\n"):
        return None
    targets = [e.value for e in target.elements if isinstance(e.value, cst.Name)]
    bound = {t.value for t in targets}
    if not any(_makes_task(e.value, names) for e in value.elements) or any(
        isinstance(n, cst.Name) and n.value in bound for e in value.elements for n in _nodes(e.value)
    ):
        return None
    lines = [
        cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(t)], v.value)])
        for t, v in zip(targets, value.elements, strict=True)
    ]
    added.extend(lines[1:])  # (each stands for the line before it: the statement's)
    return cst.FlattenSentinel([lines[0].with_changes(leading_lines=line.leading_lines), *lines[1:]])


def _nodes(e: cst.CSTNode) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []

    class All(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            out.append(node)
            return True

    visit(e, All())
    return out


def _attribute_read(call: cst.Call, names: dict[str, Any]) -> cst.BaseExpression:
    """``getattr(obj, "name")`` (the builtin, two arguments, a name written out) is ``obj.name``:
    Python reads the attribute the same way (a property, ``__getattr__`` too)."""
    if len(call.args) != 2 or any(a.keyword is not None or a.star for a in call.args):
        return call
    attr = call.args[1].value
    text = attr.evaluated_value if isinstance(attr, cst.SimpleString) else None
    if not (isinstance(text, str) and text.isidentifier() and not keyword.iskeyword(text)):
        return call
    func = call.func
    builtin = isinstance(func, cst.Name) and func.value == "getattr" and "getattr" not in names
    if not builtin and _resolve(func, names) is not builtins.getattr:
        return call
    return cst.Attribute(value=call.args[0].value, attr=cst.Name(text), lpar=call.lpar, rpar=call.rpar)


def _makes_task(e: cst.BaseExpression, names: dict[str, Any]) -> bool:
    """Whether ``e`` holds a call of ``asyncio.create_task`` or ``asyncio.ensure_future``."""

    class Find(cst.CSTVisitor):
        found = False

        def visit_Call(self, node: cst.Call) -> None:
            fn = _resolve(node.func, names)
            if _is_task_maker(fn):
                self.found = True

    finder = Find()
    visit(e, finder)
    return finder.found


_TASK_MAKERS = (asyncio.create_task, asyncio.ensure_future)


def _is_task_maker(fn: Any) -> bool:
    return any(fn is maker for maker in _TASK_MAKERS)  # (by identity: no `__eq__` of the user's runs)


GROUP_ERROR = "ayo_task_group_error__"
_GROUPED = (
    f"raise ({GROUP_ERROR} if isinstance({GROUP_ERROR}, BaseExceptionGroup) "
    f'else ExceptionGroup("unhandled errors in a TaskGroup", [{GROUP_ERROR}]))'
)


def regrouping(stmt: cst.Try) -> bool:
    """Whether ``stmt`` is the ``try`` made around a task group (``_grouped``), whose one handler
    raises the group's error again, as an ``ExceptionGroup``: it catches nothing."""
    return bool(stmt.handlers) and all(
        isinstance(h.name, cst.AsName)
        and isinstance(h.name.name, cst.Name)
        and h.name.name.value == GROUP_ERROR
        for h in stmt.handlers
    )


def _grouped(
    stmt: cst.With, names: dict[str, Any], added: list[cst.CSTNode], ahead: list[cst.CSTNode]
) -> cst.BaseStatement:
    """``async with asyncio.TaskGroup() as tg:`` (or anyio's task group) inside the ``try`` that
    gives its error as the group raises it: an ``ExceptionGroup`` of it (the graph raises a failed
    task's error itself)."""
    if len(stmt.items) != 1 or not _is_group(stmt.items[0].item, names):
        return stmt
    raising = cst.parse_statement(_GROUPED)
    assert isinstance(raising, cst.SimpleStatementLine)
    handler = cst.ExceptHandler(
        body=cst.IndentedBlock([raising]),
        type=cst.Name("Exception"),
        name=cst.AsName(cst.Name(GROUP_ERROR)),
        whitespace_after_except=cst.SimpleWhitespace(" "),
    )
    made = cst.Try(
        body=cst.IndentedBlock([stmt.with_changes(leading_lines=[])]),
        handlers=[handler],
        leading_lines=stmt.leading_lines,
    )
    ahead.append(made)  # (the `try:` line is the `async with` line's)
    added.extend([handler, raising])
    return made


def _is_group(call: cst.BaseExpression, names: dict[str, Any]) -> bool:
    if not isinstance(call, cst.Call) or call.args:
        return False
    fn = _resolve(call.func, names)
    if fn is asyncio.TaskGroup:
        return True
    module = getattr(fn, "__module__", "") or ""
    return module.split(".")[0] == "anyio" and getattr(fn, "__name__", "") == "create_task_group"


def _suppressed(item: cst.WithItem, names: dict[str, Any]) -> list[cst.BaseExpression] | None:
    """The classes ``item`` suppresses, when it is ``contextlib.suppress(...)`` of some, no ``as``."""
    call = item.item
    if item.asname is not None or not isinstance(call, cst.Call) or not call.args:
        return None
    if any(a.star or a.keyword for a in call.args) or _resolve(call.func, names) is not contextlib.suppress:
        return None
    return [a.value for a in call.args]


def _imported(module: cst.Module) -> dict[str, Any]:
    """What the function's own imports bind (``import contextlib``, ``from contextlib import
    suppress as s``), for modules already loaded: the objects Python's import will give it."""
    out: dict[str, Any] = {}
    for n in walk(module):
        if isinstance(n, cst.Import):
            for alias in n.names:
                dotted = cst.Module([]).code_for_node(alias.name)
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    if dotted in sys.modules:
                        out[alias.asname.name.value] = sys.modules[dotted]
                elif "." not in dotted and dotted in sys.modules:
                    out[dotted] = sys.modules[dotted]
        elif isinstance(n, cst.ImportFrom) and not n.relative and n.module is not None:
            source = sys.modules.get(cst.Module([]).code_for_node(n.module))
            if source is None or isinstance(n.names, cst.ImportStar):
                continue
            for alias in n.names:
                bound = alias.asname.name if alias.asname is not None else alias.name
                name = alias.name
                if isinstance(bound, cst.Name) and isinstance(name, cst.Name) and hasattr(source, name.value):
                    out[bound.value] = getattr(source, name.value)
    return out


def _resolve(e: cst.BaseExpression, names: dict[str, Any]) -> Any:
    """The object a name or a dotted name stands for in ``names`` (None when unknown)."""
    if isinstance(e, cst.Name):
        return names.get(e.value)
    if isinstance(e, cst.Attribute):
        base = _resolve(e.value, names)
        return read_attribute(base, e.attr.value, None) if base is not None else None
    return None


def lines(
    added: Sequence[int],
    ahead: Sequence[int] = (),
    shrunk: dict[int, int] | None = None,
    copied: dict[int, int] | None = None,
) -> Any:
    """A function from a line of the rewritten code to the line it was in the source, given the
    lines (in the rewritten code) added: each of ``added`` stands for the line before it (an
    ``except ...: pass`` for the body's last), each of ``ahead`` for the line after it (a ``try:``
    for the statement it wraps), each of ``copied`` for the line (in the rewritten code) of what
    it copies; ``shrunk``: the first lines of statements now on fewer lines than in the source, and
    how many fewer."""
    before, after, copies = frozenset(added), frozenset(ahead), copied or {}
    marks = before | after | frozenset(copies)
    fewer = shrunk or {}

    def original(line: int) -> int:
        if line in copies:
            return original(copies[line])
        while line in after:
            line += 1
        while line in before:
            line -= 1
        return line - sum(1 for m in marks if m < line) + sum(n for at, n in fewer.items() if at < line)

    return original
