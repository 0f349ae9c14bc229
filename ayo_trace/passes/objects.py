"""Which values of a graph may be one object, so that a change in place of one is a change of the others.

A statement that changes an object in place hands it on: ``self.calls += 1`` is
``%self = python(%bot)``, whose value is the object ``%bot`` holds, and what reads the name after
it reads ``%self``. So the values of one object form a chain, each handed on from the one before
(``%bot`` → ``%self`` → ``%self_1``), and a node reading one link may come after a change through
a later one: an inlined helper's parameter is a name of its own for the caller's object, so the
caller's read after ``await bot.ask(q)`` reads ``%bot`` while the helper's change after its
``await`` changes ``%self_1``. Whoever asks whether a change is seen by a read
(``effects.conflicts``) compares the ``origins`` of the two values, not the values.

A value is handed on from an arg (``handed_from``) when it is

* a ``python`` (or ``break``) node's value that is one of its parameters, by name: the value of
  the name it returns, or an item of the tuple of names it returns (``getitem``); it is surely that
  arg's object when the statement does not bind the name again (``log += [x]`` extends a list in
  place: one object; a string never changes in place, so holding it for one costs nothing), and
  may be a new one when it binds it only on some paths (``if not log: log = []``);
* a ``cond``, ``loop`` or ``try`` node's value (an item of it) that a body hands on from one of
  the node's args, or, for a loop run no time, the loop's initial value.

Anything else is a new object, or a part of another (``h = self.history``), which the frontend
hands on with the whole (``PyCode.changes``).

A new object may hold others: ``box = [a, b]``, ``box.append(a)``, ``Agent(memory)`` put the
objects of their arguments in it, so a change through ``box``'s items (``[retag(x) for x in
box]``) changes ``a``, and a change of ``a`` is seen through ``box``. ``reach`` adds the origins of
what the statements of a value's chain read (values known to be immutable hold nothing), and the
passes compare those (``effects.access``).
"""

from __future__ import annotations

import ast
import functools
import textwrap

from ..ir import Graph, Node, PyCode, primitive_spec
from ..ir.blocks import bindings, named_bodies
from ..ir.code import parsed

_STATEMENTS = ("python", "break")


def origins(value: Node) -> frozenset[Node]:
    """The values ``value`` may be the object of, as the first value of each chain (itself when it
    may be a new object). Two values may be one object when their origins meet."""
    return _walk(value, held=False)


def reach(value: Node) -> frozenset[Node]:
    """The ``origins`` of ``value`` and of every value an object of its chain may hold: a statement
    of the chain reads them and may have put them in it (``box = [a]``, ``box.append(b)``,
    ``agent = Agent(memory)``), so a change through ``box``'s items may change ``a``, and a change
    of ``a`` is seen through ``box``. Values known to be immutable (an LLM's text) hold nothing."""
    return _walk(value, held=True)


def _walk(value: Node, *, held: bool) -> frozenset[Node]:
    out: set[Node] = set()
    seen: set[Node] = set()
    work = [value]
    while work:
        v = work.pop()
        if v in seen:
            continue
        seen.add(v)
        handed, surely = handed_from(v)
        if not surely:
            out.add(v)
        work.extend(handed)
        if held:
            work.extend(a for a in _statement_args(v) if a not in handed and may_change(a))
    return frozenset(out)


def _statement_args(value: Node) -> tuple[Node, ...]:
    """The args of the statement ``value`` is the value of (or an item of: ``getitem``), but for a
    statement whose value is a new immutable one (``prompt = f"... {q}"``: it holds nothing)."""
    if value.op == "getitem" and value.args and value.args[0].op in _STATEMENTS:
        value = value.args[0]
    if value.op not in _STATEMENTS:
        return ()
    code = value.attrs.get("code")
    return () if isinstance(code, PyCode) and _makes_immutable(code.source) else value.args


# calls whose value is a new number, string or bool, holding nothing of their arguments
_IMMUTABLE_CALLS = frozenset({"str", "repr", "format", "len", "int", "float", "bool", "round", "abs", "hash"})


@functools.lru_cache(maxsize=4096)
def _makes_immutable(source: str) -> bool:
    """Whether ``source`` is one assignment of a value that is a new string, number or bool by its
    form: an f-string, a comparison, ``not``, a call of ``_IMMUTABLE_CALLS`` or of a ``str`` method."""
    try:
        body = parsed(textwrap.dedent(source)).body
    except SyntaxError:
        return False
    if len(body) != 1 or not isinstance(body[0], ast.Assign):
        return False
    value = body[0].value
    if isinstance(value, ast.JoinedStr | ast.Compare) or (
        isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not)
    ):
        return True
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    if isinstance(func, ast.Name):
        return func.id in _IMMUTABLE_CALLS
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Constant | ast.JoinedStr)


