"""``Runtime``: the engines, their schedulers, and the entry points that run graphs and primitives.

Two ways to use it:

* ``async with Runtime(engines=[...]) as rt:`` starts the engines it builds from ``EngineConfig``s
  (and those passed in built, when ``own_engines=True``), makes ``rt`` the *current* runtime of the
  block (a ``ContextVar``), and stops them on exit.
* ``Runtime.default()``: the process default, used when no runtime is current. It is built from
  ``$AYO_TRACE_CONFIG`` (a TOML file, see ``config.load_config``) or the offline defaults, and starts
  on first use, with a progress bar while models load. It works across successive event loops
  (``asyncio.run`` after ``asyncio.run``): on the first use in a new loop it forgets queued work and
  restarts the engines that hold loop-bound resources. ``Runtime.set_default`` replaces it (tests
  install scripted engines this way).

Many queries at once: every engine request carries the ``QueryTag`` of the query it serves
(``policy.py``), set by ``run`` for a graph, by an eager workflow for its whole run, and by a
primitive called on its own, so the engine schedulers order all of them by the scheduling
``policy``. At most ``max_active`` queries are in service at once (``admission.py``); the others
wait in arrival order before starting. A query with a deadline that could not start in time fails
with ``QueryTimeout`` before it takes engine time; with ``fail_early=True`` so does one whose
estimated work (its graph's critical path, ``meta["remaining"]``) exceeds the time it has left.

Cross-query batching works the same in both: the engine schedulers run batches in the tasks of the
requests that wait for them (see ``engine_scheduler``), so nothing runs in the background.

The runtime is the facade over two parts: the ``EngineClient`` (``engine_client.py``, ``rt.client``),
the one way to the engines, and the graph scheduler (``graph_scheduler.run_query``), which runs a
query's graph on that client. The primitive methods (``llm``, ``embed``, ``ingest``, ``search``,
``rerank``, inherited from ``eager.EagerPrimitives``) serve the frontend's eager mode and graph breaks with one client call each, the same
call a traced node makes, so a traced node computes exactly what the eager call does.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import os
import threading
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any, Literal, Self, overload

import anyio
import anyio.lowlevel

from ..errors import ConfigError, Overloaded
from ..host import CURRENT_RUNTIME
from ..ir.graph import Graph, Node
from ..ir.prompt import ChatTemplate
from . import otel
from .admission import DEFAULT_MAX_ACTIVE, Admission, auto_limit
from .chat import chat_template_of
from .config import (
    BACKENDS,
    CLUSTERS,
    UNBATCHED,
    BatchPolicy,
    EngineConfig,
    build_engine,
    default_configs,
    load_config,
    load_runtime_options,
)
from .cpu_share import CpuShare
from .eager import EagerPrimitives
from .engine_client import EngineClient
from .engine_pool import EnginePool
from .engine_scheduler import DEFAULT_DECODE_STEPS, EngineScheduler, share_cpu
from .engines.base import Engine
from .graph_scheduler import Retries, run_query
from .policy import DEFAULT_POLICY, POLICIES, QueryTag, current_query, new_tag, order_for, serving
from .response_cache import CacheConfig, ResponseCache
from .summary import format_summary
from .timeline import Recorder, Timeline

log = logging.getLogger("ayo_trace.runtime")


_CURRENT: ContextVar[Runtime | None] = CURRENT_RUNTIME  # declared below frontend and backend


@overload
def current_runtime() -> Runtime: ...
@overload
def current_runtime(*, default: Literal[True]) -> Runtime: ...
@overload
def current_runtime(*, default: bool) -> Runtime | None: ...


def current_runtime(*, default: bool = True) -> Runtime | None:
    """The runtime entered with ``async with`` in this context, else (unless ``default=False``) the
    process default runtime."""
    rt = _CURRENT.get()
    if rt is None and default:
        return Runtime.default()
    return rt


class _DefaultRuntime:
    """The process default runtime (one per process, created on first use)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runtime: Runtime | None = None


