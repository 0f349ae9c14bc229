"""High-level modules chained with ``>>``, for users who come from Ayo's module interface.

::

    pipeline = (
        ayo.IndexingModule(collection="kb")
        >> ayo.QueryExpandingModule(num_queries=3)
        >> ayo.SearchingModule(collection="kb", top_k=4)
        >> ayo.RerankingModule(top_k=3)
        >> ayo.AnsweringModule(max_tokens=64)
    )
    graph = pipeline.to_graph()                         # primitives, via ``DAG``
    answer = await pipeline.run(passages=docs, query="...")

A module reads named values (its *input ports*) and produces named values (its *output ports*).
Chained, a module reads each input from the nearest module before it that produces that name; an
input nothing before it produces is a *pipeline input* (an ``input`` node) when the port is one a
query supplies (``query``, ``passages``) or when the module heads the chain, and a ``TraceError``
naming both modules of the ``>>`` otherwise. A produced value whose type differs from what the
reading port expects is an error too. The pipeline's result is the last module's output.

Lowering (``to_graph``) builds the primitives each module stands for on one ``DAG``, in chain order,
so the graph is exactly what the equivalent ``@ayo.workflow`` traces and every pass applies:

============================ ======================================================================
IndexingModule               ``ingest(passages)`` → ``index_status`` (rows inserted)
QueryExpandingModule         ``llm(prompt, parse=lines)`` → ``expanded_queries``
SearchingModule              ``map(expanded_queries, search)`` → ``searching_results`` (hits per query)
RerankingModule              ``python(flatten)`` + ``rerank(query, ...)`` → ``reranking_results``
AnsweringModule              ``python(context)`` + ``llm(prompt)`` → ``answer``
============================ ======================================================================

A search of a collection follows the indexing of it by program order, which dependency pruning
keeps (a write before a read of the same collection): no ``index_status`` edge is needed.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar

from ..errors import TraceError
from ..ir.code import SourceLoc
from ..ir.graph import Graph
from ..ir.params import Hit
from ..ir.parsers import lines
from .dag import DAG, DAGNode, caller, located, optimize, run_graph

EXPAND_PROMPT = "Write {num_queries} search queries, one per line, for: {query}\n"
ANSWER_PROMPT = "Context:\n{context}\nQuestion: {query}\nAnswer:"


@dataclass(frozen=True)
class Port:
    """A named value a module reads or produces. ``type`` is checked by name across ``>>``;
    ``external``: a query may supply it (it becomes a pipeline input when nothing produces it)."""

    name: str
    type: str
    external: bool = False

    def __str__(self) -> str:
        return f"`{self.name}` ({self.type})"


def flatten(results: Sequence[Sequence[Hit]]) -> list[Hit]:
    """The hits of every query, in query order."""
    return [hit for per_query in results for hit in per_query]


def join_passages(hits: Sequence[Hit | str]) -> str:
    """The context block of an answer prompt: one ``- passage`` line per hit."""
    return "\n".join(f"- {hit}" for hit in hits)


@dataclass(frozen=True, repr=False)
class Module:
    """A step of a pipeline. Subclasses declare ``INPUTS``/``OUTPUTS`` and ``lower``.

    ``loc`` is the user's line that created the module: the nodes it lowers to carry it.
    """

    INPUTS: ClassVar[tuple[Port, ...]] = ()
    OUTPUTS: ClassVar[tuple[Port, ...]] = ()
    loc: SourceLoc | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "loc", caller(self)[0])

    def lower(self, dag: DAG, values: Mapping[str, DAGNode]) -> dict[str, DAGNode]:
        """Add this module's primitives to ``dag``, reading ``values`` (one node per input port);
        return one node per output port."""
        raise NotImplementedError

    def __rshift__(self, other: Module | Pipeline) -> Pipeline:
        return Pipeline((self,)) >> other

    def __repr__(self) -> str:
        shown = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            if f.init and (f.default is MISSING or getattr(self, f.name) != f.default)
        ]
        return f"{type(self).__name__}({', '.join(shown)})"

    def describe(self) -> str:
        """The module as the user wrote it, with where: ``SearchingModule(...) at app.py:12``."""
        return repr(self) + (f" at {self.loc}" if self.loc else "")


def _check_template(module: Module, text: str, needed: set[str]) -> None:
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError as e:
        raise TraceError(f"{type(module).__name__}: bad prompt {text!r}: {e}", loc=module.loc) from e
    if names != needed:
        raise TraceError(
            f"{type(module).__name__}: the prompt must have exactly the placeholders "
            f"{sorted('{' + n + '}' for n in needed)}, got {sorted('{' + n + '}' for n in names)}",
            loc=module.loc,
            construct="module",
        )


@dataclass(frozen=True, repr=False)
class IndexingModule(Module):
    """Embed the query's ``passages`` and insert them into ``collection`` (``ingest``)."""

    INPUTS = (Port("passages", "list[str]", external=True),)
    OUTPUTS = (Port("index_status", "int"),)
    collection: str
    engine: str | None = None
    embed_engine: str | None = None

    def lower(self, dag: DAG, values: Mapping[str, DAGNode]) -> dict[str, DAGNode]:
        node = dag.ingest(
            values["passages"],
            collection=self.collection,
            engine=self.engine,
            embed_engine=self.embed_engine,
            name="index_status",
        )
        return {"index_status": node}


