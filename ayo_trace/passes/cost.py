"""Cost analysis: estimated seconds per node, earliest finish times and the critical path.

The model is deliberately simple and every figure is documented where it is declared:

* Each engine kind has an ``EngineProfile``: a fixed cost per request batch, a cost per item and per
  input token, and (LLMs) a cost per generated token that batching shares (``decode_speedup``).
  ``DEFAULT_PROFILES`` holds the CPU defaults of DESIGN.md; pass your own, keyed by engine name or
  by engine kind (``"llm"``, ``"embedding"``, ``"vector_store"``, ``"rerank"``).
* Sizes are estimated from producers (``Estimates``): an LLM writes ``max_tokens`` tokens (an upper
  bound: stop strings are unknown), a search returns ``top_k`` passages, a parsed LLM output holds one
  item per ``line_chars`` characters of its ``max_tokens``; a list the graph says nothing about has
  ``list_items`` items. Text is ``chars_per_token`` characters per token. Each primitive's size and
  engine cost are the hooks of its spec (``ir/builtin_primitives.py``; ``PrimitiveSpec.size`` and
  ``.cost``, which read this analysis through ``ir.spec.CostModel``); one without a cost hook
  costs one request of its engine kind's profile.
* Costs are those of an idle engine: concurrent nodes of one query are not queued behind each other
  (the estimate is optimistic for branches that share an engine), except the items of a ``map``
  running all at once, which are costed as one batch of that many items.
* A ``map`` costs its items times its body when items run one after another (``concurrency=1``),
  and its body once, batched over all items, when they run at once (``concurrency=None``). A map
  that streams its iterable starts each item when the producer closes it (items close evenly over the
  producer's run); its items then barely overlap, so each is costed unbatched.
* A chunked ``embed`` streamed into a ``db_insert`` is a two-stage pipeline over its chunks.
* ``python`` and ``break`` nodes cost nothing (their time is unknown and usually small). A ``python``
  value is as large as what it reads, and a list of lists it reads is assumed to be flattened
  (``[h for hits in per_query for h in hits]``).

``annotate`` writes ``node.meta["cost"]`` (seconds of the node's own work), ``["finish"]`` (earliest
finish from the start of its graph), ``["remaining"]`` (longest path from the node's start to its
graph's output, own cost included: the runtime's critical-path-first priority), ``["items"]`` (the
estimated list length of its value, 1 for a scalar) and ``["chars"]`` (its estimated size as text). Body nodes are annotated relative to the start
of one item, at the batch size their map runs them with.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from ..ir import Graph, Node, Size, Template, primitive_spec
from ..ir.blocks import BLOCK_OPS, bindings, named_bodies
from ..ir.ops import engine_kind


@dataclass(frozen=True)
class EngineProfile:
    """Latency of one engine as a function of batch size and tokens.

    ``latency(batch, tokens, new_tokens)`` = ``rounds * fixed_s + batch * per_item_s + tokens *
    per_token_s`` plus, for generation, ``new_tokens * decode_token_s * batch / speedup(batch)``, where
    ``rounds`` is how many batches of ``max_batch`` the request needs and ``speedup(b)`` is the
    engine's total decode throughput at ``b`` sequences relative to one sequence.

    ``prefill_block`` (LLMs): an engine that evaluates prompts in blocks of this many tokens at
    fixed positions recomputes, when a session's prompt comes in parts, the partial block before
    each seam (``seam_tokens``); 0: a later part costs only its own tokens.
    """

    kind: str
    fixed_s: float = 0.0
    per_item_s: float = 0.0
    per_token_s: float = 0.0
    decode_token_s: float = 0.0
    max_batch: int = 64
    decode_speedup: tuple[tuple[int, float], ...] = ((1, 1.0),)
    prefill_block: int = 0

    def seam_tokens(self, before: float) -> float:
        """Tokens recomputed at a seam after ``before`` prompt tokens (see ``prefill_block``)."""
        return before % self.prefill_block if self.prefill_block else 0.0

    def speedup(self, batch: int) -> float:
        """Total decode throughput at ``batch`` sequences over that of one (linear between points)."""
        pts = sorted(self.decode_speedup)
        if batch <= pts[0][0]:
            return pts[0][1]
        for (b0, s0), (b1, s1) in itertools.pairwise(pts):
            if batch <= b1:
                return s0 + (s1 - s0) * (batch - b0) / (b1 - b0)
        return pts[-1][1]

    def latency(self, batch: int = 1, tokens: float = 0.0, new_tokens: float = 0.0) -> float:
        """Seconds to serve ``batch`` items holding ``tokens`` input tokens in all, each generating
        ``new_tokens`` tokens, on an idle engine."""
        batch = max(1, batch)
        rounds = math.ceil(batch / self.max_batch)
        t = rounds * self.fixed_s + batch * self.per_item_s + tokens * self.per_token_s
        if new_tokens:
            per_round = min(batch, self.max_batch)
            t += rounds * new_tokens * self.decode_token_s * per_round / self.speedup(per_round)
        return t

    def per_item(self, batch: int, tokens_per_item: float = 0.0) -> float:
        return self.latency(batch, batch * tokens_per_item) / max(1, batch)

    def batch_knee(self, tokens_per_item: float = 0.0, tolerance: float = 0.1) -> int:
        """The batch size beyond which per-item time stops improving: the smallest batch whose
        per-item time (items of ``tokens_per_item`` tokens) is within ``tolerance`` of the best that
        any batch up to ``max_batch`` reaches."""
        per = [self.per_item(b, tokens_per_item) for b in range(1, self.max_batch + 1)]
        best = min(per)
        return next(b for b, t in enumerate(per, start=1) if t <= best * (1 + tolerance))


# The CPU defaults (DESIGN.md, 2 cores). LLM: llama.cpp serving Gemma 3 270M, ~900 prompt tokens/s,
# ~78 generated tokens/s for one sequence; the batched decode speedups are the measured low-level
# figures (1 sequence 102 tok/s, 2: 94, 4: 135, 8: 205 in total). Embedding: all-MiniLM-L6-v2 through
# sentence-transformers on the same 2 cores, measured for this profile: 24 ms for one 600-character
# passage, 18-19 ms per passage in batches of 4 to 64, 10.5 ms for a short query; fitted as 6 ms per
# call + 4 ms per text + 0.1 ms per token (so per-passage time stops improving at about 4). Vector store:
# embedded PostgreSQL + pgvector, one transaction per call plus a per-row cost (HNSW insert or one
# index probe); figures for a local socket, not measured here. Rerank: the default reranker scores a
# passage by the LLM's likelihood of the question given the passage, i.e. a prefill of passage and
# question per passage at the LLM's prompt rate. llama.cpp evaluates prompts in 64-token blocks at
# fixed positions (llama_cpp.PREFILL_BLOCK), so a prompt part after a seam recomputes the partial
# block: the default LLM profile says so (``prefill_block=64``). The runtime merges a part run ahead
# into the next when the engine is busy (engine_pool.EnginePool), but not a shared constant prefix,
# and not on an idle engine, so the seam is the pass's to weigh: a shared prefix shorter than a block
# is forked from its kept copy and then computed again in full after the seam (bench/heldout_like.py's
# query-expansion prompt, a 48-token head: one more request per query, no token saved, and the
# query's critical prefill chained behind work run ahead). Pass ``prefill_block=0`` for an engine
# that resumes a prompt at any token (transformers with a reused cache).
DEFAULT_PROFILES: Mapping[str, EngineProfile] = MappingProxyType(
    {
        "llm": EngineProfile(
            "llm",
            fixed_s=0.005,
            per_token_s=1 / 900,
            decode_token_s=1 / 78,
            max_batch=8,
            decode_speedup=((1, 1.0), (2, 94 / 102), (4, 135 / 102), (8, 205 / 102)),
            prefill_block=64,
        ),
        "embedding": EngineProfile(
            "embedding", fixed_s=0.006, per_item_s=0.004, per_token_s=0.0001, max_batch=64
        ),
        "vector_store": EngineProfile("vector_store", fixed_s=0.003, per_item_s=0.001, max_batch=1000),
        "rerank": EngineProfile("rerank", fixed_s=0.005, per_token_s=1 / 900, max_batch=8),
    }
)

Profiles = Mapping[str, EngineProfile]


@dataclass(frozen=True)
class Estimates:
    """Sizes the analysis assumes where the graph does not say. See the module docstring."""

    chars_per_token: float = 4.0
    text_chars: int = 200  # a string input (a question) or a python value of unknown size
    list_items: int = 8  # a list input (documents) or a list of unknown length
    passage_chars: int = 600  # one document, passage or hit
    line_chars: int = 60  # one item of a parsed LLM output (a search query of about ten words)


_Size = Size  # characters when rendered, list length (1 for a scalar), list length of each item


@dataclass
class _Times:
    start: dict[Node, float] = field(default_factory=dict)
    finish: dict[Node, float] = field(default_factory=dict)
    cost: dict[Node, float] = field(default_factory=dict)


def profile_for(node: Node, profiles: Profiles | None, *, embedding: bool = False) -> EngineProfile:
    """The profile of the engine ``node`` calls (``embedding``: the embedding engine of an
    ``ingest``/``search``): by engine name, else by kind, else the default of the kind (a kind
    with no default, a registered primitive's, costs nothing unless given a profile)."""
    kind = "embedding" if embedding else (engine_kind(node.op) or "")
    name = node.attrs.get("embed_engine" if embedding else "engine")
    profiles = profiles or {}
    if isinstance(name, str) and name in profiles:
        return profiles[name]
    return profiles.get(kind) or DEFAULT_PROFILES.get(kind) or EngineProfile(kind)


def _list_args(node: Node) -> tuple[int, ...]:
    """The indices of ``node``'s args it reads as lists of items: a map's iterable, and those its
    primitive's spec names (``PrimitiveSpec.list_args``)."""
    if node.op == "map":
        return (0,)
    spec = primitive_spec(node.op)
    return spec.list_args if spec is not None else ()


class _Analysis:
    """The analysis of one graph; it is the ``CostModel`` the primitives' cost hooks read
    (``ir.spec``)."""

    def __init__(self, profiles: Profiles | None, est: Estimates) -> None:
        self.profiles = profiles
        self.est = est
        self.sizes: dict[Node, _Size] = {}

    @property
    def estimates(self) -> Estimates:
        return self.est

    def size(self, node: Node) -> Size:
        """The estimated size of ``node``'s value (nodes before it are sized first)."""
        return self.sizes[node]

    def profile(self, node: Node, *, embedding: bool = False) -> EngineProfile:
        return profile_for(node, self.profiles, embedding=embedding)

    # --- sizes -----------------------------------------------------------------------------------

    def tokens(self, chars: float) -> float:
        return chars / self.est.chars_per_token

    def prompt_chars(self, template: Template, args: Sequence[Node]) -> float:
        return sum(len(p) if isinstance(p, str) else self.sizes[args[p.arg]].chars for p in template.parts)

    def _input_size(self, node: Node) -> _Size:
        as_list = any(
            i in _list_args(u) and u.args[i] is node for u in node.users for i in range(len(u.args))
        )
        if as_list:
            e = self.est
            return _Size(e.list_items * e.passage_chars, e.list_items)
        return _Size(self.est.text_chars)

    def _own_size(self, node: Node) -> _Size:
        e, op, a = self.est, node.op, node.attrs
        spec = primitive_spec(op)
        if spec is not None and spec.size is not None:
            return spec.size(self, node)
        if op == "const":
            v = a.get("value")
            if isinstance(v, list | tuple):
                return _Size(sum(len(str(x)) for x in v), len(v))
            return _Size(len(str(v)))
        if op == "getitem":
            src = self.sizes[node.args[0]]
            return _Size(src.chars / src.n)
        if op == "python" and node.args:
            # keeps the size of what it reads; a list of lists is assumed flattened
            arg_sizes = [self.sizes[x] for x in node.args]
            return _Size(sum(s.chars for s in arg_sizes), max(s.items * s.inner for s in arg_sizes))
        return _Size(e.text_chars)

    # --- costs -----------------------------------------------------------------------------------

    def engine_cost(self, node: Node, fanout: int) -> float:
        """Seconds of ``node``'s engine work, ``fanout`` copies of it batched together: its
        primitive's cost hook, else one request of its engine's profile (0 for other ops)."""
        spec = primitive_spec(node.op)
        if spec is None or spec.engine_kind is None:
            return 0.0
        if spec.cost is not None:
            return spec.cost(self, node, fanout)
        return self.profile(node).latency(fanout)

    # --- schedule --------------------------------------------------------------------------------

    def run(self, graph: Graph, inputs: list[_Size] | None, fanout: int) -> _Times:
        """Sizes and earliest times of every node of ``graph`` (bodies annotated too)."""
        times = _Times()
        graph_inputs = graph.inputs
        for n in graph.nodes:
            if n.op == "input":
                i = graph_inputs.index(n)
                self.sizes[n] = inputs[i] if inputs is not None else self._input_size(n)
            elif n.op in BLOCK_OPS:
                self.sizes[n] = _Size(0)  # set by _block
            elif n.op != "output":
                self.sizes[n] = self._own_size(n)
            preds = [*n.args, *n.after]
            ready = max((times.finish[p] for p in preds), default=0.0)
            if n.op in BLOCK_OPS:
                start, finish, cost = self._block(n, times, fanout)
            elif n.op == "db_insert" and 1 in n.attrs.get("stream_args", ()):
                start, finish, cost = self._streamed_insert(n, times, fanout)
            else:
                cost = self.engine_cost(n, fanout)
                if n.op == "embed" and n.attrs.get("stream") and n.attrs.get("chunk"):
                    chunk, src = n.attrs["chunk"], self.sizes[n.args[0]]
                    per = min(chunk, src.n) * fanout
                    prof = profile_for(n, self.profiles)
                    cost = math.ceil(src.n / chunk) * prof.latency(per, self.tokens(src.chars) / src.n * per)
                start, finish = ready, ready + cost
            if n.op == "output":
                self.sizes[n] = self.sizes[n.args[0]] if n.args else _Size(0)
            times.start[n], times.finish[n], times.cost[n] = start, finish, cost
        self._write_meta(graph, times)
        return times

    def _write_meta(self, graph: Graph, times: _Times) -> None:
        remaining: dict[Node, float] = {}
        for n in reversed(graph.nodes):
            after = max((remaining[u] for u in n.users if u in remaining), default=0.0)
            remaining[n] = times.cost[n] + after
            n.meta["cost"] = times.cost[n]
            n.meta["finish"] = times.finish[n]
            n.meta["remaining"] = remaining[n]
            n.meta["items"] = self.sizes[n].items
            n.meta["chars"] = self.sizes[n].chars

    def _ready(self, node: Node, times: _Times, skip: int | None = None) -> float:
        preds = [x for i, x in enumerate(node.args) if i != skip] + list(node.after)
        return max((times.finish[p] for p in preds), default=0.0)

    def _streamed_insert(self, node: Node, times: _Times, fanout: int) -> tuple[float, float, float]:
        src = node.args[1]
        items = self.sizes[node.args[0]].n
        chunk = min(int(node.attrs.get("chunk") or src.attrs.get("chunk") or items), items)
        n_chunks = math.ceil(items / chunk)
        prof = profile_for(node, self.profiles)
        per_chunk = prof.latency(chunk * fanout)
        first = times.start[src] + times.cost[src] / n_chunks
        start = max(self._ready(node, times, skip=1), first)
        finish = max(start + n_chunks * per_chunk, times.finish[src] + per_chunk)
        return start, finish, n_chunks * per_chunk

    def _block(self, node: Node, times: _Times, fanout: int) -> tuple[float, float, float]:
        if node.op in ("loop", "try"):
            return self._sequential_block(node, times, fanout)
        if node.op == "cond":
            captured = [self.sizes[x] for x in node.args[1:]]
            branches = [self.run(b, captured, fanout) for b in node.graph.subgraphs(node)]
            outs = [b.finish[g.output] for b, g in zip(branches, node.graph.subgraphs(node), strict=True)]
            sizes = [self.sizes[g.output] for g in node.graph.subgraphs(node)]
            self.sizes[node] = max(sizes, key=lambda s: s.chars)
            start = self._ready(node, times)
            return start, start + max(outs), max(outs)
        body = node.attrs["body"]
        src = node.args[0]
        it = self.sizes[src]
        n = it.n
        item = _Size(it.chars / n)
        captured = [self.sizes[x] for x in node.args[1:]]
        conc = node.attrs.get("concurrency")
        streamed = 0 in node.attrs.get("stream_args", ())
        # one item alone, then (unless streamed) the batched item the schedule needs
        single = self.run(body, [item, *captured], fanout).finish[body.output]
        out = self.sizes[body.output]
        self.sizes[node] = _Size(n * out.chars, n, out.items)
        if streamed:
            other = self._ready(node, times, skip=0)
            s0, s1 = times.start[src], times.finish[src]
            closes = [s0 + (s1 - s0) * (i + 1) / n for i in range(n)]
            start = max(other, closes[0])
            if conc is None:
                finish = max(other, closes[-1]) + single
            else:
                t = other
                for c in closes:
                    t = max(t, c) + single
                finish = t
            return start, finish, (single if conc is None else n * single)
        start = self._ready(node, times)
        width = n if conc is None else max(1, min(int(conc), n))
        body_t = (
            single if width == 1 else self.run(body, [item, *captured], fanout * width).finish[body.output]
        )
        cost = math.ceil(n / width) * body_t
        return start, start + cost, cost

    def _sequential_block(self, node: Node, times: _Times, fanout: int) -> tuple[float, float, float]:
        """A ``loop`` costs one body run per item (one run when it is a ``while``: how many it
        takes is not known); a ``try`` costs its body, else and finally (handlers run on failure
        only: their nodes are annotated, but they add nothing to the try's cost)."""
        cost = 0.0
        runs = 1
        if node.op == "loop" and node.attrs.get("item") is not None:
            runs = max(1, self.sizes[node.args[0]].n)
        for role, body in named_bodies(node):
            inputs = [
                self.sizes[node.args[i]] if i is not None else _Size(0) for i in bindings(node, role, body)
            ]
            if node.op == "loop" and node.attrs.get("item") is not None:
                item = self.sizes[node.args[0]]
                inputs[0] = _Size(item.chars / max(1, item.n))
            finish = self.run(body, inputs, fanout).finish[body.output]
            if not role.startswith("except"):  # (handlers are annotated, not counted)
                cost += finish
        self.sizes[node] = _Size(0)
        start = self._ready(node, times)
        return start, start + runs * cost, runs * cost


def annotate(graph: Graph, profiles: Profiles | None = None, *, estimates: Estimates | None = None) -> None:
    """Write ``meta["cost"]``, ``meta["finish"]`` and ``meta["remaining"]`` on every node."""
    _Analysis(profiles, estimates or Estimates()).run(graph, None, 1)


def critical_path(
    graph: Graph, profiles: Profiles | None = None, *, estimates: Estimates | None = None
) -> tuple[float, list[str]]:
    """The estimated time from query start to the output, and the names of the nodes on the longest
    path to it (outermost graph only; a map or cond stands for its bodies). Annotates ``graph``."""
    times = _Analysis(profiles, estimates or Estimates()).run(graph, None, 1)
    out = graph.output
    path = [out]
    node = out
    while True:
        preds = [*node.args, *node.after]
        if not preds:
            break
        node = max(preds, key=lambda p: (times.finish[p], -graph.nodes.index(p)))
        path.append(node)
    names = [n.name for n in reversed(path) if n.op not in ("input", "const", "output")]
    return times.finish[out], names
