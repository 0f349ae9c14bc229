"""Hand-built graphs, for users who come from Ayo: a ``DAG`` of primitive nodes.

::

    dag = ayo.DAG("naive_rag")
    question, docs = dag.input("question"), dag.input("docs")
    indexed = dag.ingest(docs, collection="kb")
    hits = dag.search(question, collection="kb", top_k=4)
    hits.after(indexed)                      # declared order (dependency pruning keeps it: same collection)
    context = dag.python(join_hits, hits)
    answer = dag.llm("Context:\\n{context}\\nQuestion: {question}\\nAnswer:",
                     inputs={"context": context, "question": question}, max_tokens=32)
    dag.output(answer)
    graph = dag.graph()                      # the same IR ``@ayo.workflow`` traces

The graph follows the traced-graph conventions of docs/ir-conventions.md exactly, so the passes and
the runtime treat it like a traced one. Its *program order* is the order the nodes were created,
adjusted only where a declared order (``b.after(a)``, ``dag.order(a, b)``) needs ``a`` first: every
node but inputs, constants and the output carries an ``after`` edge to the node before it, and
declared orders become extra ``after`` edges. Run with no passes, the graph executes in that order
(the sequential baseline); dependency pruning then drops every order edge no data or effect needs,
as Ayo's pass does for the sequential dependencies its users declare.

Each node records the user's ``file:line`` that created it, and is named after the variable it is
assigned to on that line (``hits = dag.search(...)`` makes ``%hits``) unless ``name=`` says otherwise.
Building is lazy: ``graph()`` makes a fresh ``Graph`` from the nodes declared so far.
"""

from __future__ import annotations

import contextlib
import heapq
import inspect
import itertools
import keyword
import linecache
import re
import string
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from ..errors import AyoError, TraceError
from ..host import host
from ..ir.builtin_primitives import sampling_params
from ..ir.code import PyCode, SourceLoc, compile_statement
from ..ir.graph import Graph, Node
from ..ir.parsers import output_parser
from ..ir.spec import primitive_spec
from ..ir.template import Hole, Template

# Frames of these modules (dataclass-made ``__init__``s included) are ours, not the user's line.
_INTERNAL = frozenset({__name__, __name__.rpartition(".")[0] + ".modules"})
_ASSIGNED = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)")
# Where nodes created now are located, when not at the caller's line (modules lower at their own line).
_LOC: ContextVar[SourceLoc | None] = ContextVar("ayo_dag_loc", default=None)


@contextlib.contextmanager
def located(loc: SourceLoc | None) -> Iterator[None]:
    """Within this context, nodes are located at ``loc`` and named only by their ``name=``."""
    token = _LOC.set(loc)
    try:
        yield
    finally:
        _LOC.reset(token)


def caller(constructing: object = None) -> tuple[SourceLoc | None, str | None]:
    """The user's line that called into this module, and the variable it assigns (if any).

    Frames of ``constructing``'s own ``__init__``/``__post_init__`` (a user's subclass) are skipped."""
    forced = _LOC.get()
    if forced is not None:
        return forced, None
    frame = sys._getframe(1)
    while frame is not None and (
        frame.f_globals.get("__name__") in _INTERNAL
        or (constructing is not None and frame.f_locals.get("self") is constructing)
    ):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return None, None
    loc = SourceLoc(frame.f_code.co_filename, frame.f_lineno)
    if frame.f_code.co_name == "<lambda>":  # the assignment on a lambda's line is not the lambda's
        return loc, None
    match = _ASSIGNED.match(linecache.getline(loc.file, loc.line))
    return loc, match.group(1) if match else None