IMMUTABLE_TYPES = (str, bytes, int, float, bool, type(None), tuple, frozenset)


def may_change(value: Node) -> bool:
    """False when the value of ``value`` is known to be immutable (so no statement can change it,
    and it holds nothing another value could change)."""
    spec = primitive_spec(value.op)
    if spec is not None and spec.changeable is not None:
        return spec.changeable(value)
    if value.op == "const":
        return not isinstance(value.attrs.get("value"), IMMUTABLE_TYPES)
    return True


def handed_from(value: Node) -> tuple[list[Node], bool]:
    """The values (of ``value``'s graph) whose object ``value`` may be, and whether it surely is
    one of them (False: it may be a new object)."""
    if value.op in _STATEMENTS:
        return _returned(value, 0, single=True)
    if value.op == "cond" and len(value.attrs["then"].output.args) == 1:
        return _block_item(value, 0)
    if value.op == "getitem" and isinstance(k := value.attrs.get("index"), int):
        source = value.args[0]
        if source.op in _STATEMENTS:
            return _returned(source, k, single=False)
        if source.op in ("cond", "loop", "try"):
            return _block_item(source, k)
    return [], False


def _returned(node: Node, k: int, *, single: bool) -> tuple[list[Node], bool]:
    """The arg whose object the ``k``-th name a statement returns may be (``single``: its value is
    that name's, not a tuple of names)."""
    code = node.attrs.get("code")
    if not isinstance(code, PyCode) or (len(code.returns) == 1) != single or k >= len(code.returns):
        return [], False
    name = code.returns[k]
    if name not in code.params:
        return [], False
    again = binds(code, name)
    if again == "surely":
        return [], False
    return [node.args[code.params.index(name)]], again == "no"


def binds(code: PyCode, name: str) -> str:
    """Whether the statement binds ``name`` again: ``"surely"`` (a plain assignment at its top
    level), ``"maybe"`` (any other binding: in a branch, a loop, a ``with``...), or ``"no"``
    (augmenting it is no new binding: see the module's doc)."""
    try:
        tree = parsed(textwrap.dedent(code.source))
    except SyntaxError:
        return "maybe"
    for stmt in tree.body:
        targets: list[ast.expr] = []
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets = [stmt.target]
        if any(isinstance(n, ast.Name) and n.id == name for t in targets for n in _flat(t)):
            return "surely"
    stored = (
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store | ast.Del)
    )
    augmented = {id(n.target) for n in ast.walk(tree) if isinstance(n, ast.AugAssign)}
    return "maybe" if any(id(n) not in augmented for n in stored) else "no"


def _flat(target: ast.expr) -> list[ast.expr]:
    """``target`` and, for a tuple or list target, its elements (``a, *b = ...``)."""
    if isinstance(target, ast.Tuple | ast.List):
        return [n for e in target.elts for n in _flat(e)]
    return [target.value] if isinstance(target, ast.Starred) else [target]


def _block_item(node: Node, k: int) -> tuple[list[Node], bool]:
    """The args of a ``cond``, ``loop`` or ``try`` whose object the ``k``-th item of its value may
    be: what a body gives as that item, traced back to the body's inputs and so to the args."""
    handed: list[Node] = []
    surely = True
    if node.op == "loop":  # (its value: the carried names; a loop run no time gives them back)
        offset = 1 if node.attrs.get("item") is not None else 0
        handed.append(node.args[offset + k])
    for role, body in named_bodies(node):
        if node.op == "map" or role == "finally":
            continue
        out = body.output.args
        position = k + 1 if node.op == "loop" else k  # (a loop's body gives `go_on` first)
        if position >= len(out):
            return [], False
        found, sure = _to_args(node, role, body, out[position])
        handed += found
        surely = surely and sure
    return handed, surely


def _to_args(node: Node, role: str, body: Graph, value: Node) -> tuple[list[Node], bool]:
    """The args of ``node`` whose object ``value``, a value of its body ``body`` under ``role``, may
    be, and whether it surely is one of them."""
    handed: list[Node] = []
    surely = True
    bound = bindings(node, role, body)
    inputs = body.inputs
    names = len(node.attrs.get("names") or ()) if node.op == "try" else 0
    for o in origins(value):
        i = inputs.index(o) if o in inputs else None
        b = bound[i] if i is not None else None
        if b is not None:
            handed.append(node.args[b])
        elif i is not None and role == "orelse" and i < names:  # (a try's `else` is given its body's names)
            tried = node.attrs["body"]
            found, sure = _to_args(node, "body", tried, tried.output.args[i])
            handed += found
            surely = surely and sure
        else:  # (made in the body; an exception, an item)
            surely = False
    return handed, surely
