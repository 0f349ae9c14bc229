"""One record per primitive: everything the layers need to know about an engine op, in one place.

A ``PrimitiveSpec`` says what a primitive is called, which of its arguments are data (node args),
static (node attributes, constants of the graph) or dynamic (an attribute when known at trace time,
else an arg), which ops lowering makes of it, its effects, its cost hooks, how it prints, and which
engine kind and method serve it. Every layer reads it instead of keeping its own list of ops:

* the frontend binds a call against ``signature()`` and builds the node's attributes with
  ``node_attrs`` (the tracer and ``DAG`` alike);
* lowering calls ``lower``; the cost analysis ``size`` and ``cost``; effect analysis reads
  ``collection``, ``order_free``, ``pure`` and ``changeable``; the printer hides ``hidden_attrs``;
* both interpreters dispatch every op the same way, through one table derived from the specs
  (``ops.handler_name``): a primitive's nodes run on the interpreter's method its ``handler``
  names. The default, ``call_primitive``, is generic: it sends the engine of ``engine_kind`` one
  request per node (``call_values``: the spec's arguments by name) and the engine scheduler
  batches them into ``engine_method`` calls. The built-ins name their own handlers (``op_llm``,
  ``op_llm_prefill``, ...), which keep LLM sessions, stream items and take streamed args;
* the eager function (``ayo.register_primitive(spec)`` makes it) sends the same request.

Adding a primitive is one spec (``ops.register_primitive``) and its engine method; the built-in ones
are in ``builtin_primitives.py``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ..errors import GraphError

if TYPE_CHECKING:
    from .template import Template

# ``structure.BaseGraph`` and ``structure.Node``, not imported: the graph structure imports this
# module (``known_op``), and the IR's modules import one way.
Graph = Any
Node = Any

REQUIRED: Any = inspect.Parameter.empty
"""The default of a ``Param`` that has none (the caller must pass it)."""

Role = Literal["data", "static", "dynamic"]


@dataclass(frozen=True)
class Param:
    """One argument of a primitive. ``data``: a value of the query (a node arg, positional or by
    keyword); ``static``: a constant of the graph (a node attribute, keyword-only); ``dynamic``: a
    static attribute when its value is known at trace time, else an arg whose index the node's
    ``<name>_arg`` attribute holds (keyword-only)."""

    name: str
    role: Role = "static"
    default: Any = REQUIRED


@dataclass(frozen=True)
class Size:
    """An estimated value size: characters when rendered into a prompt, list length (1 for a
    scalar), and the list length of each item."""

    chars: float
    items: float = 1.0
    inner: float = 1.0

    @property
    def n(self) -> int:
        return max(1, round(self.items))


class Profile(Protocol):
    """What a cost hook asks of an engine profile (``passes.cost.EngineProfile``)."""

    def latency(self, batch: int = 1, tokens: float = 0.0, new_tokens: float = 0.0) -> float: ...


class CostModel(Protocol):
    """What a cost hook asks of the cost analysis (``passes.cost``): the estimated size of a node's
    value, tokens of a text size, the profile of the engine a node calls."""

    @property
    def estimates(self) -> Any: ...

    def size(self, node: Node) -> Size: ...

    def tokens(self, chars: float) -> float: ...

    def prompt_chars(self, template: Template, args: Sequence[Node]) -> float: ...

    def profile(self, node: Node, *, embedding: bool = False) -> Profile: ...


SizeHook = Callable[[CostModel, Node], Size]
CostHook = Callable[[CostModel, Node, int], float]


@dataclass(frozen=True)
class PrimitiveSpec:
    """A primitive (see the module docstring). Fields:

    ``name``: the op name (and the eager function's name); ``params``: its arguments, in order;
    ``traced``: users call it (False: only a pass makes it, e.g. ``llm_prefill``);
    ``engine_kind``: the kind of engine it calls; ``engine_method``: the engine method that serves a
    batch of its requests (each a mapping of its arguments by name, ``engine`` left out), for a
    primitive run by the generic handler; ``lowers_to``: the ops ``lower(graph, node)`` turns it
    into (empty: it runs as it is); ``attrs``: static values → node attributes, checking them
    (``ValueError``/``TypeError``/``AyoError`` become a ``TraceError`` at the user's line);
    ``collection``: whether it reads or writes the collection its attributes name;
    ``order_free``: its value depends on its args only (no break or effect can change it);
    ``pure``: no side effect (dead-code elimination may drop it); ``idempotent``: safe to retry;
    ``changeable``: its value may be changed in place by a statement (a list, not a str); ``size``
    and ``cost``: the cost analysis's hooks (the value's size; seconds of engine work for
    ``fanout`` copies batched together: default, one request of the engine kind's profile);
    ``hidden_attrs``: attributes the printer leaves out (implied by others); ``list_args``: the
    indices of its args that are lists of items (passages), so the cost analysis sizes a graph
    input read there as a list; ``handler``: the name of the interpreters' method that runs its
    nodes, called with ``(node, args)`` (the generic ``call_primitive`` unless the primitive needs
    more, see the module docstring; an interpreter without that method cannot run it);
    ``stream_in``: the indices of its args the handler can take item by item (the graph scheduler
    passes a stream edge there when the producer streams, whose ``items()`` yields the items as they
    come: ``db_insert``'s vectors; the generic handler sends whole values, so a primitive with
    ``stream_in`` names a handler of its own);
    ``reopens_session``: it extends or decodes an LLM session, engine state a failure may leave
    half-advanced, so a retry reopens the session first (``llm_prefill``, ``llm_decode``).
    """

    name: str
    params: tuple[Param, ...] = ()
    traced: bool = True
    engine_kind: str | None = None
    engine_method: str | None = None
    lowers_to: tuple[str, ...] = ()
    lower: Callable[[Graph, Node], None] | None = None
    attrs: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    collection: Literal["reads", "writes"] | None = None
    order_free: bool = True
    pure: bool = True
    idempotent: bool = True
    changeable: Callable[[Node], bool] | None = None
    size: SizeHook | None = None
    cost: CostHook | None = None
    hidden_attrs: frozenset[str] = frozenset()
    list_args: tuple[int, ...] = ()
    handler: str = "call_primitive"
    stream_in: tuple[int, ...] = ()
    reopens_session: bool = False

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise GraphError(f"a primitive's name must be an identifier, got {self.name!r}")
        if (self.lower is None) != (not self.lowers_to):
            raise GraphError(f"primitive {self.name!r}: `lower` and `lowers_to` go together")
        if not self.handler.isidentifier():
            raise GraphError(f"primitive {self.name!r}: `handler` names a method, got {self.handler!r}")
        if self.stream_in and self.handler == "call_primitive":
            raise GraphError(
                f"primitive {self.name!r}: the generic handler sends whole values; a primitive that "
                "takes an arg item by item (`stream_in`) names a handler of its own"
            )

    def names(self, role: Role) -> tuple[str, ...]:
        """The names of its ``role`` arguments, in order."""
        return tuple(p.name for p in self.params if p.role == role)

    def signature(self) -> inspect.Signature:
        """The signature calls of it are bound against: data arguments positional or by keyword,
        the others keyword-only."""
        kinds = {"data": inspect.Parameter.POSITIONAL_OR_KEYWORD}
        return inspect.Signature(
            [
                inspect.Parameter(
                    p.name, kinds.get(p.role, inspect.Parameter.KEYWORD_ONLY), default=p.default
                )
                for p in self.params
            ]
        )

    def node_attrs(self, static: Mapping[str, Any], at_run_time: Collection[str] = ()) -> dict[str, Any]:
        """The node attributes of a call whose static (and statically known dynamic) arguments are
        ``static``, the defaults of the others filled in, except the dynamic ones ``at_run_time``
        (known only then: absent), checked by the ``attrs`` hook."""
        values: dict[str, Any] = {}
        for p in self.params:
            if p.name in static:
                values[p.name] = static[p.name]
            elif p.role != "data" and p.name not in at_run_time and p.default is not REQUIRED:
                values[p.name] = p.default
        return self.attrs(values) if self.attrs is not None else values

    def call_values(self, node: Node, args: Sequence[Any]) -> dict[str, Any]:
        """The arguments by name of a node of this primitive run with ``args`` (data args in order,
        then any dynamic ones at the index their ``<name>_arg`` attribute holds)."""
        out: dict[str, Any] = {}
        data = iter(args)
        for p in self.params:
            if p.role == "data":
                out[p.name] = next(data)
            elif p.role == "dynamic" and node.attrs.get(f"{p.name}_arg") is not None:
                out[p.name] = args[node.attrs[f"{p.name}_arg"]]
            else:
                out[p.name] = node.attrs.get(p.name, None if p.default is REQUIRED else p.default)
        return out


def engine_request(values: Mapping[str, Any]) -> dict[str, Any]:
    """What a generic primitive's engine method gets for one call: its arguments, ``engine`` (which
    engine serves it) left out."""
    return {k: v for k, v in values.items() if k != "engine"}


# The registered primitives by name: the built-in ones (``builtin_primitives``) and any added with
# ``ops.register_primitive``. Like ``backend.config.BACKENDS``, a registry that changes only by
# registration.
_SPECS: dict[str, PrimitiveSpec] = {}


def install(specs: Sequence[PrimitiveSpec]) -> None:
    """Register ``specs`` (the built-in ones when the IR is imported; ``ops.register_primitive``
    checks a new one first)."""
    for spec in specs:
        _SPECS[spec.name] = spec


def forget(name: str) -> None:
    """Unregister the primitive ``name`` (``ops.unregister_primitive`` checks it may go)."""
    _SPECS.pop(name, None)


# The ops that are not primitives: values, statements and blocks (``ops`` says what each means).
STRUCTURAL_OPS = frozenset(
    {"input", "const", "python", "getitem", "map", "cond", "loop", "try", "break", "output"}
)


def known_op(op: str) -> bool:
    """True for an op of the IR's closed set (a structural op or a built-in primitive, which stay
    registered) or a registered primitive."""
    return op in STRUCTURAL_OPS or op in _SPECS


def primitive_spec(op: str) -> PrimitiveSpec | None:
    """The spec of ``op``, or None for an op that is not a primitive (``python``, ``map``, ...)."""
    return _SPECS.get(op)


def primitive_specs() -> list[PrimitiveSpec]:
    """Every registered primitive spec, built-in ones first."""
    return list(_SPECS.values())


__all__ = [
    "REQUIRED",
    "STRUCTURAL_OPS",
    "CostHook",
    "CostModel",
    "Param",
    "PrimitiveSpec",
    "Profile",
    "Size",
    "SizeHook",
    "engine_request",
    "forget",
    "install",
    "known_op",
    "primitive_spec",
    "primitive_specs",
]