@dataclass(eq=False)
class DAGNode:
    """A node of a ``DAG`` under construction: pass it to other constructors as a data input.

    ``op``/``attrs`` are the IR op and its static attrs; the IR node is made by ``DAG.graph()``.
    """

    dag: DAG
    op: str
    args: tuple[DAGNode, ...]
    attrs: dict[str, Any]
    loc: SourceLoc | None
    hint: str
    seq: int
    declared: list[DAGNode] = field(default_factory=list)
    spec: Any = None  # python: (fn, effect); map: the body DAG

    def after(self, *nodes: DAGNode) -> DAGNode:
        """Declare that this node runs after ``nodes`` (an ``after`` edge); returns this node.

        Only nodes of the same DAG may be ordered; an input is never ordered."""
        loc, _ = caller()
        for other in nodes:
            self.dag._check_order(other, self, loc)
            if other not in self.declared:
                self.declared.append(other)
        self.dag._version += 1
        return self

    def __repr__(self) -> str:
        return f"<DAGNode {self.hint} = {self.op}{f' at {self.loc}' if self.loc else ''}>"


class DAG:
    """A hand-built graph of task primitives. ``graph()`` returns it as IR (see the module docstring).

    Constructors return ``DAGNode``s. Data arguments are nodes of this DAG, nodes of an enclosing
    DAG (inside a ``map`` body: they are captured), or plain values (they become ``const`` nodes).
    Mistakes raise ``TraceError`` naming the user's line.
    """

    def __init__(self, name: str = "dag") -> None:
        self.name = name
        self._nodes: list[DAGNode] = []
        self._output: tuple[DAGNode, ...] | None = None
        self._parent: DAG | None = None
        self._captures: dict[DAGNode, tuple[DAGNode, DAGNode]] = {}  # outer -> (parent's, body input)
        self._version = 0
        self._optimized: dict[int, Graph] = {}

    # --- recording -------------------------------------------------------------------------------

    def _add(
        self,
        op: str,
        args: Sequence[Any],
        attrs: dict[str, Any],
        name: str | None,
        where: tuple[SourceLoc | None, str | None],
        spec: Any = None,
    ) -> DAGNode:
        loc, assigned = where
        nodes = tuple(self._arg(a, loc) for a in args)
        node = DAGNode(self, op, nodes, attrs, loc, name or assigned or op, len(self._nodes), spec=spec)
        self._nodes.append(node)
        self._version += 1
        return node

    def _arg(self, value: Any, loc: SourceLoc | None) -> DAGNode:
        """``value`` as a node of this DAG: itself, a capture of an outer node, or a constant."""
        if not isinstance(value, DAGNode):
            return self._add("const", (), {"value": value}, "const", (loc, None))
        if value.dag is self:
            return value
        if value in self._captures:
            return self._captures[value][1]
        if self._parent is None:
            raise TraceError(
                f"{value!r} belongs to DAG {value.dag.name!r}, not to {self.name!r}; build each graph "
                "from its own nodes (a map body may read the nodes of the DAGs around it)",
                loc=loc,
                construct="dag",
            )
        outer = self._parent._arg(value, loc)
        inp = DAGNode(self, "input", (), {}, None, outer.hint, len(self._nodes))
        self._nodes.append(inp)
        self._captures[value] = (outer, inp)
        return inp

    def _check_order(self, before: DAGNode, node: DAGNode, loc: SourceLoc | None) -> None:
        if not isinstance(before, DAGNode) or before.dag is not self:
            why = f"only nodes of its own DAG {self.name!r} can be ordered before it"
        elif "input" in (before.op, node.op) or before is node:
            why = "inputs are never ordered, nor a node after itself"
        else:
            return
        raise TraceError(f"cannot order {node!r} after {before!r}: {why}", loc=loc, construct="after")

    # --- public constructors ---------------------------------------------------------------------

    def input(self, name: str) -> DAGNode:
        """A query input, given by name when the graph runs (``Runtime.run(graph, {name: value})``)."""
        where = caller()
        if self._parent is not None:
            raise TraceError(
                "a map body has no inputs of its own: it reads the item and the outer nodes directly",
                loc=where[0],
                construct="input",
            )
        if not name.isidentifier() or keyword.iskeyword(name):
            raise TraceError(
                f"input name {name!r} is not a Python identifier", loc=where[0], construct="input"
            )
        if any(n.op == "input" and n.attrs["name"] == name for n in self._nodes):
            raise TraceError(
                f"DAG {self.name!r} already has an input {name!r}", loc=where[0], construct="input"
            )
        return self._add("input", (), {"name": name}, name, where)

    def llm(
        self,
        prompt_template: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        parse: Any = None,
        engine: str | None = None,
        name: str | None = None,
        **sampling: Any,
    ) -> DAGNode:
        """An LLM completion of ``prompt_template`` (``str.format`` syntax; ``{{``/``}}`` are braces).

        Each ``{placeholder}`` is filled from ``inputs``: a node's value becomes a template hole (so
        the constant text is known before the query starts: prefill splitting needs it), any other
        value is formatted into the constant text now. Conversions and specs (``{x!r}``, ``{x:>8}``)
        are kept. Every placeholder needs an entry and every entry a placeholder. The other keywords
        (``parse``, ``engine``, the sampling keywords: the fields of ``SamplingParams``) mean what
        they mean for ``ayo.llm``.
        """
        where = caller()
        try:
            parser = output_parser(parse)
            params = sampling_params(**sampling)
        except (AyoError, TypeError) as err:
            raise TraceError(str(err), loc=where[0], construct="llm") from err
        parts, values = _template_parts(prompt_template, dict(inputs or {}), where[0])
        attrs = {
            "template": Template(tuple(parts)),
            "sampling": params if parser is None else parser.constrain(params),
            "parse": parser,
            "engine": engine,
        }
        return self._add("llm", values, attrs, name, where)

    def _primitive(self, op: str, data: tuple[Any, ...], static: dict[str, Any], name: str | None) -> DAGNode:
        """A node of primitive ``op``: its attributes built and checked by its spec."""
        where = caller()
        spec = primitive_spec(op)
        assert spec is not None
        try:
            attrs = spec.node_attrs(static)
        except (ValueError, TypeError) as e:
            raise TraceError(str(e), loc=where[0], construct=op) from e
        return self._add(op, data, attrs, name, where)

    def embed(self, texts: Any, *, engine: str | None = None, name: str | None = None) -> DAGNode:
        """A vector for a string, or a list of vectors for a list of strings (as ``ayo.embed``)."""
        return self._primitive("embed", (texts,), {"engine": engine}, name)

    def ingest(
        self,
        passages: Any,
        *,
        collection: str,
        engine: str | None = None,
        embed_engine: str | None = None,
        name: str | None = None,
    ) -> DAGNode:
        """Embed ``passages`` and insert them into ``collection`` (as ``ayo.ingest``)."""
        static = {"collection": collection, "engine": engine, "embed_engine": embed_engine}
        return self._primitive("ingest", (passages,), static, name)

    def search(
        self,
        query: Any,
        *,
        collection: str,
        top_k: int = 4,
        engine: str | None = None,
        embed_engine: str | None = None,
        name: str | None = None,
    ) -> DAGNode:
        """The ``top_k`` passages of ``collection`` nearest to ``query`` (as ``ayo.search``)."""
        static = {"collection": collection, "top_k": top_k, "engine": engine, "embed_engine": embed_engine}
        return self._primitive("search", (query,), static, name)

    def rerank(
        self,
        query: Any,
        passages: Any,
        *,
        top_k: int = 3,
        engine: str | None = None,
        name: str | None = None,
    ) -> DAGNode:
        """The ``top_k`` most relevant of ``passages`` (strings or hits) for ``query`` (as ``ayo.rerank``)."""
        return self._primitive("rerank", (query, passages), {"top_k": top_k, "engine": engine}, name)

    def python(
        self, fn: Callable[..., Any], *args: Any, effect: bool = False, name: str | None = None
    ) -> DAGNode:
        """A plain Python step: its value is ``fn(*values of args)``, a plain (not async) call.

        ``effect=True`` marks a call made for its side effect (logging, appending): it is never
        dropped as dead code and keeps its order relative to other effects.
        """
        where = caller()
        if not callable(fn) or inspect.iscoroutinefunction(fn):
            raise TraceError(
                f"dag.python() takes a plain function, not {fn!r}; an async step is a primitive node",
                loc=where[0],
                construct="python",
            )
        fn_name = getattr(fn, "__name__", "")
        hint = name or where[1] or (fn_name if fn_name.isidentifier() else "python")
        return self._add("python", args, {}, hint, where, spec=(fn, effect))

    def map(
        self,
        items: Any,
        body: Callable[[DAG, DAGNode], Any],
        *,
        item: str | None = None,
        name: str | None = None,
    ) -> DAGNode:
        """Run ``body`` once per element of ``items``; the value is the list of its results, in order.

        ``body(b, x)`` builds the per-item graph on a fresh body DAG ``b`` from the item node ``x`` and
        returns the node (or value) whose value is the item's result; it may read any node of the
        DAGs around it. ``item`` names the item (default: ``body``'s second parameter). Items run one
        after another in the traced graph; stage decomposition runs them all at once.
        """
        where = caller()
        items_node = self._arg(items, where[0])
        child = DAG("body")
        child._parent = self
        params = list(inspect.signature(body).parameters)
        item_name = item or (params[1] if len(params) > 1 else "item")
        x = DAGNode(child, "input", (), {"name": item_name}, None, item_name, 0)
        child._nodes.append(x)
        result = body(child, x)
        if result is None:
            raise TraceError(
                "a map body must return the node whose value is the item's result",
                loc=where[0],
                construct="map",
            )
        child._output = (child._arg(result, where[0]),)
        captured = [outer for outer, _ in child._captures.values()]
        attrs = {"item": item_name, "concurrency": 1}
        return self._add("map", (items_node, *captured), attrs, name, where, spec=child)

    def output(self, *values: Any) -> None:
        """Declare the graph's result: the value of one node (or a tuple of several)."""
        where = caller()
        if self._output is not None:
            raise TraceError(f"DAG {self.name!r} already has an output", loc=where[0], construct="output")
        if not values:
            raise TraceError(
                "dag.output() needs the node whose value is the result", loc=where[0], construct="output"
            )
        self._output = tuple(self._arg(v, where[0]) for v in values)
        self._version += 1

    def order(self, *nodes: DAGNode) -> None:
        """Declare that ``nodes`` run in the given order: each after the one before it."""
        for before, node in itertools.pairwise(nodes):
            node.after(before)

    # --- building --------------------------------------------------------------------------------

    def graph(self) -> Graph:
        """A fresh IR ``Graph`` of the nodes declared so far; it lints."""
        if self._parent is not None:
            raise TraceError("a map body is built by its map, not by graph()", construct="dag")
        if self._output is None:
            loc, _ = caller()
            raise TraceError(
                f"DAG {self.name!r} has no output; call dag.output(node)", loc=loc, construct="dag"
            )
        graph = self._build({})
        graph.lint()
        return graph

    def _program_order(self) -> list[DAGNode]:
        """Inputs first, then every node in creation order unless a data or declared edge needs its
        upstream first (a stable topological order)."""
        pending = {n: len({*n.args, *n.declared}) for n in self._nodes}
        users: dict[DAGNode, list[DAGNode]] = {n: [] for n in self._nodes}
        for n in self._nodes:
            for up in {*n.args, *n.declared}:
                users[up].append(n)
        ready = [(n.op != "input", n.seq, n) for n in self._nodes if pending[n] == 0]
        heapq.heapify(ready)
        out: list[DAGNode] = []
        while ready:
            *_, n = heapq.heappop(ready)
            out.append(n)
            for u in users[n]:
                pending[u] -= 1
                if pending[u] == 0:
                    heapq.heappush(ready, (u.op != "input", u.seq, u))
        if len(out) != len(self._nodes):
            stuck = ", ".join(f"{n.hint} ({n.loc})" for n in self._nodes if pending[n] > 0)
            raise TraceError(
                f"the declared order of DAG {self.name!r} has a cycle through: {stuck}; remove one of "
                "its .after()/order() declarations",
                loc=next((n.loc for n in self._nodes if pending[n] > 0), None),
                construct="after",
            )
        return out

    def _build(self, capture_names: dict[DAGNode, str]) -> Graph:
        graph = Graph(self.name)
        built: dict[DAGNode, Node] = {}
        body_inputs = {inp: outer for outer, (_, inp) in self._captures.items()}
        last: Node | None = None
        for n in self._program_order():
            args = [built[a] for a in n.args]
            if n.op in ("input", "const"):
                if n.op == "input" and n in body_inputs:
                    hint = capture_names[body_inputs[n]]
                    built[n] = graph.add("input", (), {"name": hint}, name=hint)
                elif n.op == "input":
                    built[n] = graph.add("input", (), dict(n.attrs), name=n.hint, loc=n.loc)
                else:
                    built[n] = graph.add("const", (), dict(n.attrs), name=n.hint, loc=n.loc)
                continue
            after = [last] if last is not None and last not in args else []
            after += [built[d] for d in n.declared if built[d] not in args]
            attrs = dict(n.attrs)
            if n.op == "python":
                graph_args = list(dict.fromkeys(args))
                attrs["code"] = _python_code(n, graph_args, [graph_args.index(a) for a in args])
                args = graph_args
            elif n.op == "map":
                body: DAG = n.spec
                names = {outer: built[n.args[i + 1]].name for i, outer in enumerate(body._captures)}
                attrs = {"body": body._build(names), **attrs}
            built[n] = last = graph.add(
                n.op, args, attrs, loc=n.loc, name=n.hint, after=list(dict.fromkeys(after))
            )
        assert self._output is not None
        outs = [built[o] for o in self._output]
        tail = [last] if self._parent is None and last is not None and last not in outs else []
        graph.add("output", outs, after=tail)
        return graph

    # --- running ---------------------------------------------------------------------------------

    async def run(
        self, inputs: Mapping[str, Any] | None = None, *, passes: Sequence[Any] | None = None, **named: Any
    ) -> Any:
        """Optimize the graph with ``passes`` (default ``DEFAULT_PASSES``; ``[]`` is the sequential
        baseline) and run it on the current runtime with ``inputs`` (a mapping and/or keywords)."""
        if passes is not None:
            return await run_graph(self.graph(), {**(inputs or {}), **named}, passes=passes)
        graph = self._optimized.get(self._version)
        if graph is None:  # the default optimization is kept until the DAG changes
            graph = optimize(self.graph())
            self._optimized = {self._version: graph}
        return await run_graph(graph, {**(inputs or {}), **named}, passes=())

    def __repr__(self) -> str:
        return f"<DAG {self.name!r}: {len(self._nodes)} nodes>"


