"""The closed vocabulary of node ops, and what each one means.

Execution dispatches on these names, so a new behaviour is a new op here, not an ``isinstance`` chain
elsewhere: ``handler_name`` gives the interpreters' method that runs an op (the same table for both
interpreters, from ``STRUCTURAL_HANDLERS`` and the primitives' specs). The engine ops (the
primitives) are described once each by a ``spec.PrimitiveSpec`` (``builtin_primitives.py``); a
registered primitive adds an op. ``args`` are always nodes (the data inputs, in order); everything
static lives in ``attrs``. The value of a node is what it produces when it runs.

Traced ops (what ``@ayo.workflow`` records):

=========== ==================================== =========================================================
op          args                                 attrs and value
=========== ==================================== =========================================================
input       ()                                   ``name``: the parameter. Value: the argument.
const       ()                                   ``value``. Value: that value.
python      inputs read by the statement          ``code: PyCode``. Value: the function's return value.
getitem     (tuple_node,)                        ``index``. Value: ``tuple_node[index]``.
llm         template holes                       ``template: Template``, ``sampling: SamplingParams``,
                                                 ``parse: Parser | None``, ``engine``. Value: the text,
                                                 or the parsed list of items.
embed       (texts,)                             ``engine``. Value: a vector for a str, or a list of them.
ingest      (passages,)                          ``collection``, ``engine``, ``embed_engine``. Value: number
                                                 of new rows. Effect: writes ``collection``.
search      (query, top_k?)                      ``params: SearchParams``, ``engine``, ``embed_engine``.
                                                 Value: ``list[Hit]``. Effect: reads ``collection``.
                                                 ``top_k_arg: 1`` when top_k is known only at run time:
                                                 it is args[1] (``params.top_k`` is then an estimate).
rerank      (query, passages_or_hits, top_k?)    ``top_k`` (None when ``top_k_arg: 2``: args[2] holds it),
                                                 ``engine``. Value: ``list[Hit]``, best first.
map         (iterable, *captured)                ``body: Graph`` whose inputs are (item, *captured),
                                                 ``item``: the loop variable, ``concurrency`` (1 = in
                                                 order; None = every item at once). Value: list of the
                                                 body's outputs.
cond        (predicate, *captured)               ``then``/``orelse: Graph`` with inputs (*captured).
                                                 Value: the chosen branch's output.
loop        (iterable?, *init, *captured)        ``body: Graph`` with inputs (item?, *carried, *captured)
                                                 and outputs (go_on, *carried_next); ``carried``: the
                                                 loop-carried names; ``item``: the loop variable when
                                                 it runs over ``iterable`` (else a ``while``: the body
                                                 tests the condition itself); ``max_iterations``. Runs
                                                 the body in order until ``go_on`` is false (or the
                                                 items end); past ``max_iterations`` runs it fails.
                                                 Value: the tuple of the final carried values.
try         (*captured)                          ``body``; ``handlers``: graphs of (exc, *captured);
                                                 ``catches``: per handler, a ``PyCode`` giving the
                                                 exception class(es) to match, or None (bare except);
                                                 ``orelse`` (of (*names, *captured)) and ``finalbody``
                                                 (of (*captured)), either None; ``names``. Runs body;
                                                 on an error whose user-level exception matches a
                                                 handler's classes, that handler; else orelse; always
                                                 finalbody. Value: (*names, *finalbody outputs).
break       inputs read by the statement          ``code: PyCode`` (async), ``reason``. A graph break: the
                                                 runtime materializes the inputs and runs the statement
                                                 eagerly (primitives inside call the engines directly).
output      (*values,)                           Value: ``values[0]``, or the tuple when there are more.
=========== ==================================== =========================================================

Lowered ops (what the passes produce; the runtime runs both levels):

=========== ==================================== =========================================================
llm_prefill (prev_prefill?, *holes)              ``session``: the prompt's session key, ``template``: this
                                                 part's text and holes (hole indices count ``args``),
                                                 ``part``/``parts``, ``chained``: args[0] is the previous
                                                 part, ``shared``: the part is a constant prefix shared
                                                 across queries, ``ahead``: it runs before the
                                                 session's later inputs are ready (every part but the
                                                 last), ``engine``. Value: the session handle.
llm_decode  (last_prefill,)                      ``sampling``, ``parse``, ``engine``, ``stream``: emit parsed
                                                 items as they close. Value: text or parsed list.
db_insert   (texts, vectors)                     ``collection``, ``engine``. Value: number of new rows.
db_search   (vector, top_k?)                     ``params: SearchParams``, ``engine``, ``top_k_arg`` as for
                                                 ``search``. Value: ``list[Hit]``.
=========== ==================================== =========================================================

Any node may carry ``stream: True`` (it produces a sequence item by item) and ``stream_args``: the
indices of its args it consumes as streams (a ``stream`` edge). A consumer that does not stream an
arg gets the whole value. ``chunk``: on ``embed``/``db_insert``, the number of items per chunk
(stage decomposition). Effects order nodes only through ``Node.after`` (``order`` edges).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ..errors import GraphError
from .builtin_primitives import BUILTIN_PRIMITIVES
from .params import check_top_k
from .spec import STRUCTURAL_OPS, PrimitiveSpec, forget, install, primitive_spec, primitive_specs
from .spec import known_op as known_op  # (defined with the registry, which the graph structure reads)

if TYPE_CHECKING:
    from .params import SearchParams
    from .structure import Node

TRACED_OPS = STRUCTURAL_OPS | {s.name for s in BUILTIN_PRIMITIVES if s.traced}

LOWERED_OPS = frozenset(s.name for s in BUILTIN_PRIMITIVES if not s.traced)

ALL_OPS = TRACED_OPS | LOWERED_OPS

# Default engine names by kind (the default runtime registers engines under these names).
DEFAULT_ENGINE = {"llm": "llm", "embedding": "embed", "vector_store": "store", "rerank": "rerank"}

# What an op that is not a primitive is, for the questions a primitive's spec answers
# (``spec.PrimitiveSpec``): the primitives' own answers are in their specs.
_SAFE_TO_RETRY = frozenset({"const", "getitem"})
_NO_EFFECT = frozenset({"input", "const", "getitem"})


def engine_kind(op: str) -> str | None:
    """The kind of engine ``op`` calls (None: it calls none)."""
    spec = primitive_spec(op)
    return spec.engine_kind if spec is not None else None


def idempotent(op: str) -> bool:
    """True when ``op`` is safe to retry after a failure (no effect, or an idempotent one)."""
    spec = primitive_spec(op)
    return spec.idempotent if spec is not None else op in _SAFE_TO_RETRY


def pure(op: str) -> bool:
    """True when ``op`` has no side effect (dead-code elimination may drop it when unused)."""
    spec = primitive_spec(op)
    return spec.pure if spec is not None else op in _NO_EFFECT


# The interpreters' method that runs each op that is not a primitive (a primitive's spec names its
# own, ``PrimitiveSpec.handler``), called with ``(node, args)``.
STRUCTURAL_HANDLERS = {
    "input": "op_input",
    "const": "op_const",
    "python": "op_python",
    "getitem": "op_getitem",
    "map": "op_map",
    "cond": "op_cond",
    "loop": "op_loop",
    "try": "op_try",
    "break": "op_break",
    "output": "op_output",
}
# The args of an op that is not a primitive that its handler can take item by item (a primitive's
# spec says its own, ``PrimitiveSpec.stream_in``): a map's iterable.
_STRUCTURAL_STREAM_IN = {"map": (0,)}


def handler_name(op: str) -> str | None:
    """The name of the interpreters' method that runs ``op``'s nodes (None for an unknown op)."""
    spec = primitive_spec(op)
    return spec.handler if spec is not None else STRUCTURAL_HANDLERS.get(op)


def handler_names() -> dict[str, str]:
    """The interpreters' dispatch table: every known op (registered primitives included) → the name
    of the method that runs its nodes."""
    return {**STRUCTURAL_HANDLERS, **{s.name: s.handler for s in primitive_specs()}}


def streams_in(op: str, index: int) -> bool:
    """True when ``op``'s handler can take its arg ``index`` item by item (a stream edge)."""
    spec = primitive_spec(op)
    return index in (spec.stream_in if spec is not None else _STRUCTURAL_STREAM_IN.get(op, ()))


