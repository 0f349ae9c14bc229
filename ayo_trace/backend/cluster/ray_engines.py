"""Engine instances as Ray actors: the only module of ayo-trace that imports ``ray``.

``Runtime(cluster="ray")`` builds, for every instance of every ``EngineConfig``, a *proxy* engine
here instead of the engine itself. A proxy implements the protocol of ``engines/base.py`` for its
kind (``RemoteLLM``, ``RemoteEmbedder``, ``RemoteReranker``, ``RemoteStore``), so the engine
schedulers and pools above it work unchanged: they batch per instance, balance load across
instances and pin LLM sessions to the instance that holds their KV state. Each protocol call is one
call of an async actor (``host.EngineHost``) that reserves the config's ``num_cpus``/``num_gpus``,
builds the real engine from its config in its own process (model weights load there) and runs it
in its own event loop. A likelihood reranker lives in the actor of the LLM it scores with (instance
0, like in-process), so it needs no weights of its own and no remote token counting.

Decode streaming: the engine protocol is already step-chunked, so a continuous-batching decode
round is one actor call that carries up to ``max_steps`` tokens (the runtime's ``decode_steps``,
8 by default) for *every* session of the batch. Deltas reach the parser, and decode pipelining goes
on, round by round, as on one machine; per token, the actor call (about 2.7 ms measured here) is
shared by up to ``max_steps`` x batch-size tokens instead of one Ray stream item (about 1.8 ms) per
token per session.

Faults: actors run with ``max_restarts`` (``DEFAULT_MAX_RESTARTS``; ``ray_options`` may change it)
and ``max_task_retries=0``, so Ray restarts a dead actor but never re-runs a call on the new one by
itself. A call the death interrupted raises ``EngineDied`` naming the engine (the graph scheduler
retries idempotent nodes, and its errors add the node and source line). A restarted actor has lost
its sessions: the proxy remembers which incarnation of the actor opened each session and sends it
with every later prefill, decode and release of the session; another incarnation refuses those
requests (``host.Reply.lost``) and the proxy fails them alone with ``EngineDied`` — a lost session
is never continued. A retried ``llm`` node releases its session and prefills it again from scratch.

Ray itself: ``RayCluster.connect`` joins the cluster at ``ray_address``, or a Ray already
initialized in this process, or starts a local one (``ray.init``, which blocks for a few seconds,
like loading a model); the runtime shuts Ray down on close only if it started it. A local cluster
started here is private to this machine: its node address is ``127.0.0.1``, so every Ray server
(GCS, raylet, object manager, workers) listens on the loopback interface only, and no dashboard
runs. (Ray turns a loopback node address into the machine's external one unless told otherwise;
``_loopback_node`` tells it.) Local users can still reach loopback ports: Ray's token authentication
(on by default for a local cluster) keeps them out, and the token file is made readable by its
owner only. To serve other machines, start Ray yourself with authentication and
pass ``ray_address``: see docs/security.md.

Resources: every actor reserves its config's ``num_cpus``/``num_gpus`` (or its ``ray_options``);
when the actors built so far ask for more than the cluster has in all, building the next one raises
``ConfigError`` at once, instead of leaving an actor that waits for resources forever.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import ray
import ray.exceptions
import sniffio

from ...errors import ConfigError, EngineDied, EngineError
from ...ir.params import Hit
from ..config import BACKENDS, EngineConfig, build_engine
from ..engines.base import (
    DecodeChunk,
    DecodeRequest,
    EmbeddingEngine,
    Engine,
    LLMEngine,
    PrefillRequest,
    PrefillResult,
    RerankEngine,
    RerankRequest,
    ScoreRequest,
    Vector,
    VectorStore,
)
from .host import EngineHost, Reply

log = logging.getLogger("ayo_trace.ray")

DEFAULT_MAX_RESTARTS = 3
START_TIMEOUT_S = 600.0  # building and starting an actor's engines (model loading included)
PENDING_WARN_S = 30.0  # an actor not started by then is reported (it may wait for resources)
STOP_TIMEOUT_S = 30.0

LOOPBACK = "127.0.0.1"

_HostActor = ray.remote(EngineHost)


def _private_token() -> None:
    """Make Ray's authentication token file readable by its owner only: Ray writes it with the
    default umask (0644), and loopback ports are reachable by every local user, so the token is
    what keeps them out."""
    path = Path(os.environ.get("RAY_AUTH_TOKEN_PATH") or Path.home() / ".ray" / "auth_token")
    with contextlib.suppress(OSError):
        path.chmod(0o600)


@contextlib.contextmanager
def _loopback_node() -> Iterator[None]:
    """Let ``ray.init(_node_ip_address="127.0.0.1")`` keep that address: Ray replaces a loopback
    node address with the machine's external one (``services.resolve_ip_for_localhost``), and its
    servers then listen on every interface; with the loopback address they listen on it only."""
    from ray._private import services

    resolve = services.resolve_ip_for_localhost
    services.resolve_ip_for_localhost = lambda host: host
    try:
        yield
    finally:
        services.resolve_ip_for_localhost = resolve


def instance_name(config: EngineConfig, instance: int) -> str:
    """The engine name ``build_engine`` gives instance ``instance`` of ``config``."""
    return config.name if config.instances == 1 else f"{config.name}#{instance}"


class RayCluster:
    """The runtime's connection to Ray and the actors it created. See the module docstring."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address
        self.owns_ray = False
        self.actors: list[EngineActor] = []
        self._reserved = {"CPU": 0.0, "GPU": 0.0}  # what the actors built so far reserve

    def connect(self) -> None:
        if ray.is_initialized():
            if self.address is not None:
                log.info("ray is already initialized here; ray_address=%r is not used", self.address)
            return
        try:
            if self.address is None and not os.environ.get("RAY_ADDRESS"):
                with _loopback_node():
                    ray.init(include_dashboard=False, _node_ip_address=LOOPBACK)
                _private_token()
            else:
                # the dashboard setting only applies to a local cluster started here (Ray ignores it
                # when joining one); to run one with a dashboard, call ray.init before the runtime
                ray.init(address=self.address, include_dashboard=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"at {self.address!r}" if self.address else "(local)"
            raise ConfigError(f"cannot start or join the Ray cluster {where}: {exc}") from exc
        self.owns_ray = True

    def build(self, config: EngineConfig, built: Mapping[str, Engine], *, instance: int = 0) -> Engine:
        """The proxy of instance ``instance`` of ``config`` (its actor starts with ``launch``); a
        likelihood reranker joins the actor of its LLM, or is built in-process beside a local LLM."""
        name = instance_name(config, instance)
        if config.backend == "likelihood":
            llm = built.get(str(config.options.get("llm", "llm")))
            if not isinstance(llm, RemoteLLM):
                return build_engine(config, built, instance=instance)
            llm.actor.attach(config, instance)
            return RemoteReranker(llm.actor, name, owner=False)
        options = {
            "num_cpus": config.num_cpus,
            "num_gpus": config.num_gpus,
            "max_restarts": DEFAULT_MAX_RESTARTS,
            "max_task_retries": 0,
            **config.ray_options,
        }
        self._reserve(config, float(options.get("num_cpus") or 0), float(options.get("num_gpus") or 0))
        actor = EngineActor(self, name, config, instance, options)
        self.actors.append(actor)
        proxy_cls = _PROXIES[config.kind]
        return proxy_cls(actor, name, owner=True)

    def _reserve(self, config: EngineConfig, cpus: float, gpus: float) -> None:
        """Count one more actor's resources; ``ConfigError`` when the actors so far need more than
        the cluster has in all (an actor would wait for them forever)."""
        total = ray.cluster_resources()
        for key, want in (("CPU", cpus), ("GPU", gpus)):
            have = float(total.get(key, 0.0))
            if want > have:
                raise ConfigError(
                    f"engine {config.name!r}: an instance asks for {want:g} {key}s, but the Ray "
                    f"cluster has {have:g} in all (set num_{key.lower()}s lower)"
                )
            if self._reserved[key] + want > have:
                raise ConfigError(
                    f"engine {config.name!r}: its actors and the ones built before it ask for "
                    f"{self._reserved[key] + want:g} {key}s in all, but the Ray cluster has {have:g} "
                    f"(set num_{key.lower()}s lower, or fewer instances, or join a larger cluster)"
                )
        self._reserved["CPU"] += cpus
        self._reserved["GPU"] += gpus

    def launch(self) -> None:
        """Create every actor not created yet: their processes start (and load models) in parallel."""
        for actor in self.actors:
            actor.create()

    def close(self) -> None:
        """Kill the actors still alive and, if this runtime started Ray, shut it down."""
        for actor in self.actors:
            actor.kill()
        self.actors.clear()
        self._reserved = {"CPU": 0.0, "GPU": 0.0}
        if self.owns_ray and ray.is_initialized():
            ray.shutdown()
        self.owns_ray = False


class EngineActor:
    """One Ray actor hosting one engine instance (and the rerankers attached to it): creates it,
    calls it without blocking the event loop, and turns its death into ``EngineDied``."""

    def __init__(
        self, cluster: RayCluster, name: str, config: EngineConfig, instance: int, options: dict[str, Any]
    ) -> None:
        self.cluster = cluster
        self.name = name
        self.configs: list[tuple[EngineConfig, int]] = [(config, instance)]
        self.options = options
        self.handle: Any = None
        self.facts: dict[str, dict[str, Any]] = {}
        self.incarnation: str | None = None
        self.restarts = 0
        self.calls = 0
        self._ready = False
        self._lock: anyio.Lock | None = None
        self._limiter: anyio.CapacityLimiter | None = None

    def attach(self, config: EngineConfig, instance: int) -> None:
        if self.handle is not None:
            raise ConfigError(f"engine {config.name!r}: the actor of {self.name!r} is already running")
        self.configs.append((config, instance))

    def create(self) -> None:
        if self.handle is not None:
            return
        try:
            backends = {c.backend: BACKENDS[c.backend] for c, _ in self.configs}
            self.handle = _HostActor.options(**self.options).remote(list(self.configs), backends)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"engine {self.name!r}: invalid Ray actor options {self.options}: {exc}"
            ) from exc

    def kill(self) -> None:
        if self.handle is not None:
            if ray.is_initialized():  # else the actor went with its cluster
                ray.kill(self.handle, no_restart=True)
            self.handle = None
            self._ready = False

    async def ready(self) -> None:
        """Launch the cluster's actors if needed and wait until this one's engines have started."""
        if self._ready:
            return
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            if self._ready:
                return
            self.cluster.launch()
            reply: Reply | None = None
            with anyio.move_on_after(PENDING_WARN_S):
                reply = await self.call(self.name, "describe")
            if reply is None:
                log.warning("engine %s: %s", self.name, self._pending())
                try:
                    with anyio.fail_after(START_TIMEOUT_S):
                        reply = await self.call(self.name, "describe")
                except TimeoutError as exc:
                    raise ConfigError(f"engine {self.name!r}: {self._pending()}") from exc
            self.facts = reply.value
            self._ready = True

    def _pending(self) -> str:
        return (
            "its Ray actor has not started yet; it asks for "
            f"{self.options.get('num_cpus'):g} CPUs and {self.options.get('num_gpus'):g} GPUs, and the "
            f"cluster has {ray.available_resources()} available (an actor waits until its resources "
            "are free)"
        )

    async def stop(self) -> None:
        if self.handle is None:
            return
        with anyio.move_on_after(STOP_TIMEOUT_S):
            try:
                reply = await self.call(self.name, "stop")
                for problem in reply.value or ():
                    log.warning("stopping %s in its actor: %s", self.name, problem)
            except EngineError as exc:
                log.warning("stopping %s: %s", self.name, exc)
        self.kill()

    async def call(self, engine: str, method: str, *args: Any) -> Reply:
        """``EngineHost.method(*args)`` in the actor; raises the error the engine raised, or
        ``EngineDied`` (naming ``engine``) if the actor died meanwhile."""
        if self.handle is None:
            raise EngineError("its Ray actor is not running (the runtime is not started)", engine=engine)
        self.calls += 1
        ref = getattr(self.handle, method).remote(*args)
        try:
            reply: Reply = await self._get(ref)
        except ray.exceptions.RayActorError as exc:
            what = args[1] if method == "call" else method  # the protocol method
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EngineDied(
                f"its Ray actor died while serving {what} ({type(exc).__name__}: {reason}); Ray "
                f"restarts it (max_restarts={self.options.get('max_restarts')}) and the sessions it held "
                "are lost",
                engine=engine,
            ) from exc
        except ray.exceptions.RayError as exc:
            raise EngineError(f"Ray failed {method}: {type(exc).__name__}: {exc}", engine=engine) from exc
        if reply.incarnation != self.incarnation:
            if self.incarnation is not None:
                self.restarts += 1
                log.warning(
                    "engine %s: its Ray actor restarted (incarnation %s)", self.name, reply.incarnation
                )
            self.incarnation = reply.incarnation
        if reply.error is not None:
            raise reply.error
        return reply

    async def _get(self, ref: Any) -> Any:
        if sniffio.current_async_library() == "asyncio":
            return await ref  # an ObjectRef is awaitable in asyncio
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(16)
        return await anyio.to_thread.run_sync(ray.get, ref, abandon_on_cancel=True, limiter=self._limiter)