# --- helpers -------------------------------------------------------------------------------------


def _template_parts(
    text: str, inputs: dict[str, Any], loc: SourceLoc | None
) -> tuple[list[str | Hole], list[Any]]:
    """The template's parts and its args (each distinct node once, in order of first appearance)."""
    parts: list[str | Hole] = []
    args: list[DAGNode] = []
    used: set[str] = set()
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as e:
        raise TraceError(f"bad prompt template {text!r}: {e}", loc=loc, construct="llm") from e
    for literal, field_name, spec, conversion in fields:
        parts.append(literal)
        if field_name is None:
            continue
        if not field_name.isidentifier():
            raise TraceError(
                f"placeholder {{{field_name}}} of the prompt template must be a plain name; compute the "
                "value with dag.python() and pass it in inputs=",
                loc=loc,
                construct="llm",
            )
        if field_name not in inputs:
            raise TraceError(
                f"placeholder {{{field_name}}} of the prompt template has no entry in inputs= "
                f"(it has {sorted(inputs)})",
                loc=loc,
                construct="llm",
            )
        used.add(field_name)
        value = inputs[field_name]
        if spec and "{" in spec:
            raise TraceError(
                "nested placeholders in a format spec are not supported", loc=loc, construct="llm"
            )
        if not isinstance(value, DAGNode):
            parts.append(Hole(0, "format", conversion, spec or "").render(value))
            continue
        if value not in args:
            args.append(value)
        parts.append(Hole(args.index(value), "format", conversion, spec or ""))
    unused = sorted(set(inputs) - used)
    if unused:
        raise TraceError(
            f"inputs= has {unused}, which the prompt template never uses; add a {{{unused[0]}}} placeholder",
            loc=loc,
            construct="llm",
        )
    return parts, args


