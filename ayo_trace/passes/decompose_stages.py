"""Stage decomposition: let items flow on their own instead of waiting for a whole stage.

* A ``map`` whose items are independent (its body has no effect, no break, writes no collection and
  changes no value in place: ``effects.parallel_safe``) runs every item at once
  (``concurrency=None``). A map whose items do depend on each other keeps running them in order.
* An ``embed`` whose only user is a ``db_insert`` storing its vectors streams them (``stream=True``,
  ``chunk=N``) and the insert consumes them chunk by chunk in one transaction (``stream_args=(1,)``,
  ``chunk=N``). ``N`` is ``chunk`` if given, else the embedding profile's batch knee for passages of
  the estimated size (the batch beyond which per-item time stops improving, within ``tolerance``).
  The pair is chunked only when the cost model says the two-stage pipeline over the chunks finishes
  before embedding everything and then inserting everything (more calls cost more fixed overhead):
  a short list (a constant one is measured exactly) is left alone.
* Such a pair that is not chunked, an ``ingest`` as lowering made it (the insert stores the very
  passages the embed read), becomes that ``ingest`` again, marked ``whole`` (lowering leaves it
  so, and the pipeline stays idempotent). Run whole, an ingest embeds only the
  passages its collection does not hold yet (``EngineClient.ingest``), as the eager call does; the
  lowered pair would embed every passage on every run (``bench/heldout_like.py``'s ``ingest_ask``,
  a burst of 8 over collections that hold the documents: 72 texts embedded against eager's 8),
  and without chunks the split buys no overlap to pay for that.

Bodies are decomposed too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

from ..ir import Graph, Node
from .cost import Estimates, Profiles, annotate, profile_for
from .effects import parallel_safe
from .manager import PassResult


@dataclass(frozen=True)
class DecomposeStages:
    """Run independent map items at once; stream chunked embeddings into their insert."""

    chunk: int | None = None
    profiles: Profiles | None = None
    estimates: Estimates = field(default_factory=Estimates)
    tolerance: float = 0.05

    name: ClassVar[str] = "decompose_stages"

    def chunk_for(self, embed: Node) -> int:
        if self.chunk is not None:
            return self.chunk
        est = self.estimates
        tokens = est.passage_chars / est.chars_per_token
        return profile_for(embed, self.profiles).batch_knee(tokens, self.tolerance)

    def pays(self, embed: Node, insert: Node, chunk: int) -> bool:
        """True when streaming ``embed`` into ``insert`` in chunks is estimated to finish earlier."""
        src = embed.args[0]
        items = max(1, round(src.meta.get("items", 1)))
        if items <= chunk:
            return False
        tokens = src.meta.get("chars", 0.0) / self.estimates.chars_per_token / items
        emb, store = profile_for(embed, self.profiles), profile_for(insert, self.profiles)
        whole = emb.latency(items, tokens * items) + store.latency(items)
        n_chunks = math.ceil(items / chunk)
        e, i = emb.latency(chunk, tokens * chunk), store.latency(chunk)
        return max(n_chunks * e + i, e + n_chunks * i) < whole

    def _streams_into(self, embed: Node) -> Node | None:
        users = list(embed.users)
        if embed.op != "embed" or len(users) != 1:
            return None
        ins = users[0]
        if ins.op != "db_insert" or len(ins.args) != 2 or ins.args[1] is not embed or embed in ins.after:
            return None
        return ins

    def _fuse(self, graph: Graph, embed: Node, insert: Node) -> bool:
        """Turn ``embed`` and the ``insert`` storing its vectors back into one ``ingest`` (in place
        of the insert: its name, location and users), when the insert stores ``embed``'s texts."""
        if insert.args[0] is not embed.args[0]:
            return False
        after = list(dict.fromkeys([*embed.after, *insert.after]))
        insert.op = "ingest"
        insert.attrs = {
            "collection": insert.attrs["collection"],
            "engine": insert.attrs.get("engine"),
            "embed_engine": embed.attrs.get("engine"),
            "whole": True,
        }
        graph.set_args(insert, (embed.args[0],))
        graph.set_after(insert, after)
        graph.set_after(embed, ())
        graph.erase(embed)
        return True

    def rewrite(self, graph: Graph) -> bool:
        changed = False
        for n in list(graph.nodes):
            for body in graph.subgraphs(n):
                changed |= self.rewrite(body)
            if n.op == "map" and n.attrs.get("concurrency") is not None and parallel_safe(n):
                n.attrs["concurrency"] = None
                changed = True
            ins = self._streams_into(n)
            if ins is None or n.attrs.get("stream"):
                continue
            chunk = self.chunk_for(n)
            if not self.pays(n, ins, chunk):
                changed |= self._fuse(graph, n, ins)
                continue
            n.attrs["stream"] = True
            n.attrs["chunk"] = chunk
            ins.attrs["stream_args"] = tuple(sorted({*ins.attrs.get("stream_args", ()), 1}))
            ins.attrs["chunk"] = chunk
            changed = True
        return changed

    def __call__(self, graph: Graph) -> PassResult:
        annotate(graph, self.profiles, estimates=self.estimates)
        return PassResult(graph, self.rewrite(graph))