# --- the proxies -----------------------------------------------------------------------------------


class _Remote(Engine):
    """What every proxy shares: its actor, start (the actor's engines start) and stop (the owner
    stops and kills the actor; an attached engine lives and dies with its owner's actor)."""

    loop_bound = False  # the engine's loop is the actor's; the proxy works from any event loop

    def __init__(self, actor: EngineActor, name: str, *, owner: bool) -> None:
        super().__init__(name)
        self.actor = actor
        self.owner = owner

    async def start(self) -> None:
        await self.actor.ready()

    async def stop(self) -> None:
        if self.owner:
            await self.actor.stop()

    def _fact(self, key: str) -> Any:
        facts = self.actor.facts.get(self.name)
        if facts is None or key not in facts:
            raise EngineError(f"{key} is unknown until the engine has started", engine=self.name)
        return facts[key]

    async def _call(self, method: str, *args: Any) -> Any:
        return (await self.actor.call(self.name, "call", self.name, method, args)).value

    def stats(self) -> dict[str, Any]:
        return {
            "ray_actor": getattr(getattr(self.actor.handle, "_actor_id", None), "hex", lambda: None)(),
            "incarnation": self.actor.incarnation,
            "restarts": self.actor.restarts,
            "calls": self.actor.calls,
        }

    async def remote_stats(self) -> dict[str, Any]:
        """The engine's own ``stats()``, from inside its actor."""
        return dict((await self.actor.call(self.name, "stats")).value.get(self.name, {}))


