"""``@ayo.workflow``: an async function that is traced into a graph, optimized and run.

A workflow is traced once per *static signature*: which arguments are static (ints, floats, bools,
None, enums, any argument named in ``static=``, and any argument the graph needs as a constant, such
as a ``str`` passed as ``collection=``) and their values. Every other argument is traced: it becomes
an ``input`` node. An argument made static by need is a *guard* of the graph: printed in its header
and listed by ``explain()``; a call with another value traces again. The trace also remembers the
globals and closure cells it folded in at trace time and re-traces when one of them changes, so a
stale graph is never reused.

What stays a graph break is listed by ``explain()`` with its reason and fix; ``strict=True`` refuses
any break with a ``TraceError``.
"""

from __future__ import annotations

import contextlib
import copy
import enum
import functools
import inspect
import threading
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import libcst as cst

from ..errors import TraceError
from ..host import host
from ..ir.code import SourceLoc
from ..ir.graph import Graph
from .breaks import describe_break, graph_breaks
from .compiler import Compiler, TraceDeps
from .deps import NeedStatic
from .guards import frozen, value_at
from .helpers import RecursesAtRunTime
from .nested_loops import LoopAsWritten
from .source import FunctionSource
from .unroll import UnrollLoop
from .user_code import behind_library_decorator
from .values import Static, Traced, Value
from .visiting import remembering

_EAGER: ContextVar[bool] = ContextVar("ayo_eager", default=False)
_AUTO_STATIC = (bool, int, float, type(None), enum.Enum)
_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
_WRAPPER = "__ayo_wrapper"  # the workflow behind a decorator, called in its own trace
_CACHE_SIZE = 64


@contextlib.contextmanager
def eager() -> Iterator[None]:
    """Within this context, workflows run as plain Python: each primitive calls its engine directly."""
    token = _EAGER.set(True)
    try:
        yield
    finally:
        _EAGER.reset(token)


@dataclass
class _Entry:
    graph: Graph
    deps: TraceDeps
    traced_params: tuple[str, ...]
    optimized: dict[tuple[Any, ...], Graph]


_MISSING = object()


