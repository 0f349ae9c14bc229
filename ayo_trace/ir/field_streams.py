"""Loops over a list field of a structured output: a field read whose items stream from the decode.

A workflow that loops over a list field of an LLM's parsed output,

    plan = await ayo.llm(..., parse=Plan)
    for step in plan.steps: ...            # or a comprehension, or a gather, over plan.section.items

traces to a ``python`` node that reads the field (``items = plan.steps``) and a ``map`` over its
value. The items of that list are the items the decode's parser closes for the field while the
output is written (``json_items.FieldItem``, validated one by one), so decode pipelining
(``passes/pipeline_decode.py``) can start each item's body as soon as it is decoded: it marks the
field read ``stream=True`` with ``stream_field`` (the field's key path in the JSON), and the runtime
connects the map's stream to the decode itself, passing on the values of that field's items only
(``stream_source``). The field read still computes the whole list when the output is complete, for
its other users and for a map that cannot stream.

A field streams only when its streamed items are exactly the items of the validated value: a list
field reached through model fields (not through lists or optional values), with no model or field
validator on the way that could change what the whole model's validation gives, present in the
output (required) or empty when absent, under the one key its JSON has (an alias, unless the model
also takes the attribute's name). Any other field read waits for the whole parse, as before. A key
on the way that repeats in the output fails the decode (``json_items.py``): the validated value
would hold the last one only.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from .code import PyCode, parsed
from .json_items import list_item_type, model_type

if TYPE_CHECKING:
    from .graph import Node


def field_read(node: Node) -> tuple[str, ...] | None:
    """The attribute names a ``python`` node reads, in order, from its one argument when that is
    all it does (``items = plan.section.items`` gives ``("section", "items")``), else None."""
    code = node.attrs.get("code")
    if node.op != "python" or len(node.args) != 1 or not isinstance(code, PyCode):
        return None
    if code.bindings or code.is_async or code.effect or len(code.params) != 1 or len(code.returns) != 1:
        return None
    try:
        body = parsed(code.source).body
    except SyntaxError:
        return None
    if len(body) != 1 or not isinstance(stmt := body[0], ast.Assign) or len(stmt.targets) != 1:
        return None
    target, value = stmt.targets[0], stmt.value
    if not isinstance(target, ast.Name) or target.id != code.returns[0]:
        return None
    names: list[str] = []
    while isinstance(value, ast.Attribute):
        names.append(value.attr)
        value = value.value
    if not names or not isinstance(value, ast.Name) or value.id != code.params[0]:
        return None
    return tuple(reversed(names))


def streamed_field(model: Any, attrs: tuple[str, ...]) -> str | None:
    """The key path in the JSON (``section.items``) of the list field ``model.<attrs>`` (Python
    attribute names), when the items a parser of ``model`` streams for it are exactly the items of
    that field of the validated model (see the module docstring), else None."""
    path: list[str] = []
    for i, attr in enumerate(attrs):
        info = getattr(model, "model_fields", {}).get(attr)
        if info is None or _validated_whole(model, attr):
            return None
        key = info.alias or attr
        if "." in key or info.validation_alias not in (None, info.alias):
            return None
        if key != attr and _by_name(model):  # the output may name it either way
            return None
        path.append(key)
        if i == len(attrs) - 1:
            if list_item_type(info.annotation) is None:
                return None
            if not info.is_required() and info.get_default(call_default_factory=True) != []:
                return None
        else:
            model = model_type(info.annotation)
            if model is None or not info.is_required():
                return None
    return ".".join(path)


def _by_name(model: Any) -> bool:
    config = getattr(model, "model_config", {})
    return bool(config.get("populate_by_name") or config.get("validate_by_name"))


def _validated_whole(model: Any, attr: str) -> bool:
    """Whether a validator of ``model`` may change its field ``attr`` beyond validating it alone."""
    decorators = getattr(model, "__pydantic_decorators__", None)
    if decorators is None:
        return True
    if decorators.model_validators or decorators.root_validators:
        return True
    for group in (decorators.field_validators, decorators.validators):
        for d in group.values():
            if attr in d.info.fields or "*" in d.info.fields:
                return True
    return False


def field_view(node: Node) -> tuple[Node, str] | None:
    """``(decode, key path)`` when ``node`` reads a list field of an ``llm_decode``'s structured
    output whose items stream exactly (``streamed_field``), else None."""
    attrs = field_read(node)
    if attrs is None:
        return None
    decode = node.args[0]
    if decode.op != "llm_decode":
        return None
    model = model_type(getattr(decode.attrs.get("parse"), "model", None))
    if model is None:
        return None
    key = streamed_field(model, attrs)
    return None if key is None else (decode, key)


def stream_source(node: Node) -> tuple[Node, str | None]:
    """Where the items ``node`` streams come from: for a field read that decode pipelining marked
    (``stream_field``), its decode and the field's key path; else ``node`` itself and None."""
    key = node.attrs.get("stream_field")
    if node.op == "python" and isinstance(key, str) and node.args:
        return node.args[0], key
    return node, None


__all__ = ["field_read", "field_view", "stream_source", "streamed_field"]