class RemoteLLM(_Remote, LLMEngine):
    """An LLM engine in a Ray actor. Sessions are remembered with the incarnation that opened them
    (see the module docstring); ``count_tokens`` is a blocking actor call (only a scheduler with a
    token budget uses it)."""

    def __init__(self, actor: EngineActor, name: str, *, owner: bool) -> None:
        super().__init__(actor, name, owner=owner)
        self._sessions: dict[str, str] = {}  # session -> incarnation holding its KV state
        self.lost_sessions = 0

    @property
    def context_length(self) -> int:
        return int(self._fact("context_length"))

    @property
    def max_sessions(self) -> int | None:
        limit = self.actor.facts.get(self.name, {}).get("max_sessions")
        return None if limit is None else int(limit)

    def count_tokens(self, text: str) -> int:
        if self.actor.handle is None:
            raise EngineError("the engine is not started", engine=self.name)
        reply: Reply = ray.get(self.actor.handle.call.remote(self.name, "count_tokens", (text,)))
        if reply.error is not None:
            raise reply.error
        return int(reply.value)

    async def prefill(self, batch: Sequence[PrefillRequest]) -> list[PrefillResult]:
        sessions = [r.session for r in batch]
        reply = await self._session_call("prefill", list(batch), sessions)
        results = self._unpack(reply, sessions)
        for session, result in zip(sessions, results, strict=True):
            if not isinstance(result, EngineError):
                self._sessions[session] = reply.incarnation
        return results

    async def decode(self, batch: Sequence[DecodeRequest], max_steps: int) -> list[DecodeChunk]:
        sessions = [r.session for r in batch]
        return self._unpack(await self._session_call("decode", list(batch), sessions, max_steps), sessions)

    async def release(self, sessions: Sequence[str]) -> None:
        expect = [self._sessions.pop(s, None) for s in sessions]
        with contextlib.suppress(EngineDied):  # the sessions died with the actor
            await self.actor.call(self.name, "release", self.name, list(sessions), expect)

    async def score(self, batch: Sequence[ScoreRequest]) -> list[float]:
        return list(await self._call("score", list(batch)))

    async def _session_call(self, method: str, batch: list[Any], sessions: list[str], *extra: Any) -> Reply:
        expect = [self._sessions.get(s) for s in sessions]
        return await self.actor.call(self.name, method, self.name, batch, *extra, expect)

    def _unpack(self, reply: Reply, sessions: list[str]) -> list[Any]:
        out = list(reply.value)
        for i in reply.lost:
            self.lost_sessions += 1
            out[i] = EngineDied(
                f"session {sessions[i]!r} was lost with the Ray actor that held its KV state (the actor "
                "died and Ray restarted it); it is not continued: a retry of the node prefills it again",
                engine=self.name,
            )
        return out

    def stats(self) -> dict[str, Any]:
        return {**super().stats(), "sessions": len(self._sessions), "lost_sessions": self.lost_sessions}


