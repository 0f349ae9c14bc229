"""Effect analysis: what a node reads, writes or may change, and which pairs of nodes must keep their order.

Dependency pruning and stage decomposition both ask the same question, "may these two nodes run in
either order?", so the answer lives here, once. A node's ``Access`` summarizes its own op and,
for ``map``/``cond``/``loop``/``try``, everything its bodies do.

Two nodes that ran in program order ``a`` then ``b`` keep that order when (``conflicts``):

* they touch a collection that at least one of them writes (write→read, read→write, write→write:
  a search must see exactly the rows the program had inserted before it, and no later ones);
* both are effects (``python`` statements with ``code.effect``, breaks, or bodies holding one): effects
  happen in program order;
* one may change a value the other reads in place (``results.append(x)``), so readers of ``results``
  keep their place around it. A ``python`` statement may change a value it reads as
  ``ir/mutation.py`` judges it, for the frontend too (a method other than the read-only ones such
  as ``get``/``items``, a store into an item or attribute, a call of a function other than a few
  read-only builtins, a ``for`` changing its items); a break may change every value it reads. Values known to be immutable (LLM text, constant strings and
  numbers) are never changed. A value is its object, wherever it is handed on: a change of
  ``%self_1``, which a statement of an inlined method handed on from ``%self``, and it from the
  caller's ``%bot``, is a change of what reads ``%bot`` read (``objects.origins``);
* one iterates a value that may be a one-shot iterator (``for d in it``, ``list(it)``, a ``map`` or
  ``loop`` over it, where ``it = iter(docs)``) and the other reads it: iterating advances it, a change
  (``may_be_iterator``: anything but a container known to iterate afresh each time);
* one is a graph break and the other is not a pure engine op: a break runs arbitrary code (it may
  call primitives eagerly), so it keeps its order with everything that could observe it.
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
import dataclasses
import functools
import inspect
import itertools
import sys
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..ir import Graph, Node, PyCode, primitive_spec
from ..ir.blocks import BLOCK_OPS, bindings, named_bodies
from ..ir.code import ITEMS_NAME, parsed
from ..ir.mutation import PURE_STR_METHODS, changed_names, iterated_names
from .objects import IMMUTABLE_TYPES, binds, may_change, origins, reach

ANY_COLLECTION = "*"  # a collection named by a value the graph does not know


def order_free(op: str) -> bool:
    """True when the result of ``op`` depends on nothing but its args, so no break, effect or
    mutation can change it once its args are fixed (it needs no order edge to a break): a
    ``getitem``, or a primitive whose spec says so."""
    spec = primitive_spec(op)
    return spec.order_free if spec is not None else op == "getitem"


# Ops that are not statements: they never take or give program order.
NOT_STATEMENTS = frozenset({"input", "const", "output"})


@dataclass(frozen=True)
class Access:
    """What running a node (its bodies included) may read, write or change."""

    reads: frozenset[str] = frozenset()  # collections searched
    writes: frozenset[str] = frozenset()  # collections inserted into
    effect: bool = False  # an effect statement or a break: must not be dropped or reordered
    barrier: bool = False  # a graph break: keeps order with everything that could observe it
    mutates: frozenset[int] = frozenset()  # indices of args the node may change in place
    fails: bool = False  # calls an engine or runs the user's code: its error is the query's, read or not
    iterates: frozenset[int] = frozenset()  # indices of args the node iterates (bodies included)
    advances: frozenset[int] = frozenset()  # those that may be one-shot iterators: iterating changes them
    # the objects of its args, and of those it changes, as ``objects.origins`` names them: a value a
    # statement hands on is the object it was handed (``%self_1`` of ``%self`` of ``%bot``)
    holds: frozenset[Node] = frozenset()
    changes_held: frozenset[Node] = frozenset()

    @property
    def keeps_alive(self) -> bool:
        """True when the node must run even if nothing reads its value: it changes something, or it
        calls an engine (eagerly, a call whose value is never read still fails the query and stops
        what follows it)."""
        return self.effect or self.barrier or self.fails or bool(self.writes or self.changes)

    @property
    def changes(self) -> frozenset[int]:
        """Indices of the args the node may change: in place, or by advancing an iterator."""
        return self.mutates | self.advances

    @property
    def order_free(self) -> bool:
        return not (self.reads or self.writes or self.effect or self.barrier or self.changes)


def _collection(node: Node) -> str:
    """The collection a primitive node names: its ``collection`` attribute, or its search
    parameters'."""
    name = node.attrs.get("collection", getattr(node.attrs.get("params"), "collection", None))
    return name if isinstance(name, str) else ANY_COLLECTION


