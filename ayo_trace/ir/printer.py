"""The graph as readable text: one node per line, with its place in the user's code.

This text is the golden form that pass tests compare against, so it is deterministic: no ids, no
addresses, file names without directories.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from .code import PyCode
from .params import SamplingParams
from .parsers import Parser
from .spec import primitive_spec
from .structure import BaseGraph
from .template import Template

if TYPE_CHECKING:
    from .structure import Node

_HIDDEN = {
    "template", "code", "body", "then", "orelse", "name", "stream_args", "value", "item",
    "handlers", "catches", "bind", "finalbody",
}  # fmt: skip
# (a primitive's spec hides more: PrimitiveSpec.hidden_attrs)
_DEFAULT_SAMPLING = SamplingParams()


def format_graph(graph: BaseGraph, indent: str = "") -> str:
    params = ", ".join(n.attrs.get("name", n.name) for n in graph.inputs)
    statics = ", ".join(f"{k}={v!r}" for k, v in graph.statics.items())
    head = f"{indent}graph {graph.name}({params})" + (f" [static {statics}]" if statics else "") + ":"
    guards = [
        f"{indent}  guard {name} == {graph.statics.get(name)!r}  # needed as a constant by {use}"
        for name, use in graph.guards.items()
    ]
    return "\n".join([head, *guards, *format_nodes(graph, indent + "  ")])


def format_nodes(graph: BaseGraph, indent: str) -> list[str]:
    lines: list[str] = []
    for n in graph.nodes:
        lines.extend(format_node(n, indent))
    return lines


def _value(v: Any) -> str:
    if isinstance(v, Parser):
        return v.name
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, tuple | list) and all(isinstance(x, str) for x in v):
        return repr(tuple(v)) if isinstance(v, tuple) else repr(v)
    return repr(v)


def format_attrs(node: Node) -> list[str]:
    """``key=value`` items for the attrs a reader needs, in a stable order."""
    items: list[str] = []
    spec = primitive_spec(node.op)
    hidden = _HIDDEN | spec.hidden_attrs if spec is not None else _HIDDEN
    for key, v in node.attrs.items():
        if key in hidden or v is None:
            continue
        if isinstance(v, SamplingParams):
            for f in dataclasses.fields(v):
                fv = getattr(v, f.name)
                if fv != getattr(_DEFAULT_SAMPLING, f.name) or f.name == "max_tokens":
                    items.append(f"{f.name}={_value(fv)}")
        elif isinstance(v, Parser):
            items.append(f"{key}={v.name}")
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            items.extend(f"{f.name}={_value(getattr(v, f.name))}" for f in dataclasses.fields(v))
        elif v is True:
            items.append(key)
        elif v is False:
            continue
        else:
            items.append(f"{key}={_value(v)}")
    return items


def _arg_names(node: Node) -> list[str]:
    streamed = set(node.attrs.get("stream_args", ()))
    return [("stream " if i in streamed else "") + f"%{a.name}" for i, a in enumerate(node.args)]


def format_node(node: Node, indent: str) -> list[str]:
    loc = f"  # {node.loc}" if node.loc is not None else ""
    after = (" after " + ", ".join(f"%{a.name}" for a in node.after)) if node.after else ""
    attrs = format_attrs(node)
    op = node.op

    if op == "input":
        return [f"{indent}%{node.name} = input{loc}"]
    if op == "output":
        return [f"{indent}return {', '.join(_arg_names(node))}{after}"]
    if op == "const":
        return [f"{indent}%{node.name} = const({node.attrs['value']!r}){loc}"]

    head = f"{indent}%{node.name} = {op}("
    tpl = node.attrs.get("template")
    code = node.attrs.get("code")
    if isinstance(tpl, Template):
        names = [a.name for a in node.args]
        untemplated = [f"%{a.name}" for i, a in enumerate(node.args) if i not in {h.arg for h in tpl.holes}]
        parts = [*untemplated, tpl.show(names), *attrs]
    else:
        parts = [*_arg_names(node), *attrs]
    text = head + ", ".join(parts) + ")"
    if isinstance(code, PyCode):
        text += " { " + code.short() + " }"
    if op in ("map", "cond", "loop", "try"):
        return _format_block(node, text + after, loc, indent)
    return [text + after + loc]


def _format_block(node: Node, text: str, loc: str, indent: str) -> list[str]:
    if node.op in ("map", "loop"):
        body = node.attrs["body"]
        assert isinstance(body, BaseGraph)
        if node.op == "loop" and node.attrs.get("item") is not None:
            text += f" for {node.attrs['item']}"
        return [text + " {" + loc, *format_nodes(body, indent + "    "), indent + "}"]
    if node.op == "try":
        return _format_try(node, text, loc, indent)
    then, orelse = node.attrs["then"], node.attrs["orelse"]
    assert isinstance(then, BaseGraph) and isinstance(orelse, BaseGraph)
    return [
        text + " {" + loc,
        *format_nodes(then, indent + "    "),
        indent + "} else {",
        *format_nodes(orelse, indent + "    "),
        indent + "}",
    ]


def _format_try(node: Node, text: str, loc: str, indent: str) -> list[str]:
    inner = indent + "    "
    lines = [text + " {" + loc, *format_nodes(node.attrs["body"], inner)]
    binds = node.attrs.get("bind") or ()
    catches = node.attrs.get("catches") or ()
    for i, handler in enumerate(node.attrs.get("handlers") or ()):
        catch = catches[i] if i < len(catches) else None  # (lint reports a mismatch; print anyway)
        what = "" if catch is None else " " + catch.source.split("=", 1)[1].strip()
        name = binds[i] if i < len(binds) else None
        lines.append(indent + "} except" + what + (f" as {name}" if name else "") + " {")
        lines.extend(format_nodes(handler, inner))
    for key, word in (("orelse", "else"), ("finalbody", "finally")):
        body = node.attrs.get(key)
        if isinstance(body, BaseGraph):
            lines.append(indent + "} " + word + " {")
            lines.extend(format_nodes(body, inner))
    return [*lines, indent + "}"]
