"""Mermaid, DOT and JSON forms of a graph. JSON round-trips: ``from_json(to_json(g))`` prints the same.

A value that JSON cannot hold (an object bound from a closure, say) is stored as an ``Opaque`` with
its ``repr``: the graph still prints and lints after the round-trip, but running the node that needs
the value raises a clear error.

A graph file is code: a ``python`` or ``break`` node carries the user's statement as source text and
the module whose globals it runs in, and running the graph executes that text and imports that
module. So ``from_json`` refuses any code (``PyCode``) unless the caller says the file is trusted
(``trusted=True``: only for files you wrote or got from someone you would let run code on this
machine). Whatever the file holds, a malformed one raises ``GraphError`` (never a bare
``KeyError``/``ValueError``), and sizes are bounded: the text (``MAX_JSON_CHARS``), the nesting of
subgraphs (``MAX_DEPTH``) and source line numbers (``MAX_LINE``).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from typing import Any, TypeVar, cast

from ..errors import GraphError
from .code import UNBOUND, PyCode, SourceLoc
from .params import Hit, SamplingParams, SearchParams
from .parsers import PARSERS, Parser
from .printer import format_attrs
from .prompt import Markup
from .structure import BaseGraph, Node
from .template import Hole, Template

MAX_JSON_CHARS = 64 * 1024 * 1024
MAX_DEPTH = 64  # subgraphs (map bodies, branches) nested in each other
MAX_LINE = 10_000_000
FORMAT = "ayo-trace-graph/1"

G = TypeVar("G", bound=BaseGraph)

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


def to_mermaid(graph: BaseGraph) -> str:
    lines = ["flowchart TD"]
    lines.extend(_mermaid_body(graph, ""))
    return "\n".join(lines)


def _mermaid_id(prefix: str, n: Node) -> str:
    return f"{prefix}{n.name}"


def _mermaid_body(graph: BaseGraph, prefix: str) -> list[str]:
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


def to_dot(graph: BaseGraph) -> str:
    lines = [f'digraph "{graph.name}" {{', "  rankdir=TB;", "  node [shape=box, fontname=monospace];"]
    lines.extend(_dot_body(graph, "", "  "))
    lines.append("}")
    return "\n".join(lines)


def _dot_body(graph: BaseGraph, prefix: str, ind: str) -> list[str]:
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
    if isinstance(v, BaseGraph):
        return {"__t": "Graph", "graph": _graph_dict(v)}
    if isinstance(v, Template):
        parts = [
            {"markup": str(p)}
            if isinstance(p, Markup)
            else p
            if isinstance(p, str)
            else dataclasses.asdict(p)
            for p in v.parts
        ]
        return {"__t": "Template", "parts": parts}
    if isinstance(v, Parser) and PARSERS.get(v.name) == v:
        return {"__t": "Parser", "name": v.name}
    if isinstance(v, SamplingParams | SearchParams | Hit | SourceLoc):
        return {"__t": type(v).__name__, **{k: _enc(x) for k, x in dataclasses.asdict(v).items()}}
    if isinstance(v, PyCode):
        return {
            "__t": "PyCode",
            **{
                f: _enc(getattr(v, f))
                for f in (
                    "source",
                    "params",
                    "returns",
                    "module",
                    "filename",
                    "line",
                    "is_async",
                    "effect",
                    "unbound",
                    "changes",
                    "scope",
                )
            },
            "bindings": {k: _enc(x) for k, x in v.bindings.items()},
        }
    if isinstance(v, range):
        return {"__t": "range", "items": [v.start, v.stop, v.step]}
    if isinstance(v, type) and v.__module__.split(".")[0] == "ayo_trace":
        return {"__t": "class", "module": v.__module__, "name": v.__qualname__}  # e.g. a task's result
    if v is UNBOUND:
        return {"__t": "Unbound"}
    if isinstance(v, Opaque):
        return {"__t": "Opaque", "text": v.text}
    return {"__t": "Opaque", "text": repr(v)}


_DATACLASSES: dict[str, Any] = {
    "SamplingParams": SamplingParams,
    "SearchParams": SearchParams,
    "Hit": Hit,
    "SourceLoc": SourceLoc,
}


class _Decoder:
    """Decodes JSON values into IR values, graphs as ``graph_type``; refuses code unless ``trusted``."""

    def __init__(self, trusted: bool, graph_type: type[BaseGraph] = BaseGraph) -> None:
        self.graph_type = graph_type
        self.trusted = trusted
        self.depth = 0

    def __call__(self, v: Any) -> Any:
        if isinstance(v, list):
            return [self(x) for x in v]
        if not isinstance(v, dict):
            return v
        t = v.get("__t")
        if t == "tuple":
            return tuple(self(x) for x in v["items"])
        if t == "dict":
            return {_str(k, "dict key"): self(x) for k, x in v["items"].items()}
        if t == "Graph":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise GraphError(f"subgraphs nested deeper than {MAX_DEPTH}")
            try:
                return self.graph(v["graph"])
            finally:
                self.depth -= 1
        if t == "Template":
            return Template(
                tuple(
                    p if isinstance(p, str) else Markup(p["markup"]) if "markup" in p else Hole(**p)
                    for p in v["parts"]
                )
            )
        if t == "Parser":
            return PARSERS[v["name"]]
        if t in _DATACLASSES:
            fields = {k: self(x) for k, x in v.items() if k != "__t"}
            if t == "SourceLoc":
                _line(fields.get("line"))
            return _DATACLASSES[t](**fields)
        if t == "PyCode":
            return self.code(v)
        if t == "range":
            items = v["items"]
            if not (isinstance(items, list) and len(items) == 3 and all(type(x) is int for x in items)):
                raise GraphError(f"a range must be three integers, got {items!r}")
            return range(*items)
        if t == "class":
            return _ayo_class(_str(v["module"], "class module"), _str(v["name"], "class name"))
        if t == "Unbound":
            return UNBOUND
        if t == "Opaque":
            return Opaque(_str(v["text"], "opaque text"))
        raise GraphError(f"unknown JSON value tag {t!r}")

    def code(self, v: dict[str, Any]) -> PyCode:
        fields = {k: self(x) for k, x in v.items() if k not in ("__t", "bindings")}
        if not self.trusted:
            raise GraphError(
                f"the graph file holds code (a statement of module {fields.get('module')!r} at line "
                f"{fields.get('line')!r}): a graph file is code, and running it would execute that "
                "text; load it with trusted=True only if you would run this file as a program"
            )
        _line(fields.get("line"))
        fields["scope"] = fields.get("scope", "")
        for name in ("source", "module", "filename", "scope"):
            _str(fields.get(name), f"code {name}")
        fields["params"] = tuple(fields.get("params", ()))
        fields["returns"] = tuple(fields.get("returns", ()))
        fields["unbound"] = tuple(fields.get("unbound", ()))
        fields["changes"] = tuple(fields.get("changes", ()))
        return PyCode(**fields, bindings={_str(k, "binding"): self(x) for k, x in v["bindings"].items()})

    def graph(self, d: dict[str, Any]) -> BaseGraph:
        g = self.graph_type(_str(d["name"], "graph name"))
        g.statics = {_str(k, "static"): self(x) for k, x in d["statics"].items()}
        guards = d.get("guards", {})
        if not isinstance(guards, dict):
            raise GraphError("guards must be an object")
        g.guards = {_str(k, "guard name"): _str(v, "guard reason") for k, v in guards.items()}
        by_name: dict[str, Node] = {}
        for nd in d["nodes"]:
            loc = SourceLoc(_str(nd["loc"][0], "file"), _line(nd["loc"][1])) if nd["loc"] else None
            attrs = {_str(k, "attribute"): self(x) for k, x in nd["attrs"].items()}
            name = _str(nd["name"], "node name")
            if name in by_name:
                raise GraphError(f"two nodes named {name!r}")
            n = g.add(
                _str(nd["op"], "op"),
                [_ref(by_name, a) for a in nd["args"]],
                attrs,
                loc=loc,
                name=name,
                after=[_ref(by_name, a) for a in nd["after"]],
            )
            if n.name != name:
                raise GraphError(f"node name {name!r} is not a valid name")
            n.meta = dict(nd["meta"])
            by_name[n.name] = n
        return g


def _ayo_class(module: str, name: str) -> type:
    """A class of ayo_trace itself (a task's result holder): importing ayo_trace's own modules runs
    no code from the file, so this is allowed in untrusted files too; anything else is refused."""
    if module.split(".")[0] != "ayo_trace" or not name.isidentifier():
        raise GraphError(f"a graph file may name only ayo_trace's own classes, not {module}.{name}")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise GraphError(f"no class {module}.{name}") from e
    if not isinstance(cls, type):
        raise GraphError(f"{module}.{name} is not a class")
    return cls


def _str(v: Any, what: str) -> str:
    if not isinstance(v, str):
        raise GraphError(f"{what} must be a string, got {type(v).__name__}")
    return v


def _line(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_LINE:
        raise GraphError(f"a source line must be an integer in 0..{MAX_LINE}, got {v!r}")
    return v


def _ref(by_name: dict[str, Node], name: Any) -> Node:
    node = by_name.get(_str(name, "node reference"))
    if node is None:
        raise GraphError(f"a node reads {name!r}, which is not defined before it")
    return node


def _meta(meta: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, x in meta.items():
        try:
            json.dumps(x)
        except (TypeError, ValueError):
            continue
        out[k] = x
    return out


def _graph_dict(graph: BaseGraph) -> dict[str, Any]:
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


def to_json(graph: BaseGraph) -> str:
    return json.dumps({"format": FORMAT, "graph": _graph_dict(graph)}, indent=1)


def from_json(text: str | bytes, graph_type: type[G], *, trusted: bool = False) -> G:
    """The graph a ``to_json`` text holds, of class ``graph_type`` (``Graph.from_json`` passes
    ``Graph``), its bodies too. Refuses code unless ``trusted`` (see the module docstring); a
    malformed or oversized text raises ``GraphError``."""
    if len(text) > MAX_JSON_CHARS:
        raise GraphError(f"graph file of {len(text)} characters, more than {MAX_JSON_CHARS}")
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise GraphError(f"not an ayo-trace graph (missing format {FORMAT!r})")
        return cast(G, _Decoder(trusted, graph_type).graph(data["graph"]))
    except GraphError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError) as e:
        raise GraphError(f"malformed graph file: {type(e).__name__}: {e}") from e
