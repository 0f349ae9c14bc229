"""The specs of the built-in primitives (``spec.PrimitiveSpec``): the traced ``llm``, ``embed``,
``ingest``, ``search`` and ``rerank``, and the lowered ``llm_prefill``, ``llm_decode``,
``db_insert`` and ``db_search`` that lowering makes of them.

Lowering (``lower`` hooks; bodies of blocks are lowered by the pass):

* ``llm`` → ``llm_prefill`` (named ``<llm>_prefill``, a one-part session keyed by the llm's name)
  + ``llm_decode`` (keeps the llm's name and users);
* ``ingest`` → ``embed`` (``<ingest>_embed``) + ``db_insert`` (keeps the name and users);
* ``search`` → ``embed`` (``<search>_embed``) + ``db_search`` (keeps the name and users).

The first new node takes over the original's program-order edges, so a lowered graph still runs in
program order.

Cost (``size`` and ``cost`` hooks, see ``passes/cost.py`` for the model): an LLM writes
``max_tokens`` tokens (an upper bound: stop strings are unknown) and a parsed output holds one item
per ``line_chars`` characters of them; a search returns ``top_k`` passages; an embedding request
costs its texts' tokens on the embedding profile; ``ingest``/``search`` cost their embedding and
their store request; a rerank scores each passage with the query.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import InvalidParams
from .params import SamplingParams, SearchParams, check_collection, check_top_k
from .spec import REQUIRED, CostModel, Graph, Node, Param, PrimitiveSpec, Size, install

# ``ayo.llm``'s sampling keywords: the fields of ``SamplingParams`` (``json_schema`` is set from
# ``parse=``), so the frontend, the eager function and ``DAG.llm`` never spell them out.
SAMPLING_KEYWORDS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(SamplingParams) if f.name != "json_schema"
)
_SAMPLING_DEFAULTS = SamplingParams()


def sampling_params(**values: Any) -> SamplingParams:
    """The ``SamplingParams`` of an ``llm`` call's sampling keywords (``stop=None`` is no stop);
    ``InvalidParams`` names a bad value, ``TypeError`` an unknown keyword."""
    unknown = set(values) - set(SAMPLING_KEYWORDS)
    if unknown:
        raise TypeError(f"unknown sampling parameter(s): {', '.join(sorted(unknown))}")
    if values.get("stop", ()) is None:
        values["stop"] = ()
    return SamplingParams(**values)


def _engine(name: str = "engine") -> Param:
    return Param(name, "static", None)


def _collection_param() -> Param:
    return Param("collection", "static", REQUIRED)


def _ingest_attrs(st: dict[str, Any]) -> dict[str, Any]:
    check_collection(st["collection"])
    return {
        "collection": st["collection"],
        "engine": st.get("engine"),
        "embed_engine": st.get("embed_engine"),
    }


def _search_attrs(st: dict[str, Any]) -> dict[str, Any]:
    check_collection(st["collection"])
    top_k = st.get("top_k", 4)  # when known only at run time, 4 is the cost model's estimate
    if isinstance(top_k, bool) or not isinstance(top_k, int):
        raise InvalidParams(f"top_k must be an int, got {top_k!r}", param="top_k")
    params = SearchParams(collection=st["collection"], top_k=top_k)
    return {"params": params, "engine": st.get("engine"), "embed_engine": st.get("embed_engine")}


def _rerank_attrs(st: dict[str, Any]) -> dict[str, Any]:
    top_k = st.get("top_k")  # None: known only at run time (the node's top_k_arg holds it)
    if "top_k" in st:
        check_top_k(top_k)
    return {"top_k": top_k, "engine": st.get("engine")}


# --- lowering ------------------------------------------------------------------------------------


def _become(graph: Graph, node: Node, op: str, args: tuple[Node, ...], attrs: dict[str, Any]) -> None:
    """Turn ``node`` into ``op`` in place: it keeps its name, location and users."""
    node.op = op
    node.attrs = attrs
    graph.set_args(node, args)
    graph.set_after(node, ())


def _lower_llm(graph: Graph, n: Node) -> None:
    a = n.attrs
    prefill_attrs = {
        "session": n.name,
        "template": a["template"],
        "part": 1,
        "parts": 1,
        "chained": False,
        "engine": a.get("engine"),
    }
    prefill = graph.add(
        "llm_prefill", n.args, prefill_attrs, loc=n.loc, name=f"{n.name}_prefill", after=n.after, before=n
    )
    attrs = {"sampling": a["sampling"], "parse": a.get("parse"), "engine": a.get("engine"), "stream": False}
    _become(graph, n, "llm_decode", (prefill,), attrs)


def _embed_first(graph: Graph, n: Node, given: str) -> Node:
    """The ``embed`` node a ``search``'s query or an ``ingest``'s passages are lowered to (``given``:
    which, checked at run time as the primitive checks it)."""
    return graph.add(
        "embed",
        (n.args[0],),
        {"engine": n.attrs.get("embed_engine"), "given": given},
        loc=n.loc,
        name=f"{n.name}_embed",
        after=n.after,
        before=n,
    )


def _lower_ingest(graph: Graph, n: Node) -> None:
    embed = _embed_first(graph, n, "passages")
    attrs = {"collection": n.attrs["collection"], "engine": n.attrs.get("engine")}
    _become(graph, n, "db_insert", (n.args[0], embed), attrs)


def _lower_search(graph: Graph, n: Node) -> None:
    embed = _embed_first(graph, n, "query")
    attrs = {"params": n.attrs["params"], "engine": n.attrs.get("engine")}
    if "top_k_arg" in n.attrs:  # a top_k known only at run time stays an arg, after the vector
        attrs["top_k_arg"] = 1
    _become(graph, n, "db_search", (embed, *n.args[1:]), attrs)


# --- sizes and costs -----------------------------------------------------------------------------


def _generated(model: CostModel, node: Node) -> Size:
    chars = node.attrs["sampling"].max_tokens * model.estimates.chars_per_token
    if node.attrs.get("parse") is not None:
        return Size(chars, max(1.0, chars / model.estimates.line_chars))
    return Size(chars)


def _hits(model: CostModel, node: Node) -> Size:
    k = node.attrs["params"].top_k
    return Size(k * model.estimates.passage_chars, k)


def _reranked(model: CostModel, node: Node) -> Size:
    given = model.size(node.args[1]).items if len(node.args) > 1 else 1
    k = node.attrs.get("top_k") or given
    return Size(min(k, given) * model.estimates.passage_chars, min(k, given))


def _vectors(model: CostModel, node: Node) -> Size:
    return Size(0, model.size(node.args[0]).items)


def _count(model: CostModel, node: Node) -> Size:
    return Size(4)  # a row count, a session handle


def _prefill_cost(model: CostModel, node: Node, fanout: int) -> float:
    toks = model.tokens(model.prompt_chars(node.attrs["template"], node.args))
    return model.profile(node).latency(fanout, toks * fanout)


def _llm_cost(model: CostModel, node: Node, fanout: int) -> float:
    return (
        _prefill_cost(model, node, fanout)
        + _decode_cost(model, node, fanout)
        - model.profile(node).latency(fanout)
    )


def _decode_cost(model: CostModel, node: Node, fanout: int) -> float:
    return model.profile(node).latency(fanout, 0, node.attrs["sampling"].max_tokens)


def _embed_cost(model: CostModel, node: Node, fanout: int) -> float:
    src = model.size(node.args[0])
    return model.profile(node).latency(src.n * fanout, model.tokens(src.chars) * fanout)


def _ingest_cost(model: CostModel, node: Node, fanout: int) -> float:
    src = model.size(node.args[0])
    emb = model.profile(node, embedding=True).latency(src.n * fanout, model.tokens(src.chars) * fanout)
    return emb + model.profile(node).latency(src.n * fanout)


def _search_cost(model: CostModel, node: Node, fanout: int) -> float:
    src = model.size(node.args[0])
    emb = model.profile(node, embedding=True).latency(fanout, model.tokens(src.chars) * fanout)
    return emb + model.profile(node).latency(fanout)


def _insert_cost(model: CostModel, node: Node, fanout: int) -> float:
    return model.profile(node).latency(model.size(node.args[0]).n * fanout)


def _db_search_cost(model: CostModel, node: Node, fanout: int) -> float:
    return model.profile(node).latency(fanout)


def _rerank_cost(model: CostModel, node: Node, fanout: int) -> float:
    hits = model.size(node.args[1]).n if len(node.args) > 1 else 1
    query = model.size(node.args[0]).chars
    toks = model.tokens(hits * (model.estimates.passage_chars + query))
    return model.profile(node).latency(hits * fanout, toks * fanout)


def _parsed(node: Node) -> bool:
    return node.attrs.get("parse") is not None  # text is a str; parsed items form a list


def _never(node: Node) -> bool:
    return False


LLM = PrimitiveSpec(
    "llm",
    params=(
        Param("prompt", "data", None),
        Param("messages", "static", None),
        *(Param(k, "static", getattr(_SAMPLING_DEFAULTS, k)) for k in SAMPLING_KEYWORDS),
        Param("parse", "static", None),
        _engine(),
        Param("stream", "static", False),
    ),
    engine_kind="llm",
    lowers_to=("llm_prefill", "llm_decode"),
    lower=_lower_llm,
    changeable=_parsed,
    size=_generated,
    cost=_llm_cost,
    handler="op_llm",
)
EMBED = PrimitiveSpec(
    "embed",
    params=(Param("texts", "data"), _engine()),
    engine_kind="embedding",
    size=_vectors,
    cost=_embed_cost,
    handler="op_embed",
    hidden_attrs=frozenset({"given"}),  # (what a lowered search or ingest embeds: run-time checks)
)
INGEST = PrimitiveSpec(
    "ingest",
    params=(Param("passages", "data"), _collection_param(), _engine(), _engine("embed_engine")),
    engine_kind="vector_store",
    lowers_to=("embed", "db_insert"),
    lower=_lower_ingest,
    attrs=_ingest_attrs,
    list_args=(0,),
    collection="writes",
    order_free=False,
    pure=False,
    changeable=_never,
    size=_count,
    cost=_ingest_cost,
    handler="op_ingest",
)
SEARCH = PrimitiveSpec(
    "search",
    params=(
        Param("query", "data"),
        _collection_param(),
        Param("top_k", "dynamic", 4),
        _engine(),
        _engine("embed_engine"),
    ),
    engine_kind="vector_store",
    lowers_to=("embed", "db_search"),
    lower=_lower_search,
    attrs=_search_attrs,
    collection="reads",
    order_free=False,
    size=_hits,
    cost=_search_cost,
    handler="op_search",
)
RERANK = PrimitiveSpec(
    "rerank",
    params=(Param("query", "data"), Param("passages", "data"), Param("top_k", "dynamic", 3), _engine()),
    engine_kind="rerank",
    attrs=_rerank_attrs,
    list_args=(1,),
    size=_reranked,
    cost=_rerank_cost,
    handler="op_rerank",
)
LLM_PREFILL = PrimitiveSpec(
    "llm_prefill",
    traced=False,
    engine_kind="llm",
    idempotent=False,  # engine state: a retry reopens the session (reopens_session)
    changeable=_never,
    size=_count,
    cost=_prefill_cost,
    hidden_attrs=frozenset({"ahead"}),  # implied by part/parts
    handler="op_llm_prefill",
    reopens_session=True,
)
LLM_DECODE = PrimitiveSpec(
    "llm_decode",
    traced=False,
    engine_kind="llm",
    idempotent=False,  # as for llm_prefill
    changeable=_parsed,
    size=_generated,
    cost=_decode_cost,
    handler="op_llm_decode",
    reopens_session=True,
)
DB_INSERT = PrimitiveSpec(
    "db_insert",
    traced=False,
    engine_kind="vector_store",
    collection="writes",
    order_free=False,
    pure=False,
    changeable=_never,
    size=_count,
    cost=_insert_cost,
    list_args=(0,),
    handler="op_db_insert",
    stream_in=(1,),  # the vectors, as embed streams them (stage decomposition)
)
DB_SEARCH = PrimitiveSpec(
    "db_search",
    traced=False,
    engine_kind="vector_store",
    collection="reads",
    order_free=False,
    size=_hits,
    cost=_db_search_cost,
    handler="op_db_search",
)

BUILTIN_PRIMITIVES: tuple[PrimitiveSpec, ...] = (
    LLM,
    EMBED,
    INGEST,
    SEARCH,
    RERANK,
    LLM_PREFILL,
    LLM_DECODE,
    DB_INSERT,
    DB_SEARCH,
)
install(BUILTIN_PRIMITIVES)

__all__ = ["BUILTIN_PRIMITIVES", "SAMPLING_KEYWORDS", "sampling_params"]