@dataclass(frozen=True, repr=False)
class QueryExpandingModule(Module):
    """Ask the LLM for ``num_queries`` search queries for the ``query``, one per line; the value is
    the parsed list of lines (the model may write more or fewer: nothing is cut). ``prompt`` has
    the placeholders ``{query}`` and ``{num_queries}``."""

    INPUTS = (Port("query", "str", external=True),)
    OUTPUTS = (Port("expanded_queries", "list[str]"),)
    num_queries: int = 3
    max_tokens: int = 64
    prompt: str = EXPAND_PROMPT
    engine: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.num_queries, int) or self.num_queries < 1:
            raise TraceError(f"num_queries must be at least 1, got {self.num_queries!r}", loc=self.loc)
        _check_template(self, self.prompt, {"query", "num_queries"})

    def lower(self, dag: DAG, values: Mapping[str, DAGNode]) -> dict[str, DAGNode]:
        node = dag.llm(
            self.prompt,
            inputs={"query": values["query"], "num_queries": self.num_queries},
            max_tokens=self.max_tokens,
            parse=lines,
            engine=self.engine,
            name="expanded_queries",
        )
        return {"expanded_queries": node}


@dataclass(frozen=True, repr=False)
class SearchingModule(Module):
    """Search ``collection`` for each expanded query: the value is one list of ``top_k`` hits per
    query, in query order (a ``map`` of ``search``, which stage decomposition runs all at once)."""

    INPUTS = (Port("expanded_queries", "list[str]"),)
    OUTPUTS = (Port("searching_results", "list[list[Hit]]"),)
    collection: str
    top_k: int = 4
    engine: str | None = None
    embed_engine: str | None = None

    def lower(self, dag: DAG, values: Mapping[str, DAGNode]) -> dict[str, DAGNode]:
        def body(b: DAG, q: DAGNode) -> DAGNode:
            return b.search(
                q,
                collection=self.collection,
                top_k=self.top_k,
                engine=self.engine,
                embed_engine=self.embed_engine,
            )

        node = dag.map(values["expanded_queries"], body, name="searching_results")
        return {"searching_results": node}


@dataclass(frozen=True, repr=False)
class RerankingModule(Module):
    """Rerank every query's hits together against the ``query``; the value is the ``top_k`` best."""

    INPUTS = (Port("query", "str", external=True), Port("searching_results", "list[list[Hit]]"))
    OUTPUTS = (Port("reranking_results", "list[Hit]"),)
    top_k: int = 3
    engine: str | None = None

    def lower(self, dag: DAG, values: Mapping[str, DAGNode]) -> dict[str, DAGNode]:
        candidates = dag.python(flatten, values["searching_results"], name="candidates")
        node = dag.rerank(
            values["query"], candidates, top_k=self.top_k, engine=self.engine, name="reranking_results"
        )
        return {"reranking_results": node}


@dataclass(frozen=True, repr=False)
class AnsweringModule(Module):
    """Answer the ``query`` from the reranked passages: the final generation step. ``prompt`` has
    the placeholders ``{context}`` (one ``- passage`` line per hit) and ``{query}``."""

    INPUTS = (Port("query", "str", external=True), Port("reranking_results", "list[Hit]"))
    OUTPUTS = (Port("answer", "str"),)
    max_tokens: int = 64
    stop: str | tuple[str, ...] | None = None
    prompt: str = ANSWER_PROMPT
    engine: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_template(self, self.prompt, {"context", "query"})

    def lower(self, dag: DAG, values: Mapping[str, DAGNode]) -> dict[str, DAGNode]:
        context = dag.python(join_passages, values["reranking_results"], name="context")
        node = dag.llm(
            self.prompt,
            inputs={"context": context, "query": values["query"]},
            max_tokens=self.max_tokens,
            stop=self.stop,
            engine=self.engine,
            name="answer",
        )
        return {"answer": node}


