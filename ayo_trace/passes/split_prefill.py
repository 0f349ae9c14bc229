"""Prefill splitting: prefill each part of a prompt as soon as that part can be known.

An ``llm_prefill`` (one part, not yet split) is cut, in text order, into:

* a constant prefix, when the template starts with text and has holes: a part with no args that runs
  at query start, marked ``shared=True`` so engines may share it across queries. The text is
  constant across queries: it ends at the first hole, and static parameters are already folded into
  the template's text. Engines key the shared KV state by the prefix's token ids under their own
  model (the mark carries no key), so prompts of different workflows that start with the same text
  share one copy;
* then a new part at every hole that becomes ready later (by the cost analysis, by more than
  ``min_gap_s``) than every hole before it. Text between holes goes with the part before it, so
  everything known early is prefilled early.

A part whose prefill is estimated to take less than ``min_part_s`` (default: the LLM profile's fixed
cost of one request) is merged into the part after it: a few tokens are not worth a request. So is a
part whose seam costs more than the split saves: the split saves at most the part's prefill time
(all of it for a constant prefix, computed once for every query that shares it), and for other
parts no more than the time the LLM would otherwise idle between that part and the next becoming
ready (the work moved off the critical path). That window is counted on the query's own schedule:
the query's other LLM calls (another prompt's prefill or decode, a map or branch that calls the same
engine) busy in it leave the part no room, since an engine runs one call at a time (an estimate that
ignored them split ``bench/heldout_like.py``'s ``branches`` answer after its retrieved context, to
be prefilled "while" the same query's classification decoded: two more requests, two seams, and
the part ran after the classification all the same). A split costs one more request
(``min_part_s``) and the tokens the engine recomputes at the seam
(``EngineProfile.seam_tokens``: with ``prefill_block=64``, llama.cpp's figure and the default
profile's, a constant prefix shorter than a block saves nothing and only adds a request).

Parts share the prefill's ``session``, are numbered ``part``/``parts``, every part but the last is
marked ``ahead`` (it runs before the session's later inputs are ready: engine schedulers batch it
apart from prefills a query waits for, and may keep it aside on a busy engine), and parts after the
first are ``chained`` (``args[0]`` is the previous part; their template's hole indices count ``args``). The
first part that reads the query's values takes over the prefill's order edges; the ``llm_decode``
reads the last part. A prompt with no constant prefix whose holes are all ready together is not
split; neither is a prompt without holes. Concatenating the parts' text gives the unsplit prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..ir import Graph, Hole, Node, Template
from ..ir.ops import engine_kind
from .cost import Estimates, Profiles, annotate, profile_for
from .manager import PassResult


@dataclass(frozen=True)
class SplitPrefill:
    """Split prompts into a shared constant prefix and parts that become ready at different times."""

    profiles: Profiles | None = None
    min_gap_s: float = 0.005
    min_part_s: float | None = None

    name: ClassVar[str] = "split_prefill"

    def segments(self, node: Node, graph: Graph | None = None) -> list[list[str | Hole]]:
        """The template's parts, grouped into the prefill parts they belong to (``graph``: the graph
        ``node`` is in, whose other LLM work the split must fit around; None: none)."""
        tpl: Template = node.attrs["template"]
        parts = list(tpl.parts)
        if not tpl.holes:
            return [parts]
        segs: list[list[str | Hole]] = []
        if lead := tpl.leading_text:  # plain text and chat-template markup alike
            segs.append(list(lead))
            parts = parts[len(lead) :]
        cur: list[str | Hole] = []
        ready = float("-inf")
        for p in parts:
            if isinstance(p, Hole):
                t = float(node.args[p.arg].meta.get("finish", 0.0))
                if cur and t > ready + self.min_gap_s:
                    segs.append(cur)
                    cur = []
                ready = max(ready, t)
            cur.append(p)
        segs.append(cur)
        return self._merge_unprofitable(graph, node, self._merge_small(node, segs))

    def _merge_small(self, node: Node, segs: list[list[str | Hole]]) -> list[list[str | Hole]]:
        """Merge every part but the last whose prefill would take less than one request costs."""
        prof = profile_for(node, self.profiles)
        floor = prof.fixed_s if self.min_part_s is None else self.min_part_s
        est = Estimates()
        out: list[list[str | Hole]] = []
        carry: list[str | Hole] = []
        for i, seg in enumerate(segs):
            seg = carry + seg
            chars = sum(
                len(p) if isinstance(p, str) else node.args[p.arg].meta.get("chars", 0.0) for p in seg
            )
            if i < len(segs) - 1 and chars / est.chars_per_token * prof.per_token_s < floor:
                carry = seg
                continue
            out.append(seg)
            carry = []
        return out

    @staticmethod
    def _busy(graph: Graph, node: Node) -> list[tuple[float, float]]:
        """When the query's other work occupies ``node``'s LLM engine, by the cost analysis: the
        LLM nodes of ``graph`` on the same engine, and the blocks whose bodies call it."""
        engine = node.attrs.get("engine")

        def calls(n: Node) -> bool:
            return engine_kind(n.op) == "llm" and n.attrs.get("engine") == engine

        spans = []
        for n in graph.nodes:
            if n is node or not (calls(n) or any(calls(b) for g in graph.subgraphs(n) for b in g.walk())):
                continue
            end = float(n.meta.get("finish", 0.0))
            spans.append((end - float(n.meta.get("cost", 0.0)), end))
        return spans

    def _merge_unprofitable(
        self, graph: Graph | None, node: Node, segs: list[list[str | Hole]]
    ) -> list[list[str | Hole]]:
        """Merge every part whose seam with the next part costs more than splitting there saves."""
        prof = profile_for(node, self.profiles)
        request = prof.fixed_s if self.min_part_s is None else self.min_part_s
        est = Estimates()

        def tokens(seg: list[str | Hole]) -> float:
            chars = sum(
                len(p) if isinstance(p, str) else node.args[p.arg].meta.get("chars", 0.0) for p in seg
            )
            return chars / est.chars_per_token

        def ready(seg: list[str | Hole]) -> float:
            return max(
                (float(node.args[p.arg].meta.get("finish", 0.0)) for p in seg if isinstance(p, Hole)),
                default=0.0,
            )

        busy = self._busy(graph, node) if graph is not None else []
        segs = list(segs)
        i, before = 0, 0.0
        while i < len(segs) - 1:
            n = tokens(segs[i])
            saves = n * prof.per_token_s
            if i > 0 or any(isinstance(p, Hole) for p in segs[i]):  # a constant prefix is shared
                saves = min(saves, _idle(ready(segs[i]), ready(segs[i + 1]), busy))
            costs = request + prof.seam_tokens(before + n) * prof.per_token_s
            if saves <= costs:
                segs[i : i + 2] = [segs[i] + segs[i + 1]]
                continue
            before += n
            i += 1
        return segs

    def _split(self, graph: Graph, node: Node, segs: list[list[str | Hole]]) -> None:
        a = node.attrs
        prev: Node | None = None
        after = node.after
        for k, seg in enumerate(segs, start=1):
            offset = 0 if prev is None else 1
            args: list[Node] = []
            for p in seg:
                if isinstance(p, Hole) and node.args[p.arg] not in args:
                    args.append(node.args[p.arg])
            mapping = {p.arg: args.index(node.args[p.arg]) + offset for p in seg if isinstance(p, Hole)}
            attrs = {
                "session": a["session"],
                "template": Template(tuple(seg)).remap(mapping),
                "part": k,
                "parts": len(segs),
                "chained": prev is not None,
                "ahead": k < len(segs),
            }
            shared = not args and k == 1
            if shared:
                attrs["shared"] = True
            attrs["engine"] = a.get("engine")
            prev = graph.add(
                "llm_prefill",
                ([prev] if prev is not None else []) + args,
                attrs,
                loc=node.loc,
                name=f"{node.name}_p{k}",
                after=() if shared else after,
                before=node,
            )
            if not shared:
                after = ()
        assert prev is not None
        graph.replace_all_uses(node, prev)
        graph.set_after(node, ())
        graph.erase(node)

    def rewrite(self, graph: Graph) -> bool:
        changed = False
        for n in list(graph.nodes):
            for body in graph.subgraphs(n):
                changed |= self.rewrite(body)
            if n.op != "llm_prefill" or n.attrs.get("parts", 1) != 1 or n.attrs.get("chained"):
                continue
            segs = self.segments(n, graph)
            if len(segs) > 1:
                self._split(graph, n, segs)
                changed = True
        return changed

    def __call__(self, graph: Graph) -> PassResult:
        annotate(graph, self.profiles)
        return PassResult(graph, self.rewrite(graph))


def _idle(start: float, end: float, busy: list[tuple[float, float]]) -> float:
    """The part of ``[start, end]`` that none of the ``busy`` spans covers."""
    covered, reach = 0.0, start
    for a, b in sorted(busy):
        a, b = max(a, reach), min(b, end)
        if b > a:
            covered += b - a
            reach = b
    return max(end - start - covered, 0.0)