_DEFAULT = _DefaultRuntime()


class _NodeLog:
    """The runtime's ``graph_scheduler.NodeEvents``: counts the nodes run, records them on the
    timeline."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.count = 0

    def node_started(self, query: str, scope: str, node: Node) -> None:
        pass

    def node_finished(self, query: str, scope: str, node: Node, start: float, end: float, ok: bool) -> None:
        self.count += 1
        self.recorder.node(query, scope, node, start, end, ok)


# --- the runtime ---------------------------------------------------------------------------------


class Runtime(EagerPrimitives):
    """Engines, their schedulers, and ``run`` for graphs. See the module docstring.

    ``engines``: ``EngineConfig``s to build and start, and/or ``Engine`` objects already built
    (started by the caller; ``own_engines=True`` makes the runtime start and stop them too). None
    means ``$AYO_TRACE_CONFIG`` or the offline defaults. ``cluster="ray"`` runs every engine instance
    built from a config as a Ray actor (``cluster/ray_engines.py``), joining the Ray cluster at
    ``ray_address``, or a Ray already initialized here, or starting a local one; the workflows do not
    change (a config file's ``[runtime]`` table may say the same). ``batching=False`` turns cross-request
    batching off (each engine call serves one request: what exact output comparisons need).
    ``batch`` is the policy of engines passed in built (a config carries its own). ``deadline_s``
    is the default per-query deadline, ``retries`` the retries of idempotent nodes (and of an LLM
    session's prefill and decode) after an engine error, each after ``retry_backoff_s`` doubled per
    attempt, ``decode_steps`` the tokens per continuous-batching decode round,
    ``timeline_size`` the number of events ``timeline()`` keeps (0: none). ``share_prefixes=False``
    stops marking constant prompt prefixes as shared (``PrefillRequest.shared``), so engines
    prefill them again for every query instead of forking a kept copy.

    ``policy`` orders each engine's queue across queries (``policy.py``): ``"query"`` (queries by
    deadline, else by arrival plus estimated work, critical path first within a query) or
    ``"critical_path"`` (the order before query-level scheduling, for comparison). ``max_active``
    bounds the queries (traced or eager) in service at once (None: no bound; ``"auto"``, the
    default: 8 when an LLM engine computes on the CPU, else 16, see ``admission.py``); up to ``max_queue``
    more wait to start, in arrival order, and one more is refused with ``Overloaded``. A query with a
    deadline is served earliest deadline first and fails when the deadline passes; with
    ``fail_early=True`` it also fails as soon as its graph's estimated work (the cost model's engine
    profiles) no longer fits the time left, before it takes engine time: turn it on when those
    estimates describe your engines (the default profiles describe the CPU defaults, and overestimate
    a GPU). ``cache`` turns the response cache of deterministic calls on (``response_cache.py``;
    ``stats()["cache"]`` says what it saved). With ``cpu_share`` (the default), engines whose CPU threads
    together outnumber the cores run one batch at a time, in the policy's order (``cpu_share.py``;
    ``False`` on a machine shared with other busy processes).
    """

    def __init__(
        self,
        engines: Sequence[EngineConfig | Engine] | None = None,
        *,
        cluster: str | None = None,
        ray_address: str | None = None,
        batching: bool = True,
        deadline_s: float | None = None,
        retries: int = 1,
        retry_backoff_s: float = 0.05,
        batch: BatchPolicy | None = None,
        max_queue: int = 1024,
        decode_steps: int = DEFAULT_DECODE_STEPS,
        own_engines: bool = False,
        timeline_size: int = 20_000,
        progress: bool | None = None,
        share_prefixes: bool = True,
        policy: str = DEFAULT_POLICY,
        max_active: int | Literal["auto"] | None = "auto",
        fail_early: bool = False,
        cache: CacheConfig | None = None,
        cpu_share: bool = True,
    ) -> None:
        path = os.environ.get("AYO_TRACE_CONFIG") if engines is None else None
        if engines is None:
            engines = load_config(path) if path else default_configs()
        if path and cluster is None:
            table = load_runtime_options(path)
            cluster, ray_address = table.get("cluster"), ray_address or table.get("ray_address")
        if cluster is not None and cluster not in CLUSTERS:
            raise ConfigError(f"cluster must be one of {CLUSTERS}, got {cluster!r}")
        if retries < 0:
            raise ConfigError(f"retries must be >= 0, got {retries}")
        if not 0 <= retry_backoff_s < math.inf:
            raise ConfigError(f"retry_backoff_s must be a finite number >= 0, got {retry_backoff_s}")
        if policy not in POLICIES:
            raise ConfigError(f"policy must be one of {POLICIES}, got {policy!r}")
        _check_max_active(max_active)
        self._specs = list(engines)
        for spec in self._specs:
            if not isinstance(spec, EngineConfig | Engine):
                raise ConfigError(f"engines must be EngineConfig or Engine objects, got {spec!r}")
        self.batching = batching
        self.cluster = cluster or "local"
        self.ray_address = ray_address
        self.deadline_s = deadline_s
        self.retries = retries
        self.retry_backoff_s = retry_backoff_s
        self.batch = batch or BatchPolicy()
        self.max_queue = max_queue
        self.decode_steps = decode_steps
        self.own_engines = own_engines
        self.progress = progress
        self.policy = policy
        self._auto_active = max_active == "auto"  # resolved when the engines are known (``start``)
        self.max_active = DEFAULT_MAX_ACTIVE if max_active == "auto" else max_active
        self._admission = Admission(self.max_active, max_queue)
        self.fail_early = fail_early
        self.share_cpu = cpu_share
        self.cpu_share: CpuShare | None = None  # built with the engine schedulers when asked for
        self.cache = ResponseCache(cache) if cache is not None else None
        self._recorder = Recorder(timeline_size)
        self.client = EngineClient(share_prefixes=share_prefixes, cache=self.cache)
        self._started: list[tuple[Engine, EngineConfig | None]] = []  # what stop() stops
        self._cluster: Any = None  # the Ray cluster connection (cluster="ray") while running
        self._running = False
        self._loop: Any = None
        self._lock: anyio.Lock | None = None
        self._lock_loop: Any = None
        self._ids = itertools.count(1)
        self._eager_ids = itertools.count(1)
        self._query_seq = itertools.count(1)
        self._tokens: list[Token[Runtime | None]] = []
        self._nodes = _NodeLog(self._recorder)
        self.queries = self.failures = self.cancelled = 0
        self.active = 0  # queries and eager calls running now

    def _peers(self) -> int:
        return self.active

    # --- lifecycle -------------------------------------------------------------------------------

    @classmethod
    def default(cls) -> Runtime:
        """The process default runtime (created, not started: it starts on first use)."""
        with _DEFAULT.lock:
            if _DEFAULT.runtime is None:
                _DEFAULT.runtime = cls()
            return _DEFAULT.runtime

    @classmethod
    def set_default(cls, runtime: Runtime | None) -> Runtime | None:
        """Make ``runtime`` the process default (None: build one from the defaults on next use);
        returns the previous one, which the caller may ``aclose()``."""
        with _DEFAULT.lock:
            previous, _DEFAULT.runtime = _DEFAULT.runtime, runtime
            return previous

    async def __aenter__(self) -> Self:
        await self.start()
        self._tokens.append(_CURRENT.set(self))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._tokens:
            _CURRENT.reset(self._tokens.pop())
        await self.aclose()

    async def start(self) -> None:
        """Build and start the engines (idempotent)."""
        if self._running:
            return
        self._cluster = self._connect_cluster()
        try:
            await self._start()
        except BaseException:
            self._close_cluster()
            raise

    def _connect_cluster(self) -> Any:
        """The Ray cluster the configured engines run on, connected (None: they run in this process)."""
        if self.cluster != "ray":
            return None
        try:
            from .cluster.ray_engines import RayCluster
        except ImportError as exc:
            raise ConfigError(f'cluster="ray" needs ray (pip install "ayo-trace[ray]"): {exc}') from exc
        cluster = RayCluster(self.ray_address)
        cluster.connect()
        return cluster

    def _close_cluster(self) -> None:
        if self._cluster is not None:
            cluster, self._cluster = self._cluster, None
            cluster.close()

    async def _start(self) -> None:
        built: dict[str, Engine] = {}
        to_start: list[tuple[Engine, EngineConfig | None]] = []
        pools: list[tuple[str, str, list[Engine], BatchPolicy, int]] = []
        for spec in self._specs:
            if isinstance(spec, EngineConfig):
                instances = []
                for i in range(spec.instances):
                    build = build_engine if self._cluster is None else self._cluster.build
                    engine = build(spec, built, instance=i)
                    built[engine.name] = engine
                    instances.append(engine)
                    to_start.append((engine, spec))
                built.setdefault(spec.name, instances[0])
                pools.append((spec.name, spec.kind, instances, spec.batch, spec.max_queue))
            else:
                built[spec.name] = spec
                if self.own_engines:
                    to_start.append((spec, None))
                pools.append((spec.name, spec.kind, [spec], self.batch, self.max_queue))
        names = [p[0] for p in pools]
        if len(set(names)) != len(names):
            raise ConfigError(f"engine names must be unique, got {names}")
        await self._start_engines(to_start)
        built_pools: list[EnginePool] = []
        for name, kind, engines, policy, max_queue in pools:
            scheds = [
                EngineScheduler(
                    e,
                    policy if self.batching else UNBATCHED,
                    max_queue=max_queue,
                    decode_steps=self.decode_steps,
                    recorder=self._recorder,
                    peers=self._peers,
                    order=order_for(self.policy),
                )
                for e in engines
            ]
            built_pools.append(
                EnginePool(name, kind, scheds, defer_ahead=self.policy == "query", max_batch=policy.max_batch)
            )
        self.cpu_share = share_cpu([s for p in built_pools for s in p.schedulers]) if self.share_cpu else None
        if self._auto_active and not (self._admission.serving or self._admission.waiting):
            self.max_active = _auto_max_active(built_pools)
            self._admission = Admission(self.max_active, self.max_queue)
        self.client.set_pools(built_pools, self._specs)
        self._loop = _loop_token()
        self._recorder.begin(anyio.current_time())  # the timeline's zero, on the loop's clock
        self._running = True

    async def _start_engines(self, engines: list[tuple[Engine, EngineConfig | None]]) -> None:
        if not engines:
            return
        from tqdm.auto import tqdm

        disable = None if self.progress is None else not self.progress
        with tqdm(
            total=len(engines), desc="ayo-trace: starting engines", unit="engine", disable=disable
        ) as bar:
            for engine, spec in engines:
                bar.set_postfix_str(engine.name)
                t = time.monotonic()
                try:
                    await engine.start()
                except BaseException:
                    await self._stop_engines()
                    raise
                self._started.append((engine, spec))
                log.info("started engine %s in %.2fs", engine.name, time.monotonic() - t)
                bar.update(1)

    async def _stop_engines(self) -> None:
        while self._started:
            engine, _ = self._started.pop()
            with anyio.CancelScope(shield=True):
                try:
                    await engine.stop()
                except Exception:
                    log.exception("stopping engine %s failed", engine.name)

    async def aclose(self) -> None:
        """Stop the engines this runtime started (from any event loop: engines bound to the loop
        they ran in are first moved to this one, so they can close cleanly)."""
        if self._running and self._loop is not _loop_token():
            with anyio.CancelScope(shield=True):
                await self._rebind(_loop_token())
        self._running = False
        await self._stop_engines()
        self._close_cluster()
        if self.cache is not None:
            self.cache.close()  # its disk files; they reopen if the runtime starts again

    async def ensure_started(self) -> None:
        loop = _loop_token()
        if self._running and self._loop is loop:
            return
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = anyio.Lock(), loop
        async with self._lock:
            if not self._running:
                await self.start()
            elif self._loop is not loop:
                await self._rebind(loop)

    def chat_template(self, engine: str | None = None) -> ChatTemplate:
        """The chat template ``messages=`` renders with on LLM engine ``engine`` (``backend/chat.py``)."""
        return chat_template_of(self.client.pool("llm", engine) if self._running else None)

    async def _rebind(self, loop: Any) -> None:
        """First use in a new event loop: forget queued work, restart loop-bound engines."""
        log.info("runtime moves to a new event loop")
        for pool in self.client.pools.values():
            pool.reset()
            for sched in pool.schedulers:
                spec = next((s for e, s in self._started if e is sched.engine), None)
                loop_bound = getattr(sched.engine, "loop_bound", None)
                if loop_bound is None:
                    loop_bound = spec is not None and BACKENDS[spec.backend].loop_bound
                if not loop_bound or not any(e is sched.engine for e, _ in self._started):
                    continue
                with anyio.move_on_after(10):
                    try:
                        await sched.engine.stop()
                    except Exception as exc:
                        log.debug("stopping %s from the old loop failed: %s", sched.engine.name, exc)
                await sched.engine.start()
        self._loop = loop

    def set_policy(
        self, policy: str, max_active: int | Literal["auto"] | None = "auto", *, cpu_share: bool | None = None
    ) -> None:
        """Switch the scheduling ``policy``, ``max_active`` and (unless None) ``cpu_share`` (see the
        class docstring) between queries, keeping the engines: how a benchmark compares policies on
        one set of loaded models. Raises ``ConfigError`` while any query is in service or waiting."""
        if policy not in POLICIES:
            raise ConfigError(f"policy must be one of {POLICIES}, got {policy!r}")
        _check_max_active(max_active)
        if self.active or self._admission.serving or self._admission.waiting:
            raise ConfigError("set_policy needs an idle runtime: queries are running")
        self._auto_active = max_active == "auto"
        self.policy = policy
        self.max_active = _auto_max_active(self.client.pools.values()) if max_active == "auto" else max_active
        self._admission = Admission(self.max_active, self.max_queue)
        for pool in self.client.pools.values():
            pool.defer_ahead = policy == "query"
            for sched in pool.schedulers:
                sched.use_order(order_for(policy))
                sched.cpu_share = None
        self.share_cpu = self.share_cpu if cpu_share is None else cpu_share
        schedulers = [s for p in self.client.pools.values() for s in p.schedulers]
        self.cpu_share = share_cpu(schedulers) if self.share_cpu else None

    # --- running graphs --------------------------------------------------------------------------

    async def run(self, graph: Graph, inputs: dict[str, Any], *, deadline_s: float | None = None) -> Any:
        """Run ``graph`` (traced or lowered) as one query and return its output value.

        Within another query (a graph break, an eager workflow) it runs as part of that query:
        no admission, the same tag."""
        await self.ensure_started()
        query_id = f"q{next(self._ids)}"
        deadline = self.deadline_s if deadline_s is None else deadline_s
        token = _CURRENT.set(self)
        self.queries += 1
        try:
            async with self.serve(query_id, estimated_work(graph), deadline) as tag:
                left = deadline
                if tag.deadline is not None and anyio.current_time() - tag.arrival > 1e-3:
                    left = tag.deadline - anyio.current_time()  # it waited to start
                with otel.query_span(query_id, graph.name):
                    return await run_query(
                        self.client,
                        graph,
                        inputs,
                        query_id,
                        left,
                        retries=Retries(self.retries, self.retry_backoff_s),
                        events=self._nodes,
                    )
        except anyio.get_cancelled_exc_class():
            self.cancelled += 1
            raise
        except BaseException:
            self.failures += 1
            raise
        finally:
            _CURRENT.reset(token)

    @contextlib.asynccontextmanager
    async def serve(
        self, query_id: str | None = None, work: float = 0.0, deadline_s: float | None = None
    ) -> AsyncIterator[QueryTag]:
        """Serve one query for the body: wait for admission (in arrival order, see ``max_active``),
        then tag every engine request made within (and in the tasks it starts) as this query's and
        count it as running. Within a query already served, the body is part of that query.

        With ``deadline_s``, a query whose estimated ``work`` (seconds) exceeds it, or that cannot
        start early enough to do that work in time, raises ``QueryTimeout`` before it takes engine
        time."""
        outer = current_query()
        if outer is not None:
            yield outer
            return
        tag = new_tag(
            query_id or f"eager/q{next(self._eager_ids)}",
            work,
            deadline_s,
            next(self._query_seq),
            fail_early=self.fail_early,
        )
        async with self._admission.admit(tag, work, deadline_s):
            self.active += 1
            try:
                with serving(tag):
                    yield tag
            finally:
                self.active -= 1

    # --- engines ---------------------------------------------------------------------------------

    def pool(self, kind: str, name: str | None = None) -> EnginePool:
        """The engine pool serving ``kind`` under ``name`` (None: the default engine of that kind)."""
        return self.client.pool(kind, name)

    @property
    def engines(self) -> dict[str, list[Engine]]:
        return {name: pool.engines for name, pool in self.client.pools.items()}

    # --- reporting -------------------------------------------------------------------------------

    @property
    def nodes_run(self) -> int:
        return self._nodes.count

    @property
    def share_prefixes(self) -> bool:
        return self.client.share_prefixes

    def refuse_if_full(self) -> Overloaded | None:
        """The ``Overloaded`` a query arriving now would be refused with, counted as refused (None:
        it would be served or wait): a server asks before it starts a streamed response."""
        refusal = self._admission.refusal()
        if refusal is not None:
            self._admission.refused += 1
        return refusal

    def stats(self) -> dict[str, Any]:
        """Per engine (all instances together, and each one): requests, batches, batch sizes,
        queue waits, busy time and utilization; per runtime: queries, failures, cancellations."""
        return {
            "engines": self.client.stats(),
            "admission": {
                "max_active": self.max_active,
                "serving": self._admission.serving,
                "waiting": self._admission.waiting,
                "refused": self._admission.refused,
            },
            "queries": self.queries,
            "failures": self.failures,
            "cancelled": self.cancelled,
            "nodes": self._nodes.count,
            **({"cache": self.cache.stats()} if self.cache is not None else {}),
        }

    def summary(self) -> str:
        """``stats()`` as a short table for people: one line per engine, then the queries."""
        return format_summary(self.stats())

    def timeline(self) -> Timeline:
        """The recorded node and batch events as a Chrome trace (``.save(path)`` for Perfetto)."""
        return self._recorder.timeline()


def estimated_work(graph: Graph) -> float:
    """The estimated seconds from a query's start to its end on idle engines: the largest
    ``meta["remaining"]`` of its graph (0 for a graph the cost analysis has not annotated)."""
    return max((float(n.meta.get("remaining", 0.0) or 0.0) for n in graph.nodes), default=0.0)


def _loop_token() -> Any:
    """The running event loop (asyncio) or trio token: identifies the loop the runtime serves."""
    return anyio.lowlevel.current_token().native_token


def _check_max_active(max_active: object) -> None:
    if max_active not in ("auto", None) and not (isinstance(max_active, int) and max_active >= 1):
        raise ConfigError(f"max_active must be at least 1, None or 'auto', got {max_active!r}")


def _auto_max_active(pools: Iterable[EnginePool]) -> int:
    """``max_active="auto"``: 8 when an LLM engine computes on the CPU, else 16 (``admission.py``)."""
    llms = [s.engine for p in pools if p.kind == "llm" for s in p.schedulers]
    return auto_limit(any(e.cpu_threads() > 0 for e in llms))


__all__ = ["Runtime", "Timeline", "current_runtime"]