class RemoteEmbedder(_Remote, EmbeddingEngine):
    @property
    def dim(self) -> int:
        return int(self._fact("dim"))

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return list(await self._call("embed", list(texts)))


class RemoteReranker(_Remote, RerankEngine):
    async def score(self, batch: Sequence[RerankRequest]) -> list[list[float]]:
        return list(await self._call("score", list(batch)))


class RemoteStore(_Remote, VectorStore):
    """A vector store in a Ray actor. ``insert_stream`` gathers the chunks here and inserts them with
    one call when the last has arrived: the same single transaction, without the overlap."""

    async def insert(self, collection: str, texts: Sequence[str], vectors: Sequence[Vector]) -> int:
        return int(await self._call("insert", collection, list(texts), [list(v) for v in vectors]))

    async def insert_stream(
        self, collection: str, chunks: AsyncIterator[tuple[Sequence[str], Sequence[Vector]]]
    ) -> int:
        texts: list[str] = []
        vectors: list[Vector] = []
        async for chunk_texts, chunk_vectors in chunks:
            texts.extend(chunk_texts)
            vectors.extend(chunk_vectors)
        return await self.insert(collection, texts, vectors)

    async def search(self, collection: str, vectors: Sequence[Vector], top_k: int) -> list[list[Hit]]:
        return list(await self._call("search", collection, [list(v) for v in vectors], top_k))

    async def count(self, collection: str) -> int:
        return int(await self._call("count", collection))

    async def drop(self, collection: str) -> None:
        await self._call("drop", collection)


_PROXIES: dict[str, Any] = {
    "llm": RemoteLLM,
    "embedding": RemoteEmbedder,
    "rerank": RemoteReranker,
    "vector_store": RemoteStore,
}
__all__ = [
    "DEFAULT_MAX_RESTARTS",
    "EngineActor",
    "RayCluster",
    "RemoteEmbedder",
    "RemoteLLM",
    "RemoteReranker",
    "RemoteStore",
    "instance_name",
]