class Workflow:
    """The object ``@ayo.workflow`` returns. Call it like the function; ``graph``, ``eager`` and
    ``explain`` show and check what it does."""

    __ayo_workflow__ = True

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        passes: Sequence[Any] | None = None,
        static: Sequence[str] = (),
        bound_self: Any = None,
        strict: bool = False,
    ) -> None:
        if not inspect.iscoroutinefunction(fn):
            raise TraceError(
                f"@ayo.workflow needs an `async def`; {fn.__qualname__} is not one",
                loc=def_loc(fn),
                construct="def",
            )
        self.fn = fn
        self.passes = passes
        self.static = tuple(static)
        self.strict = strict
        self._by_need: dict[str, str] = {}  # parameters made static because the graph needs them
        self._fields_by_need: dict[tuple[str, str], str] = {}  # fields of parameters, likewise (guards.py)
        self._eager_defs: set[Any] = set()  # helpers whose recursion does not end at trace time
        self._unrolled: set[Any] = set()  # `for` loops traced unrolled (unroll.py)
        self._as_written: dict[Any, str] = {}  # loops run as written, and why (nested_loops.py)
        self.bound_self = bound_self
        self._src: FunctionSource | None = None
        self._sources: dict[Any, FunctionSource] = {}  # the parsed sources of inlined helpers
        self._cache: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        functools.update_wrapper(self, fn)

    # --- binding ---------------------------------------------------------------------------------

    def __get__(self, instance: Any, owner: type | None = None) -> Workflow:
        if instance is None:
            return self
        bound = Workflow.__new__(Workflow)
        bound.__dict__.update(self.__dict__)
        bound.bound_self = instance
        # one cache per (workflow, instance) pair lives on the instance's bound object
        key = f"__ayo_bound_{self.fn.__name__}"
        cached = instance.__dict__.get(key) if hasattr(instance, "__dict__") else None
        if cached is not None:
            return cached
        bound._cache = OrderedDict()
        bound._lock = threading.Lock()
        if hasattr(instance, "__dict__"):
            instance.__dict__[key] = bound
        return bound

    @property
    def signature_fn(self) -> Callable[..., Any]:
        """A function with the user-visible signature (``self`` dropped for bound methods)."""
        if self.bound_self is None:
            return self.fn
        return functools.partial(self.fn, self.bound_self)

    def source(self) -> FunctionSource:
        if self._src is None:  # (a library's decorator is not read: the function it wraps is)
            self._src = FunctionSource.parse(
                inspect.unwrap(self.fn) if behind_library_decorator(self.fn) else self.fn
            )
        return self._src

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> inspect.BoundArguments:
        sig = inspect.signature(self.fn)
        full_args = (self.bound_self, *args) if self.bound_self is not None else args
        try:
            bound = sig.bind(*full_args, **kwargs)
        except TypeError as e:
            if inspect.iscoroutinefunction(self.fn):
                try:  # Python's own message, as the eager call gives it (binding is all it does first)
                    self.fn(*full_args, **kwargs).close()
                except TypeError as python:
                    raise TypeError(*python.args) from None
            raise TypeError(f"{self.fn.__qualname__}(): {e}") from None
        bound.apply_defaults()
        return bound

    def _is_static(self, name: str, value: Any, index: int) -> bool:
        if self.bound_self is not None and index == 0:
            return True
        return name in self.static or name in self._by_need or isinstance(value, _AUTO_STATIC)

    def _key(self, bound: inspect.BoundArguments) -> tuple[Any, ...]:
        key: list[Any] = []
        for i, (name, value) in enumerate(bound.arguments.items()):
            if self._is_static(name, value, i):
                if name in self._by_need and name not in self.static:
                    value = frozen(value)  # (a list of collections a loop is unrolled over)
                try:
                    hash(value)
                except TypeError:
                    why = (
                        f" (the graph needs it as a constant: {self._by_need[name]})"
                        if name in self._by_need
                        else ""
                    )
                    raise TraceError(
                        f"static argument `{name}` of {self.fn.__qualname__} must be hashable to key "
                        f"the trace cache; got a {type(value).__name__}{why}",
                        loc=def_loc(self.fn),
                        construct="static",
                    ) from None
                key.append(
                    (name, "static", type(value), value if i or self.bound_self is None else id(value))
                )
            else:  # (a one-shot iterator is traced on its own: iterating it changes it)
                key.append((name, "traced", isinstance(value, Iterator)))
        for (name, path), use in self._fields_by_need.items():
            value = frozen(value_at(bound.arguments[name], path))
            try:
                hash(value)
            except TypeError:
                raise TraceError(
                    f"`{name}{path}` must be hashable to key the trace cache (the graph needs it as a "
                    f"constant: {use}); got a {type(value).__name__}",
                    loc=def_loc(self.fn),
                    construct="static",
                ) from None
            key.append((f"{name}{path}", "field", type(value), value))
        return tuple(key)

    # --- tracing ---------------------------------------------------------------------------------

    def _compile(self, comp: Compiler, bound: inspect.BoundArguments) -> Value:
        """The workflow's body compiled. Behind the user's own decorator (a ``functools.wraps``
        wrapper, its parameters ``*args, **kwargs`` where the signature shows the wrapped
        function's), the wrapper is called with the arguments, inlined like a helper: what it does
        around the wrapped function is part of the workflow."""
        params = list(bound.signature.parameters.values())
        if not hasattr(self.fn, "__wrapped__") or any(p.kind in _VARIADIC for p in params):
            return comp.compile_function()
        args = [
            cst.Arg(cst.Name(p.name), keyword=cst.Name(p.name) if p.kind is p.KEYWORD_ONLY else None)
            for p in params[1 if self.bound_self is not None else 0 :]
        ]
        comp.temps[_WRAPPER] = Static(
            self.fn if self.bound_self is None else self.fn.__get__(self.bound_self)
        )
        loc = comp.src.loc(comp.src.node)
        call = cst.Await(cst.Call(func=cst.Name(_WRAPPER), args=args))
        if not comp.exprs.break_call_target(call):
            return comp.exprs.expr(call, loc, "result", text=False)
        # a library's decorator (or a wrapper the tracer cannot follow): the call runs eagerly, as
        # one graph break reading the workflow's arguments
        names = [p.name for p in params[1 if self.bound_self is not None else 0 :]]
        node = comp.python_node(
            comp.src.node,
            loc,
            ["result"],
            source=f"result = {comp.src.expr_code(call)}",
            reads=[_WRAPPER, *names],
            is_async=True,
            op="break",
            reason=comp.exprs.await_break_reason(call),
            effect=True,
            name="result",
        )
        return Traced(node)

    def _trace(self, bound: inspect.BoundArguments) -> _Entry:
        src = self.source()
        graph = Graph(self.fn.__name__)
        env: dict[str, Value] = {}
        traced: list[str] = []
        for i, (name, value) in enumerate(bound.arguments.items()):
            if self._is_static(name, value, i):
                if name in self._by_need and isinstance(value, list | dict | set):
                    # the trace is keyed by the items: a later call with equal items reuses it even
                    # if the caller changed this list since, so the graph holds a copy
                    value = copy.deepcopy(value)
                env[name] = Static(value)
                if not (self.bound_self is not None and i == 0):
                    graph.statics[name] = value
            else:
                # whether the argument is a one-shot iterator (a generator, ``iter(docs)``): iterating
                # it is a change the passes must keep in order (``effects.may_be_iterator``)
                attrs = {"name": name, "iterator": isinstance(value, Iterator)}
                env[name] = Traced(graph.add("input", (), attrs, name=name, loc=src.loc(src.node)))
                traced.append(name)
        graph.guards = {n: use for n, use in self._by_need.items() if n in graph.statics}
        # helpers parsed by earlier traces are reused
        deps = TraceDeps(
            sources=self._sources,
            eager_defs=set(self._eager_defs),
            unrolled=set(self._unrolled),
            as_written=dict(self._as_written),
            arguments=dict(bound.arguments),
        )
        for (name, path), use in self._fields_by_need.items():
            if name in traced:
                deps.fields[(name, path)] = value_at(bound.arguments[name], path)
                graph.statics[f"{name}{path}"] = deps.fields[(name, path)]
                graph.guards[f"{name}{path}"] = use
        result = self._compile(Compiler(src, graph, env, deps), bound)
        compiler_out = Compiler(src, graph, env, deps)
        out_node = compiler_out.materialize(result, src.loc(src.node), "result")
        last = [n for n in graph.nodes if n.op not in ("input", "const")]
        after = [last[-1]] if last and last[-1] is not out_node else []
        graph.add("output", [out_node], after=after)
        graph.lint()
        if self.strict and (found := graph_breaks(graph)):
            listing = "\n".join(f"  {describe_break(n)}" for n in found)
            raise TraceError(
                f"{self.fn.__qualname__} is strict, but {len(found)} statement(s) would run as graph "
                f"breaks:\n{listing}",
                loc=found[0].loc,
                construct="break",
            )
        return _Entry(graph, deps, tuple(traced), {})

    def _fresh(self, entry: _Entry) -> bool:
        return entry.deps.fresh()

    def _entry(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[_Entry, dict[str, Any]]:
        bound = self._bind(args, kwargs)
        with self._lock, remembering():  # (the trees' walks kept while tracing: `visiting.remembering`)
            while True:
                key = self._key(bound)
                entry = self._cache.get(key)
                if entry is not None and self._fresh(entry):
                    self._cache.move_to_end(key)
                    break
                try:
                    entry = self._trace(bound)
                except RecursesAtRunTime as deep:
                    if deep.where in self._eager_defs:  # cannot happen: its calls were not inlined
                        raise TraceError(deep.message, loc=def_loc(self.fn), construct="recursion") from None
                    self._eager_defs.add(deep.where)  # trace again, its calls run eagerly
                    continue
                except UnrollLoop as unroll:
                    if unroll.where in self._unrolled:  # cannot happen: an unrolled loop has no body
                        raise TraceError(
                            f"loop at {unroll.where[0]} unrolled twice", loc=def_loc(self.fn)
                        ) from None
                    self._unrolled.add(unroll.where)  # trace again with that loop unrolled
                    continue
                except LoopAsWritten as loop:
                    if loop.where in self._as_written:  # cannot happen: its body is not compiled
                        raise TraceError(loop.reason, loc=def_loc(self.fn)) from None
                    self._as_written[loop.where] = loop.reason  # trace again, that loop as written
                    continue
                except NeedStatic as need:
                    if need.path and (need.param, need.path) not in self._fields_by_need:
                        self._fields_by_need[(need.param, need.path)] = need.use  # guard on the field
                        continue
                    if need.param in self._by_need or need.param not in bound.arguments:
                        raise TraceError(
                            f"parameter `{need.param}` is needed as a constant by {need.use}, but it "
                            "cannot be made static here",
                            loc=def_loc(self.fn),
                            construct="static",
                        ) from None
                    self._by_need[need.param] = need.use  # trace again, specialized on its value
                    continue
                self._cache[key] = entry
                break
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        inputs = {name: bound.arguments[name] for name in entry.traced_params}
        return entry, inputs

    def _passes(self) -> Sequence[Any]:
        if self.passes is not None:
            return self.passes
        return host().default_passes()

    def _optimized(self, entry: _Entry) -> Graph:
        passes = tuple(self._passes())
        key = tuple(id(p) for p in passes)
        graph = entry.optimized.get(key)
        if graph is None:
            # With no passes too: the copy is annotated with the cost estimates the runtime ranks by.
            graph = host().optimize(entry.graph, passes)
            entry.optimized[key] = graph
        return graph

    # --- public ----------------------------------------------------------------------------------

    def graph(self, *args: Any, optimized: bool = False, **kwargs: Any) -> Graph:
        """The traced graph for these arguments (only their static values matter); with
        ``optimized=True``, the graph after this workflow's passes."""
        entry, _ = self._entry(args, kwargs)
        graph = self._optimized(entry) if optimized else entry.graph
        return graph.copy()  # the cached graph stays private: callers may edit what they get

    def explain(self, *args: Any, **kwargs: Any) -> str:
        """The guards the trace specialized on, each graph break with its reason and fix, then what
        each pass changed (a before/after of the printed graph) with the estimated critical path
        before and after."""

        entry, _ = self._entry(args, kwargs)
        graph = entry.graph
        head = [
            f"guard {n} == {graph.statics.get(n)!r}: needed as a constant by {use}; another value "
            "traces again"
            for n, use in graph.guards.items()
        ]
        found = graph_breaks(graph)
        head.append(f"graph breaks: {len(found)}")
        head += [f"  {describe_break(n)}" for n in found]
        return "\n".join(head) + "\n\n" + host().explain(graph, tuple(self._passes()))

    async def eager(self, *args: Any, **kwargs: Any) -> Any:
        """Run the function as plain Python, each primitive calling its engine directly: the
        reference semantics every optimization is tested against."""
        token = _EAGER.set(True)
        try:
            # One query for the whole run: its engine calls share its arrival and its admission.
            async with host().runtime().serve():
                if self.bound_self is not None:
                    return await self.fn(self.bound_self, *args, **kwargs)
                return await self.fn(*args, **kwargs)
        finally:
            _EAGER.reset(token)

    def query(self, *args: Any, **kwargs: Any) -> Query:
        """This workflow bound to these arguments, traced and optimized (``eager`` inside
        ``ayo.eager()``): ``await q.run(deadline_s=...)`` is ``await wf(*args)`` with a deadline of
        its own, ``q.stream(deadline_s=...)`` is ``wf.stream(*args)`` with one. A server uses it.

        Eagerly, the trace only finds the answer's place; a workflow that cannot be traced still runs
        as plain Python, and its stream has no ``token`` events."""
        if _EAGER.get():
            eager = functools.partial(self.eager, *args, **kwargs)
            try:
                entry, _ = self._entry(args, kwargs)
            except TraceError:
                return Query(None, {}, frozenset(), eager)
            return Query(None, {}, answer_places(entry.graph), eager)
        entry, inputs = self._entry(args, kwargs)
        return Query(self._optimized(entry), inputs, answer_places(entry.graph))

    def stream(self, *args: Any, **kwargs: Any) -> AsyncGenerator[Any, None]:
        """Run the workflow as ``__call__`` does (eagerly within ``ayo.eager()``) and iterate over
        what happens: ``node_started``/``node_finished`` events of each node with its ``file:line``,
        ``token`` events with the text of the answer as it is decoded (the ``ayo.llm`` whose value is
        returned, and every one called with ``stream=True``), then one ``result`` event with the
        value; a failure is raised from the iterator. Each event has a ``kind``; the classes and their
        order are in ``ayo_trace.backend.events``. Stopping early cancels the run: wrap it in
        ``contextlib.aclosing`` when you may (left unclosed, it is cancelled when collected)."""
        return self.query(*args, **kwargs).stream()

    async def stream_text(self, *args: Any, **kwargs: Any) -> AsyncIterator[str]:
        """The text of ``stream(...)``'s ``token`` events, delta by delta."""
        async with contextlib.aclosing(self.stream(*args, **kwargs)) as events:
            async for event in events:
                if event.kind == "token":
                    yield event.text

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _EAGER.get():
            return await self.eager(*args, **kwargs)
        entry, inputs = self._entry(args, kwargs)
        graph = self._optimized(entry)
        return await host().runtime().run(graph, inputs)

    def __repr__(self) -> str:
        return f"<ayo.workflow {self.fn.__qualname__}>"


def workflow(
    fn: Callable[..., Any] | None = None,
    *,
    passes: Sequence[Any] | None = None,
    static: Sequence[str] = (),
    strict: bool = False,
) -> Any:
    """Decorate an ``async def`` so that calling it traces, optimizes and runs it as a graph.

    ``passes``: the optimization passes (default ``ayo.DEFAULT_PASSES``; ``[]`` is the unoptimized,
    program-order baseline). ``static``: parameter names to specialize the trace on even when their
    values are not ints/floats/bools/None (their values must be hashable). ``strict``: refuse any
    graph break with a ``TraceError`` (which lists them) instead of running it eagerly.
    """

    def wrap(f: Callable[..., Any]) -> Workflow:
        return Workflow(f, passes=passes, static=static, strict=strict)

    return wrap(fn) if fn is not None else wrap


@dataclass(frozen=True)
class Query:
    """A workflow call bound to its arguments (``Workflow.query``): the optimized ``graph`` and its
    ``inputs``, the places of the answer LLM calls a stream hands on, and, when it runs eagerly, the
    eager call."""

    graph: Graph | None  # None when it runs eagerly
    inputs: dict[str, Any]
    answers: frozenset[SourceLoc]
    eager: Callable[[], Awaitable[Any]] | None = None

    async def run(self, deadline_s: float | None = None) -> Any:
        """The workflow's value; ``deadline_s`` overrides the runtime's query deadline (traced runs:
        an eager run has no deadline of its own, wrap it in ``anyio.fail_after``)."""
        if self.eager is not None:
            return await self.eager()
        assert self.graph is not None
        return await host().runtime().run(self.graph, self.inputs, deadline_s=deadline_s)

    def stream(self, deadline_s: float | None = None) -> AsyncGenerator[Any, None]:
        """The run's events (``Workflow.stream``)."""
        return host().stream(functools.partial(self.run, deadline_s), self.answers)


def answer_places(graph: Graph) -> frozenset[SourceLoc]:
    """Where the answer LLM calls of a traced graph are: the ``llm`` node the output returns as
    it is, and every ``llm`` marked ``stream=True`` (in nested bodies too)."""
    places = {n.loc for n in graph.walk() if n.op == "llm" and n.attrs.get("to_caller")}
    returned = graph.output.args[0] if len(graph.output.args) == 1 else None
    if returned is not None and returned.op == "llm":
        places.add(returned.loc)
    return frozenset(p for p in places if p is not None)


def def_loc(fn: Callable[..., Any]) -> SourceLoc | None:
    """Where ``fn`` is defined (its ``def`` line), for errors about the function as a whole."""
    code = getattr(fn, "__code__", None)
    return SourceLoc(code.co_filename, code.co_firstlineno) if code is not None else None
