"""Mermaid, DOT and JSON forms of a graph. JSON round-trips: ``from_json(to_json(g))`` prints the same.

A value that JSON cannot hold (an object bound from a closure, say) is stored as an ``Opaque`` with
its ``repr``: the graph still prints and lints after the round-trip, but running the node that needs
the value raises a clear error.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from .code import PyCode, SourceLoc
from .graph import Graph, Node
from .params import Hit, SamplingParams, SearchParams
from .parsers import PARSERS, Parser
from .printer import format_attrs
from .template import Hole, Template

_EDGE_MERMAID = {"data": "-->", "stream": "==>|stream|", "order": "-.->|order|"}
_EDGE_DOT = {"data": "solid", "stream": "bold", "order": "dashed"}


@dataclasses.dataclass(frozen=True)
class Opaque:
    """A value that did not survive JSON; ``text`` is its ``repr``."""

    text: str

    def __repr__(self) -> str:
        return f"<opaque {self.text}>"


def _label(n: Node) -> str:
    attrs = [a for a in format_attrs(n) if not a.startswith("engine=")]
    detail = ", ".join(attrs[:2])
    tpl = n.attrs.get("template")
    if isinstance(tpl, Template) and tpl.prefix:
        pre = tpl.prefix if len(tpl.prefix) <= 24 else tpl.prefix[:23] + "…"
        detail = (repr(pre) + (", " + detail if detail else "")).strip(", ")
    loc = f" @{n.loc}" if n.loc else ""
    return f"{n.name}: {n.op}" + (f" ({detail})" if detail else "") + loc


def to_mermaid(graph: Graph) -> str:
    lines = ["flowchart TD"]
    lines.extend(_mermaid_body(graph, ""))
    return "\n".join(lines)


def _mermaid_id(prefix: str, n: Node) -> str:
    return f"{prefix}{n.name}"


def _mermaid_body(graph: Graph, prefix: str) -> list[str]:
    out: list[str] = []
    for n in graph.nodes:
        label = _label(n).replace('"', "'")
        nid = _mermaid_id(prefix, n)
        subs = graph.subgraphs(n)
        if subs:
            out.append(f'  subgraph {nid}_body["{label}"]')
            for i, sub in enumerate(subs):
                out.extend("  " + line for line in _mermaid_body(sub, f"{nid}_{i}_"))
            out.append("  end")
            out.append(f'  {nid}["{label}"]')
            out.append(f"  {nid} -.- {nid}_body")
        else:
            shape = ('(["', '"])') if n.op in ("input", "output") else ('["', '"]')
            out.append(f"  {nid}{shape[0]}{label}{shape[1]}")
    for src, dst, kind in graph.edges():
        out.append(f"  {_mermaid_id(prefix, src)} {_EDGE_MERMAID[kind]} {_mermaid_id(prefix, dst)}")
    return out


def to_dot(graph: Graph) -> str:
    lines = [f'digraph "{graph.name}" {{', "  rankdir=TB;", "  node [shape=box, fontname=monospace];"]
    lines.extend(_dot_body(graph, "", "  "))
    lines.append("}")
    return "\n".join(lines)


def _dot_body(graph: Graph, prefix: str, ind: str) -> list[str]:
    out: list[str] = []
    for n in graph.nodes:
        label = _label(n).replace('"', '\\"')
        out.append(f'{ind}"{prefix}{n.name}" [label="{label}"];')
        for i, sub in enumerate(graph.subgraphs(n)):
            sp = f"{prefix}{n.name}.{i}."
            out.append(f'{ind}subgraph "cluster_{sp}" {{')
            out.append(f'{ind}  label="{n.name} body";')
            out.extend(_dot_body(sub, sp, ind + "  "))
            out.append(f"{ind}}}")
    for src, dst, kind in graph.edges():
        out.append(f'{ind}"{prefix}{src.name}" -> "{prefix}{dst.name}" [style={_EDGE_DOT[kind]}];')
    return out


# --- JSON ---------------------------------------------------------------------------------------


def _enc(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, list):
        return [_enc(x) for x in v]
    if isinstance(v, tuple):
        return {"__t": "tuple", "items": [_enc(x) for x in v]}
    if isinstance(v, dict) and all(isinstance(k, str) for k in v):
        return {"__t": "dict", "items": {k: _enc(x) for k, x in v.items()}}
    if isinstance(v, Graph):
        return {"__t": "Graph", "graph": _graph_dict(v)}
    if isinstance(v, Template):
        parts = [p if isinstance(p, str) else dataclasses.asdict(p) for p in v.parts]
        return {"__t": "Template", "parts": parts}
    if isinstance(v, Parser):
        return {"__t": "Parser", "name": v.name}
    if isinstance(v, SamplingParams | SearchParams | Hit | SourceLoc):
        return {"__t": type(v).__name__, **{k: _enc(x) for k, x in dataclasses.asdict(v).items()}}
    if isinstance(v, PyCode):
        return {
            "__t": "PyCode",
            **{
                f: _enc(getattr(v, f))
                for f in ("source", "params", "returns", "module", "filename", "line", "is_async", "effect")
            },
            "bindings": {k: _enc(x) for k, x in v.bindings.items()},
        }
    if isinstance(v, Opaque):
        return {"__t": "Opaque", "text": v.text}
    return {"__t": "Opaque", "text": repr(v)}


_DATACLASSES: dict[str, Any] = {
    "SamplingParams": SamplingParams,
    "SearchParams": SearchParams,
    "Hit": Hit,
    "SourceLoc": SourceLoc,
}


def _dec(v: Any) -> Any:
    if isinstance(v, list):
        return [_dec(x) for x in v]
    if not isinstance(v, dict):
        return v
    t = v.get("__t")
    if t == "tuple":
        return tuple(_dec(x) for x in v["items"])
    if t == "dict":
        return {k: _dec(x) for k, x in v["items"].items()}
    if t == "Graph":
        return _graph_from_dict(v["graph"])
    if t == "Template":
        return Template(tuple(p if isinstance(p, str) else Hole(**p) for p in v["parts"]))
    if t == "Parser":
        return PARSERS[v["name"]]
    if t in _DATACLASSES:
        fields = {k: _dec(x) for k, x in v.items() if k != "__t"}
        return _DATACLASSES[t](**fields)
    if t == "PyCode":
        fields = {k: _dec(x) for k, x in v.items() if k not in ("__t", "bindings")}
        return PyCode(**fields, bindings={k: _dec(x) for k, x in v["bindings"].items()})
    if t == "Opaque":
        return Opaque(v["text"])
    raise ValueError(f"unknown JSON value tag {t!r}")


def _meta(meta: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, x in meta.items():
        try:
            json.dumps(x)
        except (TypeError, ValueError):
            continue
        out[k] = x
    return out


def _graph_dict(graph: Graph) -> dict[str, Any]:
    return {
        "name": graph.name,
        "statics": {k: _enc(x) for k, x in graph.statics.items()},
        "guards": dict(graph.guards),
        "nodes": [
            {
                "name": n.name,
                "op": n.op,
                "args": [a.name for a in n.args],
                "after": [a.name for a in n.after],
                "attrs": {k: _enc(x) for k, x in n.attrs.items()},
                "loc": [n.loc.file, n.loc.line] if n.loc else None,
                "meta": _meta(n.meta),
            }
            for n in graph.nodes
        ],
    }


def _graph_from_dict(d: dict[str, Any]) -> Graph:
    g = Graph(d["name"])
    g.statics = {k: _dec(x) for k, x in d["statics"].items()}
    g.guards = dict(d.get("guards", {}))
    by_name: dict[str, Node] = {}
    for nd in d["nodes"]:
        loc = SourceLoc(nd["loc"][0], nd["loc"][1]) if nd["loc"] else None
        attrs = {k: _dec(x) for k, x in nd["attrs"].items()}
        n = g.add(
            nd["op"],
            [by_name[a] for a in nd["args"]],
            attrs,
            loc=loc,
            name=nd["name"],
            after=[by_name[a] for a in nd["after"]],
        )
        n.meta = dict(nd["meta"])
        by_name[n.name] = n
    return g


def to_json(graph: Graph) -> str:
    return json.dumps({"format": "ayo-trace-graph/1", "graph": _graph_dict(graph)}, indent=1)


def from_json(text: str) -> Graph:
    data = json.loads(text)
    if data.get("format") != "ayo-trace-graph/1":
        raise ValueError("not an ayo-trace graph (missing format 'ayo-trace-graph/1')")
    return _graph_from_dict(data["graph"])
