"""Which names a piece of Python code may change in place: one judgement for the whole package.

The frontend asks it of the user's statements (a name a statement changes is handed on by the
statement's node, so later reads wait for it) and the passes ask it of a ``python`` node's code (a
node that may change an argument keeps its order with the other readers of that argument). Both
must agree: ``x.get(k)`` reads ``x``, ``x.append(v)`` changes it.

A name may be changed when the code

* calls a method on it (or on an attribute or item of it) other than ``READ_ONLY_METHODS``, which
  never change their receiver on the built-in types (``str``, ``list``, ``dict``, ``Hit``, ...);
* stores into, augments or deletes an attribute or item of it (``x[k] = v``, ``x.a += 1``), or
  augments it (``items += docs`` extends a list in place);
* hands it first to ``setattr`` or ``delattr`` (``CHANGING_CALLS``), whatever ``calls_change_args``;
* does any of the above to its namespace, ``vars(x)`` (``NAMESPACE_CALLS``) as ``x.__dict__``:
  ``vars(x).update(d)``, ``vars(x)[k] = v`` change ``x``;
* passes it to a function other than ``READ_ONLY_CALLS`` (builtins that never change their
  arguments), or calls it (``rec(x)``: a bound method, a callable object), when
  ``calls_change_args`` (the passes' view: the frontend sees only the statement); passing a value
  that is or holds its object passes it too (``handed_names``: ``retag_all([a, b])``,
  ``reset(box.values())``, ``f(list(box))``);
* iterates over it in a ``for`` or a comprehension whose body (element, condition) changes the
  item in place (``for row in rows: row.append(x)``, ``[retag(x) for x in box]`` change what
  ``rows`` and ``box`` hold).

Apart from those, ``iterated_names`` lists the names whose objects the code iterates (``for x in
it``, ``[f(x) for x in it]``, ``list(it)``): on a one-shot iterator (``iter(docs)``, a generator,
``csv.reader(lines)``, ``enumerate(docs)``) iterating advances it, a change; on a list it is a read.
Which of the two it is depends on the object, which the code alone does not show: the passes judge
it from the value (``passes/effects.may_be_iterator``).
"""

from __future__ import annotations

import ast

# str methods: pure, so the frontend may call them at trace time, and none changes its receiver.
PURE_STR_METHODS = frozenset(
    {
        "capitalize", "casefold", "center", "count", "endswith", "find", "format", "index", "isalnum",
        "isalpha", "isdigit", "islower", "isspace", "isupper", "join", "ljust", "lower", "lstrip",
        "partition", "removeprefix", "removesuffix", "replace", "rfind", "rjust", "rsplit", "rstrip",
        "split", "splitlines", "startswith", "strip", "swapcase", "title", "upper", "zfill",
    }
)  # fmt: skip

# Method names that never change their receiver on the built-in types.
READ_ONLY_METHODS = PURE_STR_METHODS | {"copy", "decode", "encode", "get", "items", "keys", "values"}

# Builtins that never change their arguments.
READ_ONLY_CALLS = frozenset(
    {
        "print", "len", "str", "repr", "int", "float", "bool", "abs", "round", "min", "max", "sum",
        "any", "all", "sorted", "list", "tuple", "set", "frozenset", "dict", "enumerate", "zip",
        "range", "reversed", "isinstance", "format", "hash", "id", "type", "ascii", "iter",
    }
)  # fmt: skip

# Builtins whose value holds the items of their arguments (``list(box)``, ``zip(xs, ys)``).
HOLDING_CALLS = frozenset(
    {"list", "tuple", "set", "frozenset", "dict", "sorted", "reversed", "iter", "zip", "enumerate"}
)

# Builtins that change their first argument in place (``setattr(x, "a", v)``).
CHANGING_CALLS = frozenset({"setattr", "delattr"})

# Builtins whose value is their argument's own namespace (``vars(x)`` is ``x.__dict__``): what
# changes it changes the argument.
NAMESPACE_CALLS = frozenset({"vars"})

# Builtins that read an argument by iterating it, or wrap it in an iterator that will (``zip(it, xs)``).
ITERATING_CALLS = frozenset(
    {
        "list", "tuple", "set", "frozenset", "dict", "sorted", "sum", "min", "max", "any", "all",
        "enumerate", "zip", "reversed", "iter",
    }
)  # fmt: skip


def root_name(expr: ast.expr) -> str | None:
    """``x`` for ``x``, ``x.a``, ``x[i]``, ``x.a[i].b``, ``vars(x)[k]``; None for anything else."""
    while True:
        if isinstance(expr, ast.Attribute | ast.Subscript):
            expr = expr.value
        elif (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Name)
            and expr.func.id in NAMESPACE_CALLS
            and len(expr.args) == 1
        ):
            expr = expr.args[0]
        else:
            return expr.id if isinstance(expr, ast.Name) else None