def _safe(name: str, taken: set[str], fallback: str) -> str:
    base = name if name.isidentifier() and not keyword.iskeyword(name) else fallback
    out, i = base, 1
    while out in taken:
        out, i = f"{base}_{i}", i + 1
    taken.add(out)
    return out


def _python_code(node: DAGNode, args: list[Node], call: list[int]) -> PyCode:
    """``returns = fn(params...)``: the source a reader sees; ``fn`` resolves from its module's
    globals when it is a module-level name (so the code survives a JSON round-trip), otherwise from
    a binding."""
    fn, effect = node.spec
    module = getattr(fn, "__module__", None) or ""
    qualname = getattr(fn, "__qualname__", "")
    ref, root = qualname, qualname.split(".")[0]
    target: Any = sys.modules.get(module)
    for part in qualname.split("."):
        target = getattr(target, part, None) if part.isidentifier() else None
    bindings: dict[str, Any] = {}
    taken: set[str] = set()
    if target is not fn:
        ref = root = _safe(getattr(fn, "__name__", ""), taken, "fn")
        bindings[ref] = fn
    taken.add(root)
    params = [_safe(a.name, taken, f"arg{i}") for i, a in enumerate(args)]
    call_text = f"{ref}({', '.join(params[i] for i in call)})"
    returns = () if effect else (_safe(node.hint, taken - set(params), "result"),)
    source = f"{returns[0]} = {call_text}" if returns else call_text
    loc = node.loc
    code = PyCode(
        source=source,
        params=tuple(params),
        returns=returns,
        module=module if not bindings else "",
        filename=loc.file if loc else "<dag>",
        line=loc.line if loc else 1,
        effect=effect,
        bindings=bindings,
    )
    object.__setattr__(code, "fn", compile_statement(code, getattr(fn, "__globals__", None) or {}))
    return code


def optimize(graph: Graph, passes: Sequence[Any] | None = None) -> Graph:
    """``graph`` after ``passes`` (default ``DEFAULT_PASSES``); the input graph is not changed."""
    return host().optimize(graph, host().default_passes() if passes is None else passes)


async def run_graph(graph: Graph, inputs: Mapping[str, Any], *, passes: Sequence[Any] | None = None) -> Any:
    """Optimize ``graph`` with ``passes`` (default ``DEFAULT_PASSES``; ``()`` runs it as given) and
    run it on the current runtime. ``inputs`` must name exactly the graph's input nodes."""
    expected = [n.attrs["name"] for n in graph.inputs]
    missing = [k for k in expected if k not in inputs]
    extra = [k for k in inputs if k not in expected]
    if missing or extra:
        raise TypeError(
            f"graph {graph.name!r} takes inputs {expected}"
            + (f"; missing {missing}" if missing else "")
            + (f"; unexpected {extra}" if extra else "")
        )
    runtime = host().runtime()
    runnable = graph if passes is not None and not passes else optimize(graph, passes)
    return await runtime.run(runnable, dict(inputs))