class Pipeline:
    """Modules chained with ``>>``, checked as they are chained (see the module docstring).

    ``inputs``: the pipeline's inputs (ports nothing in the chain produces), in order of first use;
    ``output``: the port whose value is the result (the last module's first output).
    """

    def __init__(self, modules: Sequence[Module]) -> None:
        if not modules:
            raise TraceError("a pipeline needs at least one module", construct="module")
        self.modules = tuple(modules)
        self.inputs: tuple[Port, ...] = ()
        produced: dict[str, tuple[Port, Module]] = {}
        needed: dict[str, tuple[Port, Module]] = {}
        for i, m in enumerate(self.modules):
            if not isinstance(m, Module):
                raise TraceError(f"{m!r} is not an ayo module; chain modules with >>", construct="module")
            for port in m.INPUTS:
                source = produced.get(port.name) or needed.get(port.name)
                if source is not None:
                    if source[0].type != port.type:
                        why = f"{source[1].describe()} gives {source[0]}"
                        raise _mismatch(self.modules[max(i - 1, 0)], m, port, why, "make the types agree")
                elif port.external or i == 0:
                    needed[port.name] = (port, m)
                else:
                    have = ", ".join(str(p) for p, _ in produced.values()) or "nothing"
                    why = f"nothing before it produces it (it has {have})"
                    fix = f"chain {_producers(port.name)} before {type(m).__name__}"
                    raise _mismatch(self.modules[i - 1], m, port, why, fix)
            produced.update({p.name: (p, m) for p in m.OUTPUTS})
        self.inputs = tuple(p for p, _ in needed.values())
        self.output: Port = self.modules[-1].OUTPUTS[0]
        self._optimized: Graph | None = None

    def __rshift__(self, other: Module | Pipeline) -> Pipeline:
        if isinstance(other, Pipeline):
            return Pipeline((*self.modules, *other.modules))
        if not isinstance(other, Module):
            raise TraceError(f"{self!r} >> {other!r}: only ayo modules chain with >>", construct=">>")
        return Pipeline((*self.modules, other))

    def dag(self, name: str = "pipeline") -> DAG:
        """The pipeline's primitives on a fresh ``DAG`` (its result is the ``output`` port's value)."""
        dag = DAG(name)
        values: dict[str, DAGNode] = {}
        for m in self.modules:
            with located(m.loc):
                for port in m.INPUTS:
                    if port.name not in values:
                        values[port.name] = dag.input(port.name)
                values.update(m.lower(dag, {p.name: values[p.name] for p in m.INPUTS}))
        dag.output(values[self.output.name])
        return dag

    def to_graph(self, name: str = "pipeline") -> Graph:
        """The traced-convention IR of the pipeline (see ``DAG.graph``); it lints."""
        return self.dag(name).graph()

    lower = to_graph

    async def run(
        self, inputs: Mapping[str, Any] | None = None, *, passes: Sequence[Any] | None = None, **named: Any
    ) -> Any:
        """Optimize with ``passes`` (default ``DEFAULT_PASSES``; ``[]``: the sequential baseline) and
        run on the current runtime; ``inputs`` (a mapping and/or keywords) name the ``inputs`` ports."""
        values = {**(inputs or {}), **named}
        if passes is not None:
            return await run_graph(self.to_graph(), values, passes=passes)
        if self._optimized is None:  # modules are frozen: the default optimization is kept
            self._optimized = optimize(self.to_graph())
        return await run_graph(self._optimized, values, passes=())

    def __repr__(self) -> str:
        return " >> ".join(repr(m) for m in self.modules)


def _producers(name: str) -> str:
    """The known module classes that produce ``name``, for the fix an error suggests."""
    found, todo = [], list(Module.__subclasses__())
    while todo:
        cls = todo.pop(0)
        todo.extend(cls.__subclasses__())
        if any(p.name == name for p in cls.OUTPUTS):
            found.append(f"a {cls.__name__}")
    return " or ".join(found) or f"a module that produces `{name}`"


def _mismatch(left: Module, right: Module, port: Port, why: str, fix: str) -> TraceError:
    return TraceError(
        f"{type(left).__name__} >> {type(right).__name__} does not fit: {right.describe()} reads "
        f"{port}, but {why}; {fix} (the left side ends with {left.describe()})",
        loc=right.loc,
        construct=">>",
    )