def changed_names(tree: ast.AST, *, calls_change_args: bool = True) -> set[str]:
    """The names ``tree`` may change in place (see the module docstring)."""
    out: set[str | None] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and node.func.attr not in READ_ONLY_METHODS:
                out.add(root_name(node.func.value))
            if isinstance(node.func, ast.Name) and node.func.id in CHANGING_CALLS and node.args:
                out.add(root_name(node.args[0]))
            if calls_change_args and not (
                isinstance(node.func, ast.Name) and node.func.id in READ_ONLY_CALLS
            ):
                out.update(
                    n for a in [*node.args, *(k.value for k in node.keywords)] for n in handed_names(a)
                )
                if isinstance(node.func, ast.Name):  # (an object called: its `__call__` may change it)
                    out.add(node.func.id)
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            for t in _flat(list(targets)):
                if isinstance(t, ast.Attribute | ast.Subscript):
                    out.add(root_name(t))
                elif isinstance(node, ast.AugAssign) and isinstance(t, ast.Name):
                    out.add(t.id)  # (`items += docs` extends a list in place)
        elif isinstance(node, ast.For | ast.AsyncFor):
            body = ast.Module(body=node.body, type_ignores=[])
            items = {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
            if changed_names(body, calls_change_args=calls_change_args) & items:
                out.update(n.id for n in ast.walk(node.iter) if isinstance(n, ast.Name))
        elif isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            parts += [c for g in node.generators for c in g.ifs]
            inner = ast.Module(body=[ast.Expr(value=p) for p in parts], type_ignores=[])
            changed = changed_names(inner, calls_change_args=calls_change_args)
            for g in node.generators:  # (`[retag(x) for x in box]` changes what `box` holds)
                if changed & {n.id for n in ast.walk(g.target) if isinstance(n, ast.Name)}:
                    out.update(n.id for n in ast.walk(g.iter) if isinstance(n, ast.Name))
    out.discard(None)
    return out  # type: ignore[return-value]


def iterated_names(tree: ast.AST) -> set[str]:
    """The names whose objects ``tree`` iterates (see the module docstring): the iterable of a
    ``for``, an ``async for`` or a comprehension's ``for`` clause, or an argument of one of the
    ``ITERATING_CALLS``, when it is a name or an attribute or item of one (``for r in res.rows``
    iterates what ``res`` holds)."""
    out: set[str | None] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            out.add(root_name(node.iter))
        elif (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ITERATING_CALLS
        ):
            out.update(root_name(a.value if isinstance(a, ast.Starred) else a) for a in node.args)
    out.discard(None)
    return out  # type: ignore[return-value]


def handed_names(expr: ast.expr) -> set[str]:
    """The names whose objects ``expr``'s value is, or holds as it is made (``[a, b]``, ``{"k": a}``,
    ``(*xs, y)``, ``a if c else b``, ``a or b``): a function handed it may change them."""
    if isinstance(expr, ast.List | ast.Tuple | ast.Set):
        return {n for e in expr.elts for n in handed_names(e)}
    if isinstance(expr, ast.Dict):
        return {n for e in [*expr.keys, *expr.values] if e is not None for n in handed_names(e)}
    if isinstance(expr, ast.Starred):
        return handed_names(expr.value)
    if isinstance(expr, ast.IfExp):
        return handed_names(expr.body) | handed_names(expr.orelse)
    if isinstance(expr, ast.BoolOp):
        return {n for v in expr.values for n in handed_names(v)}
    if isinstance(expr, ast.NamedExpr):
        return handed_names(expr.value) | {expr.target.id}
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):  # (`xs + ys` holds their items)
        return handed_names(expr.left) | handed_names(expr.right)
    if isinstance(expr, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
        return {n for g in expr.generators for n in handed_names(g.iter)}  # (it may hold their items)
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id in HOLDING_CALLS:
        return {n for a in expr.args for n in handed_names(a)}  # (`list(box)` holds its items)
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        # `box.values()`, `box.copy()`, `d.get(k)`: what a method gives may be its receiver's items
        return set() if expr.func.attr in PURE_STR_METHODS else handed_names(expr.func.value)
    name = root_name(expr)
    return set() if name is None else {name}


def _flat(targets: list[ast.expr]) -> list[ast.expr]:
    """Targets with the elements of tuple targets (``a.x, a.y = ...``, ``[b[0], *c.d] = ...``)."""
    out: list[ast.expr] = []
    for t in targets:
        if isinstance(t, ast.Tuple | ast.List):
            out += _flat(list(t.elts))
        elif isinstance(t, ast.Starred):
            out += _flat([t.value])
        else:
            out.append(t)
    return out
