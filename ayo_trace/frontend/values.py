"""What a name holds while a workflow is traced.

``Static``: known at trace time (a static argument, a constant, a global). ``Traced``: produced by a
node when the graph runs. ``Text``: a string built from traced values (an f-string, ``+``,
``str.format``, ``sep.join([...])``) kept as constant text and holes, so a prompt made from it
becomes a template; it turns into a ``python`` node only if plain code needs the string itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..ir.graph import Node
from ..ir.template import Hole, Template

Part = "str | Hole[Node]"  # a part of a ``Text``: constant text, or a hole filled by a node's value


@dataclass(frozen=True)
class Static:
    value: object


@dataclass(frozen=True)
class Traced:
    node: Node
    # the class of the value, when the workflow made it by calling a plain class (``agent =
    # Agent(...)``): its ``async def`` methods are inlined as helpers (``helpers.TracedSelf``)
    cls: Any = field(default=None, compare=False)
    # the fields such an object holds from the start, constants nothing sets again, by name
    # (``made_fields``): ``self.collection`` reads one at trace time
    fields: Any = field(default=None, compare=False)
    # what an ``import`` in the workflow bound, a module loaded already (``imports``): the
    # tracer reads it at trace time (``aio.gather``), plain code takes the node's value
    imported: Any = field(default=None, compare=False)
    # a path may have left the name holding it unbound: the value may be ``ir.UNBOUND`` when the
    # graph runs, and a read (``Builder.lookup_local``) checks it first, raising as Python would
    unbound: bool = field(default=False, compare=False)
    # an object known at trace time whose methods change it (a module's ``BOT`` keeping a history,
    # ``helpers._held_self``): code reading it runs as an effect, in program order with the code
    # changing module state, since a query sees what the ones before it left there
    held: bool = field(default=False, compare=False)


@dataclass
class Text:
    parts: list[str | Hole[Node]]
    materialize: Callable[[], Node]
    _node: Node | None = field(default=None, repr=False)

    def node(self) -> Node:
        if self._node is None:
            self._node = self.materialize()
        return self._node

    def template(self) -> tuple[Template, list[Node]]:
        """The template and its args: each distinct hole node once, in order of appearance."""
        args: list[Node] = []
        index: dict[Node, int] = {}
        parts: list[str | Hole[int]] = []
        for p in self.parts:
            if isinstance(p, str):
                parts.append(p)
                continue
            if p.arg not in index:
                index[p.arg] = len(args)
                args.append(p.arg)
            parts.append(dataclasses.replace(p, arg=index[p.arg]))  # type: ignore[arg-type]
        return Template(tuple(parts)), args


Value = Static | Traced | Text


def pieces_of(value: Value, kind: str) -> list[str | Hole[Node]] | None:
    """The parts a value contributes to a ``Text`` as a ``+`` operand (kind "str") or a plain
    f-string field (kind "format"); None when the value cannot be one (a non-str static for ``+``)."""
    if isinstance(value, Static):
        if kind == "str" and not isinstance(value.value, str):
            return None
        return [value.value if kind == "str" else format(value.value)]  # type: ignore[list-item]
    if isinstance(value, Text):
        return list(value.parts)
    return [Hole(value.node, kind)]