def access(node: Node) -> Access:
    """The access summary of ``node``, bodies included."""
    memo = _MEMO.get()
    if memo is not None and (known := memo.get(node)) is not None:
        return known
    acc = _own_access(node)
    acc = dataclasses.replace(
        acc,
        holds=frozenset().union(*(reach(a) for a in node.inputs)),
        changes_held=frozenset().union(*(reach(node.args[i]) for i in acc.changes)),
    )
    if memo is not None:
        memo[node] = acc
    return acc


_MEMO: contextvars.ContextVar[dict[Node, Access] | None] = contextvars.ContextVar(
    "ayo_access_memo", default=None
)


@contextlib.contextmanager
def memoized() -> Iterator[None]:
    """Within it, ``access`` finds each node's summary once: a node's holds that of every node of
    its bodies, and the bodies' own ``mutated_values`` ask again, so nested loops asked each inner
    node's three times a level. The caller changes no node's args or bodies meanwhile (it may
    remove nodes: what stays is summarized as before)."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


@functools.lru_cache(maxsize=4096)
def _unpacks(source: str) -> bool:
    """Whether ``source`` unpacks a value into several targets (``a, b = x``, ``for a, b in``),
    which raises on a value of another length, or raises (``asyncio.wait`` of no tasks)."""
    try:
        tree = parsed(textwrap.dedent(source))
    except SyntaxError:
        return True
    if any(isinstance(n, ast.Raise) for n in ast.walk(tree)):
        return True
    targets = (
        t
        for n in ast.walk(tree)
        for t in (
            n.targets
            if isinstance(n, ast.Assign)
            else [n.target]
            if isinstance(n, ast.For | ast.comprehension)
            else []
        )
    )
    return any(isinstance(t, ast.Tuple | ast.List) for t in targets)


def _own_access(node: Node) -> Access:
    op = node.op
    spec = primitive_spec(op)
    if spec is not None and spec.collection == "writes":
        return Access(writes=frozenset({_collection(node)}))
    fails = spec is not None and spec.engine_kind is not None
    if spec is not None and spec.collection == "reads":
        return Access(reads=frozenset({_collection(node)}), fails=fails)
    if op == "python":
        code = node.attrs.get("code")
        changed = _changed_params(code) if isinstance(code, PyCode) else set(range(len(node.args)))
        # the user's statement may raise (`first = docs[0]` of no docs) even when nothing reads its
        # value, as it does eagerly; the compiler's own bookkeeping (`__ayo_` names) does not, but
        # for a loop's item unpacked into the user's target (`head, rest = __ayo_item`) and what
        # raises as Python would (`asyncio.wait` of no tasks)
        raises = isinstance(code, PyCode) and ("__ayo_" not in code.source or _unpacks(code.source))
        iterated = _iterated_params(code) if isinstance(code, PyCode) else set(range(len(node.args)))
        return _iterating(
            node,
            iterated,
            Access(
                effect=bool(getattr(code, "effect", False)), mutates=_changeable(node, changed), fails=raises
            ),
        )
    if op == "break":
        code = node.attrs.get("code")
        if node.attrs.get("pure") and isinstance(code, PyCode) and not code.effect:
            # `x = await ayo.llm(..., seed=i)`, a pure primitive whose graph constant is known only
            # at run time (the frontend marks it `pure` when nothing it runs changes state): ordered
            # by its data only; a primitive changes none of its arguments, their expressions might;
            # it calls an engine, so it is never dead: unread, it still fails the query
            changed = _changed_params(code, primitive_call=True)
            iterated = _iterated_params(code, primitive_call=True)
            return _iterating(node, iterated, Access(mutates=_changeable(node, changed), fails=True))
        return Access(effect=True, barrier=True, mutates=_changeable(node, range(len(node.args))))
    if op in BLOCK_OPS:
        bodies = list(named_bodies(node))
        summaries = [body_access(body) for _, body in bodies]
        mutates: set[int] = set()
        # a map, or a loop over items, iterates its first arg; its body's first input is an item
        over_items = op == "map" or (op == "loop" and node.attrs.get("item") is not None)
        consumed_args: set[int] = {0} if over_items else set()
        for role, body in bodies:
            mutated, consumed = mutated_values(body), iterated_values(body)
            bound = bindings(node, role, body)
            for k, (i, inp) in enumerate(zip(bound, body.inputs, strict=True)):
                if i is not None and inp in mutated:
                    mutates.add(i)
                if i is not None and inp in consumed and not (over_items and k == 0):
                    consumed_args.add(i)
        block = Access(
            reads=frozenset().union(*(a.reads for a in summaries)),
            writes=frozenset().union(*(a.writes for a in summaries)),
            effect=any(a.effect for a in summaries),
            barrier=any(a.barrier for a in summaries),
            mutates=_changeable(node, mutates),
            fails=any(a.fails for a in summaries),
        )
        return _iterating(node, consumed_args, block)
    return Access(fails=fails)


def body_access(graph: Graph) -> Access:
    """The union of the accesses of every node of ``graph`` (mutations are not carried: see
    ``mutated_values``)."""
    accs = [access(n) for n in graph.nodes]
    return Access(
        reads=frozenset().union(*(a.reads for a in accs)),
        writes=frozenset().union(*(a.writes for a in accs)),
        effect=any(a.effect for a in accs),
        barrier=any(a.barrier for a in accs),
        fails=any(a.fails for a in accs),
    )


def mutated_values(graph: Graph) -> set[Node]:
    """The nodes of ``graph`` whose values some node of ``graph`` may change in place."""
    out: set[Node] = set()
    for n in graph.nodes:
        out.update(o for i in access(n).mutates for o in {n.args[i], *origins(n.args[i])})
    return out


def iterated_values(graph: Graph) -> set[Node]:
    """The nodes of ``graph`` whose values some node of ``graph`` iterates (whether that advances
    them is judged where the value is known: ``may_be_iterator``)."""
    out: set[Node] = set()
    for n in graph.nodes:
        out.update(o for i in access(n).iterates for o in {n.args[i], *origins(n.args[i])})
    return out


def _iterating(node: Node, iterated: Iterable[int], acc: Access) -> Access:
    """``acc`` with the args ``node`` iterates, and those of them it may advance."""
    its = frozenset(iterated)
    advances = frozenset(i for i in its if may_be_iterator(node.args[i]))
    return dataclasses.replace(acc, iterates=its, advances=advances)


def _changed_params(code: PyCode, *, primitive_call: bool = False) -> set[int]:
    """Indices of the parameters the statement may change in place (all of them if unsure); the
    judgement is the frontend's too (``ir/mutation.py``). ``primitive_call``: the statement is
    ``name = await <primitive>(...)``, which changes none of its arguments: only what their
    expressions do counts."""
    held = {i for i, n in enumerate(code.params) if n in code.changes}  # (through another name: ``PyCode``)
    changed = held | _params_named(code, primitive_call, changed_names)
    if not changed:
        return changed  # (a `def` hands on the names its function changes when called, not now)
    # a name it hands on and does not bind: the frontend hands on every name that may hold an object
    # the statement changes (``h.append(r)``, where ``h = self.log``, hands on ``self``), which its
    # text alone does not show
    return changed | {i for i, n in enumerate(code.params) if n in code.returns and binds(code, n) == "no"}


def _iterated_params(code: PyCode, *, primitive_call: bool = False) -> set[int]:
    """Indices of the parameters the statement iterates (``ir/mutation.iterated_names``); all of
    them if unsure. ``primitive_call``: as for ``_changed_params``."""
    return _params_named(code, primitive_call, iterated_names)


def _params_named(code: PyCode, primitive_call: bool, names: Any) -> set[int]:
    """Indices of the parameters ``names(tree)`` finds in the statement (in a primitive call's
    argument expressions only, for ``primitive_call``); all of them if unsure."""
    params = {name: i for i, name in enumerate(code.params)}
    try:
        tree = parsed(textwrap.dedent(code.source))
    except SyntaxError:
        return set(params.values())
    parts: list[Any] = [tree]
    if primitive_call:
        call = next((n.value for n in ast.walk(tree) if isinstance(n, ast.Await)), None)
        if not isinstance(call, ast.Call):
            return set(params.values())
        parts = [*call.args, *(k.value for k in call.keywords)]
    return {params[n] for part in parts for n in names(part) if n in params}


def _changeable(node: Node, indices: Iterable[int]) -> frozenset[int]:
    return frozenset(i for i in indices if may_change(node.args[i]))


# Values that iterate afresh each time they are iterated (or cannot be iterated at all).
_REITERABLE = (*IMMUTABLE_TYPES, list, dict, set, range)
# Calls whose value is such a container (``x.split()``: a list or a str).
_CONTAINER_CALLS = frozenset(
    {"list", "tuple", "dict", "set", "frozenset", "sorted", "range", "str", "len", ITEMS_NAME}
)
_CONTAINER_EXPRS = (
    ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp, ast.SetComp, ast.DictComp, ast.Constant,
    ast.JoinedStr, ast.Compare,
)  # fmt: skip


def may_be_iterator(value: Node) -> bool:
    """False when ``value`` is known to iterate afresh each time (a ``list``, ``dict``, ``str``,
    ``range``...: iterating it reads it), True when it may be a one-shot iterator that iterating
    advances (``iter(docs)``, ``enumerate(docs)``, a generator, ``csv.reader(lines)``) or nothing
    says (an item of a map or loop, a statement's value that is not a container it builds). A
    workflow's argument is traced knowing whether it is an ``Iterator``."""
    if value.op == "const":
        return not isinstance(value.attrs.get("value"), _REITERABLE)
    if value.op == "input":  # a workflow's argument says (``iterator``); a body's input: unknown
        return bool(value.attrs.get("iterator", True))
    if primitive_spec(value.op) is not None or value.op == "map":
        return False  # (an engine's value is data: text, a list of hits or vectors; a map's a list)
    code = value.attrs.get("code")
    if value.op == "python" and isinstance(code, PyCode) and len(code.returns) == 1:
        name = code.returns[0]
        if name in code.params and _keeps(code, name):  # (its own object, changed in place or not)
            return may_be_iterator(value.args[code.params.index(name)])
        base = _part_of(code)  # (`steps = plan.steps` of a parsed answer: data, as the answer is)
        if base is not None and primitive_spec(value.args[code.params.index(base)].op) is not None:
            return False
        return not _builds_container(code)
    return True


def _part_of(code: PyCode) -> str | None:
    """The parameter ``P`` when the statement is ``name = P.field`` or ``P[key]`` (a chain of
    them): a part of the value ``P`` holds."""
    try:
        tree = parsed(textwrap.dedent(code.source))
    except SyntaxError:
        return None
    body = tree.body
    if len(body) != 1 or not isinstance(body[0], ast.Assign) or len(body[0].targets) != 1:
        return None
    value = body[0].value
    while isinstance(value, ast.Attribute | ast.Subscript):
        value = value.value
    return value.id if isinstance(value, ast.Name) and value.id in code.params else None


def _keeps(code: PyCode, name: str) -> bool:
    """True when the statement never binds ``name`` anew (``for v in xs: d[v] = 1`` keeps ``d``)."""
    try:
        tree = parsed(textwrap.dedent(code.source))
    except SyntaxError:
        return False
    return not any(
        isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load) for n in ast.walk(tree)
    )