def reopens_session(op: str) -> bool:
    """True when ``op`` extends or decodes an LLM session, so a retry reopens the session first."""
    spec = primitive_spec(op)
    return spec is not None and spec.reopens_session


def _built_in(pred: Any) -> frozenset[str]:
    return frozenset(s.name for s in BUILTIN_PRIMITIVES if pred(s))


# The same answers for the built-in ops, as tables (registered primitives: ask the functions above).
ENGINE_KIND = {s.name: s.engine_kind for s in BUILTIN_PRIMITIVES if s.engine_kind is not None}
WRITES_COLLECTION = _built_in(lambda s: s.collection == "writes")
READS_COLLECTION = _built_in(lambda s: s.collection == "reads")
IDEMPOTENT = _SAFE_TO_RETRY | _built_in(lambda s: s.idempotent)
PURE = _NO_EFFECT | _built_in(lambda s: s.pure)


def register_primitive(spec: PrimitiveSpec) -> PrimitiveSpec:
    """Make ``spec``'s op known to the IR and every layer; a name already taken is a ``GraphError``
    (unless it is the same spec)."""
    held = primitive_spec(spec.name)
    if held is not None and held is not spec:
        raise GraphError(f"a primitive named {spec.name!r} is registered already")
    if spec.name in ALL_OPS and held is None:
        raise GraphError(f"{spec.name!r} is an op of the IR, not a name for a new primitive")
    install([spec])
    return spec


def unregister_primitive(name: str) -> None:
    """Forget a primitive added with ``register_primitive`` (tests clean up with it)."""
    if name in ALL_OPS:
        raise GraphError(f"{name!r} is a built-in op and stays")
    forget(name)


def search_params(node: Node, args: list[Any]) -> SearchParams:
    """The ``SearchParams`` of a ``search``/``db_search`` run with ``args`` (top_k from its arg when
    the node has ``top_k_arg``, checked as ``ayo.search`` checks it)."""
    params: SearchParams = node.attrs["params"]
    i = node.attrs.get("top_k_arg")
    return params if i is None else dataclasses.replace(params, top_k=args[i])


def rerank_top_k(node: Node, args: list[Any]) -> Any:
    """The ``top_k`` of a ``rerank`` run with ``args`` (one known only at run time checked as
    ``ayo.rerank`` checks it: an int of at least 1)."""
    i = node.attrs.get("top_k_arg")
    return node.attrs["top_k"] if i is None else check_top_k(args[i])