def _builds_container(code: PyCode) -> bool:
    """True when the statement is ``name = <expr>`` and ``<expr>`` is a container display or
    comprehension, a constant, an f-string, or a call of a builtin or ``str`` method that makes one."""
    try:
        tree = parsed(textwrap.dedent(code.source))
    except SyntaxError:
        return False
    body = tree.body if isinstance(tree, ast.Module) else []
    if len(body) != 1 or not isinstance(body[0], ast.Assign | ast.AnnAssign) or body[0].value is None:
        return False
    value = body[0].value
    if isinstance(value, _CONTAINER_EXPRS):
        return True
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    if isinstance(func, ast.Name):
        return func.id in _CONTAINER_CALLS
    return isinstance(func, ast.Attribute) and func.attr in PURE_STR_METHODS


def _overlap(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return False
    return bool(a & b) or ANY_COLLECTION in a or ANY_COLLECTION in b


def conflicts(a: Node, acc_a: Access, b: Node, acc_b: Access) -> bool:
    """True when ``a`` and ``b`` (in either program order) must keep that order."""
    if acc_a.barrier or acc_b.barrier:
        other = acc_b if acc_a.barrier else acc_a
        other_node = b if acc_a.barrier else a
        if not (order_free(other_node.op) and other.order_free):
            return True
    if acc_a.effect and acc_b.effect:
        return True
    if _overlap(acc_a.writes, acc_b.reads | acc_b.writes) or _overlap(acc_a.reads, acc_b.writes):
        return True
    return bool(acc_a.changes_held & acc_b.holds) or bool(acc_b.changes_held & acc_a.holds)


def parallel_safe(node: Node) -> bool:
    """True when the items of ``node``, a map, may run in any order, all at once: its body has no
    effect and changes no input, and advances no iterator it is given (the map's own items aside),
    and its items do not depend on when they are drawn (``independent_items``)."""
    body: Graph = node.attrs["body"]
    acc = body_access(body)
    changed_inputs = mutated_values(body) & set(body.inputs)
    advanced = access(node).advances - {0}
    unsafe = acc.effect or acc.barrier or acc.writes or changed_inputs or advanced
    return not unsafe and independent_items(node.args[0])


def independent_items(value: Node) -> bool:
    """False when drawing the items of ``value`` all at once may give other items than drawing
    them one at a time, between the map's items, as the loop does: an iterator made by a generator
    function of the user's that changes anything but its own names (a log it appends to) or
    yields an object it changes (one buffer again: ``_fresh_items``), by ``itertools.groupby`` or ``tee`` (a group is spent when the next is drawn),
    or by a generator expression calling anything but a pure builtin or ``str`` method. Containers,
    builtin iterators over them and values nothing says more of are drawn at once."""
    if not may_be_iterator(value):
        return True
    if value.op == "input":  # (a body's input: what its graph hands in is not seen from here)
        return not value.attrs.get("iterator", False)
    code = value.attrs.get("code")
    if value.op != "python" or not isinstance(code, PyCode) or len(code.returns) != 1:
        return True
    try:
        body = parsed(textwrap.dedent(code.source)).body
    except SyntaxError:
        return True
    if len(body) != 1 or not isinstance(body[0], ast.Assign) or len(body[0].targets) != 1:
        return True
    made = body[0].value
    if isinstance(made, ast.Name) and made.id in code.params:  # (handed on: judged where it is made)
        return independent_items(value.args[code.params.index(made.id)])
    return not any(_drawn_in_turn(e, code) for e in ast.walk(made))


_SPENT_TOGETHER = (itertools.groupby, itertools.tee)
_PURE_FUNCS = frozenset({"int", "float", "str", "bool", "len", "abs", "round", "repr", "ord", "chr"})


def _drawn_in_turn(e: ast.AST, code: PyCode) -> bool:
    if isinstance(e, ast.GeneratorExp):
        calls = [c for c in ast.walk(e) if isinstance(c, ast.Call)]
        return not all(
            (isinstance(c.func, ast.Name) and c.func.id in _PURE_FUNCS)
            or (isinstance(c.func, ast.Attribute) and c.func.attr in PURE_STR_METHODS)
            for c in calls
        )
    if not isinstance(e, ast.Call):
        return False
    f = _resolved(e.func, code)
    return f in _SPENT_TOGETHER or (inspect.isgeneratorfunction(f) and not _fresh_items(f))


@functools.lru_cache(maxsize=256)
def _fresh_items(f: Any) -> bool:
    """Whether generator function ``f`` changes nothing but its own names and never yields an
    object it changes (``for i in range(0, len(t), n): yield t[i : i + n]``): drawing its items
    ahead then gives the same items and changes nothing a loop's body reads."""
    try:
        tree = parsed(textwrap.dedent(inspect.getsource(f)))
    except (OSError, TypeError, SyntaxError):
        return False
    fn = tree.body[0] if tree.body else None
    if not isinstance(fn, ast.FunctionDef) or any(
        isinstance(n, ast.Global | ast.Nonlocal) for n in ast.walk(fn)
    ):
        return False
    args = fn.args
    params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a}
    own = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)} - params
    yielded = {n.value.id for n in ast.walk(fn) if isinstance(n, ast.Yield) and isinstance(n.value, ast.Name)}
    changed = changed_names(fn)
    return not (changed - own) and not (changed & yielded)


def _resolved(func: ast.expr, code: PyCode) -> Any:
    """The object ``func`` names where ``code`` runs (a closure binding, else a module global), or
    None when it cannot be told."""
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name) or func.id in code.params:
        return None
    scope = code.bindings if func.id in code.bindings else _module_globals(code.module)
    obj = scope.get(func.id)
    for attr in reversed(parts):
        obj = getattr(obj, attr, None)
    return obj


def _module_globals(module: str) -> dict[str, Any]:
    mod = sys.modules.get(module) if module else None
    return vars(mod) if mod is not None else {}
